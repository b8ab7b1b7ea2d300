"""The pre-send check: an order against its pair's InstrumentList(y) entry, before it leaves.

Kraken's commonest refusals of a well-formed order are ``EOrder:Tick size check failed``,
``EOrder:Order minimum not met``, ``EOrder:Cost minimum not met`` and a pair that is not
trading (SPEC §6.3, §7.6 5032). All four are known in advance from the InstrumentList, so
the check turns them into one line of advice that names the rule and the nearest valid
values, and nothing is sent. Pure: no clock, no disk, no network; Decimal only.

The rules, in the order they are checked (the first failure is the answer):

1. AssetPairStatus(5032): hidden, maintenance, cancel-only and delisted pairs take no
   order; post-only takes only post-only limit orders (ExecInst P), limit-only no order
   without a Price(44), reduce-only only ExecInst E.
2. Price(44), and StopPx(99) of the stop and take-profit types, on TickSize(5022).
   (A trailing stop's 99 is an offset, not a price: it is not checked.)
3. OrderQty(38) at least QtyMin(5011), at most QtyMax(5012), on minTradeVol(562).
4. Price × quantity at least MinimumCost(5013), when the order has a price.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal, InvalidOperation

from krakenfix_cli.fix.message import Message
from krakenfix_cli.ops.instruments import InstrumentInfo

#: Statuses that take no new order or amend at all (SPEC §7.6).
CLOSED_STATUSES = frozenset({"0", "2", "3", "6"})
#: OrdType(40) whose StopPx(99) is a trigger price (the trailing ones carry an offset).
STOP_PRICE_TYPES = frozenset({"3", "4", "R", "T"})


@dataclass(frozen=True)
class OrderTerms:
    """What of an order the check reads: the text as it would go on the wire."""

    symbol: str
    side: str | None = None
    qty: str | None = None
    price: str | None = None
    stop_px: str | None = None
    ord_type: str | None = None
    "OrdType(40) code."
    exec_inst: Sequence[str] = field(default_factory=tuple)
    "ExecInst(18) flags."

    @classmethod
    def from_message(cls, msg: Message) -> OrderTerms | None:
        """The terms of a D or G (None for any other message, or one without a Symbol(55))."""
        if msg.msg_type not in ("D", "G") or not msg.get(55):
            return None
        return cls(symbol=msg.get(55) or "", side=msg.get(54), qty=msg.get(38), price=msg.get(44),
                   stop_px=msg.get(99), ord_type=msg.get(40), exec_inst=tuple((msg.get(18) or "").split()))


@dataclass(frozen=True)
class Refusal:
    """Why the order would be refused: the rule, the tag it is about, the line, valid values near it."""

    rule: str
    "``status``, ``tick``, ``min``, ``max``, ``increment`` or ``cost``."
    tag: int | None
    line: str
    suggestions: tuple[Decimal, ...] = ()


def check_order(info: InstrumentInfo, terms: OrderTerms) -> Refusal | None:
    """The first rule ``terms`` break on ``info``'s pair, or None when the gateway should take it."""
    sym = info.symbol
    refusal = _status(info, terms)
    if refusal is not None:
        return refusal
    price = _dec(terms.price)
    prices: list[tuple[int, str, Decimal | None]] = [(44, "price", price)]
    if terms.ord_type in STOP_PRICE_TYPES:
        prices.append((99, "stop price", _dec(terms.stop_px)))
    for tag, name, value in prices:
        if value is None or info.tick is None or info.tick <= 0 or value <= 0:
            continue
        if value % info.tick:
            near = _neighbours(value, info.tick, floor=info.tick)
            return Refusal("tick", tag, f"{name} {terms.price if tag == 44 else terms.stop_px} is not on {sym}'s "
                                        f"tick size {_s(info.tick)} (TickSize 5022): use {_or(near)}", near)
    qty = _dec(terms.qty)
    if qty is None:
        return None
    low = info.qty_min
    inc = info.qty_increment if info.qty_increment is not None and info.qty_increment > 0 else None
    if low is not None and qty < low:
        least = _up_to(low, inc)
        return Refusal("min", 38, f"quantity {terms.qty} is below {sym}'s minimum {_s(low)} (QtyMin 5011): "
                                  f"use at least {_s(least)}", (least,))
    if info.qty_max is not None and qty > info.qty_max:
        most = info.qty_max if inc is None else (info.qty_max // inc) * inc
        return Refusal("max", 38, f"quantity {terms.qty} is above {sym}'s maximum {_s(info.qty_max)} "
                                  f"(QtyMax 5012): use at most {_s(most)}", (most,))
    if inc is not None and qty % inc:
        near = tuple(q for q in _neighbours(qty, inc, floor=low or inc)
                     if info.qty_max is None or q <= info.qty_max)
        return Refusal("increment", 38, f"quantity {terms.qty} is not a multiple of {sym}'s quantity increment "
                                        f"{_s(inc)} (minTradeVol 562): use {_or(near)}", near)
    if price is not None and price > 0 and info.min_cost is not None and price * qty < info.min_cost:
        least = _up_to(info.min_cost / price, inc)
        if low is not None and least < low:
            least = _up_to(low, inc)
        return Refusal("cost", 38, f"cost {_s(price * qty)} (price x quantity) is below {sym}'s minimum cost "
                                   f"{_s(info.min_cost)} (MinimumCost 5013): at price {terms.price} use a quantity "
                                   f"of at least {_s(least)}", (least,))
    return None


def _status(info: InstrumentInfo, terms: OrderTerms) -> Refusal | None:
    s = info.status
    what = f"{info.symbol} is {info.status_name} (AssetPairStatus 5032={s})"
    if s in CLOSED_STATUSES:
        return Refusal("status", None, f"{what}: it takes no new orders or amends now; "
                                       "`krakenfix instruments --refresh` shows when that changes")
    if s == "4" and ("P" not in terms.exec_inst or terms.price is None):
        return Refusal("status", None, f"{what}: it takes only post-only limit orders (--post-only)")
    if s == "5" and terms.price is None:
        return Refusal("status", None, f"{what}: it takes only orders with a limit price")
    if s == "7" and "E" not in terms.exec_inst:
        return Refusal("status", None, f"{what}: it takes only reduce-only orders (--reduce-only)")
    return None


def _dec(text: str | None) -> Decimal | None:
    """A finite Decimal, or None (absent, or not a number: the builders and the gateway say so)."""
    if text is None:
        return None
    try:
        d = Decimal(text)
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def _neighbours(value: Decimal, step: Decimal, *, floor: Decimal) -> tuple[Decimal, ...]:
    """The multiples of ``step`` just below and just above ``value``; the one below only if ≥ ``floor``."""
    below = (value // step) * step
    above = below + step
    return (below, above) if below >= floor else (above,)


def _up_to(value: Decimal, step: Decimal | None) -> Decimal:
    """``value`` rounded up onto ``step`` (itself when there is no step)."""
    if step is None:
        return value
    n = (value / step).to_integral_value(rounding=ROUND_CEILING)
    return n * step


def _s(d: Decimal) -> str:
    """Plain notation, never an exponent (SPEC §6.3)."""
    return format(d, "f")


def _or(values: Sequence[Decimal]) -> str:
    return " or ".join(_s(v) for v in values)
