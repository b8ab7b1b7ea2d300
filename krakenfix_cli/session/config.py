"""SessionConfig: everything that makes one session differ from another.

Kraken's Logon signature and checks enter as hooks (``logon_fields``, ``check_logon``),
the way QuickFIX uses ``toAdmin``/``fromAdmin``: this layer knows nothing of Kraken.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum

from krakenfix_cli.fix.message import Field, Message


class Role(Enum):
    """Which side of the connection this engine plays."""

    #: Connects out and sends the first Logon(A) (the tool).
    INITIATOR = "initiator"
    #: Waits for a Logon(A) and answers it (the simulator).
    ACCEPTOR = "acceptor"


#: A validation problem: (SessionRejectReason(373), RefTagID(371) or None, Text(58)).
Problem = tuple[int, int | None, str]


@dataclass
class SessionConfig:
    """Per-session settings; both roles obey the same rules."""

    role: Role
    sender_comp_id: str
    target_comp_id: str
    begin_string: str = "FIX.4.4"
    heartbeat_interval: int = 30
    "HeartBtInt(108) in seconds. An acceptor adopts the initiator's value."
    reset_on_logon: bool = False
    "Initiator: send ResetSeqNumFlag(141)=Y. Acceptor: reset both numbers on every Logon(A)."
    sending_time_tolerance: float | None = 120.0
    "Reject(3) 373=10 and log out when SendingTime(52) is further than this from now."
    validate: Callable[[Message], Sequence[Problem]] | None = None
    "Inbound validation (dictionary); the first problem becomes a Reject(3)."
    logon_fields: Callable[[int, float], Sequence[Field]] | None = None
    "Initiator: body fields to add to our Logon(A), given its MsgSeqNum(34) and now (Kraken auth)."
    check_logon: Callable[[Message, float], str | None] | None = None
    "Acceptor: why to refuse this Logon(A) (Text(58) of the Logout), or None to accept it."
    logon_reply_fields: Callable[[Message], Sequence[Field]] | None = None
    "Acceptor: extra body fields for our Logon(A) answer."
    test_request_factor: float = 1.2
    "Send TestRequest(1) after this many HeartBtInt of inbound silence (QuickFIX's 1.2)."
    timeout_factor: float = 2.4
    "Give up after this many HeartBtInt of inbound silence (QuickFIX's 2.4)."
    logout_timeout: float = 2.0
    "Seconds to wait for the peer's Logout(5) answer before closing anyway."
    logon_timeout: float = 10.0
    "Initiator: seconds to wait for the Logon(A) answer."
    deliver_duplicates: bool = False
    "Hand PossDupFlag(43)=Y app messages below the expected MsgSeqNum(34) up as replays (QuickFIX drops them)."
    resend_app_messages: bool = True
    "Answer ResendRequest(2) with stored app messages (43=Y); False gap-fills all (SPEC.md §5.2)."
    extra: dict[str, object] = field(default_factory=dict)
    "Free-form labels (profile name, ...) carried for the layers above."
