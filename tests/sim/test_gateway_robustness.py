"""No input wedges a simulator session; bad logons never take a session's slot; cancel scopes
and OrigClOrdID(41) rules as SPEC §6.5-§6.8 and §10.7 have them; ValidUntilTime(62) 2-60 s."""

from __future__ import annotations

import asyncio

import pytest
from simclient import FixClient, LogonFailed, is_er, is_type, next_clordid, order
from test_gateway_rules import cancel, run

from krakenfix_cli.fix.message import Message
from krakenfix_cli.fix.values import format_utc_timestamp
from krakenfix_cli.kraken.auth import ApiSecret
from krakenfix_cli.sim.gateway import TradingHandler
from krakenfix_cli.sim.runner import RunningSimulator
from krakenfix_cli.transport import clock


def _now() -> str:
    return format_utc_timestamp(clock.now())


def _mass(kind: str, symbol: str | None = None) -> Message:
    fields: list[tuple[int, object]] = [(11, next_clordid()), (60, _now()), (530, kind)]
    if symbol:
        fields.append((55, symbol))
    return Message.new("q", *fields)


def _amend(ack: Message, orig: str, price: str = "50001.0") -> Message:
    return Message.new("G", (11, next_clordid()), (37, ack[37]), (38, "0.01"), (40, "2"), (41, orig),
                       (44, price), (54, "1"), (55, "BTC/USD"), (59, "1"), (60, _now()))


async def _placed(c: FixClient, **kw: str) -> tuple[Message, Message]:
    m = order(**kw)
    c.send(m)
    return m, await c.wait_for(is_er("0", m[11]))


# -- item 1: no input wedges a session --------------------------------------------------------------


@pytest.mark.parametrize(("tag", "value"), [("44", "1e400"), ("44", "1" + "0" * 400 + ".0"), ("99", "1e400"),
                                            ("38", "1e400"), ("1138", "1e400")])
def test_absurd_prices_and_quantities_get_kraken_refusal_and_the_session_stays_usable(tag: str, value: str) -> None:
    @run()
    async def t(sim: RunningSimulator) -> None:
        c = await FixClient(sim).connect()
        kw = {"qty": value} if tag == "38" else {"price": value} if tag == "44" else {f"t{tag}": value}
        if tag == "99":
            kw["ord_type"] = "4"
        bad = order(**kw)
        c.send(bad)
        rej = await c.wait_for(lambda m: m.msg_type == "j" and m.get(379) == bad[11])
        assert rej[380] == "0" and rej[58].startswith(("EOrder:", "EGeneral:Invalid arguments"))
        await _placed(c)  # the same connection still trades
        await c.logout()
        await FixClient(sim).connect()  # and the session takes a new logon

    t()


@run()
async def test_a_failing_handler_answers_with_a_reject_and_the_session_stays_usable(
        sim: RunningSimulator) -> None:
    def broken(self: TradingHandler, msg: Message, now: float) -> None:
        raise ArithmeticError("simulated handler bug")

    original = TradingHandler.on_status
    TradingHandler.on_status = broken  # type: ignore[method-assign]
    try:
        c = await FixClient(sim).connect()
        h = Message.new("H", (11, next_clordid()), (37, "ONONE0-NONE0-NONE00"), (55, "BTC/USD"))
        c.send(h)
        rej = await c.wait_for(lambda m: m.msg_type == "j" and m.get(379) == h[11])
        assert rej[380] == "0" and "Internal error" in rej[58]
        await _placed(c)
        await c.logout()
        await FixClient(sim).connect()
    finally:
        TradingHandler.on_status = original  # type: ignore[method-assign]


# -- item 2: unauthenticated logons never occupy the session slot ------------------------------------


@run()
async def test_a_flood_of_bad_signature_logons_does_not_lock_the_good_client_out(sim: RunningSimulator) -> None:
    wrong = ApiSecret("QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=")
    refused = 0
    for _ in range(3):
        flood = [FixClient(sim, secret=wrong) for _ in range(20)]
        good = FixClient(sim)
        results = await asyncio.gather(*(c.connect() for c in [*flood[:10], good, *flood[10:]]),
                                       return_exceptions=True)
        assert all(isinstance(r, LogonFailed) for i, r in enumerate(results) if i != 10)
        if isinstance(results[10], LogonFailed):
            refused += 1
        else:
            await good.logout()
    assert refused == 0
    bad = FixClient(sim, secret=wrong)
    with pytest.raises(LogonFailed, match="Invalid signature"):
        await bad.connect()


# -- item 4: 530=1/6 reach this session's orders only; 7 every order of the account ----------------


@pytest.mark.parametrize("kind", ["1", "6"])
def test_mass_cancel_530_1_and_6_leave_other_sessions_orders_alone(kind: str) -> None:
    @run()
    async def t(sim: RunningSimulator) -> None:
        first = await FixClient(sim).connect()
        _, old = await _placed(first)
        await first.logout()  # 8674 default, orderly Logout: the order stays open
        c = await FixClient(sim).connect()
        _, mine = await _placed(c)
        c.send(_mass(kind, "BTC/USD" if kind == "1" else None))
        er = await c.wait_for(is_er("4"))
        assert er[37] == mine[37]
        await c.roundtrip()
        assert [m[37] for m in c.inbox if m.get(150) == "4"] == [mine[37]]
        assert sim.gateway.spot.orders[old[37]].is_open
        c.send(_mass("7"))
        er7 = await c.wait_for(lambda m: is_er("4")(m) and m.get(37) == old[37])
        assert er7[39] == "4"

    t()


