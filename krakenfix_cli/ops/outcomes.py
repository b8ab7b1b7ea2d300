"""What the trading commands found, as plain facts; cli/ maps them to exit codes and wording.

Kept apart from ``ops/results.py`` (decode's) so the two can grow independently. Also
the narrow view of the order journal the ops need (:class:`Ledger`): ``settings/`` is a
sibling layer, so cli passes an adapter over ``settings.journal.OrderJournal`` in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from krakenfix_cli.fix.message import Message


class Outcome(StrEnum):
    """How a one-shot operation ended; cli turns it into an exit status."""

    OK = "ok"
    "Accepted / cancelled / done (exit 0)."
    REJECTED = "rejected"
    "The gateway said no, or orders survived (exit 1)."
    NOT_FILLED = "not-filled"
    "An IOC/FOK order filled nothing and was cancelled: not a refusal (exit 6)."
    TIMED_OUT = "timed-out"
    "No answer in time (exit 4)."
    DRY_RUN = "dry-run"
    "Nothing was sent (exit 0)."


# -- the order journal, as ops see it -------------------------------------------------------------
@dataclass(frozen=True)
class ConnRef:
    """One FIX connection: CompIDs plus what tells reconnects apart."""

    sender: str
    target: str
    connection_id: str

    def describe(self) -> str:
        """``SENDER→TARGET logged on at <time>``."""
        when = self.connection_id.rpartition("@")[2] or self.connection_id
        return f"{self.sender}→{self.target} logged on at {when}"


@dataclass(frozen=True)
class KnownOrder:
    """What the journal remembers of an order."""

    clordid: str
    latest_clordid: str
    placed_by: ConnRef
    state: str
    symbol: str | None = None
    side: str | None = None
    order_id: str | None = None
    updated: float | None = None
    "When the journal last learnt something about the order (epoch seconds)."
    placed: float | None = None
    "When the order was sent (epoch seconds)."
    ord_type: str | None = None
    "OrdType(40) as sent; the fields below are wire values too (None: not known)."
    price: str | None = None
    qty: str | None = None
    tif: str | None = None
    "TimeInForce(59)."
    expire_time: str | None = None
    "ExpireTime(126), as the order carried it."
    exec_inst: str | None = None
    "ExecInst(18), space-separated flags (``P`` post-only)."
    display_qty: str | None = None
    stop_px: str | None = None
    cum_qty: str | None = None
    "CumQty(14) of the last report."
    leaves_qty: str | None = None
    avg_px: str | None = None

    @property
    def is_open(self) -> bool:
        return self.state not in ("filled", "canceled", "rejected", "expired", "done-for-day")


#: The journal's name for each order detail a NewOrderSingle(D) carries, and its tag: what an
#: amend must repeat (SPEC §6.6) and ``orders`` shows.
ORDER_DETAIL_TAGS: dict[str, int] = {
    "ord_type": 40, "price": 44, "qty": 38, "tif": 59, "expire_time": 126, "exec_inst": 18,
    "display_qty": 1138, "stop_px": 99,
}
#: What an amend can change (SPEC §6.6): a Replaced report restates these.
AMENDABLE_DETAILS = ("price", "qty", "display_qty", "stop_px")
#: An order's progress, from any ExecutionReport(8) about it.
PROGRESS_TAGS: dict[str, int] = {"cum_qty": 14, "leaves_qty": 151, "avg_px": 6}
DETAIL_NAMES = (*ORDER_DETAIL_TAGS, *PROGRESS_TAGS)


def order_details(msg: Message) -> dict[str, str]:
    """The details of a NewOrderSingle(D) (or a G) the journal keeps: the fields it carries."""
    return {name: v for name, tag in ORDER_DETAIL_TAGS.items() if (v := msg.get(tag))}


def report_details(report: Message) -> dict[str, str]:
    """What an ExecutionReport(8) tells of an order's details: its progress always, and the
    amendable fields when it restates the order: a replace (150=5, the new price and quantity)
    or a status answer (150=I, which sees an amend made from any connection)."""
    out = {name: v for name, tag in PROGRESS_TAGS.items() if (v := report.get(tag))}
    if report.get(150) in ("5", "I"):
        out.update((n, v) for n in AMENDABLE_DETAILS if (v := report.get(ORDER_DETAIL_TAGS[n])))
    return out


class Ledger(Protocol):
    """Which connection placed which ClOrdID, and the persisted ClOrdID watermark."""

    generated: set[str]
    "The ClOrdIDs this process generated: a session holder may give them a fresh one as it sends."

    def next_clordid(self, now: float, *, derivatives: bool = False) -> str:
        """A ClOrdID above every earlier one from this state dir (SPEC §6.2, §10.6)."""
        ...

    def remember_clordid(self, clordid: str, *, derivatives: bool = False) -> None:
        """Keep generated ClOrdIDs above one the user chose."""
        ...

    def reset_clordid(self, *, derivatives: bool = False) -> None:
        """Start generated ClOrdIDs afresh: the Logon carries ForceResetClOrdID(5030)=Y."""
        ...

    def placed(self, clordid: str, conn: ConnRef, now: float, *, symbol: str | None, side: str | None,
               details: Mapping[str, str] | None = None) -> None:
        """``conn`` is about to send a NewOrderSingle(D) with ``clordid`` (durable); ``details``
        as :func:`order_details` gives them."""
        ...

    def updated(self, clordid: str, now: float, *, order_id: str | None = None, ord_status: str | None = None,
                new_clordid: str | None = None, details: Mapping[str, str] | None = None) -> None:
        """An ExecutionReport(8) told us something about the order known by ``clordid``
        (``details``: new values of :data:`DETAIL_NAMES`)."""
        ...

    def find(self, *, clordid: str | None = None, order_id: str | None = None) -> KnownOrder | None:
        """The journalled order with this ClOrdID (any it carried) or OrderID(37)."""
        ...

    def open_orders(self) -> list[KnownOrder]:
        """Orders the journal does not know to be finished."""
        ...


class NullLedger:
    """No journal: ClOrdIDs from the clock only, nothing remembered (library use, tests)."""

    def __init__(self) -> None:
        self._last: str | None = None
        self.generated: set[str] = set()

    def next_clordid(self, now: float, *, derivatives: bool = False) -> str:
        from krakenfix_cli.kraken.clordid import next_clordid

        self._last = next_clordid(now, self._last, derivatives=derivatives)
        self.generated.add(self._last)
        return self._last

    def remember_clordid(self, clordid: str, *, derivatives: bool = False) -> None:
        pass

    def reset_clordid(self, *, derivatives: bool = False) -> None:
        self._last = None

    def placed(self, clordid: str, conn: ConnRef, now: float, *, symbol: str | None, side: str | None,
               details: Mapping[str, str] | None = None) -> None:
        pass

    def updated(self, clordid: str, now: float, *, order_id: str | None = None, ord_status: str | None = None,
                new_clordid: str | None = None, details: Mapping[str, str] | None = None) -> None:
        pass

    def find(self, *, clordid: str | None = None, order_id: str | None = None) -> KnownOrder | None:
        return None

    def open_orders(self) -> list[KnownOrder]:
        return []


# -- results --------------------------------------------------------------------------------------
@dataclass
class LogonStep:
    """One step of ``krakenfix logon``: TCP, TLS, Logon, heartbeat, clock."""

    name: str
    ok: bool
    detail: str
    ms: float | None = None


@dataclass
class LogonResult:
    """What ``logon`` learnt; ``stage`` says where a failure happened."""

    ok: bool
    steps: list[LogonStep] = field(default_factory=list)
    stage: str = ""
    "``tcp``, ``tls``, ``timeout``, ``dropped`` (by the gateway during --hold; exit 4) or ``logon`` (exit 3)."
    reason: str = ""
    "The gateway's Text(58), or the socket error."
    diagnosis: str = ""
    "Which part of the Logon failed, in words (bad key, bad signature, ...)."
    advice: str = ""
    clock_skew_ms: float | None = None
    nonce_window_ms: int = 5000
    heartbeat: float | None = None
    held_for: float = 0.0
    via_holder: bool = False
    "The session was already held by another process: its connection is reported, nothing logged on."


@dataclass
class SendResult:
    """The outcome of ``send``: accepted, rejected (35=3, 35=j, unsolicited cancel) or silence."""

    outcome: Outcome
    message: Message
    "What was (or would have been) sent."
    clordid: str | None = None
    seq: int | None = None
    replies: list[Message] = field(default_factory=list)
    reason: str = ""
    order_id: str | None = None
    ord_status: str | None = None


@dataclass
class CancelResult:
    """The outcome of ``cancel``."""

    outcome: Outcome
    message: Message | None = None
    reason: str = ""
    advice: str = ""
    replies: list[Message] = field(default_factory=list)
    refused_locally: bool = False
    "The journal showed the order belongs to another connection; nothing was sent."


@dataclass
class AmendResult:
    """The outcome of ``amend``: replaced, pending replace (39=E), refused or silence."""

    outcome: Outcome
    message: Message | None = None
    reason: str = ""
    advice: str = ""
    replies: list[Message] = field(default_factory=list)
    report: Message | None = None
    "The ExecutionReport(8) that confirmed it."
    pending: bool = False
    "Pending Replace (39=E): the new values are not live yet; a Replaced report follows."


@dataclass(frozen=True)
class CancelledOrder:
    """One order a mass cancel took down (from its ExecutionReport)."""

    clordid: str
    order_id: str
    symbol: str
    side: str
    leaves_qty: str
    cum_qty: str


@dataclass
class MassCancelResult:
    """The outcome of ``mass-cancel``: Kraken sends no summary, so this is our count."""

    outcome: Outcome
    message: Message
    scope: str
    cancelled: list[CancelledOrder] = field(default_factory=list)
    survivors: list[KnownOrder] = field(default_factory=list)
    reason: str = ""
    quiet_period: float = 0.0


@dataclass
class OrderSummary:
    """An order's final state as replayed ExecutionReports show it (replay's reconciliation)."""

    order_id: str
    clordid: str
    symbol: str
    side: str
    state: str
    cum_qty: str
    leaves_qty: str
    fills: int
    reports: int


@dataclass
class ReplayResult:
    """What ``replay`` received and the reconciliation of it."""

    messages: int = 0
    duplicates: int = 0
    "ExecutionReports seen again (same ExecID(17)) and left out of the reconciliation."
    orders: list[OrderSummary] = field(default_factory=list)
    first_seq: int | None = None
    last_seq: int | None = None
    problems: list[str] = field(default_factory=list)


@dataclass
class TailResult:
    """What ``tail`` streamed."""

    shown: int = 0
    received: int = 0
    duplicates: int = 0
    reconnects: int = 0
    rollovers: int = 0
    stopped_by: str = ""
