"""The pure parts of the trading ops: raw messages, correlation, filters, reconciliation, scope."""

from __future__ import annotations

import pytest

from krakenfix_cli.fix.message import Message
from krakenfix_cli.ops.cancel import scope_problem
from krakenfix_cli.ops.dedupe import ExecIdSet
from krakenfix_cli.ops.mass_cancel import describe_scope, in_scope
from krakenfix_cli.ops.outcomes import ConnRef, KnownOrder
from krakenfix_cli.ops.replay import Reconciler
from krakenfix_cli.ops.send import Correlator, RawMessageError, message_from_text, rejection
from krakenfix_cli.ops.tail import FilterError, TailFilter


def er(**tags: str) -> Message:
    return Message.new("8", *((int(k[1:]), v) for k, v in tags.items()))


def test_raw_text_drops_the_header_fields_the_engine_writes() -> None:
    msg = message_from_text("8=FIX.4.4|9=12|35=D|34=9|49=ME|52=x|56=K|11=1|55=BTC/USD|10=000|")
    assert msg.fields == ((35, "D"), (11, "1"), (55, "BTC/USD"))


def test_raw_text_without_msgtype_is_refused() -> None:
    with pytest.raises(RawMessageError, match="MsgType"):
        message_from_text("11=1|55=BTC/USD")


def test_business_reject_is_matched_by_379_even_when_45_is_0() -> None:
    corr = Correlator("123", 7, "D")
    j = Message.new("j", (45, "0"), (372, "D"), (379, "123"), (380, "0"), (58, "EOrder:Insufficient funds"))
    assert corr.concerns(j)
    assert "Insufficient funds" in (rejection(j) or "")
    assert not corr.concerns(j.replace(379, "999"))


def test_unsolicited_cancel_is_a_rejection_but_a_requested_one_is_not() -> None:
    cancel = er(t11="1", t150="4", t39="4", t58="EOrder:Post only order")
    assert rejection(cancel) is not None
    assert rejection(cancel, cancel_expected=True) is None


def test_tail_filter_takes_names_codes_and_words() -> None:
    f = TailFilter.build(["ExecutionReport,j"], ["BTC/USD"], [], ["trade"])
    assert f.msg_types == {"8", "j"} and f.exec_types == {"F"}
    assert f.matches(er(t55="BTC/USD", t150="F"))
    assert not f.matches(er(t55="ETH/USD", t150="F"))
    assert not f.matches(er(t55="BTC/USD", t150="0"))
    with pytest.raises(FilterError):
        TailFilter.build(exec_types=["sideways"])


def test_exec_ids_are_seen_once_and_the_oldest_are_forgotten() -> None:
    seen = ExecIdSet(capacity=2)
    assert seen.first_time("a") and not seen.first_time("a")
    seen.first_time("b")
    seen.first_time("c")
    assert seen.first_time("a")  # forgotten after two newer ones


def test_reconciliation_counts_each_exec_id_once() -> None:
    rec = Reconciler()
    new = er(t37="O1", t11="1", t17="E1", t150="0", t39="0", t55="BTC/USD", t54="1", t14="0", t151="1")
    fill = er(t37="O1", t11="1", t17="E2", t150="F", t39="2", t55="BTC/USD", t54="1", t14="1", t151="0")
    for m in (new, fill, fill.with_fields((43, "Y")), new):
        rec.add(m)
    (summary,) = rec.summaries()
    assert (summary.state, summary.fills, summary.cum_qty, rec.duplicates) == ("filled", 1, "1", 2)


def test_journalled_order_of_another_connection_has_a_scope_problem() -> None:
    mine = ConnRef("KFX", "KRAKEN-TRD", "KFX>KRAKEN-TRD@20260101-00:00:00.000")
    order = KnownOrder("1", "1", mine, "new", symbol="BTC/USD", side="1")
    assert scope_problem(order, mine) is None
    problem = scope_problem(order, None)
    assert problem is not None and "mass-cancel --all` (530=7" in problem.todo
    assert "mass-cancel --symbol" not in problem.todo  # 530=1 reaches only the sending session (SPEC §6.8)


def test_mass_cancel_scope_follows_530() -> None:
    conn = ConnRef("KFX", "KRAKEN-TRD", "a")
    other = KnownOrder("1", "1", ConnRef("KFX", "KRAKEN-TRD", "b"), "new", symbol="BTC/USD")
    q = Message.new("q", (11, "9"), (55, "BTC/USD"), (530, "1"))
    assert in_scope(other, q, conn)
    assert not in_scope(other, q.replace(55, "ETH/USD"), conn)
    assert not in_scope(other, Message.new("q", (11, "9"), (530, "6")), conn)
    assert in_scope(other, Message.new("q", (11, "9"), (530, "7")), conn)
    assert "530=7" in describe_scope("all", None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("+30s", 1_700_000_030.0), ("+15m", 1_700_000_900.0), ("+2h", 1_700_007_200.0), ("+1d", 1_700_086_400.0),
     ("+1.5m", 1_700_000_090.0), ("20231114-22:13:20", 1_700_000_000.0), ("20231114-22:13:20.500", 1_700_000_000.5),
     ("2023-11-14T22:13:20Z", 1_700_000_000.0), ("2023-11-14T22:13:20", 1_700_000_000.0),
     ("2023-11-14T23:13:20+01:00", 1_700_000_000.0)],
)
def test_times_read_as_users_type_them(text: str, expected: float) -> None:
    from krakenfix_cli.ops.send import parse_when

    assert parse_when(text, 1_700_000_000.0) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["tomorrow", "+", "+5", "+-5m", "+0s", "2023-13-40", ""])
def test_unreadable_times_say_what_to_type(text: str) -> None:
    from krakenfix_cli.ops.send import parse_when

    with pytest.raises(ValueError, match=r"give \+30s"):
        parse_when(text, 1_700_000_000.0)


def test_a_status_or_cancel_answer_is_matched_by_order_id_too() -> None:
    """FIX 4.4 lets an answer to F/G/H carry the order's own ClOrdID instead of our request id (SPEC §6.7)."""
    from krakenfix_cli.fix.message import Message
    from krakenfix_cli.kraken.builders import order_status_request
    from krakenfix_cli.ops.send import Correlator

    corr = Correlator.for_request(order_status_request("1796000000000002", "OB5CB7-EFFE4-FAAB20", "BTC/USD"), 7)
    answer = Message.new("8", (11, "1796000000000001"), (37, "OB5CB7-EFFE4-FAAB20"), (39, "0"), (150, "I"))
    assert corr.concerns(answer)
    other = Message.new("8", (11, "1796000000000009"), (37, "OTHER-ORDER"), (39, "0"), (150, "I"))
    assert not corr.concerns(other)
