"""``log orders`` folding and ``log stats`` matching on hand-made records: what a one-shot CLI
run against the simulator cannot produce (an amend chain on one connection, a Reject(3))."""

from __future__ import annotations

from krakenfix_cli.fix.message import Message
from krakenfix_cli.ops.logq.orders import collect
from krakenfix_cli.ops.logq.reader import Record
from krakenfix_cli.ops.logq.stats import collect as collect_stats

S = "ME→KRAKEN-TRD"


def rec(direction: str, when: float, *fields: tuple[int, str]) -> Record:
    return Record(Message(fields), when, direction, S, "test", 0)


DAY = [
    rec("out", 1.0, (35, "D"), (34, "2"), (11, "A"), (55, "BTC/USD"), (54, "1"), (38, "1"), (44, "100")),
    rec("in", 1.5, (35, "8"), (34, "2"), (11, "A"), (37, "OID1"), (150, "0"), (39, "0"), (14, "0")),
    rec("out", 2.0, (35, "G"), (34, "3"), (11, "B"), (41, "A"), (37, "OID1"), (38, "2"), (44, "101")),
    rec("in", 2.25, (35, "8"), (34, "3"), (11, "B"), (41, "A"), (37, "OID1"), (150, "5"), (39, "0"),
        (38, "2"), (44, "101"), (14, "0")),
    rec("in", 3.0, (35, "8"), (34, "4"), (11, "B"), (37, "OID1"), (150, "F"), (39, "1"), (14, "1"),
        (6, "101"), (31, "101"), (32, "1")),
    # A cancel-on-disconnect report names only the OrderID.
    rec("in", 4.0, (35, "8"), (34, "5"), (37, "OID1"), (150, "4"), (39, "4"), (14, "1"), (6, "101")),
    rec("out", 5.0, (35, "D"), (34, "4"), (11, "C"), (55, "ETH/USD"), (54, "2"), (38, "1")),
    rec("in", 5.5, (35, "3"), (34, "6"), (45, "4"), (58, "Required tag missing")),
]


def test_an_amend_chain_and_a_cancel_on_disconnect_fold_into_one_order() -> None:
    book = collect(DAY)
    first = book.orders[0]
    assert len(book.orders) == 2
    assert first.clordids == ["A", "B"] and first.order_id == "OID1"
    assert (first.state, str(first.filled), first.avg_px, first.qty, first.price) == (
        "canceled", "1", "101", "2", "101")
    assert [e.what for e in first.events] == ["sent", "new", "amend sent (qty 2, price 101)", "replaced",
                                              "trade 1 @ 101", "canceled by the gateway, no cancel sent"]
    assert book.find("B") == [first] and book.find("OID1") == [first] and book.find("C") == [book.orders[1]]


def test_latency_matches_by_clordid_and_a_reject_by_its_refseqnum() -> None:
    stats = collect_stats(DAY)
    assert stats.latency["D"].count == 2 and stats.latency["G"].count == 1
    assert stats.latency["G"].max == 0.25
    assert stats.latency["D"].max == 0.5  # both D answered after 0.5 s: the ack, and the Reject(3)
    assert stats.rejects == {"Required tag missing": 1}
    assert stats.unanswered == 0
    stats.add(rec("out", 9.0, (35, "F"), (34, "9"), (11, "Z"), (41, "C")))
    assert stats.unanswered == 1


def test_diff_pairs_fields_by_tag_and_occurrence() -> None:
    from krakenfix_cli.ops.logq.diff import diff_messages

    a = Message([(35, "W"), (55, "BTC/USD"), (269, "0"), (270, "1"), (269, "1"), (270, "2")])
    b = Message([(35, "W"), (269, "0"), (270, "1.5"), (55, "BTC/USD"), (58, "new")])
    rows = [(r.tag, r.a, r.b) for r in diff_messages(a, b)]
    assert rows == [(35, "W", "W"), (55, "BTC/USD", "BTC/USD"), (269, "0", "0"), (270, "1", "1.5"),
                    (269, "1", None), (270, "2", None), (58, None, "new")]


def test_sequence_gap_rollover_and_too_low_are_each_reported_once() -> None:
    day = [
        rec("in", 1.0, (35, "A"), (34, "1"), (141, "Y")),
        rec("in", 2.0, (35, "0"), (34, "2")),
        rec("in", 3.0, (35, "0"), (34, "5")),  # 3 and 4 missing
        rec("in", 4.0, (35, "0"), (34, "6")),
        rec("in", 5.0, (35, "0"), (34, "4"), (43, "Y")),  # a resend: neither a gap nor too low
        rec("in", 6.0, (35, "0"), (34, "3")),  # too low, and no PossDupFlag
        rec("in", 7.0, (35, "A"), (34, "1")),  # a new session without 141=Y
        rec("in", 8.0, (35, "0"), (34, "2")),
    ]
    stats = collect_stats(day)
    assert [(e.kind, e.text) for e in stats.events] == [
        ("reset", "Logon with ResetSeqNumFlag(141)=Y, MsgSeqNum 1"),
        ("gap", "expected MsgSeqNum 3, got 5 (2 missing)"),
        ("too-low", "expected MsgSeqNum 7, got 3 without PossDupFlag(43)=Y"),
        ("rollover", "Logon at MsgSeqNum 1 after 6"),
    ]
    assert stats.resends == 1


def test_a_reused_clordid_or_order_id_starts_a_new_order_and_a_resent_d_does_not() -> None:
    first_run = [
        rec("out", 1.0, (35, "D"), (34, "2"), (11, "X"), (55, "BTC/USD"), (54, "1"), (38, "1")),
        rec("in", 1.1, (35, "8"), (34, "2"), (11, "X"), (37, "OID"), (150, "0"), (39, "0")),
        rec("out", 1.2, (35, "D"), (34, "2"), (43, "Y"), (11, "X"), (55, "BTC/USD"), (54, "1"), (38, "1")),
    ]
    second_run = [  # a new simulator: the same ClOrdID by hand, the same first OrderID
        rec("out", 2.0, (35, "D"), (34, "2"), (11, "X"), (55, "ETH/USD"), (54, "2"), (38, "3")),
        rec("in", 2.1, (35, "8"), (34, "2"), (11, "X"), (37, "OID"), (150, "0"), (39, "0")),
        rec("in", 2.2, (35, "8"), (34, "3"), (37, "OID"), (150, "4"), (39, "4")),
    ]
    book = collect(first_run + second_run)
    assert [(o.symbol, o.state) for o in book.orders] == [("BTC/USD", "new"), ("ETH/USD", "canceled")]
