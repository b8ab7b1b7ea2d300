"""ops.precheck: an order against its pair's InstrumentList entry (SPEC §6.3, §7.6), before it is sent."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from krakenfix_cli.ops.instruments import InstrumentInfo
from krakenfix_cli.ops.precheck import OrderTerms, check_order
from krakenfix_cli.sim.gateway import SPOT_INSTRUMENTS

D = Decimal
BTC = InstrumentInfo("BTC/USD", tick=D("0.1"), price_precision=1, qty_precision=8, qty_increment=D("0.00000001"),
                     qty_min=D("0.0001"), qty_max=D("10000"), min_cost=D("0.5"), status="1")


def test_off_tick_price_names_the_rule_and_both_neighbours() -> None:
    r = check_order(BTC, OrderTerms("BTC/USD", qty="0.01", price="50000.03"))
    assert r is not None and r.rule == "tick" and r.tag == 44
    assert r.line == "price 50000.03 is not on BTC/USD's tick size 0.1 (TickSize 5022): use 50000.0 or 50000.1"


@pytest.mark.parametrize(("qty", "rule", "words"), [
    ("0.00001", "min", "below BTC/USD's minimum 0.0001 (QtyMin 5011): use at least 0.0001"),
    ("0.000100005", "increment", "use 0.00010000 or 0.00010001"),
    ("20000", "max", "use at most 10000"),
])
def test_quantity_rules(qty: str, rule: str, words: str) -> None:
    r = check_order(BTC, OrderTerms("BTC/USD", qty=qty, price="100.0"))
    assert r is not None and r.rule == rule and words in r.line, r


def test_cost_minimum_suggests_the_smallest_quantity_that_meets_it() -> None:
    r = check_order(BTC, OrderTerms("BTC/USD", qty="0.0001", price="1000.0"))
    assert r is not None and r.rule == "cost"
    assert r.suggestions == (D("0.0005"),) and "use a quantity of at least 0.0005" in r.line


@pytest.mark.parametrize(("status", "terms", "refused"), [
    ("3", OrderTerms("BTC/USD", qty="0.01", price="100.0"), True),
    ("2", OrderTerms("BTC/USD", qty="0.01", price="100.0"), True),
    ("4", OrderTerms("BTC/USD", qty="0.01", price="100.0"), True),
    ("4", OrderTerms("BTC/USD", qty="0.01", price="100.0", exec_inst=("P",)), False),
    ("5", OrderTerms("BTC/USD", qty="0.01", ord_type="1"), True),
    ("5", OrderTerms("BTC/USD", qty="0.01", price="100.0", ord_type="2"), False),
    ("7", OrderTerms("BTC/USD", qty="0.01", price="100.0"), True),
    ("7", OrderTerms("BTC/USD", qty="0.01", price="100.0", exec_inst=("E",)), False),
])
def test_pair_status(status: str, terms: OrderTerms, refused: bool) -> None:
    r = check_order(dataclasses.replace(BTC, status=status), terms)
    assert (r is not None and r.rule == "status") is refused, r


def test_a_trailing_stop_offset_is_not_a_price_but_a_stop_loss_trigger_is() -> None:
    assert check_order(BTC, OrderTerms("BTC/USD", qty="0.01", stop_px="1.25", ord_type="U")) is None
    r = check_order(BTC, OrderTerms("BTC/USD", qty="0.01", stop_px="1000.25", ord_type="3"))
    assert r is not None and r.tag == 99


def _inst(tick_exp: int, tick_mult: int, inc_exp: int, min_mult: int) -> InstrumentInfo:
    tick = D(tick_mult).scaleb(-tick_exp)
    inc = D(1).scaleb(-inc_exp)
    return InstrumentInfo("X/Y", tick=tick, price_precision=tick_exp, qty_precision=inc_exp, qty_increment=inc,
                          qty_min=inc * min_mult, qty_max=D(10) ** 9, min_cost=None, status="1")


instruments = st.one_of(
    st.builds(_inst, st.integers(0, 8), st.sampled_from([1, 5, 25]), st.integers(0, 10), st.integers(1, 1000)),
    st.sampled_from([InstrumentInfo(i.symbol, i.tick, i.price_precision, i.qty_precision, i.lot, i.qty_min,
                                    i.qty_max, i.min_cost, i.status) for i in SPOT_INSTRUMENTS]),
)


@given(instruments, st.integers(1, 10**7), st.integers(0, 10**6))
def test_values_on_the_grid_always_pass(inst: InstrumentInfo, ticks: int, extra: int) -> None:
    assert inst.tick is not None and inst.qty_increment is not None and inst.qty_min is not None
    price = inst.tick * ticks
    qty = inst.qty_min + inst.qty_increment * extra
    if inst.min_cost is not None and price * qty < inst.min_cost:
        return  # the cost rule has its own test below
    assert check_order(inst, OrderTerms("X/Y", qty=format(qty, "f"), price=format(price, "f"))) is None


@given(instruments, st.decimals(min_value=D("0.00000001"), max_value=D("100000"), places=10),
       st.decimals(min_value=D("0"), max_value=D("1000"), places=12))
def test_every_suggestion_passes_the_rule_it_was_made_for(inst: InstrumentInfo, price: Decimal,
                                                         qty: Decimal) -> None:
    terms = OrderTerms(inst.symbol, qty=format(qty, "f"), price=format(price, "f"))
    seen = set()
    for _ in range(4):  # each fix moves on to the next rule, never back to the same one
        r = check_order(inst, terms)
        if r is None:
            return
        assert r.suggestions, r
        assert (r.rule, r.tag) not in seen, r
        seen.add((r.rule, r.tag))
        for s in r.suggestions:
            fixed = dataclasses.replace(terms, **{"price" if r.tag == 44 else "qty": format(s, "f")})
            again = check_order(inst, fixed)
            assert again is None or (again.rule, again.tag) != (r.rule, r.tag), (r, again)
        terms = dataclasses.replace(terms, **{"price" if r.tag == 44 else "qty": format(r.suggestions[-1], "f")})
