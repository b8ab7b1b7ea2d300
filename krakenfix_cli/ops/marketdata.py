"""An order book rebuilt from MarketDataSnapshotFullRefresh(W) and IncrementalRefresh(X), checksum-verified.

Kraken sends one snapshot per subscription, then increments whose entries must be applied
in order (an entry can be created and deleted in one message, SPEC §7.3). Every book update
carries ChecksumOrderBook(5041) over the best 10 levels a side (§7.4); a book that disagrees
is wrong from then on, so a mismatch is counted and the caller asks for a fresh snapshot.

Entries are kept by MDEntryID(278): on L2 it is side letter plus price (one entry a level),
on L3 (266=N, Derivatives) an order id, several per price; the checksum is over levels, so
both aggregate sizes per price. Pure: no I/O, no clock, ``Decimal`` arithmetic only.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from krakenfix_cli.fix.message import Field, Message
from krakenfix_cli.kraken.book_checksum import CHECKSUM_LEVELS, Level, book_checksum

BID = "0"
OFFER = "1"
TRADE = "2"
ZERO = Decimal(0)
#: AggressorSide(2446) → what a trade line says.
AGGRESSOR = {"1": "buy", "2": "sell"}


class BookDataError(ValueError):
    """An entry the book cannot apply (no side, no price, a size that is not a number)."""


@dataclass(frozen=True, slots=True)
class Precision:
    """PricePrecision(2349) and QtyPrecision(5010) of one pair, from InstrumentList(y) (SPEC §7.6)."""

    price: int
    qty: int


@dataclass(frozen=True, slots=True)
class Trade:
    """A trade entry (269=2) of an increment."""

    time: str
    "MDEntryTime(273), HH:MM:SS.sss."
    side: str
    "The taker's side (AggressorSide(2446)): buy, sell, or empty when not given."
    price: Decimal
    size: Decimal
    trade_id: str


@dataclass(frozen=True, slots=True)
class Change:
    """One book entry of an increment: MDUpdateAction(279) new/change/delete, side, price, size."""

    action: str
    "``new``, ``change`` or ``delete``."
    side: str
    "``bid`` or ``ask``."
    price: Decimal
    size: Decimal


ACTIONS = {"0": "new", "1": "change", "2": "delete"}


@dataclass(frozen=True, slots=True)
class Applied:
    """What one W or X did to the book."""

    kind: str
    "``snapshot`` or ``update``."
    entries: int
    "Book entries applied (trades not counted)."
    trades: tuple[Trade, ...] = ()
    expected: int | None = None
    "The gateway's ChecksumOrderBook(5041), when the message carried one."
    computed: int | None = None
    "Ours, over the book after the message (when 5041 was there to compare)."
    changes: tuple[Change, ...] = ()
    "The book entries of an update, in order."

    @property
    def verified(self) -> bool | None:
        """True/False when a checksum was compared; None when the message had none."""
        return None if self.expected is None else self.expected == self.computed


@dataclass
class _Side:
    """One side's levels: size per price, and the prices in ascending order."""

    sizes: dict[Decimal, Decimal] = field(default_factory=dict)
    prices: list[Decimal] = field(default_factory=list)

    def add(self, px: Decimal, delta: Decimal) -> None:
        size = self.sizes.get(px)
        if size is None:
            if delta <= 0:
                return
            self.sizes[px] = delta
            insort(self.prices, px)
            return
        size += delta
        if size > 0:
            self.sizes[px] = size
            return
        del self.sizes[px]
        i = bisect_left(self.prices, px)
        if i < len(self.prices) and self.prices[i] == px:
            self.prices.pop(i)

    def clear(self) -> None:
        self.sizes.clear()
        self.prices.clear()


