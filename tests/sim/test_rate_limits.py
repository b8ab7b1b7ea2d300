"""Kraken's Spot trading limits in the simulator (SPEC §9, §12): the per-pair rate counter and the
open-order cap, as pure arithmetic and over loopback sockets."""

from __future__ import annotations

import asyncio

import pytest
from simclient import FixClient, is_er, is_type, next_clordid, order

from krakenfix_cli.fix.message import Message
from krakenfix_cli.fix.values import format_utc_timestamp
from krakenfix_cli.kraken.clordid import next_derivatives_clordid
from krakenfix_cli.kraken.rejects import advice_for
from krakenfix_cli.sim.ratelimit import E_ORDERS, E_RATE, TIERS, RateLimiter
from krakenfix_cli.sim.runner import RunningSimulator, start_simulator
from krakenfix_cli.transport import clock

# -- the arithmetic (explicit times, no clock) ----------------------------------------------------


def test_counter_decays_at_the_tier_rate() -> None:
    rl = RateLimiter(TIERS["intermediate"])
    for _ in range(10):
        assert rl.add_order("A", "BTC/USD", 100.0)
    assert rl.counter("A", "BTC/USD", 100.0) == pytest.approx(10)
    assert rl.counter("A", "BTC/USD", 102.0) == pytest.approx(10 - 2 * 2.34)
    assert rl.counter("A", "BTC/USD", 200.0) == 0.0
    assert rl.counter("A", "ETH/USD", 100.0) == 0.0  # one counter per pair
    assert rl.counter("B", "BTC/USD", 100.0) == 0.0  # and per account


def test_past_the_threshold_orders_are_refused_and_the_fixed_count_still_charged() -> None:
    rl = RateLimiter(TIERS["starter"])  # threshold 60
    assert all(rl.add_order("A", "BTC/USD", 0.0) for _ in range(60))
    assert not rl.add_order("A", "BTC/USD", 0.0)
    assert rl.counter("A", "BTC/USD", 0.0) == pytest.approx(61)  # "even if the transaction fails"
    assert not rl.add_order("A", "BTC/USD", 1.5)  # 61 - 1.5 + 1 > 60
    assert rl.add_order("A", "BTC/USD", 5.0)  # decayed below the line again


@pytest.mark.parametrize(("rested", "extra"), [(0.0, 8), (4.9, 8), (5.0, 6), (12.0, 5), (30.0, 4), (60.0, 2),
                                               (200.0, 1), (300.0, 0)])
def test_a_cancel_costs_more_the_younger_the_order(rested: float, extra: int) -> None:
    rl = RateLimiter(TIERS["pro"])
    assert rl.cancel("A", "BTC/USD", rested, 10.0)
    assert rl.counter("A", "BTC/USD", 10.0) == pytest.approx(extra)


@pytest.mark.parametrize(("rested", "cost"), [(1.0, 4), (7.0, 3), (14.0, 2), (20.0, 1)])
def test_an_amend_costs_one_plus_its_age_penalty(rested: float, cost: int) -> None:
    rl = RateLimiter(TIERS["pro"])
    assert rl.amend("A", "BTC/USD", rested, 10.0)
    assert rl.counter("A", "BTC/USD", 10.0) == pytest.approx(cost)


def test_open_order_cap_and_off() -> None:
    rl = RateLimiter(TIERS["intermediate"])
    assert rl.open_orders_allowed(79) and not rl.open_orders_allowed(80)
    off = RateLimiter.named("off")
    assert off.tier is None and off.open_orders_allowed(10**6)
    assert all(off.add_order("A", "BTC/USD", 0.0) for _ in range(1000))
    assert RateLimiter.named(None).tier == TIERS["intermediate"]  # SPEC §12's default
    with pytest.raises(ValueError, match="unknown rate-limit tier"):
        RateLimiter.named("platinum")


def test_advice_names_the_next_step() -> None:
    assert "decays" in (advice_for(f"BusinessMessageReject(j): {E_RATE} (BusinessRejectReason(380)=0)") or "")
    assert "open orders" in (advice_for(E_ORDERS) or "")
    assert advice_for("EGeneral:Internal error") is None


# -- the gateway, over loopback -------------------------------------------------------------------


def with_sim(test: object, **kw: object) -> None:
    async def main() -> None:
        sim = await start_simulator(tls=False, flow_interval=None, **kw)  # type: ignore[arg-type]
        try:
            await test(sim)  # type: ignore[operator]
        finally:
            await sim.close()

    asyncio.run(main())


