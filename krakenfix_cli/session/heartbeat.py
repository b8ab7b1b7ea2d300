"""Pure deadline arithmetic for Heartbeat(0), TestRequest(1) and giving up.

QuickFIX's SessionState predicates, with ``now`` always passed in: a Heartbeat is due
after HeartBtInt of our silence unless a TestRequest is outstanding; a TestRequest after
``test_request_factor`` x HeartBtInt x (outstanding+1) of the peer's silence; the link is
dead after ``timeout_factor`` x HeartBtInt.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class HeartbeatState:
    """When we last sent and received anything, and how many TestRequests are unanswered."""

    interval: float
    last_sent: float
    last_received: float
    test_requests: int = 0


def heartbeat_due(s: HeartbeatState, now: float) -> bool:
    """True when we have been silent for HeartBtInt and no TestRequest is outstanding."""
    return s.interval > 0 and now - s.last_sent >= s.interval and s.test_requests == 0


def test_request_due(s: HeartbeatState, now: float, factor: float) -> bool:
    """True when the peer has been silent long enough to ask it for a Heartbeat."""
    return s.interval > 0 and now - s.last_received >= factor * (s.test_requests + 1) * s.interval


def timed_out(s: HeartbeatState, now: float, factor: float) -> bool:
    """True when the peer has been silent for ``factor`` x HeartBtInt."""
    return s.interval > 0 and now - s.last_received >= factor * s.interval


def next_heartbeat_deadline(s: HeartbeatState, test_factor: float, timeout_factor: float) -> float | None:
    """The earliest time one of the three predicates can become true (asked after every input)."""
    interval = s.interval
    if interval <= 0:
        return None
    received = s.last_received
    best = received + test_factor * (s.test_requests + 1) * interval
    dead = received + timeout_factor * interval
    if dead < best:
        best = dead
    if s.test_requests == 0:
        beat = s.last_sent + interval
        if beat < best:
            best = beat
    return best
