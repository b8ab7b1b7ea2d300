"""What a message means, as a colour: fills green, rejects red, cancels yellow, admin dim.

``classify`` is pure and shared by every mode; ``STYLES`` names the rich styles
(pretty) and ``ANSI`` the escape codes the compact fast path writes without rich.
rich is imported only by :func:`rich_theme`.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

from krakenfix_cli.fix.message import Message
from krakenfix_cli.fix.tags import ADMIN_MSG_TYPES

if TYPE_CHECKING:
    from rich.theme import Theme


class Kind(Enum):
    """The meaning of a message for the eye."""

    FILL = "fill"
    "ExecutionReport(8) with ExecType(150)=F Trade, or OrdStatus(39) partially/fully filled."
    REJECT = "reject"
    "Reject(3), BusinessMessageReject(j), OrderCancelReject(9), MarketDataRequestReject(Y), ER 150=8."
    CANCEL = "cancel"
    "ExecutionReport with ExecType(150) Canceled(4), PendingCancel(6), Expired(C)."
    ADMIN = "admin"
    "Session-level traffic: Heartbeat(0), TestRequest(1), ResendRequest(2), SequenceReset(4), ..."
    NEW = "new"
    "ExecutionReport acknowledging an order: New(0), Replaced(5), PendingNew(A)."
    OTHER = "other"


_REJECT_TYPES = frozenset({"3", "j", "9", "Y", "AG"})


def classify(msg: Message) -> Kind:
    """The :class:`Kind` of ``msg`` (from MsgType(35), ExecType(150), OrdStatus(39))."""
    mt = msg.msg_type
    if mt == "8":
        et = msg.get(150)
        if et == "8":
            return Kind.REJECT
        if et == "F" or et in ("1", "2") or msg.get(39) in ("1", "2"):
            return Kind.FILL
        if et in ("4", "6", "C"):
            return Kind.CANCEL
        return Kind.NEW
    if mt == "3":
        return Kind.REJECT
    if mt in ADMIN_MSG_TYPES:
        return Kind.ADMIN
    if mt in _REJECT_TYPES:
        return Kind.REJECT
    return Kind.OTHER


#: rich style per Kind and per table column.
STYLES: dict[str, str] = {
    "fill": "bold green",
    "reject": "bold red",
    "cancel": "yellow",
    "admin": "dim",
    "new": "cyan",
    "other": "default",
    "tag": "dim",
    "name": "bold",
    "value": "default",
    "enum": "italic magenta",
    "secret": "red",
    "muted": "dim",
    "error": "bold red",
    "warning": "yellow",
    "note": "dim",
}

#: ANSI SGR prefix per Kind for the compact fast path (no rich per line).
ANSI: dict[Kind, str] = {
    Kind.FILL: "\x1b[1;32m",
    Kind.REJECT: "\x1b[1;31m",
    Kind.CANCEL: "\x1b[33m",
    Kind.ADMIN: "\x1b[2m",
    Kind.NEW: "\x1b[36m",
    Kind.OTHER: "",
}
ANSI_RESET = "\x1b[0m"


def rich_theme() -> Theme:
    """The rich ``Theme`` whose names are the keys of :data:`STYLES` (``[fill]...[/]``)."""
    from rich.theme import Theme

    return Theme(STYLES)
