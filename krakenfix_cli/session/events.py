"""What happened in a session, as frozen dataclasses the transport and client consume.

Names are facts (``LogonAccepted``); tests compare lists of events with ``==``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from krakenfix_cli.fix.errors import FramingError
from krakenfix_cli.fix.message import Message


class Event:
    """Base class of session events."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class LogonAccepted(Event):
    """The Logon(A) exchange completed; the session is live."""

    message: Message
    "The peer's Logon(A)."
    reset: bool
    "True when ResetSeqNumFlag(141)=Y reset both sequence numbers to 1."


@dataclass(frozen=True, slots=True)
class LogonRefused(Event):
    """Logon failed: the peer answered our Logon with Logout(5), or we refused theirs."""

    reason: str
    "Text(58) of the Logout, or why we refused."
    message: Message | None = None
    "The Logout(5) or Logon(A) concerned, when there was one."


@dataclass(frozen=True, slots=True)
class MessageReceived(Event):
    """An application message (or Reject(3)) arrived in sequence and is handed up."""

    message: Message
    "The message as received."
    poss_dup: bool = False
    "PossDupFlag(43)=Y: a retransmission; dedupe by ExecID(17) before acting on it."


@dataclass(frozen=True, slots=True)
class GapDetected(Event):
    """Inbound MsgSeqNum(34) ran ahead of us; a ResendRequest(2) was sent."""

    expected: int
    "The MsgSeqNum(34) we were waiting for."
    received: int
    "The MsgSeqNum(34) that arrived."


@dataclass(frozen=True, slots=True)
class GapFilled(Event):
    """Every message of a requested resend range has arrived or been gap-filled."""

    through: int
    "The last MsgSeqNum(34) of the range that is now complete."


@dataclass(frozen=True, slots=True)
class ResendAnswered(Event):
    """We answered the peer's ResendRequest(2)."""

    begin: int
    "BeginSeqNo(7) asked for."
    end: int
    "The last sequence number resent or gap-filled."
    replayed: int
    "How many stored application messages were sent again with PossDupFlag(43)=Y."


@dataclass(frozen=True, slots=True)
class SequenceReset(Event):
    """A SequenceReset(4) moved the next inbound MsgSeqNum(34)."""

    new_seq: int
    "NewSeqNo(36)."
    gap_fill: bool
    "GapFillFlag(123)=Y."


@dataclass(frozen=True, slots=True)
class RejectSent(Event):
    """We sent a session Reject(3) for an inbound message."""

    ref_seq: int
    "RefSeqNum(45): the MsgSeqNum(34) of the rejected message."
    reason: int
    "SessionRejectReason(373)."
    text: str
    "Text(58)."


@dataclass(frozen=True, slots=True)
class LogoutReceived(Event):
    """The peer sent Logout(5)."""

    text: str
    "Its Text(58), possibly empty."
    message: Message | None = field(default=None, compare=False)
    "The Logout(5) itself, for a screen that shows what arrived (not part of the event's identity)."


@dataclass(frozen=True, slots=True)
class FrameDropped(Event):
    """Inbound bytes failed framing or field parsing and were ignored, as FIX requires."""

    error: FramingError | Exception
    "What was wrong with them."


@dataclass(frozen=True, slots=True)
class HeartbeatTimedOut(Event):
    """Nothing arrived for too long, even after a TestRequest(1): the link is dead."""

    silent_for: float
    "Seconds since the last inbound byte."


@dataclass(frozen=True, slots=True)
class Disconnect(Event):
    """The engine wants the transport to close the connection once pending bytes are flushed."""

    reason: str
    "Why, for the log and the user."
