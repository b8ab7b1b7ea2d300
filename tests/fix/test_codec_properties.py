"""Properties of the codec: round trips under any chunking, no stray exceptions, no lost frames."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from krakenfix_cli.fix.encode import encode_fields
from krakenfix_cli.fix.errors import FixError, FramingError
from krakenfix_cli.fix.framing import Framer
from krakenfix_cli.fix.message import Message, decode, parse_fields
from krakenfix_cli.fix.tags import DATA_LENGTH_TAGS

_DATA_TAGS = set(DATA_LENGTH_TAGS) | set(DATA_LENGTH_TAGS.values())
tags = st.integers(min_value=1, max_value=99_999).filter(lambda t: t not in _DATA_TAGS and t not in (8, 9, 10))
# latin-1 values without SOH; '=' allowed (takes the slow splitter)
values = st.text(alphabet=st.characters(min_codepoint=2, max_codepoint=255), max_size=30)
bodies = st.lists(st.tuples(tags, values), max_size=12).map(lambda fs: [(35, "8"), *fs])


def frame_all(data: bytes, cuts: list[int], *, recover: bool = False) -> list[bytes | FramingError]:
    framer = Framer(recover=recover)
    out: list[bytes | FramingError] = []
    prev = 0
    for cut in [*sorted(c % (len(data) + 1) for c in cuts), len(data)]:
        framer.feed(data[prev:cut])
        out.extend(framer)
        prev = cut
    tail = framer.close()
    if tail is not None:
        out.append(tail)
    return out


@given(st.lists(bodies, min_size=1, max_size=5), st.lists(st.integers(min_value=0), max_size=20),
       st.booleans())
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
def test_valid_messages_round_trip_under_any_chunking(
    msgs: list[list[tuple[int, str]]], cuts: list[int], prefixed: bool
) -> None:
    frames = [encode_fields(m) for m in msgs]
    joined = b"".join((b"20240513-09:31:00.123 : " if prefixed else b"") + f + b"\n" for f in frames)
    out = frame_all(joined, cuts)
    assert out == frames
    for m, f in zip(msgs, out, strict=True):
        assert isinstance(f, bytes)
        msg = decode(f)
        assert [fld for fld in msg.fields if fld[0] not in (8, 9, 10)] == [(t, v) for t, v in m]
        assert msg == Message(msg.fields)


@given(st.binary(max_size=400), st.lists(st.integers(min_value=0), max_size=8), st.booleans())
@settings(max_examples=300)
def test_arbitrary_bytes_only_ever_give_fix_errors(data: bytes, cuts: list[int], recover: bool) -> None:
    for item in frame_all(data, cuts, recover=recover):
        if isinstance(item, bytes):
            try:
                decode(item)
            except FixError:
                pass
    try:
        parse_fields(data.decode("latin-1"))
    except FixError:
        pass
    try:
        decode(data)
    except FixError:
        pass


def _frame_like(draw_bytes: bytes) -> bytes:
    return b"8=FIX.4.4\x019=" + draw_bytes


@given(st.lists(bodies, min_size=2, max_size=5),
       st.lists(st.one_of(st.binary(max_size=40), st.binary(max_size=40).map(_frame_like)), min_size=1, max_size=5),
       st.lists(st.integers(min_value=0), max_size=10))
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
def test_garbage_between_good_frames_never_loses_them_in_recover_mode(
    msgs: list[list[tuple[int, str]]], junk: list[bytes], cuts: list[int]
) -> None:
    frames = [encode_fields(m) for m in msgs]
    parts: list[bytes] = []
    for i, f in enumerate(frames):
        parts.append(f)
        parts.append(junk[i % len(junk)])
    out = frame_all(b"".join(parts), cuts, recover=True)
    good = [x for x in out if isinstance(x, bytes)]
    # every good frame is found, in order (garbage may itself contain extra valid frames)
    it = iter(good)
    assert all(any(g == f for g in it) for f in frames)


@given(st.binary(max_size=300), st.lists(st.integers(min_value=0), max_size=6))
@settings(max_examples=200)
def test_fast_loop_agrees_with_next_frame(data: bytes, cuts: list[int]) -> None:
    """Iteration (fast loop) and repeated next_frame() (every rule) return the same items."""
    a, b = Framer(recover=True), Framer(recover=True)
    out_a: list[object] = []
    out_b: list[object] = []
    good = encode_fields([(35, "0"), (34, "1")])
    data = good + data + good
    prev = 0
    for cut in [*sorted(c % (len(data) + 1) for c in cuts), len(data)]:
        a.feed(data[prev:cut])
        b.feed(data[prev:cut])
        out_a.extend(x if isinstance(x, bytes) else (x.problem, x.offset) for x in a)
        while (x := b.next_frame()) is not None:
            out_b.append(x if isinstance(x, bytes) else (x.problem, x.offset))
        prev = cut
    assert out_a == out_b
