"""Kraken's application behaviour on the simulator's trading and market-data sessions.

kraken-fix/SPEC.md §6-§8, §10 and the simulator profile in §12. One :class:`Gateway`
holds the whole simulated exchange (a Spot and a Derivatives :class:`Venue`, each with
books and synthetic counterparties); one :class:`TradingHandler` or :class:`MarketDataHandler`
serves each logical FIX session (SenderCompID + TargetCompID), across reconnects.

Three refusal layers, as Kraken documents them (SPEC §6.4):

1. field level → session Reject(3): :func:`field_problems` runs as the engine's
   ``validate`` hook (required fields, enum values, number formats, ClOrdID shape →
   373=5; then the Kraken dictionary when ``dictionary_validation`` is on);
2. business rules before the engine → BusinessMessageReject(j) with ``EOrder:*`` text
   (unknown symbol 380=2, tick size, minimum, ClOrdID not increasing, Derivatives
   restrictions, cancel of another session's order 380=101, unsupported messages 380=3);
3. after the acknowledgement → unsolicited cancel ExecutionReport (150=4) with Text(58)
   (post-only that would take, self-trade prevention, FOK/IOC remainder).

Choices where Kraken's documents are silent ([derived], SPEC §11):

* ExecutionReports always go to the logical session that placed the order (its current
  connection, or queued and delivered as ordinary messages on its next Logon); a mass
  cancel 530=7 also reports every cancellation to the session that asked, so it can count.
* MassCancelRequestType(530) (SPEC §6.8, §10.4): 1 (per symbol) and 6 reach only the orders
  created or replaced on this session (connection); only 7 reaches every open order of the
  account, whatever session placed it.
* OrderCancelRequest(F) reaches this connection's orders (SPEC §6.5); ``cancel_scope="account"``
  is the contested [V2] reading (SPEC §11 #21): any open order of the account, no Side or
  Symbol match rule, its cancellation reported to the placing session too.
* Cancel-on-disconnect (Logon 8674=0, the default) fires on an abnormal disconnect only
  (no Logout exchanged); a rollover Logout is orderly.
* IOC/market remainders are reported as 150=4 (not 150=C); GTD expiry as 150=C.
* OrderStatusRequest(H) answers with the request's ClOrdID(11).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from krakenfix_cli.fix.message import Field, Message
from krakenfix_cli.fix.values import format_decimal, format_utc_timestamp, parse_utc_timestamp
from krakenfix_cli.kraken.book_checksum import book_checksum
from krakenfix_cli.kraken.clordid import (
    clordid_order_key,
    is_valid_derivatives_clordid,
    is_valid_spot_clordid,
)
from krakenfix_cli.session.config import Problem
from krakenfix_cli.session.engine import Session
from krakenfix_cli.session.errors import LocalProtocolError
from krakenfix_cli.session.events import Event, LogonAccepted, LogoutReceived, MessageReceived
from krakenfix_cli.sim.accounts import CompId
from krakenfix_cli.sim.book import (
    BUY,
    SELL,
    TRIGGER_TYPES,
    Book,
    BookEvent,
    Cancelled,
    CounterpartyFlow,
    Expired,
    Fill,
    Order,
    Triggered,
)
from krakenfix_cli.sim.ratelimit import E_ORDERS, E_RATE, RateLimiter
from krakenfix_cli.transport.connection import Connection

log = logging.getLogger(__name__)

# -- instruments ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Instrument:
    """One tradable pair as InstrumentList(y) describes it (SPEC §7.6)."""

    symbol: str
    derivatives: bool
    price_precision: int
    "PricePrecision(2349)."
    tick: Decimal
    "TickSize(5022)."
    qty_precision: int
    "QtyPrecision(5010)."
    lot: Decimal
    "minTradeVol(562): the quantity increment."
    qty_min: Decimal
    "QtyMin(5011)."
    qty_max: Decimal | None
    "QtyMax(5012)."
    min_cost: Decimal | None
    "MinimumCost(5013)."
    mid: Decimal
    "Where the synthetic market starts."
    flow_lot: Decimal
    "Size unit of the synthetic counterparties' orders."
    status: str = "1"
    "AssetPairStatus(5032): 1 online."

    def fmt_price(self, px: Decimal) -> str:
        """Price with PricePrecision(2349) decimals (market data, checksum)."""
        return f"{px:.{self.price_precision}f}"

    def fmt_qty(self, qty: Decimal) -> str:
        """Quantity with QtyPrecision(5010) decimals."""
        return f"{qty:.{self.qty_precision}f}"


D = Decimal
SPOT_INSTRUMENTS = (
    Instrument("BTC/USD", False, 1, D("0.1"), 8, D("0.00000001"), D("0.0001"), D("10000"), D("0.5"),
               mid=D("60000.0"), flow_lot=D("0.01")),
    Instrument("ETH/USD", False, 2, D("0.01"), 8, D("0.00000001"), D("0.001"), D("100000"), D("0.5"),
               mid=D("3000.00"), flow_lot=D("0.1")),
)
DERIVATIVES_INSTRUMENTS = (
    Instrument("PF_XBTUSD", True, 1, D("0.5"), 4, D("0.0001"), D("0.0001"), D("1000"), None,
               mid=D("60000.0"), flow_lot=D("0.01")),
    Instrument("PF_ETHUSD", True, 1, D("0.1"), 3, D("0.001"), D("0.001"), D("10000"), None,
               mid=D("3000.0"), flow_lot=D("0.1")),
)

# -- Kraken texts ---------------------------------------------------------------------------------

E_TICK = "EOrder:Tick size check failed"
E_MIN = "EOrder:Order minimum not met"
E_COST = "EOrder:Cost minimum not met"
E_PRICE = "EOrder:Invalid price"
E_CLORDID = "EOrder:ClOrdID(11) is not increasing or is already in use"
E_ARGS = "EGeneral:Invalid arguments"
E_UNSUPPORTED = "Unsupported Message Type"
E_DEADLINE = "EService:Deadline elapsed"
E_INTERNAL = "EGeneral:Internal error"
#: Largest power of ten a price or quantity may reach: beyond it the engine refuses the value
#: (and Decimal arithmetic at 28 digits would raise instead of answering).
MAX_MAGNITUDE = 12
#: ValidUntilTime(62) must be this many seconds ahead (SPEC §6.4, §10.16).
VALID_UNTIL_RANGE = (2.0, 60.0)
#: Who OrderCancelRequest(F) reaches (SPEC §6.5, §11 #21): this connection (default), or the
#: SenderCompID's cache across connections ([V2] reading; no Side/Symbol match rule).
CANCEL_SCOPES = ("session", "account")

ORD_TYPES = frozenset({"1", "2", "3", "4", "R", "T", "U", "V"})
PRICED_TYPES = frozenset({"2", "4", "T", "V"})
TIFS = frozenset({"1", "3", "4", "6"})
SPOT_EXEC_INST = frozenset({"E", "P", "v", "f", "q", "s"})
DRV_EXEC_INST = frozenset({"E", "P", "s"})
TRADING_TYPES = frozenset({"D", "F", "G", "H", "q"})
ZERO = Decimal(0)
_AVG = Decimal("0.00000001")


#: Text → Decimal for prices and quantities: an order's values repeat (the same size and
#: price, order after order), and each is read 3-4 times on its way through the checks.
_DECIMALS: dict[str, Decimal] = {}
#: Text → finite Decimal or None (not a number): the validator's answers, kept likewise.
_NUMS: dict[str, Decimal | None] = {}


def _dec(text: str) -> Decimal:
    """``Decimal(text)``, remembered (Decimals are immutable, construction is exact)."""
    d = _DECIMALS.get(text)
    if d is None:
        d = Decimal(text)
        if len(_DECIMALS) >= 4096:
            _DECIMALS.clear()
        _DECIMALS[text] = d
    return d


def _num(text: str | None) -> Decimal | None:
    if text is None:
        return None
    if text in _NUMS:
        return _NUMS[text]
    try:
        d: Decimal | None = Decimal(text)
    except InvalidOperation:
        d = None
    if d is not None and not d.is_finite():
        d = None
    if len(_NUMS) >= 4096:
        _NUMS.clear()
    _NUMS[text] = d
    return d


def _absurd(d: Decimal) -> bool:
    """A value no instrument trades (above 10**MAX_MAGNITUDE, or past 20 decimals): refused
    before any arithmetic, which would overflow Decimal's precision."""
    return d.adjusted() > MAX_MAGNITUDE or d.as_tuple().exponent < -20  # type: ignore[operator]