@run()
async def test_cancel_on_disconnect_cancels_only_that_connections_orders(sim: RunningSimulator) -> None:
    first = await FixClient(sim).connect()
    _, old = await _placed(first)
    await first.logout()
    c = await FixClient(sim).connect()
    _, mine = await _placed(c)
    c.abort()
    await c.closed()
    again = await FixClient(sim).connect()
    er = await again.wait_for(lambda m: is_er("4")(m) and m.get(58) == "Cancel on disconnect")
    assert er[37] == mine[37]
    assert sim.gateway.spot.orders[old[37]].is_open and not sim.gateway.spot.orders[mine[37]].is_open


# -- item 5: F's contested scope, as an option ----------------------------------------------------


async def _cancel_from_a_later_connection(sim: RunningSimulator) -> tuple[FixClient, Message, Message, Message]:
    """An order placed on a first connection, then an F for it sent on a second: (second, D, ack, F)."""
    first = await FixClient(sim).connect()
    m, ack = await _placed(first)
    await first.logout()
    c = await FixClient(sim).connect()
    f = cancel(m, ack)
    c.send(f)
    return c, m, ack, f


@run(cancel_scope="account")
async def test_cancel_scope_account_lets_F_reach_an_earlier_connections_order(sim: RunningSimulator) -> None:
    c, m, ack, f = await _cancel_from_a_later_connection(sim)
    er = await c.wait_for(is_er("4", f[11]))
    assert er[37] == ack[37] and er[41] == m[11]


@run()
async def test_cancel_scope_session_is_the_default(sim: RunningSimulator) -> None:
    c, _m, _ack, f = await _cancel_from_a_later_connection(sim)
    rej = await c.wait_for(is_type("j"))
    assert rej[380] == "101" and rej[379] == f[11]


# -- item 6: OrigClOrdID(41) must be the order's latest ClOrdID; ValidUntilTime(62) 2-60 s ----------


@run()
async def test_amend_with_a_stale_or_made_up_41_is_an_unknown_order_even_when_37_matches(
        sim: RunningSimulator) -> None:
    c = await FixClient(sim).connect()
    m, ack = await _placed(c)
    g1 = _amend(ack, m[11])
    c.send(g1)
    await c.wait_for(is_er("5", g1[11]))
    for orig in (m[11], "1"):  # the pre-amend ClOrdID, then a made-up one
        g = _amend(ack, orig, price="50002.0")
        c.send(g)
        rej = await c.wait_for(lambda x, g=g: x.msg_type == "j" and x.get(379) == g[11])  # type: ignore[misc]
        assert rej[380] == "101" and "Unknown order" in rej[58]
    g2 = _amend(ack, g1[11], price="50003.0")  # the latest ClOrdID works
    c.send(g2)
    await c.wait_for(is_er("5", g2[11]))


@run()
async def test_cancel_by_a_pre_amend_41_alone_is_an_unknown_order(sim: RunningSimulator) -> None:
    c = await FixClient(sim).connect()
    m, ack = await _placed(c)
    g = _amend(ack, m[11])
    c.send(g)
    await c.wait_for(is_er("5", g[11]))
    f = cancel(m, ack, by_id=False)  # 41 = the pre-amend ClOrdID, no 37
    c.send(f)
    rej = await c.wait_for(is_type("j"))
    assert rej[380] == "101" and rej[379] == f[11]
    f2 = cancel(m, ack)  # 37 wins over 41 (SPEC §6.5)
    c.send(f2)
    await c.wait_for(is_er("4", f2[11]))


@pytest.mark.parametrize(("ahead", "accepted"), [(1.0, False), (120.0, False), (30.0, True)])
def test_valid_until_time_must_be_2_to_60_seconds_ahead(ahead: float, accepted: bool) -> None:
    @run()
    async def t(sim: RunningSimulator) -> None:
        c = await FixClient(sim).connect()
        m = order(t62=format_utc_timestamp(clock.now() + ahead))
        c.send(m)
        got = await c.wait_for(lambda x: x.get(11) == m[11] or x.get(379) == m[11])
        if accepted:
            assert got.msg_type == "8" and got[150] == "0"
        else:
            assert got.msg_type == "j" and "ValidUntilTime(62)" in got[58]

    t()


@run()
async def test_a_failing_field_check_answers_with_a_session_reject_and_the_session_stays_usable(
        sim: RunningSimulator) -> None:
    from krakenfix_cli.sim import gateway

    original = gateway.field_problems

    def broken(msg: Message, derivatives: bool) -> list[tuple[int, int | None, str]]:
        if msg.get(55) == "ETH/USD":
            raise ArithmeticError("simulated validator bug")
        return original(msg, derivatives)

    gateway.field_problems = broken  # type: ignore[assignment]
    try:
        c = await FixClient(sim).connect()
        bad = order(symbol="ETH/USD", price="3000.00")
        seq = str(c.send(bad))
        rej = await c.wait_for(lambda m: m.msg_type == "3" and m.get(45) == seq)
        assert rej[373] == "99"
        await _placed(c)
        await c.logout()
        await FixClient(sim).connect()
    finally:
        gateway.field_problems = original  # type: ignore[assignment]