class OrderBook:
    """One symbol's book as the subscriber sees it, with checksum bookkeeping."""

    def __init__(self, symbol: str, precision: Precision | None = None) -> None:
        self.symbol = symbol
        self.precision = precision
        "None until the InstrumentList answered: updates apply, checksums wait."
        self.entries: dict[str, tuple[str, Decimal, Decimal]] = {}
        "MDEntryID(278) → (MDEntryType(269), price, size)."
        self._sides = {BID: _Side(), OFFER: _Side()}
        self.snapshots = 0
        self.updates = 0
        self.verified = 0
        self.mismatches = 0
        self.last_trade: Trade | None = None
        self.has_snapshot = False
        self._checksum: int | None = None
        "The last computed 5041, kept while no change reaches the 10 levels a side it covers."
        self._checksum_for: Precision | None = None

    # -- reading --
    def bids(self, depth: int = 0) -> list[Level]:
        """(price, size) best (highest) first; ``depth`` 0 = all."""
        prices = self._sides[BID].prices
        chosen = prices[-depth:] if depth else prices
        sizes = self._sides[BID].sizes
        return [(px, sizes[px]) for px in reversed(chosen)]

    def asks(self, depth: int = 0) -> list[Level]:
        """(price, size) best (lowest) first; ``depth`` 0 = all."""
        prices = self._sides[OFFER].prices
        chosen = prices[:depth] if depth else prices
        sizes = self._sides[OFFER].sizes
        return [(px, sizes[px]) for px in chosen]

    @property
    def best_bid(self) -> Decimal | None:
        prices = self._sides[BID].prices
        return prices[-1] if prices else None

    @property
    def best_ask(self) -> Decimal | None:
        prices = self._sides[OFFER].prices
        return prices[0] if prices else None

    @property
    def spread(self) -> Decimal | None:
        b, a = self.best_bid, self.best_ask
        return None if b is None or a is None else a - b

    @property
    def mid(self) -> Decimal | None:
        b, a = self.best_bid, self.best_ask
        return None if b is None or a is None else (a + b) / 2

    def checksum(self) -> int | None:
        """Our ChecksumOrderBook(5041) of the book now; None without the pair's precisions."""
        if self.precision is None:
            return None
        if self._checksum is None or self._checksum_for != self.precision:
            self._checksum = book_checksum(self.precision.price, self.precision.qty, self.asks(CHECKSUM_LEVELS),
                                           self.bids(CHECKSUM_LEVELS))
            self._checksum_for = self.precision
        return self._checksum

    def _touches_top(self, kind: str, px: Decimal) -> bool:
        """Whether a change at ``px`` can alter the levels the checksum covers (asked before the change)."""
        prices = self._sides[kind].prices
        if len(prices) < CHECKSUM_LEVELS:
            return True
        return px >= prices[-CHECKSUM_LEVELS] if kind == BID else px <= prices[CHECKSUM_LEVELS - 1]

    # -- writing --
    def apply_snapshot(self, msg: Message) -> Applied:
        """Replace the book by a W's entries (an empty W is an empty book)."""
        self.entries.clear()
        self._checksum = None
        for side in self._sides.values():
            side.clear()
        count = 0
        for entry in _entries(msg, 269):
            kind, key, px, size = _book_entry(entry)
            if kind not in (BID, OFFER):
                continue
            self._set(key, kind, px, size)
            count += 1
        self.snapshots += 1
        self.has_snapshot = True
        return Applied("snapshot", count)

    def apply_incremental(self, msg: Message) -> Applied:
        """Apply an X's entries in order, then compare 5041 when it is there."""
        count = 0
        trades: list[Trade] = []
        changes: list[Change] = []
        for entry in _entries(msg, 279):
            action = _get(entry, 279)
            if _get(entry, 269) == TRADE:
                trades.append(_trade(entry))
                continue
            kind, key, px, size = _book_entry(entry)
            if action in ("0", "1"):
                self._set(key, kind, px, size)
            elif action == "2":
                self._delete(key)
            else:
                raise BookDataError(f"MDUpdateAction(279) {action!r} is not 0, 1 or 2")
            changes.append(Change(ACTIONS[action], "bid" if kind == BID else "ask", px, size))
            count += 1
        self.updates += 1
        if trades:
            self.last_trade = trades[-1]
        expected_text = msg.get(5041)
        if expected_text is None:
            return Applied("update", count, tuple(trades), changes=tuple(changes))
        try:
            expected = int(expected_text)
        except ValueError:
            raise BookDataError(f"ChecksumOrderBook(5041) {expected_text!r} is not a number") from None
        computed = self.checksum()
        if computed is None:
            return Applied("update", count, tuple(trades), changes=tuple(changes))
        if computed == expected:
            self.verified += 1
        else:
            self.mismatches += 1
        return Applied("update", count, tuple(trades), expected, computed, tuple(changes))

    def _set(self, key: str, kind: str, px: Decimal, size: Decimal) -> None:
        old = self.entries.get(key)
        if self._checksum is not None and (self._touches_top(kind, px) or (
                old is not None and self._touches_top(old[0], old[1]))):
            self._checksum = None
        if old is not None:
            self._sides[old[0]].add(old[1], -old[2])
        self.entries[key] = (kind, px, size)
        self._sides[kind].add(px, size)

    def _delete(self, key: str) -> None:
        old = self.entries.pop(key, None)
        if old is not None and self._checksum is not None and self._touches_top(old[0], old[1]):
            self._checksum = None
        if old is not None:
            self._sides[old[0]].add(old[1], -old[2])