def _fmt(d: Decimal) -> str:
    s = str(d)
    return format_decimal(d) if "E" in s or "e" in s else s


# -- layer 1: field level (the engine's validate hook) --------------------------------------------

_REQUIRED: dict[str, tuple[int, ...]] = {
    "D": (11, 38, 40, 54, 55, 59, 60),
    "F": (11, 54, 55, 60),
    "G": (11, 37, 38, 40, 41, 54, 55, 59, 60),
    "H": (11, 37, 55),
    "q": (11, 60, 530),
}
_ENUMS: dict[int, frozenset[str]] = {54: frozenset({"1", "2"}), 40: ORD_TYPES, 59: TIFS}
_NUMERIC = (38, 44, 99, 1138)
_NAMES = {11: "ClOrdID", 41: "OrigClOrdID"}


def _spot_number(v: str) -> bool:
    """Kraken ClOrdID format 1, without a regex (hot path)."""
    return v.isdigit() and len(v) <= 18 and v[0] != "0" and v.isascii()


def field_problems(msg: Message, derivatives: bool) -> list[Problem]:
    """Kraken's field-level rules for D/F/G/H/q (SPEC §6.2, §6.4-§6.8); [] when fine."""
    mtype = msg.msg_type
    required = _REQUIRED.get(mtype)
    if required is None:
        return []
    g = msg.field_map().get  # one dict, many lookups: cheaper than Message.get on the order path
    for tag in required:
        if not g(tag):
            return [(1, tag, "Required tag missing")]
    if mtype == "F" and not (g(37) or g(41)):
        return [(1, 41, "Required tag missing: OrderID(37) or OrigClOrdID(41)")]
    for tag, allowed in _ENUMS.items():
        v = g(tag)
        if v is not None and v not in allowed:
            return [(5, tag, "Value is incorrect (out of range) for this tag")]
    for tag in _NUMERIC:
        v = g(tag)
        if v is not None:
            d = _num(v)
            if d is None:
                return [(6, tag, "Incorrect data format for value")]
            if d <= 0 and tag != 99:
                return [(5, tag, "Value is incorrect (out of range) for this tag")]
    if mtype == "D" or mtype == "G":
        ot = g(40)
        if ot in PRICED_TYPES and not g(44):
            return [(1, 44, "Required tag missing: Price(44) for this OrdType(40)")]
        if ot in TRIGGER_TYPES and not g(99):
            return [(1, 99, "Required tag missing: StopPx(99) for this OrdType(40)")]
        if g(59) == "6" and not derivatives and not g(126):
            return [(1, 126, "Required tag missing: ExpireTime(126) for TimeInForce(59)=6")]
    elif mtype == "q":
        kind = g(530)
        if kind not in ("1", "6", "7"):
            return [(5, 530, "Value is incorrect (out of range) for this tag")]
        if kind == "1" and not g(55):
            return [(1, 55, "Required tag missing: Symbol(55) for MassCancelRequestType(530)=1")]
    for tag in (11, 41):
        v = g(tag)
        if v is None:
            continue
        if derivatives:
            if not is_valid_derivatives_clordid(v):
                return [(5, tag, f"Value is incorrect (out of range) for this tag: {_NAMES[tag]}({tag}) "
                                 "must be a timestamp-first v4 UUID on Derivatives")]
        elif not _spot_number(v) and not is_valid_spot_clordid(v):
            return [(5, tag, f"Value is incorrect (out of range) for this tag: {_NAMES[tag]}({tag}) "
                             "must be an ever-increasing number of at most 18 digits or a timestamp-first v4 UUID")]
    return []


def make_validator(derivatives: bool, dictionary_validation: bool) -> Callable[[Message], Sequence[Problem]]:
    """The ``validate`` hook of a trading session: Kraken rules, then (optionally) the dictionary."""
    check: Callable[[Message], Problem | None] | None = None
    if dictionary_validation:
        try:
            from krakenfix_cli.fix.validate import first_problem
            from krakenfix_cli.kraken.dictionary import kraken

            d = kraken()

            def dict_check(msg: Message) -> Problem | None:
                p = first_problem(msg, d)
                return None if p is None else (p[0], p[1], p[2])

            check = dict_check
        except ImportError:  # pragma: no cover - the dictionary ships with the package
            check = None

    def checked(msg: Message) -> Sequence[Problem]:
        if msg.msg_type not in TRADING_TYPES:
            return []  # unsupported types reach the application: 35=j 380=3
        found = field_problems(msg, derivatives)
        if found:
            return found
        if check is not None:
            p = check(msg)
            if p is not None:
                return [p]
        return []

    def validate(msg: Message) -> Sequence[Problem]:
        try:
            return checked(msg)
        except Exception as exc:  # no input may wedge the session: a Reject(3), and it stays up
            log.error("simulator: checking %s failed: %s: %s", msg.msg_type, type(exc).__name__, exc)
            return [(99, None, "Other: the message could not be checked")]

    return validate


