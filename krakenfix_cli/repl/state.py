"""What the REPL knows between two prompts: the session's facts, this session's orders, the view.

One mutable :class:`ReplState` is shared by the toolbar, the completer, the key bindings
and the command handlers. Nothing here touches the terminal, the network or the clock:
the app copies the engine's facts in (``seq_in``, ``last_received``, ...) and passes
``now`` to whoever needs it, so the toolbar and the completer are tested as plain
functions over a state built by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from krakenfix_cli.fix.message import Message
from krakenfix_cli.fix.tags import ADMIN_MSG_TYPES
from krakenfix_cli.settings import journal

#: OrdStatus(39) → the state name shown in the orders table: the journal's own words.
ORD_STATUS_STATES = journal.ORD_STATUS_STATES
TERMINAL_STATES = frozenset({"filled", "canceled", "rejected", "expired", "done-for-day"})
OUTPUT_MODES = ("pretty", "compact", "raw", "json")

#: Symbols offered before the gateway told us its list (SPEC §6.3: BASE/QUOTE on Spot).
SPOT_SYMBOLS = ("BTC/USD", "ETH/USD", "SOL/USD", "XRP/USD", "BTC/EUR", "ETH/BTC", "USDT/USD", "ADA/USD")
DERIVATIVES_SYMBOLS = ("PF_XBTUSD", "PF_ETHUSD", "PF_SOLUSD", "PI_XBTUSD", "PI_ETHUSD")


@dataclass
class OrderRow:
    """One order placed from this REPL session, folded from its ExecutionReports(8)."""

    index: int
    "Short reference shown in the orders table (``cancel 3`` / ``cancel #3``)."
    clordid: str
    "ClOrdID(11) the order was placed with."
    symbol: str
    side: str
    "Side(54) wire value (``1`` buy, ``2`` sell)."
    qty: str
    ord_type: str
    "OrdType(40) wire value."
    price: str | None = None
    latest_clordid: str = ""
    "The ClOrdID to send as OrigClOrdID(41) now: changes after an amend."
    state: str = "pending-new"
    order_id: str | None = None
    "OrderID(37), once the gateway acknowledged the order."
    cum_qty: str = "0"
    avg_px: str = ""
    text: str = ""
    "Text(58) of the last report or reject."
    connection: str = ""
    "The connection that placed it (Kraken's cancel scope, SPEC §6.5)."
    sent: Message | None = None
    "The D (or last G) as sent: what an amend must repeat (TimeInForce, ExpireTime, ExecInst)."

    def __post_init__(self) -> None:
        if not self.latest_clordid:
            self.latest_clordid = self.clordid

    @property
    def is_open(self) -> bool:
        """Not filled, canceled, rejected or expired, as far as the reports said."""
        return self.state not in TERMINAL_STATES

    @property
    def side_word(self) -> str:
        """``buy`` / ``sell``."""
        return {"1": "buy", "2": "sell"}.get(self.side, self.side)

    def describe(self) -> str:
        """``buy 0.01 BTC/USD @ 50000`` (completion meta, confirmations)."""
        at = f" @ {self.price}" if self.price else " market" if self.ord_type == "1" else ""
        return f"{self.side_word} {self.qty} {self.symbol}{at}"


@dataclass
class MessageFilter:
    """Which inbound messages the REPL prints (``filter`` command, F3)."""

    show_admin: bool = False
    "Heartbeat(0), TestRequest(1), ResendRequest(2), SequenceReset(4), Logon/Logout."
    msg_types: frozenset[str] = frozenset()
    "Only these MsgType(35) values (empty: every type)."
    symbols: frozenset[str] = frozenset()
    "Only messages about these Symbol(55) values (messages without 55 still pass)."
    muted: bool = False
    "Print nothing inbound (the orders table still follows)."
    where: Callable[[Message, str], bool] | None = None
    "A ``log grep`` / ``tail --where`` expression over the message and its direction."
    where_text: str = ""

    def accepts(self, msg: Message, direction: str = "in") -> bool:
        """True when ``msg`` should be printed."""
        if self.muted:
            return False
        if self.where is not None and not self.where(msg, direction):
            return False
        mt = msg.msg_type
        if mt in ADMIN_MSG_TYPES and not self.show_admin and mt not in self.msg_types:
            return False
        if self.msg_types and mt not in self.msg_types:
            return False
        sym = msg.get(55)
        return not (self.symbols and sym is not None and sym not in self.symbols)

    def describe(self) -> str:
        """One line for ``filter`` and the toolbar."""
        if self.muted:
            return "none"
        parts = ["all" if self.show_admin else "app"]
        if self.msg_types:
            parts.append("35=" + ",".join(sorted(self.msg_types)))
        if self.symbols:
            parts.append("55=" + ",".join(sorted(self.symbols)))
        if self.where_text:
            parts.append(f"where {self.where_text}")
        return " ".join(parts)


@dataclass
class ReplState:
    """Everything the prompt's helpers read; the app writes it as events arrive."""

    profile: str = "sim"
    production: bool = False
    derivatives: bool = False
    market_data: bool = False
    endpoint: str = ""
    "``host:port`` for the banner and ``seq``."
    status: str = "disconnected"
    "``logged on``, ``connecting``, ``reconnecting``, ``logged out``, ``disconnected``."
    seq_in: int = 0
    "Next expected inbound MsgSeqNum(34)."
    seq_out: int = 0
    "Our next outbound MsgSeqNum(34)."
    last_received: float = 0.0
    "POSIX time of the last inbound message (any type), 0 before any."
    heartbeat_interval: float = 0.0
    output: str = "pretty"
    filter: MessageFilter = field(default_factory=MessageFilter)
    orders: list[OrderRow] = field(default_factory=list)
    symbols: list[str] = field(default_factory=list)
    notice: str = ""
    "A short transient line for the toolbar (``reconnecting in 2 s``)."
    connection: str = ""
    "Identity of the current connection (logon time): orders it places may be cancelled by F."
    next_rollover: Callable[[float], float] | None = None
    "POSIX time of the next rollover after ``now`` (a simulator's schedule); None: daily 22:00 UTC."
    sync: Callable[[ReplState], None] | None = None
    "Called by the toolbar before drawing: the app copies the engine's live numbers in."

    def __post_init__(self) -> None:
        if not self.symbols:
            self.symbols = list(DERIVATIVES_SYMBOLS if self.derivatives else SPOT_SYMBOLS)

    # -- orders -----------------------------------------------------------------------------------
    def add_order(
        self,
        clordid: str,
        symbol: str,
        side: str,
        qty: str,
        ord_type: str,
        price: str | None = None,
    ) -> OrderRow:
        """Record an order we just sent; returns its row (with its short index)."""
        row = OrderRow(
            index=len(self.orders) + 1,
            clordid=clordid,
            symbol=symbol,
            side=side,
            qty=qty,
            ord_type=ord_type,
            price=price,
            connection=self.connection,
        )
        self.orders.append(row)
        if symbol not in self.symbols:
            self.symbols.append(symbol)
        return row

    def find_order(self, ref: str) -> OrderRow | None:
        """The order for ``3``, ``#3``, any ClOrdID it carried, or its OrderID(37)."""
        text = ref.strip()
        digits = text[1:] if text.startswith("#") else text
        if digits.isdigit() and (text.startswith("#") or len(digits) <= 4):
            n = int(digits)
            if 1 <= n <= len(self.orders):
                return self.orders[n - 1]
            if text.startswith("#"):
                return None
        for row in self.orders:
            if text in (row.clordid, row.latest_clordid) or (row.order_id is not None and text == row.order_id):
                return row
        return None

    def open_orders(self) -> list[OrderRow]:
        """Orders of this session not known to be finished."""
        return [r for r in self.orders if r.is_open]

    def apply_report(self, msg: Message) -> OrderRow | None:
        """Fold an ExecutionReport(8) or BusinessMessageReject(j) into the orders table.

        Returns the row that changed, or None when the message is about no order of ours.
        """
        if msg.msg_type == "j":
            ref = msg.get(379)
            row = self._by_clordid(ref) if ref else None
            if row is not None and row.state == "pending-new" and ref == row.clordid:
                row.state = "rejected"
            if row is not None:
                row.text = msg.get(58) or row.text
            return row
        if msg.msg_type != "8":
            return None
        cid, orig = msg.get(11), msg.get(41)
        row = (self._by_clordid(cid) if cid else None) or (self._by_clordid(orig) if orig else None)
        if row is None:
            oid = msg.get(37)
            row = next((r for r in self.orders if oid and r.order_id == oid), None)
        if row is None:
            return None
        oid = msg.get(37)
        if oid and oid != "NONE":
            row.order_id = oid
        status = msg.get(39)
        if status is not None:
            row.state = ORD_STATUS_STATES.get(status, f"status-{status}")
        if msg.get(150) == "5" and cid:
            row.latest_clordid = cid
            row.qty = msg.get(38) or row.qty
            row.price = msg.get(44) or row.price
        row.cum_qty = msg.get(14) or row.cum_qty
        row.avg_px = msg.get(6) or row.avg_px
        row.text = msg.get(58) or row.text
        return row

    def _by_clordid(self, clordid: str | None) -> OrderRow | None:
        for row in self.orders:
            if clordid in (row.clordid, row.latest_clordid):
                return row
        return None

    def order_rows(self, include_closed: bool = True) -> list[list[str]]:
        """The orders table as text cells (index, ClOrdID, side, qty, symbol, price, state, ...)."""
        rows = []
        for r in self.orders:
            if not include_closed and not r.is_open:
                continue
            rows.append(
                [
                    f"#{r.index}",
                    r.latest_clordid,
                    r.side_word,
                    r.qty,
                    r.symbol,
                    r.price or ("market" if r.ord_type == "1" else ""),
                    r.state,
                    r.cum_qty,
                    r.order_id or "",
                    r.text,
                ]
            )
        return rows

    def learn_symbols(self, symbols: Iterable[str]) -> None:
        """Replace the completion list by the gateway's InstrumentList(y) symbols."""
        seen = [s for s in dict.fromkeys(symbols) if s]
        if seen:
            self.symbols = seen


ORDER_COLUMNS = ("#", "ClOrdID", "side", "qty", "symbol", "price", "state", "filled", "OrderID", "text")
