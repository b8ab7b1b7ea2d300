"""``log orders`` / ``log order ID``: each order's life, following ClOrdID chains through G and F.

An order starts with an outbound NewOrderSingle(D) (or, for an order placed before the
log begins, its first ExecutionReport). An amend (G) or cancel (F) names the order by
OrigClOrdID(41) and gives it a new ClOrdID(11): both keep pointing at the same order, so
the reports that answer either are folded into one row. OrderID(37) links reports that
carry neither (a cancel-on-disconnect, an engine-initiated cancel). A Canceled report
that no F for the order, and no mass cancel (q) on that connection, asked for is marked
as the gateway's own doing.

Memory: one :class:`Order` per order (what the table is made of), with at most
:data:`MAX_EVENTS` timeline entries each; the ID index maps each ClOrdID and OrderID once.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from krakenfix_cli.ops.logq.reader import Record

MAX_EVENTS = 200
_MSG = {"D": "NewOrderSingle", "F": "OrderCancelRequest", "G": "OrderCancelReplaceRequest",
        "8": "ExecutionReport", "9": "OrderCancelReject", "j": "BusinessMessageReject", "3": "Reject"}


@dataclass(slots=True)
class Event:
    """One step of an order's timeline."""

    when: float | None
    direction: str | None
    msg_type: str
    clordid: str
    what: str  # "sent", the ExecType, "cancel rejected", ...
    state: str  # the order's state after this step ("" when unchanged)
    text: str = ""


@dataclass(slots=True)
class Order:
    """One order's row: identity, where it was placed, its state, fills."""

    clordid: str  # the first ClOrdID
    session: str = ""
    symbol: str = ""
    side: str = ""
    qty: str = ""
    price: str = ""
    order_id: str = ""
    placed: float | None = None
    connection: float | None = None  # when the Logon(A) of the connection that placed it was sent
    state: str = "sent"
    filled: str = "0"  # CumQty(14) as the gateway wrote it
    avg_px: str = ""
    clordids: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    events_dropped: int = 0
    cancel_sent: bool = False  # an F (or a mass cancel) for it went out

    def add(self, event: Event) -> None:
        if len(self.events) < MAX_EVENTS:
            self.events.append(event)
        else:
            self.events_dropped += 1

    def ids(self) -> Iterator[str]:
        yield from self.clordids
        if self.order_id:
            yield self.order_id


def _dec(text: str | None) -> Decimal | None:
    try:
        return Decimal(text) if text else None
    except InvalidOperation:
        return None