# -- the exchange -------------------------------------------------------------------------------

_MIX = 0x9E3779B97F4A7C15
_MASK64 = (1 << 64) - 1


class Venue:
    """One matching engine (Spot or Derivatives): instruments, books, counterparties, orders."""

    def __init__(self, derivatives: bool, instruments: Iterable[Instrument], seed: int) -> None:
        self.derivatives = derivatives
        self.instruments = {i.symbol: i for i in instruments}
        self.rng = random.Random(seed * 2 + (1 if derivatives else 0))
        self.books = {s: Book(s) for s in self.instruments}
        self.flows = {
            s: CounterpartyFlow(self.books[s], random.Random(self.rng.random()), i.mid, i.tick,
                                i.flow_lot)
            for s, i in self.instruments.items()
        }  # fmt: skip
        self.orders: dict[str, Order] = {}
        self._n = 0
        self._exec = 0
        self._run = secrets.token_hex(3).upper()
        self._salt = self.rng.getrandbits(40)
        for flow in self.flows.values():
            flow.refresh(0.0)

    def new_order_id(self) -> str:
        """A Kraken-style OrderID(37), ``OXXXXX-XXXXX-XXXXXX``, unique in this venue.

        The counter times an odd constant, modulo 2**64, is a bijection, so ids never repeat
        yet look random; its 16 hex digits fill the three groups (hex, not base32: cheaper on
        the order path, and clients must treat OrderIDs as opaque anyway).
        """
        self._n += 1
        t = f"{((self._n + self._salt) * _MIX) & _MASK64:016X}"
        return f"O{t[:5]}-{t[5:10]}-{t[10:16]}"

    def new_exec_id(self) -> str:
        """A unique ExecID(17) (unique across simulator runs by a random run prefix)."""
        self._exec += 1
        return f"{self._run}-{self._exec}"


@dataclass
class Subscription:
    """One market-data subscription (MDReqID(262)) on one symbol."""

    req_id: str
    symbol: str
    depth: int
    l3: bool
    trades: bool
    book_entries: bool
    version: int = -1
    "Book.version when ``last`` was taken (unchanged books are skipped)."
    last: dict[str, tuple[str, Decimal, Decimal]] = field(default_factory=dict)


class Gateway:
    """The simulated exchange and its routing of ExecutionReports between sessions."""

    def __init__(self, seed: int = 1, clock: Callable[[], float] | None = None,
                 dictionary_validation: bool = False, rate_limit: str | None = None,
                 cancel_scope: str = "session") -> None:
        from krakenfix_cli.transport.clock import now as system_now

        if cancel_scope not in CANCEL_SCOPES:
            raise ValueError(f"cancel_scope must be one of {', '.join(CANCEL_SCOPES)}, not {cancel_scope!r}")
        #: What OrderCancelRequest(F) reaches: "session" (this connection) or "account" (SPEC §11 #21).
        self.cancel_scope = cancel_scope

        self.clock = clock or system_now
        self.spot = Venue(False, SPOT_INSTRUMENTS, seed)
        self.derivatives = Venue(True, DERIVATIVES_INSTRUMENTS, seed)
        self.dictionary_validation = dictionary_validation
        #: Spot's per-pair rate counter and open-order cap (SPEC §9, §12: Intermediate by default).
        self.limits = RateLimiter.named(rate_limit)
        #: Open Spot orders by (account, pair), pruned lazily, for the open-order cap.
        self.open_orders: dict[tuple[str, str], list[Order]] = {}
        #: The live (logged-on) trading handler per SenderCompID.
        self.live: dict[str, TradingHandler] = {}
        #: ExecutionReports waiting for a SenderCompID's next logon.
        self.pending: dict[str, list[Message]] = {}
        self.md_handlers: list[MarketDataHandler] = []
        #: Orders with a future EffectiveTime(168): (when, tie-break, venue, order), a heap.
        self.scheduled: list[tuple[float, int, Venue, Order]] = []
        self._scheduled_ids = itertools.count()
        #: Set by the runner: arm a timer for ``when`` (an order becomes effective then).
        self.wake_at: Callable[[float], None] | None = None
        #: The handler whose inbound event is being processed (its sends need no flush).
        self.current: object = None

    def venue(self, derivatives: bool) -> Venue:
        """The Spot or Derivatives venue."""
        return self.derivatives if derivatives else self.spot

    # -- delivery -----------------------------------------------------------------------------------
    def deliver(self, sender: str, msg: Message) -> None:
        """Send an application message to ``sender``'s live trading session, or queue it."""
        h = self.live.get(sender)
        if h is not None and h.send(msg):
            return
        self.pending.setdefault(sender, []).append(msg)

    # -- book events → ERs + market data ------------------------------------------------------------
    def apply(self, venue: Venue, events: Sequence[BookEvent], now: float,
              extra_to: TradingHandler | None = None) -> None:
        """Turn book events into ExecutionReports for the orders' owners."""
        for ev in events:
            if isinstance(ev, Fill):
                for o in (ev.maker, ev.taker):
                    if o.owner is not None:
                        self.deliver(_sender_of(o), execution_report(venue, o, "F", now, fill=ev))
            elif isinstance(ev, Cancelled):
                o = ev.order
                if o.owner is not None:
                    self.deliver(_sender_of(o), execution_report(venue, o, "4", now, text=ev.reason))
            elif isinstance(ev, Triggered):
                o = ev.order
                if o.owner is not None:
                    self.deliver(_sender_of(o), execution_report(venue, o, "D", now, text="triggered"))
            elif isinstance(ev, Expired):
                o = ev.order
                if o.owner is not None:
                    self.deliver(_sender_of(o), execution_report(venue, o, "C", now))

    def publish(self, venue: Venue, now: float) -> None:
        """Send market-data increments for every changed book of ``venue``."""
        handlers = [h for h in self.md_handlers if h.derivatives == venue.derivatives and h.subs]
        if not handlers:  # after every order: nobody to tell, but trades are still consumed
            for book in venue.books.values():
                if book.recent_trades:
                    book.take_trades()
            return
        for sym, book in venue.books.items():
            trades = book.take_trades() if book.recent_trades else []
            for h in handlers:
                h.publish(venue, sym, trades, now)

    def schedule(self, venue: Venue, order: Order, when: float) -> None:
        """Hold ``order`` off the book, invisible and non-matching, until ``when`` (SPEC §6.4)."""
        heapq.heappush(self.scheduled, (when, next(self._scheduled_ids), venue, order))
        if self.wake_at is not None:
            self.wake_at(when)

    def activate_due(self, now: float) -> None:
        """Orders whose EffectiveTime has come: ER 150=0, then the book (a cancelled one stays out)."""
        while self.scheduled and self.scheduled[0][0] <= now:
            _, _, venue, o = heapq.heappop(self.scheduled)
            if o.status != "A":
                continue
            o.status = "0"
            if o.owner is not None:
                self.deliver(_sender_of(o), execution_report(venue, o, "0", now))
            self.apply(venue, venue.books[o.symbol].submit(o, now), now)
            self.publish(venue, now)

    def tick(self, now: float) -> None:
        """The runner's periodic timer: synthetic flow, GTD expiry, market data."""
        for venue in (self.spot, self.derivatives):
            for sym, flow in venue.flows.items():
                book = venue.books[sym]
                self.apply(venue, flow.step(now), now)
                self.apply(venue, book.expire(now), now)
            self.publish(venue, now)


