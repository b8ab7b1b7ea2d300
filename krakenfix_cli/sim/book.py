"""Order book per symbol with price-time matching, trigger orders and self-trade prevention.

Pure and deterministic: no clock, no I/O, ``Decimal`` arithmetic only. Every input that
needs time takes ``now``; every outcome comes back as a list of book events
(:class:`Fill`, :class:`Cancelled`, :class:`Triggered`, :class:`Expired`) that the gateway
turns into ExecutionReports (kraken-fix/SPEC.md §6.9) and market data.

Rules (SPEC §6.4, §12):

* limit orders rest at their price; market orders and IOC take what they can and the
  rest is cancelled; FOK fills completely or not at all; GTD rests until ExpireTime(126);
* post-only (ExecInst(18) ``P``) that would take on arrival is cancelled (post-ack, with
  a reason), never matched;
* stop-loss (3/4), take-profit (R/T) and trailing stops (U/V) wait off the book and fire
  on the last trade price; when they fire they become market (1) or limit (2) orders;
  a trailing stop's StopPx(99) is the distance from the best price seen since it was
  placed ([derived]: Kraken's trailing offset);
* self-trade = same account; SelfTradePrevention(7928) of the arriving order decides:
  ``0`` cancel both, ``1`` cancel the arriving order (default), ``2`` cancel the resting one;
* DisplayQty(1138) only changes what market data shows (the visible part of an iceberg);
  matching uses the whole remaining quantity.

:class:`CounterpartyFlow` is the synthetic market: a seeded ``random.Random`` keeps
liquidity resting around a drifting mid price and prints small trades when the runner's
timer calls :meth:`CounterpartyFlow.step`, so marketable orders fill and resting ones
sometimes do.
"""

from __future__ import annotations

import random
from bisect import bisect_left, insort
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

ZERO = Decimal(0)
BUY = "1"
SELL = "2"
#: OrdType(40) values that wait for a trigger, and what they become when it fires.
TRIGGER_TYPES = {"3": "1", "4": "2", "R": "1", "T": "2", "U": "1", "V": "2"}
MARKET = "1"
LIMIT = "2"

STP_CANCEL_BOTH = "0"
STP_CANCEL_NEWEST = "1"
STP_CANCEL_OLDEST = "2"

REASON_POST_ONLY = "EOrder:Post only order"
REASON_STP = "EOrder:Self trade prevention"
REASON_IOC = "Immediate-or-cancel remainder cancelled"
REASON_FOK = "EOrder:Fill or kill order could not be filled completely"
REASON_NO_LIQUIDITY = "EOrder:Insufficient liquidity for market order"


@dataclass(eq=False, slots=True)
class Order:
    """One order's full state; the gateway owns the identifiers, the book the quantities."""

    order_id: str
    clordid: str
    account: str
    symbol: str
    side: str
    ord_type: str
    "OrdType(40) as it is now: a fired trigger order shows 1 or 2."
    qty: Decimal
    price: Decimal | None = None
    stop_px: Decimal | None = None
    tif: str = "1"
    exec_inst: str = ""
    post_only: bool = False
    stp: str = STP_CANCEL_NEWEST
    display_qty: Decimal | None = None
    expire_at: float | None = None
    owner: object = None
    "Opaque: the gateway's session instance that placed the order (cancel scope, COD)."
    orig_clordid: str | None = None
    cum_qty: Decimal = ZERO
    cost: Decimal = ZERO
    status: str = "0"
    "OrdStatus(39): 0 new, 1 partially filled, 2 filled, 4 cancelled, C expired."
    triggered: bool = True
    "False while a trigger order waits off the book."
    seq: int = 0
    extreme: Decimal | None = None
    "Trailing stops: the best last price seen since placement (peak for sells, trough for buys)."
    extra: dict[str, str] = field(default_factory=dict)
    "Fields echoed on ExecutionReports (ExecInst(18), StopPx text, ...)."
    placed_at: float = 0.0
    "When it was placed or last amended: the rate counter charges young orders more (SPEC §9)."

    @property
    def leaves(self) -> Decimal:
        """LeavesQty(151): what is still working."""
        if self.status in ("2", "4", "C"):
            return ZERO
        return self.qty - self.cum_qty

    @property
    def avg_px(self) -> Decimal:
        """AvgPx(6): volume-weighted fill price (0 before any fill)."""
        return self.cost / self.cum_qty if self.cum_qty else ZERO

    @property
    def is_open(self) -> bool:
        """Still working (resting, waiting for its trigger, or for its EffectiveTime: 39=A)."""
        return self.status in ("0", "1", "5", "A")