class OrderBook:
    """Folds records into :class:`Order` s; :attr:`orders` keeps them in first-seen order."""

    def __init__(self, dictionary: Any = None) -> None:
        if dictionary is None:
            from krakenfix_cli.kraken.dictionary import kraken

            dictionary = kraken()
        self._d = dictionary
        self.orders: list[Order] = []
        self._by_id: dict[tuple[str, str], Order] = {}  # (session, ClOrdID or "#"+OrderID)
        self._logon: dict[str, float | None] = {}  # session → when our last Logon(A) went out
        self._mass_cancel: dict[str, bool] = {}  # session → an OrderMassCancelRequest(q) went out on it

    def _link(self, session: str, key: str, order: Order) -> None:
        """The latest order to carry an ID owns it: a ClOrdID reused later (after a
        ForceResetClOrdID, or by hand) and a simulator's OrderIDs, which restart with it,
        name the newer order from then on."""
        if key:
            self._by_id[(session, key)] = order

    def _find(self, session: str, *keys: str) -> Order | None:
        for key in keys:
            if key:
                hit = self._by_id.get((session, key))
                if hit is not None:
                    return hit
        return None

    def _new(self, rec: Record, clordid: str) -> Order:
        msg = rec.msg
        order = Order(clordid, rec.session, sys.intern(msg.get(55) or ""), _side(msg.get(54)),
                      sys.intern(msg.get(38) or ""), sys.intern(msg.get(44) or ""), placed=rec.when,
                      connection=self._logon.get(rec.session))
        order.clordids.append(clordid)
        self.orders.append(order)
        self._link(rec.session, clordid, order)
        return order

    def add(self, rec: Record) -> None:
        msg, mt, s = rec.msg, rec.msg.msg_type, rec.session
        clordid = msg.get(11) or ""
        order: Order | None
        if rec.direction == "out":
            if mt == "A":
                self._logon[s] = rec.when
                self._mass_cancel[s] = False
            elif mt == "q":
                self._mass_cancel[s] = True
            elif mt == "D" and clordid:
                known = self._find(s, clordid)
                if known is not None and msg.get(43) == "Y":
                    return  # a resend of an order already seen
                placed = self._new(rec, clordid)
                placed.add(Event(rec.when, "out", mt, clordid, "sent", placed.state))
            elif mt in ("F", "G"):
                order = self._find(s, msg.get(41) or "", "#" + (msg.get(37) or ""))
                if order is not None and clordid:
                    if clordid not in order.clordids:
                        order.clordids.append(clordid)
                    self._link(s, clordid, order)
                    order.cancel_sent = order.cancel_sent or mt == "F"
                    what = "cancel sent" if mt == "F" else f"amend sent (qty {msg.get(38)}, price {msg.get(44)})"
                    order.add(Event(rec.when, "out", mt, clordid, what, ""))
            return
        if mt == "8":
            self._report(rec, clordid)
        elif mt == "9":
            order = self._find(s, clordid, msg.get(41) or "", "#" + (msg.get(37) or ""))
            if order is not None:
                order.add(Event(rec.when, "in", mt, clordid, "cancel/amend rejected", "", msg.get(58) or ""))
        elif mt == "j" and msg.get(372) in ("D", "F", "G"):
            ref = msg.get(379) or ""
            order = self._find(s, ref)
            if order is not None:
                if msg.get(372) == "D":
                    order.state = "rejected"
                order.add(Event(rec.when, "in", mt, ref, f"{_MSG.get(msg.get(372) or '', '')} rejected",
                                order.state if msg.get(372) == "D" else "", msg.get(58) or ""))

    def _report(self, rec: Record, clordid: str) -> None:
        msg, s = rec.msg, rec.session
        if msg.get(150) == "I":  # an OrderStatus answer changes nothing
            return
        order_id = msg.get(37) or ""
        order = self._find(s, clordid, msg.get(41) or "", "#" + order_id)
        if order is None:
            if not (clordid or order_id):
                return
            order = self._new(rec, clordid or order_id)
        if clordid in order.clordids:
            clordid = order.clordids[order.clordids.index(clordid)]  # one string per ClOrdID
        elif clordid:
            order.clordids.append(clordid)
            self._link(s, clordid, order)
        if order_id and order_id != "NONE":
            order.order_id = order.order_id or order_id
            self._link(s, "#" + order_id, order)
        status = msg.get(39) or ""
        state = self._word(39, status)
        if state:
            order.state = state
        cum = _dec(msg.get(14))
        if cum is not None:
            order.filled = msg.get(14) or "0"
        if msg.get(6) and cum:
            order.avg_px = msg.get(6) or ""
        if msg.get(150) == "5" and msg.get(38):
            order.qty = msg.get(38) or order.qty
            order.price = msg.get(44) or order.price
        what = self._word(150, msg.get(150) or "")
        if msg.get(150) == "4" and not order.cancel_sent and not self._mass_cancel.get(s):
            # Nobody asked for it: a cancel-on-disconnect, the rollover, or the engine.
            what = "canceled by the gateway, no cancel sent"
        if msg.get(150) == "F":
            what += f" {msg.get(32)} @ {msg.get(31)}"
        order.add(Event(rec.when, "in", "8", clordid, what, state, msg.get(58) or ""))

    def _word(self, tag: int, code: str) -> str:
        """``"partially filled"`` for (39, ``"1"``): the dictionary's enum name, lower case."""
        return sys.intern(str(self._d.enum_meaning(tag, code) or code).lower())

    def find(self, ident: str) -> list[Order]:
        """Orders one of whose ClOrdIDs or whose OrderID is ``ident``."""
        return [o for o in self.orders if ident in set(o.ids())]


def _side(code: str | None) -> str:
    return {"1": "buy", "2": "sell"}.get(code or "", code or "")


def collect(records: Iterable[Record], dictionary: Any = None) -> OrderBook:
    """Fold every record into one :class:`OrderBook`."""
    book = OrderBook(dictionary)
    for rec in records:
        book.add(rec)
    return book