def _answers(msgs: list[Message], clordids: set[str]) -> tuple[int, list[Message]]:
    acks = sum(1 for m in msgs if m.msg_type == "8" and m.get(150) == "0" and m.get(11) in clordids)
    rejects = [m for m in msgs if m.msg_type == "j" and m.get(379) in clordids]
    return acks, rejects


def test_a_burst_past_the_starter_counter_is_refused_with_rate_limit_exceeded() -> None:
    async def t(sim: RunningSimulator) -> None:
        c = await FixClient(sim).connect()
        sent = [order(price="1000.0", tif="3") for _ in range(70)]  # IOC: nothing rests, only the counter fills
        for m in sent:
            c.send(m)
        ids = {m[11] for m in sent}
        def answered() -> bool:  # each order: its acknowledgement or a 35=j
            return len({m.get(11) for m in c.inbox if is_er("0")(m)} & ids) + len(_answers(c.inbox, ids)[1]) >= 70

        await c.until(answered, 30)
        got = list(c.inbox)
        acks, rejects = _answers(got, ids)
        assert rejects, "no order was refused"
        assert all(r[58] == E_RATE and r[380] == "0" and r[372] == "D" for r in rejects)
        assert acks + len(rejects) == 70 and acks < 70

    with_sim(t, rate_limit="starter")


def test_the_81st_open_order_on_a_pair_is_refused_and_room_comes_back_after_a_cancel() -> None:
    async def t(sim: RunningSimulator) -> None:
        c = await FixClient(sim).connect()
        resting = [order(price=f"{1000 + i}.0") for i in range(81)]
        for m in resting:
            c.send(m)
        ids = {m[11] for m in resting}
        await c.wait_count(lambda m: m.get(11) in ids or m.get(379) in ids, 81, timeout=30)
        acks, rejects = _answers(c.inbox, ids)
        assert (acks, [r[58] for r in rejects]) == (80, [E_ORDERS])
        first = next(m for m in c.inbox if is_er("0", resting[0][11])(m))
        f = Message.new("F", (11, next_clordid()), (37, first[37]), (54, "1"), (55, "BTC/USD"),
                        (60, format_utc_timestamp(clock.now())))
        c.send(f)
        await c.wait_for(is_er("4", f[11]))
        again = order(price="2000.0")
        c.send(again)
        await c.wait_for(is_er("0", again[11]))
        eth = order(symbol="ETH/USD", price="3000.0")  # the cap is per pair
        c.send(eth)
        await c.wait_for(is_er("0", eth[11]))

    with_sim(t)  # the default: Intermediate, 80 open orders per pair


def test_a_cancel_over_the_counter_is_refused_but_a_mass_cancel_is_not() -> None:
    async def t(sim: RunningSimulator) -> None:
        c = await FixClient(sim).connect()
        rest = order(price="1000.0")
        c.send(rest)
        ack = await c.wait_for(is_er("0", rest[11]))
        fillers = [order(price="1000.0", tif="3") for _ in range(55)]  # counter ~56 of 60
        for m in fillers:
            c.send(m)
        ids = {m[11] for m in fillers}
        await c.wait_count(lambda m: m.get(11) in ids and m.get(150) == "0", 55, timeout=30)
        f = Message.new("F", (11, next_clordid()), (37, ack[37]), (54, "1"), (55, "BTC/USD"),
                        (60, format_utc_timestamp(clock.now())))
        c.send(f)  # +8 for an order under 5 s old: past 60
        rej = await c.wait_for(is_type("j"))
        assert rej[58] == E_RATE and rej[372] == "F" and rej[379] == f[11]
        q = Message.new("q", (11, next_clordid()), (60, format_utc_timestamp(clock.now())), (530, "6"))
        c.send(q)
        done = await c.wait_for(is_er("4", q[11]))
        assert done[37] == ack[37]

    with_sim(t, rate_limit="starter")


def test_derivatives_have_no_fix_limit() -> None:
    async def t(sim: RunningSimulator) -> None:
        creds = sim.credentials
        c = await FixClient(sim, sender=creds.derivatives_sender_comp_id, target="KRAKEN-DRV-TRD").connect()
        sent = [order(symbol="PF_XBTUSD", price="1000.0", tif="3", clordid=next_derivatives_clordid(clock.now()),
                      t18="s") for _ in range(70)]
        for m in sent:
            c.send(m)
        ids = {m[11] for m in sent}
        await c.wait_count(lambda m: m.get(11) in ids and m.get(150) == "0", 70, timeout=30)
        assert not [m for m in c.inbox if m.msg_type == "j"]

    with_sim(t, rate_limit="starter")
