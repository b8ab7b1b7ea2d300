"""The session engine, driven as an initiator/acceptor pair over an in-memory link."""

from __future__ import annotations

import pytest
from pair import SessionPair

from krakenfix_cli.fix.encode import encode_fields
from krakenfix_cli.fix.message import Message, decode
from krakenfix_cli.fix.values import format_utc_timestamp
from krakenfix_cli.session.errors import LocalProtocolError
from krakenfix_cli.session.events import (
    Disconnect,
    FrameDropped,
    GapDetected,
    HeartbeatTimedOut,
    LogonAccepted,
    LogonRefused,
    LogoutReceived,
    MessageReceived,
    ResendAnswered,
)
from krakenfix_cli.session.state import Status


def order(n: int) -> Message:
    return Message.new("D", (11, f"ORD{n}"), (54, "1"), (55, "BTC/USD"), (38, "1"), (40, "1"))


def received(events: list) -> list[Message]:
    return [e.message for e in events if isinstance(e, MessageReceived)]


def test_logon_exchange_logs_both_sides_on() -> None:
    p = SessionPair()
    p.connect()
    assert p.init.session.status is Status.LOGGED_ON
    assert p.acc.session.status is Status.LOGGED_ON
    assert any(isinstance(e, LogonAccepted) for e in p.init.events)
    assert p.init.session.next_sender_seq == 2 and p.acc.session.next_target_seq == 2


def test_application_message_before_logon_is_a_local_error() -> None:
    p = SessionPair()
    with pytest.raises(LocalProtocolError):
        p.init.session.send(order(1), p.now)


@pytest.mark.parametrize("sender", ["init", "acc"])
def test_messages_flow_in_both_directions(sender: str) -> None:
    p = SessionPair()
    p.connect()
    src, dst = (p.init, p.acc) if sender == "init" else (p.acc, p.init)
    for i in range(5):
        p.send(src, order(i))
    assert [m.get(11) for m in received(dst.events)] == [f"ORD{i}" for i in range(5)]


def test_heartbeat_sent_after_interval_of_silence() -> None:
    p = SessionPair(hbi=10)
    p.connect()
    before = p.acc.session.next_target_seq
    p.advance(10.5)
    assert p.acc.session.next_target_seq == before + 1  # the initiator's Heartbeat(0)
    assert p.init.session.is_logged_on


def test_silent_peer_gets_test_request_then_timeout() -> None:
    p = SessionPair(hbi=10)
    p.connect()
    p.deliver["acc"] = False  # the acceptor's bytes never arrive
    p.advance(40)
    sent = b"".join(p.init.wire_out)
    assert b"\x0135=1\x01" in sent and b"112=TEST" in sent
    assert any(isinstance(e, HeartbeatTimedOut) for e in p.init.events)
    assert any(isinstance(e, Disconnect) for e in p.init.events)


@pytest.mark.parametrize("lossy", ["init", "acc"])
def test_gap_is_detected_and_filled_by_resend(lossy: str) -> None:
    p = SessionPair()
    p.connect()
    src, dst = (p.init, p.acc) if lossy == "init" else (p.acc, p.init)
    p.send(src, order(1))
    p.deliver[lossy] = False
    p.send(src, order(2))
    p.send(src, order(3))
    p.deliver[lossy] = True
    p.send(src, order(4))
    assert any(isinstance(e, GapDetected) for e in dst.events)
    assert any(isinstance(e, ResendAnswered) for e in src.events)
    got = received(dst.events)
    assert [m.get(11) for m in got] == ["ORD1", "ORD2", "ORD3", "ORD4"]
    assert [m.get(43) for m in got] == [None, "Y", "Y", None]
    assert all(m.get(122) for m in got[1:3])


def test_admin_messages_are_gap_filled_not_replayed() -> None:
    p = SessionPair(hbi=5)
    p.connect()
    p.deliver["acc"] = False
    p.advance(5.5)  # acceptor heartbeat lost
    p.send(p.acc, order(1))  # lost too
    p.deliver["acc"] = True
    p.send(p.acc, order(2))
    sent = b"".join(p.acc.wire_out)
    assert b"\x0135=4\x01" in sent and b"123=Y" in sent
    assert [m.get(11) for m in received(p.init.events)] == ["ORD1", "ORD2"]


def test_resend_of_a_stored_range_on_request() -> None:
    p = SessionPair()
    p.init.session.config.deliver_duplicates = True
    p.connect()
    for i in range(3):
        p.send(p.acc, order(i))
    p.init.session.request_resend(2, 3, p.now)
    p.flush()
    dups = [e.message for e in p.init.events if isinstance(e, MessageReceived) and e.poss_dup]
    assert [m.get(11) for m in dups] == ["ORD0", "ORD1"]