@dataclass(frozen=True, slots=True)
class Fill:
    """A trade between a resting (maker) and an arriving (taker) order."""

    maker: Order
    taker: Order
    price: Decimal
    qty: Decimal
    trade_id: int
    "SecondaryExecID(527): trade sequence number, unique per symbol."
    maker_state: tuple[Decimal, Decimal, str] = (ZERO, ZERO, "0")
    "The maker's (CumQty, cost, OrdStatus) right after this fill (later fills change the order)."
    taker_state: tuple[Decimal, Decimal, str] = (ZERO, ZERO, "0")
    "The taker's (CumQty, cost, OrdStatus) right after this fill."

    def state_of(self, order: Order) -> tuple[Decimal, Decimal, str]:
        """(CumQty, cost, OrdStatus) of ``order`` (maker or taker) as of this fill."""
        return self.maker_state if order is self.maker else self.taker_state


@dataclass(frozen=True, slots=True)
class Cancelled:
    """The book cancelled an order on its own (post-only, STP, IOC/FOK/market remainder)."""

    order: Order
    reason: str


@dataclass(frozen=True, slots=True)
class Triggered:
    """A stop/take-profit/trailing order fired and now works as market or limit."""

    order: Order


@dataclass(frozen=True, slots=True)
class Expired:
    """A GTD order reached its ExpireTime(126)."""

    order: Order


BookEvent = Fill | Cancelled | Triggered | Expired


