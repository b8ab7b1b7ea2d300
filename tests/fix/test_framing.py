"""Framer: BodyLength/CheckSum checks, resynchronisation, session vs recover mode, log prefixes."""

from __future__ import annotations

import pytest

from krakenfix_cli.fix._simplefix import broken_frame
from krakenfix_cli.fix.encode import encode_fields, frame_text
from krakenfix_cli.fix.errors import FrameProblem, FramingError
from krakenfix_cli.fix.framing import Framer, checksum

A = frame_text("35=0|34=1|49=A|56=B|52=20240101-00:00:00.000|")
B = frame_text("35=0|34=2|49=A|56=B|52=20240101-00:00:01.000|")
C = frame_text("35=0|34=3|49=A|56=B|52=20240101-00:00:02.000|")


def run(data: bytes, *, recover: bool = False, chunk: int | None = None) -> list[bytes | FramingError]:
    framer = Framer(recover=recover)
    out: list[bytes | FramingError] = []
    step = chunk or max(1, len(data))
    for i in range(0, len(data), step):
        framer.feed(data[i : i + step])
        out.extend(framer)
    tail = framer.close()
    if tail is not None:
        out.append(tail)
    return out


def problems(items: list[bytes | FramingError]) -> list[FrameProblem | bytes]:
    return [i.problem if isinstance(i, FramingError) else i for i in items]


def test_good_frames_come_out_whole_under_any_chunking() -> None:
    data = A + B + C
    for chunk in (1, 2, 3, 7, 64, len(data)):
        assert run(data, chunk=chunk) == [A, B, C]


def test_frames_skips_refusals_and_next_frame_returns_none_when_empty() -> None:
    framer = Framer()
    framer.feed(A + b"junk" + B)
    assert list(framer.frames()) == [A, B]
    assert framer.next_frame() is None


def test_quickfix_log_prefixes_and_newlines_are_skipped_silently() -> None:
    data = b"20240513-09:31:00.123 : " + A + b"\n20240513-09:31:01 : " + B + b"\r\n\n"
    for chunk in (1, 5, 29, len(data)):
        assert run(data, chunk=chunk) == [A, B]


def test_garbage_between_frames_is_reported_then_framing_resumes() -> None:
    items = run(A + b"hello" + B)
    assert problems(items) == [A, FrameProblem.GARBAGE, B]
    err = items[1]
    assert isinstance(err, FramingError) and err.offset == len(A)


def test_bad_checksum_drops_the_frame_and_keeps_the_next() -> None:
    bad = broken_frame([(35, "0"), (34, "9")], checksum="000")
    assert problems(run(bad + B)) == [FrameProblem.BAD_CHECKSUM, B]


def test_non_numeric_checksum_is_a_checksum_problem() -> None:
    bad = broken_frame([(35, "0")], checksum="abc")
    assert problems(run(bad + A)) == [FrameProblem.BAD_CHECKSUM, A]


def test_missing_body_length_and_msg_type_are_reported() -> None:
    no9 = b"8=FIX.4.4\x0135=0\x0110=000\x01"
    assert problems(run(no9 + A))[0] is FrameProblem.NO_BODY_LENGTH
    assert problems(run(no9 + A))[-1] == A
    no35 = b"8=FIX.4.4\x019=5\x0134=1\x0110=000\x01"
    assert problems(run(no35 + A)) == [FrameProblem.NO_MSG_TYPE, FrameProblem.GARBAGE, A]


def test_session_mode_drops_the_whole_extent_of_a_wrong_body_length() -> None:
    # BodyLength claims far more than the first body: the extent runs to the first 10=
    # at or after the declared end, which is the trailer of B.
    bad = broken_frame([(35, "0"), (34, "7")], body_length=40)
    items = run(bad + B + C)
    assert problems(items) == [FrameProblem.BAD_BODY_LENGTH, C]


def test_recover_mode_keeps_good_frames_inside_a_wrong_body_length() -> None:
    bad = broken_frame([(35, "0"), (34, "7")], body_length=40)
    items = run(bad + B + C, recover=True)
    assert problems(items) == [FrameProblem.BAD_BODY_LENGTH, B, C]


def test_too_large_body_length_is_refused_without_waiting() -> None:
    bad = broken_frame([(35, "0")], body_length=10**7)
    assert problems(run(bad + A)) == [FrameProblem.BAD_BODY_LENGTH, FrameProblem.GARBAGE, A]


def test_close_reports_a_truncated_tail() -> None:
    items = run(A + B[:-5])
    assert items[0] == A
    assert isinstance(items[1], FramingError) and items[1].problem is FrameProblem.TRUNCATED


def test_close_reports_trailing_garbage_but_not_a_trailing_newline() -> None:
    assert run(A + b"\n") == [A]
    assert problems(run(A + b"xyz")) == [A, FrameProblem.GARBAGE]


def test_iteration_yields_errors_and_frames_yields_only_frames_with_same_state() -> None:
    data = A + b"noise" + B
    f1, f2 = Framer(), Framer()
    f1.feed(data)
    f2.feed(data)
    assert [x for x in f1 if type(x) is bytes] == list(f2.frames())
    assert f1.offset == f2.offset == len(data)


def test_feed_between_items_of_an_iteration_is_safe() -> None:
    framer = Framer()
    framer.feed(A + B)
    it = framer.frames()
    assert next(it) == A
    framer.feed(C)
    assert list(it) == [B, C]


def test_mixing_next_frame_and_iteration_keeps_order() -> None:
    framer = Framer()
    framer.feed(A + B + C)
    it = iter(framer)
    assert next(it) == A
    assert framer.next_frame() == B
    assert list(it) == [C]


def test_non_ascii_values_are_checked_with_the_exact_byte_sum() -> None:
    fields = [(35, "B"), (58, "\xe9" * 600)]
    frame = encode_fields(fields)
    assert run(b"x\n" * 0 + frame + A) == [frame, A]
    bad = frame[:-4] + b"%03d\x01" % ((int(frame[-4:-1]) + 1) % 256)
    assert problems(run(bad)) == [FrameProblem.BAD_CHECKSUM]


def test_long_frames_beyond_one_snapshot_window_are_framed() -> None:
    frame = encode_fields([(35, "B"), (58, "x" * (1 << 20) + "y")], "FIX.4.4")
    # Above MAX_BODY_LENGTH: refused. Just below: accepted, whatever the chunking.
    assert problems(run(frame))[0] is FrameProblem.BAD_BODY_LENGTH
    ok = encode_fields([(35, "B"), (58, "x" * 700_000)])
    assert run(A * 2000 + ok + A, chunk=65536) == [A] * 2000 + [ok, A]


@pytest.mark.parametrize("start,end", [(0, None), (3, 10), (0, 700)])
def test_checksum_is_the_byte_sum_modulo_256(start: int, end: int | None) -> None:
    data = bytes(range(256)) * 3
    assert checksum(data, start, end) == sum(data[start:end]) % 256


def test_skipped_counts_quiet_bytes() -> None:
    framer = Framer()
    framer.feed(b"\n\n" + A)
    assert list(framer.frames()) == [A]
    assert framer.skipped == 2
    assert framer.buffered == 0