def test_duplicates_below_expected_are_dropped_unless_asked_for() -> None:
    p = SessionPair()
    p.connect()
    p.send(p.acc, order(0))
    p.init.session.request_resend(2, 2, p.now)
    p.flush()
    assert [m.get(11) for m in received(p.init.events)] == ["ORD0"]


def test_possdup_already_received_is_ignored() -> None:
    p = SessionPair()
    p.connect()
    p.send(p.acc, order(1))
    frame = p.acc.session.store.get(2, 2)[0][1]
    old = decode(frame)
    dup = old.replace(43, "Y").with_fields((122, old.get(52)))
    fields = [f for f in dup.fields if f[0] not in (8, 9, 10)]
    p.init.session.receive_bytes(encode_fields(fields), p.now)
    p.flush()
    assert [m.get(11) for m in received(p.init.events)] == ["ORD1"]
    assert p.init.session.is_logged_on


def test_seq_too_low_without_possdup_logs_out() -> None:
    p = SessionPair()
    p.connect()
    p.send(p.acc, order(1))
    frame = p.acc.session.store.get(2, 2)[0][1]
    p.init.session.receive_bytes(frame, p.now)
    p.flush()
    assert any(isinstance(e, Disconnect) and "too low" in e.reason for e in p.init.events)


@pytest.mark.parametrize("corrupt", ["checksum", "bodylength"])
def test_bad_frames_are_dropped_not_rejected(corrupt: str) -> None:
    p = SessionPair()
    p.connect()
    seq = p.acc.session.next_sender_seq
    good = encode_fields([(35, "0"), (34, str(seq)), (49, "SERVER"), (52, format_utc_timestamp(p.now)), (56, "CLIENT")])
    if corrupt == "checksum":
        bad = good[:-4] + b"999\x01"
    else:
        length = int(good.split(b"\x01")[1][2:])
        bad = good.replace(b"9=%d" % length, b"9=%d" % (length - 5), 1)
    before = p.init.session.next_target_seq
    out_before = len(p.init.wire_out)
    p.init.session.receive_bytes(bad, p.now)
    p.flush()
    assert any(isinstance(e, FrameDropped) for e in p.init.events)
    assert p.init.session.next_target_seq == before
    assert len(p.init.wire_out) == out_before  # no Reject(3)
    p.init.session.receive_bytes(good, p.now)
    assert p.init.session.next_target_seq == before + 1


def test_logout_exchange_closes_both_sides() -> None:
    p = SessionPair()
    p.connect()
    p.init.session.logout(p.now, "done")
    p.flush()
    assert any(isinstance(e, LogoutReceived) and e.text == "done" for e in p.acc.events)
    assert p.init.closed and p.acc.closed


def test_refused_logon_reports_the_reason() -> None:
    p = SessionPair(check_logon=lambda msg, now: "Invalid signature")
    p.connect()
    refused = [e for e in p.init.events if isinstance(e, LogonRefused)]
    assert refused and refused[0].reason == "Invalid signature"
    assert p.init.closed


def test_reconnect_without_reset_resumes_sequence_numbers() -> None:
    p = SessionPair(reset=False)
    p.connect()
    p.send(p.init, order(1))
    p.init.session.logout(p.now)
    p.flush()
    p.drop_link()
    n_out = p.init.session.next_sender_seq
    p.connect()
    assert p.init.session.is_logged_on
    assert p.init.session.next_sender_seq == n_out + 1


def test_no_stored_frame_keeps_a_secret_and_resend_still_works(tmp_path) -> None:
    """Password(554)/RawData(96) in an app message are masked in the store body; resend decodes."""
    from krakenfix_cli.session.filestore import BODY_FILE, FileStore

    store = FileStore(tmp_path / "s", sync=False)
    p = SessionPair(init_store=store)
    p.acc.session.config.deliver_duplicates = True
    p.connect()
    secret_order = order(7).with_fields((554, "SIGNATURE-CLEAR"), (95, "9"), (96, "RAWSECRET"))
    p.send(p.init, secret_order)
    body = (tmp_path / "s" / BODY_FILE).read_bytes()
    assert b"SIGNATURE-CLEAR" not in body and b"RAWSECRET" not in body
    assert b"\x01554=***\x01" in body and b"\x0196=***\x01" in body
    p.acc.session.request_resend(2, 2, p.now)
    p.flush()
    dups = [e.message for e in p.acc.events if isinstance(e, MessageReceived) and e.poss_dup]
    assert [m.get(11) for m in dups] == ["ORD7"]
    assert dups[0].get(554) == "***" and dups[0].get(96) == "***" and dups[0].get(95) == "3"
    store.close()