class Book:
    """Bids and asks of one symbol, price-time priority."""

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self._levels: dict[str, dict[Decimal, deque[Order]]] = {BUY: {}, SELL: {}}
        #: Prices ascending per side; the best bid is the last, the best ask the first.
        self._prices: dict[str, list[Decimal]] = {BUY: [], SELL: []}
        self._triggers: list[Order] = []
        self.last_price: Decimal | None = None
        self.trade_seq = 0
        self._seq = 0
        #: Bumped on every change that market data could see.
        self.version = 0
        #: Trades since the last :meth:`take_trades` (for market-data trade entries).
        self.recent_trades: list[Fill] = []

    # -- queries ------------------------------------------------------------------------------------
    def best(self, side: str) -> Decimal | None:
        """Best bid (side 1) or best ask (side 2)."""
        prices = self._prices[side]
        if not prices:
            return None
        return prices[-1] if side == BUY else prices[0]

    def levels(self, side: str, depth: int = 0) -> list[tuple[Decimal, Decimal]]:
        """Aggregated visible (price, qty) from the best price outward; depth 0 = all."""
        prices = self._prices[side]
        ordered = reversed(prices) if side == BUY else iter(prices)
        out: list[tuple[Decimal, Decimal]] = []
        book = self._levels[side]
        for px in ordered:
            qty = ZERO
            for o in book[px]:
                left = o.qty - o.cum_qty
                qty += min(left, o.display_qty) if o.display_qty is not None else left
            if qty > 0:
                out.append((px, qty))
                if depth and len(out) >= depth:
                    break
        return out

    def resting(self, side: str) -> Iterator[Order]:
        """Resting orders of one side, best price first, time priority within a price."""
        prices = self._prices[side]
        ordered = list(reversed(prices)) if side == BUY else list(prices)
        for px in ordered:
            yield from self._levels[side][px]

    def waiting_triggers(self) -> list[Order]:
        """Trigger orders not yet fired."""
        return list(self._triggers)

    def crossed(self) -> bool:
        """True if the best bid is at or above the best ask (must never hold after matching)."""
        b, a = self.best(BUY), self.best(SELL)
        return b is not None and a is not None and b >= a

    # -- inputs -------------------------------------------------------------------------------------
    def submit(self, order: Order, now: float) -> list[BookEvent]:
        """Add an accepted (already acknowledged) order: match, rest, or park its trigger."""
        events: list[BookEvent] = []
        self._seq += 1
        order.seq = self._seq
        if order.ord_type in TRIGGER_TYPES:
            order.triggered = False
            if order.ord_type in ("U", "V"):
                order.extreme = self.last_price
            if self._should_fire(order):
                self._fire(order, events)
                self._work(order, events)
            else:
                self._triggers.append(order)
        else:
            self._work(order, events)
        self._run_triggers(events)
        return events

    def cancel(self, order: Order) -> bool:
        """Take an open order off the book (or out of the trigger list); False if not there."""
        if not order.is_open:
            return False
        removed = self._remove(order)
        order.status = "4"
        return removed

    def amend(
        self,
        order: Order,
        now: float,
        qty: Decimal | None = None,
        price: Decimal | None = None,
        stop_px: Decimal | None = None,
        display_qty: Decimal | None = None,
    ) -> list[BookEvent]:
        """Change quantity/price/trigger/display of an open order (Spot amend, SPEC §6.6).

        Priority is kept when only the quantity goes down; a price change or a larger
        quantity re-queues the order (and may make it trade). A quantity at or below the
        filled quantity closes the order.
        """
        events: list[BookEvent] = []
        keep_priority = (price is None or price == order.price) and (qty is None or qty <= order.qty)
        if display_qty is not None:
            order.display_qty = display_qty
        if stop_px is not None:
            order.stop_px = stop_px
        if qty is not None:
            order.qty = qty
        if order.cum_qty >= order.qty:
            order.qty = order.cum_qty
            self._remove(order)
            order.status = "2" if order.cum_qty > 0 else "4"
            self.version += 1
            return events
        if keep_priority:
            if price is not None:
                order.price = price
            self.version += 1
            return events
        on_book = order.triggered and self._remove(order)
        if price is not None:
            order.price = price
        if on_book:
            self._seq += 1
            order.seq = self._seq
            self._work(order, events)
            self._run_triggers(events)
        self.version += 1
        return events

    def expire(self, now: float) -> list[BookEvent]:
        """GTD orders whose ExpireTime(126) has passed."""
        events: list[BookEvent] = []
        for side in (BUY, SELL):
            due = [o for o in self.resting(side) if o.expire_at is not None and o.expire_at <= now]
            for o in due:
                self._remove(o)
                o.status = "C"
                events.append(Expired(o))
        for o in [o for o in self._triggers if o.expire_at is not None and o.expire_at <= now]:
            self._triggers.remove(o)
            o.status = "C"
            events.append(Expired(o))
        return events

    # -- matching -----------------------------------------------------------------------------------
    def _crosses(self, order: Order, px: Decimal) -> bool:
        if order.ord_type == MARKET or order.price is None:
            return True
        return px <= order.price if order.side == BUY else px >= order.price

    def _work(self, order: Order, events: list[BookEvent]) -> None:
        """Match an arriving order, then rest or cancel what is left."""
        other = SELL if order.side == BUY else BUY
        best = self.best(other)
        if order.post_only and best is not None and self._crosses(order, best):
            order.status = "4"
            events.append(Cancelled(order, REASON_POST_ONLY))
            return
        if order.tif == "4" and self._available(order) < order.qty - order.cum_qty:
            order.status = "4"
            events.append(Cancelled(order, REASON_FOK))
            return
        self._match(order, events)
        if not order.is_open:
            return
        if order.qty - order.cum_qty <= 0:
            return
        if order.ord_type == MARKET:
            order.status = "4"
            events.append(Cancelled(order, REASON_NO_LIQUIDITY if order.cum_qty == 0 else REASON_IOC))
        elif order.tif in ("3", "4"):
            order.status = "4"
            events.append(Cancelled(order, REASON_IOC if order.tif == "3" else REASON_FOK))
        else:
            self._rest(order)

    def _available(self, order: Order) -> Decimal:
        other = SELL if order.side == BUY else BUY
        total = ZERO
        need = order.qty - order.cum_qty
        for o in self.resting(other):
            if not self._crosses(order, o.price or ZERO):
                break
            if o.account != order.account:
                total += o.qty - o.cum_qty
                if total >= need:
                    break
        return total

    def _match(self, taker: Order, events: list[BookEvent]) -> None:
        other = SELL if taker.side == BUY else BUY
        prices = self._prices[other]
        levels = self._levels[other]
        while prices and taker.qty > taker.cum_qty:
            px = prices[-1] if other == BUY else prices[0]
            if not self._crosses(taker, px):
                break
            queue = levels[px]
            while queue and taker.qty > taker.cum_qty:
                maker = queue[0]
                if maker.account == taker.account:
                    mode = taker.stp if taker.stp in (STP_CANCEL_BOTH, STP_CANCEL_OLDEST) else STP_CANCEL_NEWEST
                    if mode in (STP_CANCEL_OLDEST, STP_CANCEL_BOTH):
                        queue.popleft()
                        maker.status = "4"
                        events.append(Cancelled(maker, REASON_STP))
                    if mode in (STP_CANCEL_NEWEST, STP_CANCEL_BOTH):
                        taker.status = "4"
                        events.append(Cancelled(taker, REASON_STP))
                        break
                    continue
                qty = min(taker.qty - taker.cum_qty, maker.qty - maker.cum_qty)
                self._trade(maker, taker, px, qty, events)
                if maker.cum_qty >= maker.qty:
                    queue.popleft()
            if not queue:
                del levels[px]
                if other == BUY:
                    prices.pop()
                else:
                    prices.pop(0)
            if not taker.is_open:
                break
        self.version += 1

    def _trade(self, maker: Order, taker: Order, px: Decimal, qty: Decimal, events: list[BookEvent]) -> None:
        self.trade_seq += 1
        for o in (maker, taker):
            o.cum_qty += qty
            o.cost += px * qty
            o.status = "2" if o.cum_qty >= o.qty else "1"
        self.last_price = px
        fill = Fill(maker, taker, px, qty, self.trade_seq, (maker.cum_qty, maker.cost, maker.status),
                    (taker.cum_qty, taker.cost, taker.status))
        events.append(fill)
        self.recent_trades.append(fill)

    def _rest(self, order: Order) -> None:
        px = order.price
        assert px is not None, "only priced orders rest"
        side_levels = self._levels[order.side]
        queue = side_levels.get(px)
        if queue is None:
            queue = side_levels[px] = deque()
            insort(self._prices[order.side], px)
        queue.append(order)
        self.version += 1

    def _remove(self, order: Order) -> bool:
        if not order.triggered:
            try:
                self._triggers.remove(order)
                return True
            except ValueError:
                return False
        px = order.price
        if px is None:
            return False
        side_levels = self._levels[order.side]
        queue = side_levels.get(px)
        if queue is None:
            return False
        try:
            queue.remove(order)
        except ValueError:
            return False
        if not queue:
            del side_levels[px]
            prices = self._prices[order.side]
            i = bisect_left(prices, px)
            if i < len(prices) and prices[i] == px:
                prices.pop(i)
        self.version += 1
        return True

    # -- triggers -----------------------------------------------------------------------------------
    def _should_fire(self, order: Order) -> bool:
        last = self.last_price
        stop = order.stop_px
        if last is None or stop is None:
            return False
        t = order.ord_type
        buy = order.side == BUY
        if t in ("3", "4"):  # stop-loss: price moves against the position
            return last >= stop if buy else last <= stop
        if t in ("R", "T"):  # take-profit: price moves in favour
            return last <= stop if buy else last >= stop
        # trailing: StopPx is the distance from the best price seen since placement
        ext = order.extreme
        if ext is None:
            order.extreme = last
            return False
        if buy:
            ext = min(ext, last)
            order.extreme = ext
            return last >= ext + stop
        ext = max(ext, last)
        order.extreme = ext
        return last <= ext - stop

    def _fire(self, order: Order, events: list[BookEvent]) -> None:
        order.extra.setdefault("trigger_type", order.ord_type)
        order.ord_type = TRIGGER_TYPES[order.ord_type]
        order.triggered = True
        self._seq += 1
        order.seq = self._seq
        events.append(Triggered(order))

    def _run_triggers(self, events: list[BookEvent]) -> None:
        """Fire every waiting trigger the last price now reaches; repeat while trades cascade."""
        for _ in range(1000):
            if not self._triggers or self.last_price is None:
                return
            due = [o for o in self._triggers if self._should_fire(o)]
            if not due:
                return
            for o in due:
                self._triggers.remove(o)
            for o in due:
                self._fire(o, events)
                self._work(o, events)

    def take_trades(self) -> list[Fill]:
        """Trades since the last call (market data)."""
        out, self.recent_trades = self.recent_trades, []
        return out


