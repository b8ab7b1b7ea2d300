"""The simulator's order book: price-time matching, TIFs, post-only, STP, triggers, invariants."""

from __future__ import annotations

import random
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from krakenfix_cli.sim.book import (
    BUY,
    REASON_POST_ONLY,
    REASON_STP,
    SELL,
    Book,
    Cancelled,
    CounterpartyFlow,
    Expired,
    Fill,
    Order,
    Triggered,
)

D = Decimal
_n = [0]


def mk(side: str, qty: str, price: str | None, *, account: str = "a", ord_type: str = "2", **kw: object) -> Order:
    _n[0] += 1
    return Order(
        order_id=f"O{_n[0]}", clordid=str(_n[0]), account=account, symbol="BTC/USD", side=side,
        ord_type=ord_type, qty=D(qty), price=D(price) if price is not None else None, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def fills(events: list) -> list[Fill]:  # type: ignore[type-arg]
    return [e for e in events if isinstance(e, Fill)]


def test_limit_orders_rest_and_best_prices_are_reported() -> None:
    b = Book("BTC/USD")
    b.submit(mk(BUY, "1", "100"), 0)
    b.submit(mk(BUY, "1", "101"), 0)
    b.submit(mk(SELL, "1", "105"), 0)
    assert b.best(BUY) == D("101")
    assert b.best(SELL) == D("105")
    assert b.levels(BUY) == [(D("101"), D("1")), (D("100"), D("1"))]


def test_price_then_time_priority_decides_who_fills_first() -> None:
    b = Book("BTC/USD")
    first = mk(SELL, "1", "100", account="m1")
    second = mk(SELL, "1", "100", account="m2")
    better = mk(SELL, "1", "99", account="m3")
    for o in (first, second, better):
        b.submit(o, 0)
    ev = b.submit(mk(BUY, "2", "100"), 0)
    assert [(f.maker, f.price) for f in fills(ev)] == [(better, D("99")), (first, D("100"))]
    assert second.cum_qty == 0 and second.is_open


def test_fill_reports_state_as_of_each_fill() -> None:
    b = Book("BTC/USD")
    b.submit(mk(SELL, "1", "100", account="m"), 0)
    b.submit(mk(SELL, "1", "101", account="m"), 0)
    taker = mk(BUY, "2", "101")
    ev = fills(b.submit(taker, 0))
    assert [f.state_of(taker)[0] for f in ev] == [D("1"), D("2")]
    assert [f.state_of(taker)[2] for f in ev] == ["1", "2"]
    assert taker.avg_px == D("100.5")


def test_market_order_remainder_is_cancelled_when_liquidity_runs_out() -> None:
    b = Book("BTC/USD")
    b.submit(mk(SELL, "1", "100", account="m"), 0)
    taker = mk(BUY, "3", None, ord_type="1")
    ev = b.submit(taker, 0)
    assert fills(ev)[0].qty == D("1")
    assert isinstance(ev[-1], Cancelled) and ev[-1].order is taker
    assert taker.status == "4" and taker.cum_qty == D("1")


def test_ioc_takes_what_it_can_and_never_rests() -> None:
    b = Book("BTC/USD")
    b.submit(mk(SELL, "1", "100", account="m"), 0)
    taker = mk(BUY, "2", "100", tif="3")
    b.submit(taker, 0)
    assert taker.cum_qty == D("1") and taker.status == "4"
    assert b.best(BUY) is None


def test_fok_fills_completely_or_not_at_all() -> None:
    b = Book("BTC/USD")
    maker = mk(SELL, "1", "100", account="m")
    b.submit(maker, 0)
    fok = mk(BUY, "2", "100", tif="4")
    ev = b.submit(fok, 0)
    assert not fills(ev) and fok.status == "4" and maker.cum_qty == 0
    fok2 = mk(BUY, "1", "100", tif="4")
    assert fills(b.submit(fok2, 0))[0].qty == D("1")


def test_post_only_that_would_take_is_cancelled_and_one_that_rests_stays() -> None:
    b = Book("BTC/USD")
    b.submit(mk(SELL, "1", "100", account="m"), 0)
    crossing = mk(BUY, "1", "100", post_only=True)
    ev = b.submit(crossing, 0)
    assert ev == [Cancelled(crossing, REASON_POST_ONLY)]
    resting = mk(BUY, "1", "99", post_only=True)
    assert b.submit(resting, 0) == []
    assert b.best(BUY) == D("99")


def test_stp_cancel_newest_cancels_the_arriving_order() -> None:
    b = Book("BTC/USD")
    resting = mk(SELL, "1", "100", account="same")
    b.submit(resting, 0)
    taker = mk(BUY, "1", "100", account="same", stp="1")
    ev = b.submit(taker, 0)
    assert ev == [Cancelled(taker, REASON_STP)]
    assert resting.is_open


def test_stp_cancel_oldest_cancels_the_resting_order_and_keeps_matching() -> None:
    b = Book("BTC/USD")
    own = mk(SELL, "1", "100", account="same")
    other = mk(SELL, "1", "100", account="else")
    b.submit(own, 0)
    b.submit(other, 0)
    taker = mk(BUY, "1", "100", account="same", stp="2")
    ev = b.submit(taker, 0)
    assert isinstance(ev[0], Cancelled) and ev[0].order is own
    assert fills(ev)[0].maker is other and taker.status == "2"


def test_stp_cancel_both() -> None:
    b = Book("BTC/USD")
    own = mk(SELL, "1", "100", account="same")
    b.submit(own, 0)
    taker = mk(BUY, "1", "100", account="same", stp="0")
    ev = b.submit(taker, 0)
    assert {e.order.order_id for e in ev if isinstance(e, Cancelled)} == {own.order_id, taker.order_id}


def test_stop_loss_fires_on_last_trade_and_becomes_a_market_order() -> None:
    b = Book("BTC/USD")
    b.submit(mk(BUY, "5", "95", account="m"), 0)
    stop = mk(SELL, "1", None, ord_type="3", stop_px=D("98"))
    assert b.submit(stop, 0) == []
    assert b.waiting_triggers() == [stop]
    # a trade at 97 (<= 98) fires the sell stop, which then sells at the 95 bid
    b.submit(mk(SELL, "1", "97", account="x"), 0)
    ev = b.submit(mk(BUY, "1", "97", account="y"), 0)
    trig = [e for e in ev if isinstance(e, Triggered)]
    assert trig and trig[0].order is stop and stop.ord_type == "1"
    assert any(f.taker is stop and f.price == D("95") for f in fills(ev))


def test_take_profit_limit_becomes_a_limit_order_when_price_moves_in_favour() -> None:
    b = Book("BTC/USD")
    tp = mk(SELL, "1", "110", ord_type="T", stop_px=D("105"))
    b.submit(tp, 0)
    b.submit(mk(SELL, "1", "106", account="x"), 0)
    ev = b.submit(mk(BUY, "1", "106", account="y"), 0)
    assert any(isinstance(e, Triggered) for e in ev)
    assert tp.ord_type == "2" and b.best(SELL) == D("110")


def test_trailing_stop_follows_the_peak() -> None:
    b = Book("BTC/USD")
    b.submit(mk(BUY, "10", "80", account="m"), 0)
    trail = mk(SELL, "1", None, ord_type="U", stop_px=D("5"))
    b.submit(trail, 0)

    def trade(px: str) -> list:  # type: ignore[type-arg]
        b.submit(mk(SELL, "0.1", px, account="x"), 0)
        return b.submit(mk(BUY, "0.1", px, account="y"), 0)

    trade("100")
    trade("110")  # new peak 110 → fires at <= 105
    assert not any(isinstance(e, Triggered) for e in trade("106"))
    assert any(isinstance(e, Triggered) for e in trade("105"))


def test_gtd_orders_expire() -> None:
    b = Book("BTC/USD")
    o = mk(BUY, "1", "100", tif="6", expire_at=50.0)
    b.submit(o, 0)
    assert b.expire(49.0) == []
    assert b.expire(50.0) == [Expired(o)]
    assert b.best(BUY) is None and o.status == "C"


def test_amend_down_keeps_priority_and_price_change_loses_it() -> None:
    b = Book("BTC/USD")
    a = mk(SELL, "2", "100", account="m1")
    c = mk(SELL, "2", "100", account="m2")
    b.submit(a, 0)
    b.submit(c, 0)
    b.amend(a, 0, qty=D("1"))
    assert fills(b.submit(mk(BUY, "1", "100"), 0))[0].maker is a
    b.amend(c, 0, price=D("101"))
    assert b.best(SELL) == D("101")


def test_cancel_removes_the_level() -> None:
    b = Book("BTC/USD")
    o = mk(BUY, "1", "100")
    b.submit(o, 0)
    assert b.cancel(o)
    assert b.best(BUY) is None and not b.cancel(o)


def test_display_qty_only_changes_what_market_data_shows() -> None:
    b = Book("BTC/USD")
    b.submit(mk(SELL, "10", "100", account="m", display_qty=D("1")), 0)
    assert b.levels(SELL) == [(D("100"), D("1"))]
    assert fills(b.submit(mk(BUY, "5", "100"), 0))[0].qty == D("5")


def test_counterparty_flow_is_seeded_and_keeps_liquidity_on_both_sides() -> None:
    def run(seed: int) -> list[tuple[Decimal, Decimal]]:
        b = Book("BTC/USD")
        flow = CounterpartyFlow(b, random.Random(seed), D("60000"), D("0.1"), D("0.01"))
        flow.refresh(0)
        for t in range(50):
            flow.step(float(t))
        assert not b.crossed()
        assert b.best(BUY) is not None and b.best(SELL) is not None
        return b.levels(BUY, 5) + b.levels(SELL, 5)

    assert run(7) == run(7)


orders_strategy = st.lists(
    st.tuples(
        st.sampled_from([BUY, SELL]),
        st.integers(min_value=1, max_value=50),  # qty in 0.1 units
        st.integers(min_value=90, max_value=110),  # price
        st.sampled_from(["1", "3", "4"]),  # GTC, IOC, FOK
        st.sampled_from(["a", "b", "c"]),  # accounts
        st.sampled_from(["0", "1", "2"]),  # STP
        st.booleans(),  # market?
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(orders_strategy)
def test_book_is_never_crossed_and_quantities_are_conserved(specs: list) -> None:  # type: ignore[type-arg]
    b = Book("BTC/USD")
    placed: list[Order] = []
    traded = D(0)
    for side, q, px, tif, acct, stp, market in specs:
        o = mk(side, str(D(q) / 10), None if market else str(px), account=acct, tif=tif, stp=stp,
               ord_type="1" if market else "2")
        placed.append(o)
        for e in b.submit(o, 0):
            if isinstance(e, Fill):
                traded += e.qty
                assert e.maker.account != e.taker.account
        assert not b.crossed()
    # every fill moved the same quantity on both sides
    assert sum((o.cum_qty for o in placed), D(0)) == 2 * traded
    for o in placed:
        assert D(0) <= o.cum_qty <= o.qty
        assert o.leaves == (o.qty - o.cum_qty if o.is_open else 0)
    # what rests is exactly the open orders' remaining quantity
    resting = sum((q for s in (BUY, SELL) for _, q in b.levels(s)), D(0))
    assert resting == sum((o.qty - o.cum_qty for o in placed if o.is_open), D(0))