# -- reading the groups ---------------------------------------------------------------------------------
def _entries(msg: Message, first: int) -> Iterator[list[Field]]:
    """The NoMDEntries(268) group's entries: each starts at ``first`` (269 in W, 279 in X)."""
    current: list[Field] | None = None
    for tag, value in msg.fields:
        if tag == first:
            if current is not None:
                yield current
            current = [(tag, value)]
        elif current is not None:
            if tag in (5041, 10):  # after the group
                break
            current.append((tag, value))
    if current is not None:
        yield current


def _get(entry: Sequence[Field], tag: int) -> str | None:
    for t, v in entry:
        if t == tag:
            return v
    return None


def _decimal(entry: Sequence[Field], tag: int, name: str) -> Decimal:
    text = _get(entry, tag)
    try:
        value = Decimal(text or "")
    except InvalidOperation:
        raise BookDataError(f"{name}({tag}) {text!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise BookDataError(f"{name}({tag}) {text!r} is not a finite, non-negative number")
    return value


def _book_entry(entry: Sequence[Field]) -> tuple[str, str, Decimal, Decimal]:
    kind = _get(entry, 269)
    if kind not in (BID, OFFER):
        raise BookDataError(f"MDEntryType(269) {kind!r} is not 0 (bid) or 1 (offer)")
    px = _decimal(entry, 270, "MDEntryPx")
    key = _get(entry, 278) or ("B" if kind == BID else "O") + str(px)
    return kind, key, px, _decimal(entry, 271, "MDEntrySize")


def _trade(entry: Sequence[Field]) -> Trade:
    return Trade(_get(entry, 273) or "", AGGRESSOR.get(_get(entry, 2446) or "", ""),
                 _decimal(entry, 270, "MDEntryPx"), _decimal(entry, 271, "MDEntrySize"), _get(entry, 278) or "")


def precisions(msg: Message) -> dict[str, Precision]:
    """PricePrecision(2349) and QtyPrecision(5010) per Symbol(55) of an InstrumentList(y)."""
    out: dict[str, Precision] = {}
    symbol: str | None = None
    price: int | None = None
    qty: int | None = None

    def flush() -> None:
        if symbol is not None and price is not None and qty is not None:
            out[symbol] = Precision(price, qty)

    for tag, value in msg.fields:
        if tag == 55:
            flush()
            symbol, price, qty = value, None, None
        elif tag == 2349 and value.isdigit():
            price = int(value)
        elif tag == 5010 and value.isdigit():
            qty = int(value)
    flush()
    return out