def _sender_of(order: Order) -> str:
    owner = order.owner
    assert isinstance(owner, OrderOwner)
    return owner.sender


@dataclass(frozen=True, slots=True)
class OrderOwner:
    """Which logical session and which connection of it (logon instance) placed an order."""

    sender: str
    instance: int
    cod: bool
    "Cancel this order when that connection drops abnormally (Logon 8674=0)."


def execution_report(
    venue: Venue,
    o: Order,
    exec_type: str,
    now: float,
    *,
    fill: Fill | None = None,
    clordid: str | None = None,
    orig: str | None = None,
    text: str | None = None,
    status: str | None = None,
) -> Message:
    """ExecutionReport(8) with the fields of SPEC §6.9, for ``o`` as it is now."""
    if status is None:
        status = o.status
        if exec_type == "D" or exec_type == "0":
            status = "0" if o.cum_qty == 0 else "1"
        elif fill is not None:
            status = fill.state_of(o)[2]
    f: list[Field] = [(35, "8"), (37, o.order_id), (11, clordid or o.clordid)]
    if orig:
        f.append((41, orig))
    f.append((17, venue.new_exec_id()))
    if fill is not None:
        f.append((527, str(fill.trade_id)))
    f += [(150, exec_type), (39, status), (55, o.symbol), (54, o.side), (38, _fmt(o.qty)), (40, o.ord_type)]
    if o.price is not None:
        f.append((44, _fmt(o.price)))
    if o.stop_px is not None:
        f.append((99, _fmt(o.stop_px)))
    f.append((59, o.tif))
    if o.exec_inst:
        f.append((18, o.exec_inst))
    if o.display_qty is not None:
        f.append((1138, _fmt(o.display_qty)))
    cum, cost = o.cum_qty, o.cost
    if fill is not None:
        f += [(31, _fmt(fill.price)), (32, _fmt(fill.qty))]
        cum, cost, _ = fill.state_of(o)
    leaves = ZERO if status in ("2", "4", "C") else o.qty - cum
    f += [(14, _fmt(cum)), (151, _fmt(leaves)), (6, format_decimal((cost / cum).quantize(_AVG)) if cum else "0")]
    f.append((60, _timestamp(now)))
    if text:
        f.append((58, text))
    return Message._trusted(tuple(f))  # every value above is already str


_ts_cache: list[object] = [-1, ""]


def _timestamp(now: float) -> str:
    """format_utc_timestamp, cached per millisecond (several ERs share one instant)."""
    ms = int(now * 1000)
    if _ts_cache[0] != ms:
        _ts_cache[0] = ms
        _ts_cache[1] = format_utc_timestamp(ms / 1000)
    text = _ts_cache[1]
    assert isinstance(text, str)
    return text


def business_reject(msg: Message, reason: int, text: str) -> Message:
    """BusinessMessageReject(j): RefSeqNum(45) real, 372, 379 = the ClOrdID, 380, 58 (SPEC §6.10)."""
    fields: list[Field] = [(35, "j"), (45, msg.get(34) or "0"), (58, text), (372, msg.msg_type)]
    ref = msg.get(11) or msg.get(262) or msg.get(320)
    if ref:
        fields.append((379, ref))
    fields.append((380, str(reason)))
    return Message(fields)


# -- trading sessions -------------------------------------------------------------------------------