#: The synthetic counterparties' account: never a self-trade with a client.
FLOW_ACCOUNT = "~sim-market"


class CounterpartyFlow:
    """Seeded synthetic liquidity and trades for one book."""

    def __init__(
        self,
        book: Book,
        rng: random.Random,
        mid: Decimal,
        tick: Decimal,
        lot: Decimal,
        levels: int = 10,
        step_ticks: int = 5,
    ) -> None:
        self.book = book
        self.rng = rng
        self.mid = mid
        self.tick = tick
        self.lot = lot
        self.levels = levels
        self.spacing = tick * step_ticks
        self._n = 0
        self.own: list[Order] = []

    def _order(self, side: str, ord_type: str, qty: Decimal, price: Decimal | None, tif: str = "1") -> Order:
        self._n += 1
        return Order(
            order_id=f"~{self.book.symbol}-{self._n}", clordid=str(self._n), account=FLOW_ACCOUNT,
            symbol=self.book.symbol, side=side, ord_type=ord_type, qty=qty, price=price, tif=tif,
        )  # fmt: skip

    def _size(self) -> Decimal:
        return self.lot * self.rng.randint(5, 100)

    def refresh(self, now: float) -> list[BookEvent]:
        """Top up resting liquidity: ``levels`` prices a side, around the mid."""
        events: list[BookEvent] = []
        self.own = [o for o in self.own if o.is_open]
        have = {(o.side, o.price) for o in self.own}
        for i in range(1, self.levels + 1):
            for side, px in ((BUY, self.mid - self.spacing * i), (SELL, self.mid + self.spacing * i)):
                if px <= 0 or (side, px) in have:
                    continue
                o = self._order(side, LIMIT, self._size(), px)
                self.own.append(o)
                events += self.book.submit(o, now)
        # Quotes that drifted far from the mid are withdrawn.
        far = self.spacing * (self.levels + 5)
        for o in self.own:
            if o.is_open and o.price is not None and abs(o.price - self.mid) > far:
                self.book.cancel(o)
        return events

    def step(self, now: float) -> list[BookEvent]:
        """One tick of the synthetic market: drift the mid, print a trade, refresh quotes."""
        drift = self.rng.choice((-1, 0, 0, 1))
        self.mid = max(self.tick, self.mid + self.tick * drift)
        events: list[BookEvent] = []
        if self.rng.random() < 0.5:
            side = self.rng.choice((BUY, SELL))
            taker = self._order(side, MARKET, self.lot * self.rng.randint(1, 5), None, tif="3")
            events += self.book.submit(taker, now)
        events += self.refresh(now)
        return events
