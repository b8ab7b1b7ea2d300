"""Property tests for the session engine: random inputs never break it; lost frames are recovered."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pair import SessionPair

from krakenfix_cli.fix.message import Message
from krakenfix_cli.session.events import MessageReceived

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def order(n: int) -> Message:
    return Message.new("D", (11, f"ORD{n}"), (54, "1"), (55, "BTC/USD"), (38, "1"), (40, "1"))


def delivered_ids(events: list) -> list[str]:
    """ClOrdIDs received, deduplicated (a replayed copy counts once), in arrival order."""
    seen: list[str] = []
    for ev in events:
        if isinstance(ev, MessageReceived) and ev.message.msg_type == "D":
            cid = ev.message.get(11) or ""
            if cid not in seen:
                seen.append(cid)
    return seen


@SETTINGS
@given(st.binary(max_size=600), st.integers(min_value=1, max_value=64))
def test_arbitrary_bytes_never_raise_and_keep_the_engine_consistent(junk: bytes, chunk: int) -> None:
    p = SessionPair()
    p.connect()
    for i in range(0, len(junk), chunk):
        p.init.session.receive_bytes(junk[i : i + chunk], p.now)
    p.flush()
    assert p.init.session.next_target_seq >= 2


@SETTINGS
@given(st.lists(st.booleans(), min_size=1, max_size=25), st.sampled_from(["init", "acc"]))
def test_lost_frames_are_recovered_exactly_once_in_order(lost: list[bool], sender: str) -> None:
    p = SessionPair()
    p.connect()
    src, dst = (p.init, p.acc) if sender == "init" else (p.acc, p.init)
    for i, drop in enumerate(lost):
        p.deliver[sender] = not drop
        p.send(src, order(i))
    p.deliver[sender] = True
    p.send(src, order(len(lost)))  # the next good frame exposes any gap
    p.advance(1)
    assert delivered_ids(dst.events) == [f"ORD{i}" for i in range(len(lost) + 1)]
    assert dst.session.next_target_seq == src.session.next_sender_seq
    assert src.session.is_logged_on and dst.session.is_logged_on


@SETTINGS
@given(st.lists(st.integers(min_value=1, max_value=200), min_size=1, max_size=30))
def test_any_chunking_of_the_stream_gives_the_same_messages(cuts: list[int]) -> None:
    p = SessionPair()
    p.connect()
    for i in range(5):
        p.acc.session.send(order(i), p.now)
    data = p.acc.session.bytes_to_send()
    pos = 0
    for c in cuts:
        p.init.session.receive_bytes(data[pos : pos + c], p.now)
        pos += c
    p.init.session.receive_bytes(data[pos:], p.now)
    p.flush()
    assert delivered_ids(p.init.events) == [f"ORD{i}" for i in range(5)]
