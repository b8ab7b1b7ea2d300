"""Session status, and every legal change of it.

The engine reports triggers; TRANSITIONS alone decides the next status. This module
does not know whether we are initiator or acceptor, so both sides obey one table
(h11's rule: everything that changes the status lives here).
"""

from __future__ import annotations

from enum import Enum

from krakenfix_cli.session.errors import LocalProtocolError


class Status(Enum):
    """Where a session is in its life."""

    #: No connection.
    DISCONNECTED = "disconnected"
    #: Connected; the acceptor waits for the initiator's Logon(A).
    AWAITING_LOGON = "awaiting logon"
    #: Connected; the initiator sent Logon(A) and waits for the answer.
    LOGON_SENT = "logon sent"
    #: Both Logons exchanged: application messages may flow.
    LOGGED_ON = "logged on"
    #: We sent Logout(5) and wait for the answer.
    LOGOUT_SENT = "logout sent"
    #: The engine asked the transport to close the connection.
    CLOSING = "closing"


class Trigger(Enum):
    """What happened, as far as the status is concerned."""

    CONNECTED_AS_ACCEPTOR = "connected as acceptor"
    LOGON_SENT = "logon sent"
    LOGON_COMPLETED = "logon completed"
    LOGOUT_SENT = "logout sent"
    CLOSE = "close"
    CONNECTION_LOST = "connection lost"


_ANY_CONNECTED = (Status.AWAITING_LOGON, Status.LOGON_SENT, Status.LOGGED_ON, Status.LOGOUT_SENT)

TRANSITIONS: dict[tuple[Status, Trigger], Status] = {
    (Status.DISCONNECTED, Trigger.CONNECTED_AS_ACCEPTOR): Status.AWAITING_LOGON,
    (Status.DISCONNECTED, Trigger.LOGON_SENT): Status.LOGON_SENT,
    (Status.AWAITING_LOGON, Trigger.LOGON_COMPLETED): Status.LOGGED_ON,
    (Status.LOGON_SENT, Trigger.LOGON_COMPLETED): Status.LOGGED_ON,
    # A Logon(A) with ResetSeqNumFlag(141)=Y in mid-session: still logged on.
    (Status.LOGGED_ON, Trigger.LOGON_COMPLETED): Status.LOGGED_ON,
    (Status.LOGGED_ON, Trigger.LOGON_SENT): Status.LOGGED_ON,
    (Status.AWAITING_LOGON, Trigger.LOGOUT_SENT): Status.LOGOUT_SENT,
    (Status.LOGON_SENT, Trigger.LOGOUT_SENT): Status.LOGOUT_SENT,
    (Status.LOGGED_ON, Trigger.LOGOUT_SENT): Status.LOGOUT_SENT,
    (Status.LOGOUT_SENT, Trigger.LOGOUT_SENT): Status.LOGOUT_SENT,
    **{(s, Trigger.CLOSE): Status.CLOSING for s in (*_ANY_CONNECTED, Status.CLOSING)},
    **{
        (s, Trigger.CONNECTION_LOST): Status.DISCONNECTED
        for s in (*_ANY_CONNECTED, Status.CLOSING, Status.DISCONNECTED)
    },
}


def next_status(status: Status, trigger: Trigger) -> Status:
    """The status after ``trigger``; an illegal pair is our caller's mistake."""
    try:
        return TRANSITIONS[(status, trigger)]
    except KeyError:
        raise LocalProtocolError(f"cannot {trigger.value} while {status.value}") from None