class TradingHandler:
    """The Kraken application of one trading session (SenderCompID ↔ KRAKEN-TRD/KRAKEN-DRV-TRD)."""

    def __init__(self, gw: Gateway, session: Session, comp: CompId) -> None:
        self.gw = gw
        self.session = session
        self.comp = comp
        self.sender = comp.sender
        self.derivatives = comp.derivatives
        self.venue = gw.venue(comp.derivatives)
        self.conn: Connection | None = None
        self.instance = 0
        self.cod = True
        self.orderly = False
        self.logged_on = False
        self._owner = OrderOwner(self.sender, 0, True)
        self._last_key: dict[bool, int] = {}
        self.used_clordids: set[str] = set()
        #: This session's orders by their latest ClOrdID(11) (OrigClOrdID(41) lookups).
        self.by_clordid: dict[str, Order] = {}
        self._handlers: dict[str, Callable[[Message, float], None]] = {
            "D": self.on_new_order, "F": self.on_cancel, "G": self.on_amend, "H": self.on_status,
            "q": self.on_mass_cancel,
        }  # fmt: skip

    # -- transport callbacks ------------------------------------------------------------------------
    def attach(self, conn: Connection) -> None:
        """A new connection for this session (before its Logon is processed)."""
        self.conn = conn
        self.orderly = False

    def send(self, msg: Message) -> bool:
        """Send now if logged on; False when the message must wait for the next logon."""
        if not self.logged_on or not self.session.is_logged_on:
            return False
        if self.gw.current is self or self.conn is None:
            try:
                self.session.send(msg, self.gw.clock())
            except LocalProtocolError:
                return False
        else:
            try:
                self.conn.send(msg)
            except LocalProtocolError:
                return False
        return True

    def on_event(self, ev: Event) -> None:
        """Engine events of this session's connection."""
        prev = self.gw.current
        self.gw.current = self
        try:
            if isinstance(ev, MessageReceived):
                if ev.poss_dup:
                    return
                msg = ev.message
                mtype = msg.msg_type
                if mtype in ("3", "j"):
                    return
                handler = self._handlers.get(mtype)
                now = self.gw.clock()
                if handler is None:
                    self._reject(msg, 3, E_UNSUPPORTED)
                elif self.derivatives and mtype in ("G", "H"):
                    self._reject(msg, 3, f"{E_UNSUPPORTED}: MsgType(35)={mtype} is Spot only")
                else:
                    try:
                        handler(msg, now)
                    except Exception as exc:  # no input may wedge the session: answer it, stay up
                        log.error("simulator: %s handler failed: %s: %s", mtype, type(exc).__name__, exc)
                        self._reject(msg, 0, E_INTERNAL)
                    self.gw.publish(self.venue, now)
            elif isinstance(ev, LogonAccepted):
                self._on_logon(ev.message)
            elif isinstance(ev, LogoutReceived):
                self.orderly = True
        finally:
            self.gw.current = prev

    def _on_logon(self, logon: Message) -> None:
        self.instance += 1
        self.logged_on = True
        self.cod = logon.get(8674, "0") != "1"
        self._owner = OrderOwner(self.sender, self.instance, self.cod)
        if logon.get(5030) == "Y":
            self._last_key.clear()
        self.gw.live[self.sender] = self
        for msg in self.gw.pending.pop(self.sender, []):
            self.session.send(msg, self.gw.clock())

    def closed(self, conn: Connection, reason: str) -> None:
        """The connection is gone: cancel-on-disconnect after an abnormal drop (SPEC §5.8)."""
        if conn is not self.conn:
            return
        was_on = self.logged_on
        self.logged_on = False
        self.conn = None
        if self.gw.live.get(self.sender) is self:
            del self.gw.live[self.sender]
        if not was_on or self.orderly or not self.cod:
            return
        now = self.gw.clock()
        venue = self.venue
        for o in list(venue.orders.values()):
            owner = o.owner
            if (isinstance(owner, OrderOwner) and owner.sender == self.sender and owner.instance == self.instance
                    and owner.cod and o.is_open):
                venue.books[o.symbol].cancel(o)
                self.gw.deliver(self.sender, execution_report(venue, o, "4", now, text="Cancel on disconnect"))
        self.gw.publish(venue, now)

    # -- helpers ------------------------------------------------------------------------------------
    def _below_open_cap(self, symbol: str) -> bool:
        """Fewer open orders on ``symbol`` than the tier allows, on this account (SPEC §9)."""
        key = (self.comp.account, symbol)
        orders = [o for o in self.gw.open_orders.get(key, ()) if o.is_open]
        self.gw.open_orders[key] = orders
        return self.gw.limits.open_orders_allowed(len(orders))

    def _reject(self, msg: Message, reason: int, text: str) -> None:
        self.session.send(business_reject(msg, reason, text), self.gw.clock())

    def _send_er(self, msg: Message) -> None:
        self.session.send(msg, self.gw.clock())

    def _check_increasing(self, clordid: str) -> bool:
        """Kraken tracks that a session's ClOrdIDs increase (SPEC §6.2); 5030=Y resets it."""
        number = _spot_number(clordid)
        key = int(clordid) if number else clordid_order_key(clordid)
        if key is None:
            return False
        last = self._last_key.get(number)
        if last is not None and (key < last or (number and key == last)):
            return False
        if clordid in self.used_clordids:
            return False
        self._last_key[number] = key
        self.used_clordids.add(clordid)
        return True

    def _find(self, msg: Message) -> Order | None:
        """37 wins over 41 (SPEC §6.5); 41 must be the order's latest ClOrdID (SPEC §10.7)."""
        oid = msg.get(37)
        if oid:
            return self.venue.orders.get(oid)
        return self._latest(msg.get(41))

    def _latest(self, orig: str | None) -> Order | None:
        """The order whose latest ClOrdID is ``orig``: a pre-amend or made-up 41 finds nothing."""
        o = self.by_clordid.get(orig) if orig else None
        if o is None and orig and self.gw.cancel_scope == "account":
            o = next((x for x in self.venue.orders.values()
                      if x.clordid == orig and x.account == self.comp.account), None)
        return o if o is not None and o.clordid == orig else None

    def _reaches(self, o: Order) -> bool:
        """Whether F may cancel ``o``: this connection's order, or (cancel scope "account")
        any order of this account, earlier connections and other CompIDs included."""
        if self.gw.cancel_scope == "account":
            return o.account == self.comp.account
        return self._own(o)

    def _valid_until_problem(self, msg: Message, now: float) -> str | None:
        """ValidUntilTime(62) must be 2-60 s ahead (SPEC §6.4, §10.16); the EOrder text or None."""
        v = msg.get(62)
        if v is None:
            return None
        try:
            when = parse_utc_timestamp(v)
        except ValueError:
            return f"{E_ARGS}:tag 62 is not a UTCTimestamp"
        if when < now:
            return E_DEADLINE
        low, high = VALID_UNTIL_RANGE
        if not low <= when - now <= high:
            return f"{E_ARGS}:ValidUntilTime(62) must be {low:g} to {high:g} seconds in the future"
        return None

    def _own(self, o: Order) -> bool:
        owner = o.owner
        return isinstance(owner, OrderOwner) and owner.sender == self.sender and owner.instance == self.instance

    # -- D ------------------------------------------------------------------------------------------
    def _order_problem(self, msg: Message, inst: Instrument) -> str | None:
        """Business checks before the engine (layer 2); the EOrder text or None."""
        g = msg.field_map().get
        qty = _dec(msg[38])
        if qty < inst.qty_min:
            return E_MIN
        if inst.qty_max is not None and qty > inst.qty_max:
            return f"{E_ARGS}:volume above the maximum {inst.qty_max}"
        if _absurd(qty):
            return f"{E_ARGS}:volume"
        for tag in (44, 99, 1138):
            v = g(tag)
            if v is not None and _absurd(_dec(v)):
                return E_PRICE if tag != 1138 else f"{E_ARGS}:DisplayQty(1138)"
        if qty % inst.lot:
            return f"{E_ARGS}:volume has more than {inst.qty_precision} decimals"
        px_text = g(44)
        if px_text is not None:
            px = _dec(px_text)
            if px <= 0:
                return E_PRICE
            if px % inst.tick:
                return E_TICK
            if inst.min_cost is not None and px * qty < inst.min_cost:
                return E_COST
        stop = g(99)
        if stop is not None and _dec(stop) % inst.tick:
            return E_TICK
        disp = g(1138)
        if disp is not None:
            if _dec(disp) * 15 < qty:
                return f"{E_ARGS}:DisplayQty(1138) must be at least 1/15 of OrderQty(38)"
            if g(40) != "2":
                return f"{E_ARGS}:DisplayQty(1138) is for limit orders only"
        return None

    def _derivatives_problem(self, msg: Message) -> str | None:
        """SPEC §10.9: what a Derivatives session refuses."""
        inst = (msg.get(18) or "").split()
        if "s" not in inst:
            return f"{E_ARGS}:ExecInst(18) must contain 's' (single fee) on Derivatives"
        bad = [x for x in inst if x not in DRV_EXEC_INST]
        if bad:
            return f"{E_ARGS}:ExecInst(18) {' '.join(bad)} is Spot only"
        for tag, name in ((7928, "SelfTradePrevention"), (1138, "DisplayQty"), (126, "ExpireTime"),
                          (168, "EffectiveTime"), (5001, "Leverage")):
            if msg.get(tag) is not None:
                return f"{E_ARGS}:{name}({tag}) is not supported on Derivatives"
        if msg.get(59) == "6":
            return f"{E_ARGS}:TimeInForce(59)=6 (GTD) is not supported on Derivatives"
        if msg.get(40) == "V":
            return f"{E_ARGS}:OrdType(40)=V (trailing-stop-limit) is Spot only"
        return None

    def on_new_order(self, msg: Message, now: float) -> None:
        """NewOrderSingle(D): checks, acknowledgement (150=0), then the book."""
        g = msg.field_map().get
        clordid = msg[11]
        symbol = msg[55]
        venue = self.venue
        inst = venue.instruments.get(symbol)
        if inst is None:
            self._reject(msg, 2, f"EQuery:Unknown asset pair {symbol}")
            return
        limited = not self.derivatives and self.gw.limits.tier is not None
        if limited and not self.gw.limits.add_order(self.comp.account, symbol, now):
            self._reject(msg, 0, E_RATE)
            return
        exec_inst = g(18) or ""
        stp = g(7928)
        if self.derivatives:
            why = self._derivatives_problem(msg)
            if why:
                self._reject(msg, 0, why)
                return
        else:
            if exec_inst:
                bad = [x for x in exec_inst.split() if x not in SPOT_EXEC_INST]
                if bad:
                    self._reject(msg, 0, f"{E_ARGS}:ExecInst(18) {' '.join(bad)}")
                    return
            if stp is not None and stp not in ("0", "1", "2"):
                self._reject(msg, 0, f"{E_ARGS}:SelfTradePrevention(7928) must be 0, 1 or 2")
                return
        why = self._order_problem(msg, inst)
        if why:
            self._reject(msg, 0, why)
            return
        effective_at: float | None = None
        if 168 in msg:  # Derivatives refused it above (§10.9)
            try:
                effective_at = parse_utc_timestamp(msg[168])
            except ValueError:
                self._reject(msg, 0, f"{E_ARGS}:EffectiveTime(168) is not a UTCTimestamp")
                return
            if effective_at <= now:
                effective_at = None  # already due: an ordinary order
        expire_at: float | None = None
        if 62 in msg or 126 in msg:
            for tag in (62, 126):
                v = g(tag)
                if v is None:
                    continue
                try:
                    when = parse_utc_timestamp(v)
                except ValueError:
                    self._reject(msg, 0, f"{E_ARGS}:tag {tag} is not a UTCTimestamp")
                    return
                if tag == 62:
                    why = self._valid_until_problem(msg, now)
                    if why:
                        self._reject(msg, 0, why)
                        return
                if tag == 126:
                    if when <= now or when > now + 31 * 86400:
                        self._reject(msg, 0, f"{E_ARGS}:ExpireTime(126) must be in the future and within a month")
                        return
                    expire_at = when
        if limited and not self._below_open_cap(symbol):
            self._reject(msg, 0, E_ORDERS)
            return
        if not self._check_increasing(clordid):
            self._reject(msg, 0, E_CLORDID)
            return
        ord_type = msg[40]
        px = g(44)
        stop = g(99)
        disp = g(1138)
        order = Order(
            venue.new_order_id(), clordid, self.comp.account, symbol, msg[54], ord_type, _dec(msg[38]),
            _dec(px) if px is not None and ord_type != "1" else None,
            _dec(stop) if stop is not None else None, msg[59], exec_inst,
            "P" in exec_inst.split() if exec_inst else False, stp or "1",
            _dec(disp) if disp is not None else None, expire_at, self._owner,
        )  # fmt: skip
        order.placed_at = now
        venue.orders[order.order_id] = order
        self.by_clordid[clordid] = order
        if limited:
            self.gw.open_orders.setdefault((order.account, symbol), []).append(order)
        if effective_at is not None:
            # Pending New until its EffectiveTime: 150=A/39=A now, 150=0 then (SPEC §6.9).
            order.status = "A"
            self.session.send(execution_report(venue, order, "A", now), now)
            self.gw.schedule(venue, order, effective_at)
            return
        self.session.send(execution_report(venue, order, "0", now), now)
        events = venue.books[symbol].submit(order, now)
        if events:
            self.gw.apply(venue, events, now)

    # -- F ------------------------------------------------------------------------------------------
    def on_cancel(self, msg: Message, now: float) -> None:
        """OrderCancelRequest(F): only orders placed on this same connection (SPEC §6.5)."""
        o = self._find(msg)
        ref = msg.get(37) or msg.get(41)
        if o is None:
            self._reject(msg, 101, f"Unknown order {ref}")
            return
        if not self._reaches(o):
            self._reject(msg, 101, (
                f"Unknown order {ref}: it was not placed on this FIX session (connection); "
                "Kraken's OrderCancelRequest(F) only cancels orders of the same session. "
                "Use OrderMassCancelRequest(q) with MassCancelRequestType(530)=7, or REST/WebSocket."))
            return
        if not o.is_open:
            self._reject(msg, 101, f"Unknown order {ref}: it is no longer open (OrdStatus(39)={o.status})")
            return
        if self.gw.cancel_scope == "session" and msg.get(55) and msg.get(55) != o.symbol:
            self._reject(msg, 0, f"{E_ARGS}:Symbol(55) does not match the order")
            return
        if not self.derivatives and not self.gw.limits.cancel(o.account, o.symbol, now - o.placed_at, now):
            self._reject(msg, 0, E_RATE)
            return
        self.venue.books[o.symbol].cancel(o)
        prev = o.clordid
        o.clordid = msg[11]
        self.by_clordid[o.clordid] = o
        self._send_er(execution_report(self.venue, o, "4", now, orig=prev))
        owner = _sender_of(o)
        if owner != self.sender:  # cancel scope "account": the placing session hears of it too
            self.gw.deliver(owner, execution_report(self.venue, o, "4", now, orig=prev))

    # -- G ------------------------------------------------------------------------------------------
    def on_amend(self, msg: Message, now: float) -> None:
        """OrderCancelReplaceRequest(G), Spot only: price, trigger, quantity, display (SPEC §6.6).

        41 finds the order and 37, when sent, must match it (SPEC §10.7): a stale (pre-amend)
        or made-up 41 is an unknown order, whatever 37 says."""
        o = self._latest(msg.get(41))
        ref = msg.get(41)
        if o is not None and msg.get(37) and msg.get(37) != o.order_id:
            self._reject(msg, 101, f"Unknown order {ref}: OrderID(37) {msg.get(37)} is not that order's")
            return
        if o is None or not self._own(o):
            self._reject(msg, 101, f"Unknown order {ref}" + ("" if o is None else
                         ": it was not placed on this FIX session (connection)"))
            return
        if not o.is_open:
            self._reject(msg, 101, f"Unknown order {ref}: it is no longer open")
            return
        if msg[54] != o.side or msg[55] != o.symbol or msg[40] != o.extra.get("trigger_type", o.ord_type):
            self._reject(msg, 0, f"{E_ARGS}:only price, trigger price, quantity and display quantity can be amended")
            return
        if not self.derivatives and not self.gw.limits.amend(o.account, o.symbol, now - o.placed_at, now):
            self._reject(msg, 0, E_RATE)
            return
        inst = self.venue.instruments[o.symbol]
        why = self._order_problem(msg, inst) or self._valid_until_problem(msg, now)
        if why:
            self._reject(msg, 0, why)
            return
        if not self._check_increasing(msg[11]):
            self._reject(msg, 0, E_CLORDID)
            return
        px = msg.get(44)
        stop = msg.get(99)
        disp = msg.get(1138)
        book = self.venue.books[o.symbol]
        events = book.amend(
            o, now, qty=Decimal(msg[38]), price=Decimal(px) if px is not None and o.ord_type != "1" else None,
            stop_px=Decimal(stop) if stop is not None else None, display_qty=Decimal(disp) if disp else None,
        )
        prev = o.clordid
        o.clordid = msg[11]
        o.placed_at = now
        self.by_clordid[o.clordid] = o
        self._send_er(execution_report(self.venue, o, "5", now, orig=prev, status="5" if o.is_open else None))
        if events:
            self.gw.apply(self.venue, events, now)

    # -- H ------------------------------------------------------------------------------------------
    def on_status(self, msg: Message, now: float) -> None:
        """OrderStatusRequest(H), Spot only → ER 150=I with the current OrdStatus(39)."""
        o = self._find(msg)
        if o is None or o.symbol != msg.get(55) or o.account != self.comp.account:
            # Another account's order is as unknown as a made-up one: no status leaks across accounts.
            self._reject(msg, 101, f"Unknown order {msg.get(37)}")
            return
        self._send_er(execution_report(self.venue, o, "I", now, clordid=msg[11]))

    # -- q ------------------------------------------------------------------------------------------
    def on_mass_cancel(self, msg: Message, now: float) -> None:
        """OrderMassCancelRequest(q): one ER 150=4 per cancelled order, no 35=r (SPEC §6.8)."""
        kind = msg[530]
        symbol = msg.get(55)
        venue = self.venue
        if kind == "1" and symbol not in venue.instruments:
            self._reject(msg, 2, f"EQuery:Unknown asset pair {symbol}")
            return
        for o in list(venue.orders.values()):
            if not o.is_open:
                continue
            owner = o.owner
            if not isinstance(owner, OrderOwner):
                continue
            if kind == "7":  # every open order of the account, whoever placed it (SPEC §6.8)
                if o.account != self.comp.account:
                    continue
            elif not self._own(o) or (kind == "1" and o.symbol != symbol):
                continue  # 530=1/6: only orders created or replaced on this session
            venue.books[o.symbol].cancel(o)
            er = execution_report(venue, o, "4", now, clordid=msg[11], orig=o.clordid)
            self._send_er(er)
            if owner.sender != self.sender:
                self.gw.deliver(owner.sender, execution_report(venue, o, "4", now, orig=o.clordid))


