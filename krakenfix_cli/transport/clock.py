"""The one clock: every other module gets ``now`` from here (or from a test's fake).

The session engine takes wall-clock POSIX seconds: SendingTime(52) needs UTC, and one
float keeps the engine's inputs simple. A wall-clock step (NTP) shifts heartbeat
deadlines by the step; that is tolerated (heartbeats are coarse) and noted here.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Something that tells the time."""

    def now(self) -> float:
        """POSIX seconds, UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds for measuring intervals (RTT, timings)."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.perf_counter()


SYSTEM = SystemClock()


def now() -> float:
    """POSIX seconds from the system clock."""
    return time.time()


def monotonic() -> float:
    """A monotonic reading for intervals."""
    return time.perf_counter()
