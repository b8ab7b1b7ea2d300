"""Kraken gateway rules of the simulator, exercised over real loopback sockets (SPEC §3, §6, §10, §12)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from simclient import FixClient, LogonFailed, is_er, is_type, next_clordid, order

from krakenfix_cli.fix.message import Message
from krakenfix_cli.fix.values import format_utc_timestamp
from krakenfix_cli.kraken.auth import logon_auth_fields
from krakenfix_cli.kraken.clordid import next_derivatives_clordid
from krakenfix_cli.session.events import LogoutReceived
from krakenfix_cli.sim.runner import RunningSimulator, start_simulator
from krakenfix_cli.transport import clock

SimTest = Callable[[RunningSimulator], Awaitable[None]]


def with_sim(test: SimTest, **kw: Any) -> None:
    """Run ``test`` against a fresh simulator (plain TCP, frozen synthetic market unless asked)."""

    async def main() -> None:
        kw.setdefault("tls", False)
        kw.setdefault("flow_interval", None)
        sim = await start_simulator(**kw)
        try:
            await test(sim)
        finally:
            await sim.close()

    asyncio.run(main())


def run(**kw: Any) -> Callable[[SimTest], Callable[[], None]]:
    def deco(test: SimTest) -> Callable[[], None]:
        def wrapper() -> None:
            with_sim(test, **kw)

        wrapper.__name__ = test.__name__
        wrapper.__doc__ = test.__doc__
        return wrapper

    return deco


def cancel(orig: Message, ack: Message, clordid: str | None = None, by_id: bool = True) -> Message:
    fields: list[tuple[int, object]] = [(11, clordid or next_clordid())]
    fields.append((37, ack[37]) if by_id else (41, orig[11]))
    fields += [(54, orig[54]), (55, orig[55]), (60, format_utc_timestamp(clock.now()))]
    return Message.new("F", *fields)


def drv_order(**kw: str) -> Message:
    kw.setdefault("t18", "s")
    return order(symbol="PF_XBTUSD", qty=kw.pop("qty", "0.01"), price=kw.pop("price", "50000.0"),
                 tif=kw.pop("tif", "1"), clordid=next_derivatives_clordid(clock.now()), **kw)


# -- orders, fills, acknowledgements --------------------------------------------------------------


@run()
async def test_limit_order_is_acknowledged_with_kraken_fields(sim: RunningSimulator) -> None:
    c = await FixClient(sim).connect()
    m = order(price="50000.0")
    c.send(m)
    ack = await c.wait_for(is_er("0", m[11]))
    assert re.fullmatch(r"O[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{6}", ack[37])
    assert ack[39] == "0" and ack[151] == "0.01" and ack[14] == "0"
    for tag in (17, 60, 40, 54, 55, 44, 38, 59, 6):
        assert tag in ack
    await c.logout()


@run()
async def test_marketable_orders_fill_against_the_counterparty_flow(sim: RunningSimulator) -> None:
    c = await FixClient(sim).connect()
    m = order(ord_type="1", price=None, qty="0.5", side="2")
    c.send(m)
    fill = await c.wait_for(is_er("F", m[11]))
    assert fill[527] and fill[31] and fill[32]
    done = await c.wait_for(lambda x: x.get(11) == m[11] and x.get(39) == "2")
    assert done[14] == "0.5" and done[151] == "0"
    exec_ids = [x[17] for x in c.of_type("8")]
    assert len(exec_ids) == len(set(exec_ids))


@run(flow_interval=0.05)
async def test_resting_orders_fill_when_the_synthetic_market_trades_through_them(sim: RunningSimulator) -> None:
    c = await FixClient(sim).connect()
    best_bid = sim.gateway.spot.books["BTC/USD"].best("1")
    assert best_bid is not None
    m = order(side="1", price=str(best_bid + 1), qty="0.01")  # best bid: first in line for sellers
    c.send(m)
    await c.wait_for(is_er("F", m[11]), timeout=60)


@run()
async def test_cancel_of_own_order_reports_150_4_with_orig_clordid(sim: RunningSimulator) -> None:
    c = await FixClient(sim).connect()
    m = order()
    c.send(m)
    ack = await c.wait_for(is_er("0", m[11]))
    f = cancel(m, ack, by_id=False)
    c.send(f)
    er = await c.wait_for(is_er("4", f[11]))
    assert er[41] == m[11] and er[39] == "4" and er[37] == ack[37]


@run()
async def test_cancel_of_an_order_from_another_session_is_refused_with_380_101(sim: RunningSimulator) -> None:
    c = await FixClient(sim).connect()
    m = order()
    c.send(m)
    ack = await c.wait_for(is_er("0", m[11]))
    await c.logout()
    c2 = await FixClient(sim).connect()
    f = cancel(m, ack)
    c2.send(f)
    rej = await c2.wait_for(is_type("j"))
    assert rej[380] == "101" and rej[379] == f[11] and rej[372] == "F"
    assert "same session" in rej[58] and "530" in rej[58]
    # the mass cancel 530=7 reaches it
    c2.send(Message.new("q", (11, next_clordid()), (60, format_utc_timestamp(clock.now())), (530, "7")))
    er = await c2.wait_for(is_er("4"))
    assert er[37] == ack[37]


@run(rate_limit="off")  # 1,000 open orders on one pair: past every tier's cap (SPEC §9)
async def test_mass_cancel_of_1000_orders_sends_1000_cancel_reports_and_no_35r(sim: RunningSimulator) -> None:
    c = await FixClient(sim).connect()
    for i in range(1000):
        c.send(order(price=str(40000 + i)))
    await c.wait_count(is_er("0"), 1000, timeout=60)
    q = Message.new("q", (11, next_clordid()), (60, format_utc_timestamp(clock.now())), (530, "6"))
    c.send(q)
    cancels = await c.wait_count(is_er("4", q[11]), 1000, timeout=60)
    await c.roundtrip()
    assert len([m for m in c.inbox if m.get(150) == "4"]) == 1000
    assert len({m[37] for m in cancels}) == 1000
    assert not c.of_type("r")


@run()
async def test_mass_cancel_by_symbol_only_touches_that_symbol(sim: RunningSimulator) -> None:
    c = await FixClient(sim).connect()
    btc, eth = order(), order(symbol="ETH/USD", price="2000.00", qty="0.01")
    c.send(btc)
    c.send(eth)
    await c.wait_count(is_er("0"), 2)
    q = Message.new("q", (11, next_clordid()), (55, "ETH/USD"), (60, format_utc_timestamp(clock.now())), (530, "1"))
    c.send(q)
    er = await c.wait_for(is_er("4", q[11]))
    await c.roundtrip()
    assert er[55] == "ETH/USD" and len([m for m in c.inbox if m.get(150) == "4"]) == 1


@run()
async def test_cancel_on_disconnect_cancels_and_reports_on_next_logon(sim: RunningSimulator) -> None:
    c = await FixClient(sim).connect()
    ids = []
    for _ in range(3):
        m = order()
        c.send(m)
        ids.append((await c.wait_for(is_er("0", m[11])))[37])
    sim.drop_connections()
    await c.closed()
    c2 = await FixClient(sim).connect()
    ers = await c2.wait_count(lambda m: m.get(150) == "4" and m.get(58) == "Cancel on disconnect", 3)
    assert sorted(m[37] for m in ers) == sorted(ids)
    assert all(not o.is_open for o in sim.gateway.spot.orders.values() if o.order_id in ids)


@run()
async def test_orders_survive_a_drop_with_8674_1_and_an_orderly_logout(sim: RunningSimulator) -> None:
    c = await FixClient(sim, cod=False).connect()
    m = order()
    c.send(m)
    kept = (await c.wait_for(is_er("0", m[11])))[37]
    c.abort()
    await c.closed()
    c2 = await FixClient(sim).connect()
    m2 = order()
    c2.send(m2)
    kept2 = (await c2.wait_for(is_er("0", m2[11])))[37]
    await c2.logout()
    assert sim.gateway.spot.orders[kept].is_open and sim.gateway.spot.orders[kept2].is_open


@run()
async def test_post_only_that_would_take_is_acked_then_cancelled_unsolicited(sim: RunningSimulator) -> None:
    c = await FixClient(sim).connect()
    ask = sim.gateway.spot.books["BTC/USD"].best("2")
    m = order(price=str(ask), t18="P")
    c.send(m)
    await c.wait_for(is_er("0", m[11]))
    er = await c.wait_for(is_er("4", m[11]))
    assert "Post only" in er[58] and er[14] == "0"


@run()
async def test_self_trade_prevention_cancels_the_newest_order_by_default(sim: RunningSimulator) -> None:
    c = await FixClient(sim).connect()
    sell = order(side="2", price="70000.0")
    c.send(sell)
    await c.wait_for(is_er("0", sell[11]))
    buy = order(side="1", price="70000.0", qty="100")  # sweeps the synthetic asks, then meets its own sell
    c.send(buy)
    er = await c.wait_for(lambda x: x.get(11) == buy[11] and x.get(150) == "4")
    assert "Self trade" in er[58]
    assert sim.gateway.spot.orders[(await c.wait_for(is_er("0", sell[11])))[37]].is_open


@run()
async def test_stop_order_fires_with_150_D_and_switches_to_market(sim: RunningSimulator) -> None:
    c = await FixClient(sim).connect()
    book = sim.gateway.spot.books["BTC/USD"]
    ask = book.best("2")
    assert ask is not None
    stop = order(ord_type="3", price=None, side="1", t99=str(ask))
    c.send(stop)
    await c.wait_for(is_er("0", stop[11]))
    c.send(order(ord_type="1", price=None, side="1", qty="0.01"))  # trades at the best ask → fires the stop
    d = await c.wait_for(is_er("D", stop[11]))
    assert d[40] == "1"
    await c.wait_for(is_er("F", stop[11]))


@run()
async def test_amend_and_status_request(sim: RunningSimulator) -> None:
    c = await FixClient(sim).connect()
    m = order(price="50000.0")
    c.send(m)
    ack = await c.wait_for(is_er("0", m[11]))
    now = format_utc_timestamp(clock.now())
    g = Message.new("G", (11, next_clordid()), (37, ack[37]), (38, "0.02"), (40, "2"), (41, m[11]),
                    (44, "50001.0"), (54, "1"), (55, "BTC/USD"), (59, "1"), (60, now))
    c.send(g)
    rep = await c.wait_for(is_er("5", g[11]))
    assert rep[41] == m[11] and rep[44] == "50001.0" and rep[38] == "0.02"
    h = Message.new("H", (11, next_clordid()), (37, ack[37]), (55, "BTC/USD"))
    c.send(h)
    st = await c.wait_for(is_er("I", h[11]))
    assert st[39] in ("0", "5") and st[37] == ack[37]
    creds = sim.accounts.create("OTHERCO")  # another account asks for the same order: unknown to it
    other = await FixClient(sim, sender=creds.sender_comp_id, api_key=creds.api_key,
                            secret=creds.api_secret).connect()
    h2 = Message.new("H", (11, next_clordid()), (37, ack[37]), (55, "BTC/USD"))
    other.send(h2)
    rej = await other.wait_for(is_type("j"))
    assert rej[380] == "101" and rej[379] == h2[11]
    assert not [m for m in other.inbox if m.msg_type == "8"]


@run()
async def test_effective_time_holds_the_order_pending_new_then_it_goes_live(sim: RunningSimulator) -> None:
    """D with a future 168: 150=A/39=A, invisible and non-matching; at its time 150=0, then it trades."""
    c = await FixClient(sim).connect()
    book = sim.gateway.spot.books["BTC/USD"]
    ask = book.best("2")
    assert ask is not None
    start = clock.now() + 1.0
    m = order(side="1", price=str(ask), t168=format_utc_timestamp(start))  # would take the best ask at once
    c.send(m)
    pending = await c.wait_for(is_er("A", m[11]))
    assert (pending[39], pending[151]) == ("A", "0.01")
    assert m[11] not in {o.clordid for o in book.resting("1")}  # off the book
    await c.roundtrip()
    assert not [x for x in c.inbox if x.get(11) == m[11] and x.get(150) in ("0", "F")]  # nothing before its time
    live = await c.wait_for(is_er("0", m[11]))
    await c.wait_for(is_er("F", m[11]))
    assert live[39] == "0" and clock.now() >= start - 0.01


@run()
async def test_a_pending_new_order_can_be_cancelled_and_never_goes_live(sim: RunningSimulator) -> None:
    c = await FixClient(sim).connect()
    m = order(price="1000.0", t168=format_utc_timestamp(clock.now() + 0.5))
    c.send(m)
    pending = await c.wait_for(is_er("A", m[11]))
    f = Message.new("F", (11, next_clordid()), (37, pending[37]), (54, "1"), (55, "BTC/USD"),
                    (60, format_utc_timestamp(clock.now())))
    c.send(f)
    await c.wait_for(is_er("4", f[11]))
    await c.until(lambda: not sim.gateway.scheduled)  # its EffectiveTime came and went
    await c.roundtrip()
    assert not [x for x in c.inbox if x.get(11) in (m[11], f[11]) and x.get(150) == "0"]


# -- business rejects -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "reason", "text"),
    [
        ({"symbol": "DOGE/XYZ"}, "2", "Unknown asset pair"),
        ({"price": "50000.05"}, "0", "EOrder:Tick size check failed"),
        ({"qty": "0.00001"}, "0", "EOrder:Order minimum not met"),
        ({"t7928": "9"}, "0", "SelfTradePrevention"),
    ],
)
def test_business_rules_refuse_with_35j(kw: dict[str, str], reason: str, text: str) -> None:
    async def t(sim: RunningSimulator) -> None:
        c = await FixClient(sim).connect()
        m = order(**kw)
        c.send(m)
        rej = await c.wait_for(is_type("j"))
        assert rej[380] == reason and text in rej[58] and rej[379] == m[11] and rej[45] != "0"

    with_sim(t)


@run()
async def test_clordid_must_increase(sim: RunningSimulator) -> None:
    c = await FixClient(sim).connect()
    first = order(clordid="900000000000000002")
    c.send(first)
    await c.wait_for(is_er("0", first[11]))
    again = order(clordid="900000000000000001")
    c.send(again)
    rej = await c.wait_for(is_type("j"))
    assert rej[379] == again[11] and "ClOrdID" in rej[58]


@run()
async def test_unsupported_messages_get_380_3(sim: RunningSimulator) -> None:
    c = await FixClient(sim).connect()
    for mtype in ("r", "AF", "AN", "c", "AD"):
        c.send(Message.new(mtype, (11, next_clordid()), (584, "1")))
    rejs = await c.wait_count(is_type("j"), 5)
    assert [r[372] for r in rejs] == ["r", "AF", "AN", "c", "AD"]
    assert all(r[380] == "3" for r in rejs)


# -- field-level rejects ----------------------------------------------------------------------------


@run()
async def test_missing_side_is_a_session_reject_373_1(sim: RunningSimulator) -> None:
    c = await FixClient(sim).connect()
    m = order().without(54)
    seq = c.send(m)
    rej = await c.wait_for(is_type("3"))
    assert rej[373] == "1" and rej[371] == "54" and rej[45] == str(seq)


@run()
async def test_badly_shaped_clordid_is_a_session_reject_373_5(sim: RunningSimulator) -> None:
    c = await FixClient(sim).connect()
    c.send(order(clordid="not-a-valid-id"))
    rej = await c.wait_for(is_type("3"))
    assert rej[373] == "5" and rej[371] == "11"


# -- derivatives ------------------------------------------------------------------------------------


@run()
async def test_derivatives_order_fills_and_both_target_spellings_work(sim: RunningSimulator) -> None:
    creds = sim.credentials
    for target in ("KRAKEN-DRV-TRD", "KRAKEN-TRD"):
        c = await FixClient(sim, sender=creds.derivatives_sender_comp_id, target=target).connect()
        m = drv_order(ord_type="1", price=None)  # type: ignore[arg-type]
        c.send(m)
        await c.wait_for(is_er("F", m[11]))
        await c.logout()


@pytest.mark.parametrize(
    ("extra", "text"),
    [
        ({"t18": "P"}, "'s'"),
        ({"t7928": "1"}, "SelfTradePrevention"),
        ({"t1138": "0.01"}, "DisplayQty"),
        ({"t5001": "1"}, "Leverage"),
        ({"tif": "6"}, "TimeInForce"),
    ],
)
def test_derivatives_restrictions_are_business_rejects(extra: dict[str, str], text: str) -> None:
    async def t(sim: RunningSimulator) -> None:
        c = await FixClient(sim, sender=sim.credentials.derivatives_sender_comp_id, target="KRAKEN-DRV-TRD").connect()
        m = drv_order(**extra)
        c.send(m)
        rej = await c.wait_for(is_type("j"))
        assert rej[380] == "0" and text in rej[58]

    with_sim(t)


@run()
async def test_derivatives_refuse_amend_status_and_numeric_clordids(sim: RunningSimulator) -> None:
    c = await FixClient(sim, sender=sim.credentials.derivatives_sender_comp_id, target="KRAKEN-DRV-TRD").connect()
    now = format_utc_timestamp(clock.now())
    uid = next_derivatives_clordid(clock.now())
    c.send(Message.new("G", (11, uid), (37, "OX"), (38, "1"), (40, "2"), (41, uid), (44, "1"), (54, "1"),
                       (55, "PF_XBTUSD"), (59, "1"), (60, now)))
    c.send(Message.new("H", (11, next_derivatives_clordid(clock.now())), (37, "OX"), (55, "PF_XBTUSD")))
    rejs = await c.wait_count(is_type("j"), 2)
    assert [(r[372], r[380]) for r in rejs] == [("G", "3"), ("H", "3")]
    c.send(order(symbol="PF_XBTUSD", t18="s"))  # numeric ClOrdID: Spot only
    rej = await c.wait_for(is_type("3"))
    assert rej[373] == "5" and rej[371] == "11" and "UUID" in rej[58]


# -- authentication -------------------------------------------------------------------------------


def fields_with_nonce(sim: RunningSimulator, nonce: int, secret: Any = None,
                      key: str | None = None) -> Callable[[int, float], list[tuple[int, str]]]:
    c = sim.credentials

    def make(seq: int, now: float) -> list[tuple[int, str]]:
        return logon_auth_fields(key or c.api_key, secret or c.api_secret, c.sender_comp_id, "KRAKEN-TRD",
                                 seq, nonce, None)

    return make


async def refused(client: FixClient) -> str | None:
    with pytest.raises(LogonFailed) as info:
        await client.connect()
    del info
    return client.logon_error


@run()
async def test_wrong_api_key_is_refused_with_logout_text(sim: RunningSimulator) -> None:
    assert await refused(FixClient(sim, api_key="KFXnot-a-key")) == "Invalid API key"


@run()
async def test_bad_signature_is_refused(sim: RunningSimulator) -> None:
    other = sim.accounts.create("OTHERCO").api_secret
    assert await refused(FixClient(sim, secret=other)) == "Invalid signature"


@run()
async def test_stale_nonce_is_refused(sim: RunningSimulator) -> None:
    stale = int(clock.now() * 1000) - 60_000
    why = await refused(FixClient(sim, logon_fields=fields_with_nonce(sim, stale)))
    assert why is not None and why.startswith("Invalid nonce")


@run()
async def test_replayed_nonce_is_refused(sim: RunningSimulator) -> None:
    nonce = int(clock.now() * 1000) + 1000
    c = await FixClient(sim, logon_fields=fields_with_nonce(sim, nonce)).connect()
    await c.logout()
    why = await refused(FixClient(sim, logon_fields=fields_with_nonce(sim, nonce)))
    assert why is not None and why.startswith("Invalid nonce")


@run()
async def test_unknown_sender_comp_id_is_closed_silently(sim: RunningSimulator) -> None:
    c = FixClient(sim, sender="NOBODY")
    assert await refused(c) is None
    assert not c.inbox


@run()
async def test_market_data_logon_needs_no_auth_fields(sim: RunningSimulator) -> None:
    c = await FixClient(sim, target="KRAKEN-MD", auth=False).connect()
    await c.logout()
    assert await refused(FixClient(sim, auth=False)) is not None  # trading needs them


@run()
async def test_duplicate_logon_is_dropped_and_the_first_stays_up(sim: RunningSimulator) -> None:
    c = await FixClient(sim).connect()
    dup = FixClient(sim)
    assert await refused(dup) is None
    m = order()
    c.send(m)
    await c.wait_for(is_er("0", m[11]))


@run(tls=True)
async def test_tls_logon_with_the_generated_ca(sim: RunningSimulator) -> None:
    assert sim.ca_file is not None and sim.ca_file.exists()
    c = await FixClient(sim).connect()
    await c.logout()


# -- sequence numbers, resend, rollover --------------------------------------------------------------


@run()
async def test_resend_request_replays_original_execution_reports(sim: RunningSimulator) -> None:
    c = await FixClient(sim).connect()
    m = order()
    c.send(m)
    ack = await c.wait_for(is_er("0", m[11]))
    assert c.conn is not None
    c.conn.request_resend(1, 0)
    dup = await c.wait_for(lambda x: x.get(43) == "Y" and x.get(11) == m[11])
    assert dup[17] == ack[17] and dup[34] == ack[34] and 122 in dup


@run()
async def test_reconnect_with_141_n_continues_the_sequence(sim: RunningSimulator) -> None:
    c = await FixClient(sim).connect()
    await c.logout()
    c2 = await FixClient(sim, reset=False, store=c.store).connect()
    m = order()
    c2.send(m)
    await c2.wait_for(is_er("0", m[11]))
    assert int(c2.inbox[-1][34]) > 3


@run(refusal_window=0.5)
async def test_rollover_logs_out_refuses_then_requires_a_reset(sim: RunningSimulator) -> None:
    c = await FixClient(sim).connect()
    m = order()
    c.send(m)
    ack = await c.wait_for(is_er("0", m[11]))
    sim.force_rollover()
    await c.closed()
    assert LogoutReceived("session rollover") in c.events
    assert await refused(FixClient(sim)) == "rollover in progress"
    await sim.wait_rollover_done()
    why = await refused(FixClient(sim, reset=False, store=c.store))
    assert why is not None and "141" in why
    c2 = await FixClient(sim).connect()
    assert c2.session.next_target_seq == 2
    # orders survive the rollover (an orderly Logout does not cancel them)
    assert sim.gateway.spot.orders[ack[37]].is_open


@run(rollover_every=0.3, refusal_window=0.1)
async def test_scheduled_rollover_every_n_seconds(sim: RunningSimulator) -> None:
    c = await FixClient(sim).connect()
    await c.closed(timeout=10)
    assert LogoutReceived("session rollover") in c.events


def test_rollover_timers_keep_running_under_uvloop() -> None:
    """uvloop's call_later returns a Handle without when() for short delays; the simulator's timer
    bookkeeping once died on it after the first rollover and refused every logon after."""
    uvloop = pytest.importorskip("uvloop")

    async def main() -> None:
        sim = await start_simulator(tls=False, flow_interval=0.01, rollover_every=0.1, refusal_window=0.05)
        try:
            assert isinstance(asyncio.get_running_loop(), uvloop.Loop)
            for _ in range(5):  # several rollovers, each followed by a good logon
                while not sim.refusing_logons:
                    await asyncio.sleep(0.005)
                await sim.wait_rollover_done()
            c = await FixClient(sim).connect()
            assert c.session.is_logged_on
        finally:
            await sim.close()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(asyncio.wait_for(main(), 30))