# -- market data sessions -------------------------------------------------------------------------------

DEPTHS = frozenset({0, 1, 10, 25, 100, 500, 1000})


class MarketDataHandler:
    """KRAKEN-MD / KRAKEN-DRV-MD: InstrumentList, MarketDataRequest, TradingSessionStatus (SPEC §7)."""

    def __init__(self, gw: Gateway, session: Session, comp: CompId) -> None:
        self.gw = gw
        self.session = session
        self.comp = comp
        self.derivatives = comp.derivatives
        self.venue = gw.venue(comp.derivatives)
        self.conn: Connection | None = None
        self.subs: list[Subscription] = []
        self._responses = 0

    def attach(self, conn: Connection) -> None:
        """A new connection; subscriptions never survive one (SPEC §7.1)."""
        self.conn = conn
        self.subs.clear()
        if self not in self.gw.md_handlers:
            self.gw.md_handlers.append(self)

    def closed(self, conn: Connection, reason: str) -> None:
        """Subscriptions die with the connection."""
        if conn is not self.conn:
            return
        self.conn = None
        self.subs.clear()
        if self in self.gw.md_handlers:
            self.gw.md_handlers.remove(self)

    def _send(self, msg: Message) -> None:
        if not self.session.is_logged_on:
            return
        if self.gw.current is self or self.conn is None:
            self.session.send(msg, self.gw.clock())
        else:
            self.conn.send(msg)

    def on_event(self, ev: Event) -> None:
        """Engine events of this session's connection."""
        if not isinstance(ev, MessageReceived) or ev.poss_dup:
            return
        prev = self.gw.current
        self.gw.current = self
        try:
            msg = ev.message
            mtype = msg.msg_type
            now = self.gw.clock()
            if mtype == "x":
                self.on_instrument_list_request(msg)
            elif mtype == "V":
                self.on_market_data_request(msg, now)
            elif mtype == "g" and not self.derivatives:
                self._send(Message.new("h", (335, msg.get(335) or ""), (336, msg.get(336) or "SESSION"),
                                       (340, "2")))
            elif mtype in ("3", "j"):
                return
            else:
                self._send(business_reject(msg, 3, E_UNSUPPORTED))
        except Exception as exc:  # no input may wedge the session: answer it, stay up
            log.error("simulator: %s handler failed: %s: %s", ev.message.msg_type, type(exc).__name__, exc)
            self._send(business_reject(ev.message, 0, E_INTERNAL))
        finally:
            self.gw.current = prev

    # -- x → y ---------------------------------------------------------------------------------------
    def on_instrument_list_request(self, msg: Message) -> None:
        """InstrumentList(y) for one symbol, a SecurityType(167) or all (SPEC §7.6)."""
        self._responses += 1
        kind = msg.get(559)
        insts = list(self.venue.instruments.values())
        result = "0"
        if kind == "0":
            insts = [i for i in insts if i.symbol == msg.get(55)]
        elif kind == "1":
            want = msg.get(167)
            have = "FUT" if self.derivatives else "CASH"
            insts = insts if want == have else []
        elif kind != "4":
            insts, result = [], "1"
        if not insts and result == "0":
            result = "2"
        fields: list[Field] = [(35, "y"), (320, msg.get(320) or ""), (322, f"{int(self.gw.clock() * 1e9)}"),
                               (560, result), (146, str(len(insts)))]
        for i in insts:
            fields += [(55, i.symbol), (562, _fmt(i.lot)), (5010, str(i.qty_precision)), (5011, _fmt(i.qty_min))]
            if i.qty_max is not None:
                fields.append((5012, _fmt(i.qty_max)))
            if i.min_cost is not None:
                fields.append((5013, _fmt(i.min_cost)))
            fields += [(2349, str(i.price_precision)), (5022, _fmt(i.tick)), (5032, i.status)]
        if result != "0":
            fields.append((58, "No instruments match the request" if result == "2" else "Invalid request"))
        self._send(Message(fields))

    # -- V → W + X -----------------------------------------------------------------------------------
    def _md_reject(self, req_id: str, reason: str, text: str) -> None:
        self._send(Message.new("Y", (262, req_id), (281, reason), (58, text)))

    def on_market_data_request(self, msg: Message, now: float) -> None:
        """Subscribe (263=1) or unsubscribe (263=2); refusals as MarketDataRequestReject(Y)."""
        req_id = msg.get(262) or ""
        sub_type = msg.get(263)
        if not req_id:
            self._md_reject(req_id, "0", "MarketData subscription failed: MDReqID(262) missing")
            return
        if sub_type == "2":
            self.subs = [s for s in self.subs if s.req_id != req_id]
            return
        if sub_type not in ("0", "1"):
            self._md_reject(req_id, "4", f"MarketData subscription failed: SubscriptionRequestType {sub_type}")
            return
        if any(s.req_id == req_id for s in self.subs):
            self._md_reject(req_id, "1", f"MarketData subscription failed: duplicate MDReqID {req_id}")
            return
        depth = msg.get_int(264)
        if depth is None or depth not in DEPTHS:
            self._md_reject(req_id, "5", f"MarketData subscription failed: unsupported MarketDepth {msg.get(264)}")
            return
        if msg.get(265) not in (None, "1"):
            self._md_reject(req_id, "6", "MarketData subscription failed: MDUpdateType(265) must be 1")
            return
        l3 = msg.get(266) == "N"
        if l3 and not self.derivatives:
            self._md_reject(req_id, "B", "MarketData subscription failed: Level3 is only available for Derivatives")
            return
        kinds = set(msg.get_all(269))
        if not kinds or not kinds <= {"0", "1", "2"} or (kinds & {"0", "1"} and kinds & {"0", "1"} != {"0", "1"}):
            self._md_reject(req_id, "8", "MarketData subscription failed: MDEntryType(269) must include both 0 and 1")
            return
        if l3 and "2" in kinds:
            self._md_reject(req_id, "C", "MarketData subscription failed: trades are not available on Level3")
            return
        symbols = msg.get_all(55)
        if not symbols:
            self._md_reject(req_id, "0", "MarketData subscription failed: no Symbol(55)")
            return
        for s in symbols:
            if s not in self.venue.instruments:
                self._md_reject(req_id, "0", f"MarketData subscription failed due to unsupported symbol: {s}")
                return
        for s in symbols:
            sub = Subscription(req_id, s, depth or 1000, l3, "2" in kinds, bool(kinds & {"0", "1"}))
            sub.last = self._view(sub) if sub.book_entries else {}
            sub.version = self.venue.books[s].version
            self._send(self._snapshot(sub, now))
            if sub_type == "1":
                self.subs.append(sub)

    def _view(self, sub: Subscription) -> dict[str, tuple[str, Decimal, Decimal]]:
        """What the subscriber sees: entry id → (269 side, price, size)."""
        book = self.venue.books[sub.symbol]
        inst = self.venue.instruments[sub.symbol]
        out: dict[str, tuple[str, Decimal, Decimal]] = {}
        if sub.l3:
            for side, t in ((BUY, "0"), (SELL, "1")):
                for n, o in enumerate(book.resting(side)):
                    if n >= sub.depth:
                        break
                    out[o.order_id] = (t, o.price or ZERO, o.qty - o.cum_qty)
            return out
        for side, t, letter in ((BUY, "0", "B"), (SELL, "1", "O")):
            for px, qty in book.levels(side, sub.depth):
                out[letter + inst.fmt_price(px)] = (t, px, qty)
        return out

    def _checksum(self, sub: Subscription, view: dict[str, tuple[str, Decimal, Decimal]]) -> int:
        inst = self.venue.instruments[sub.symbol]
        bids: dict[Decimal, Decimal] = {}
        asks: dict[Decimal, Decimal] = {}
        for t, px, qty in view.values():
            side = bids if t == "0" else asks
            side[px] = side.get(px, ZERO) + qty
        return book_checksum(inst.price_precision, inst.qty_precision, sorted(asks.items()),
                             sorted(bids.items(), reverse=True))

    def _snapshot(self, sub: Subscription, now: float) -> Message:
        inst = self.venue.instruments[sub.symbol]
        t = format_utc_timestamp(now)[9:]
        entries: list[Field] = []
        view = sub.last
        for key, (side, px, qty) in view.items():
            entries += [(269, side), (278, key), (270, inst.fmt_price(px)), (271, inst.fmt_qty(qty)), (273, t)]
        return Message([(35, "W"), (262, sub.req_id), (55, sub.symbol), (268, str(len(view))), *entries])

    def publish(self, venue: Venue, symbol: str, trades: Sequence[Fill], now: float) -> None:
        """MarketDataIncrementalRefresh(X) for what changed since the last one sent."""
        inst = venue.instruments[symbol]
        t = ""
        for sub in self.subs:
            if sub.symbol != symbol:
                continue
            entries: list[Field] = []
            count = 0
            book = venue.books[symbol]
            if book.version == sub.version and not (trades and sub.trades):
                continue
            sub.version = book.version
            if not t:
                t = format_utc_timestamp(now)[9:]
            new = self._view(sub) if sub.book_entries else {}
            old = sub.last
            changed = False
            for key, (side, px, _qty) in old.items():
                if key not in new:
                    entries += [(279, "2"), (269, side), (278, key), (270, inst.fmt_price(px)), (271, "0"), (273, t)]
                    count += 1
                    changed = True
            for key, (side, px, qty) in new.items():
                before = old.get(key)
                if before is None:
                    action = "0"
                elif before[2] != qty:
                    action = "1"
                else:
                    continue
                entries += [(279, action), (269, side), (278, key), (270, inst.fmt_price(px)),
                            (271, inst.fmt_qty(qty)), (273, t)]
                count += 1
                changed = True
            if sub.trades:
                for tr in trades:
                    entries += [(279, "0"), (269, "2"), (278, str(tr.trade_id)), (270, inst.fmt_price(tr.price)),
                                (271, inst.fmt_qty(tr.qty)), (273, t), (40, "1" if tr.taker.ord_type == "1" else "2"),
                                (2446, tr.taker.side)]
                    count += 1
            if not count:
                continue
            sub.last = new
            fields: list[Field] = [(35, "X"), (262, sub.req_id), (55, symbol), (268, str(count)), *entries]
            if changed:
                fields.append((5041, str(self._checksum(sub, new))))
            self._send(Message(fields))
