"""How long to wait before each reconnection attempt: a pure schedule, no sleeping, no clock.

Kraken's daily 22:00 UTC rollover refuses logons for about 30 s (kraken-fix/SPEC.md §2.4,
§10.11), and a gateway that just failed over gets every client back at once. So delays
grow exponentially to a cap, and each is spread by "full jitter" drawn from a seeded
``random.Random``: many clients do not reconnect in lock-step, and a test gets the same
schedule every run. The caller (``ops/tail.py``) does the waiting and the connecting.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Exponential back-off with jitter: ``next_delay()`` grows until ``reset()``.

    Attempt ``n`` (0-based) waits a uniformly random time in
    ``[base * factor**n * (1 - jitter), base * factor**n]``, capped at ``cap``.
    """

    base: float = 0.5
    "Seconds before the first retry (before jitter)."
    factor: float = 2.0
    "Growth per failed attempt."
    cap: float = 30.0
    "No delay is longer than this (the rollover lasts ~30 s)."
    jitter: float = 0.5
    "Fraction of each delay that is random (0 = none, 1 = full jitter)."
    seed: int | None = None
    "Seed for the jitter; a fixed seed gives a fixed schedule."
    attempts: int = 0
    "Failed attempts since the last success."
    _random: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.base < 0 or self.cap < 0 or self.factor < 1 or not 0 <= self.jitter <= 1:
            raise ValueError("Backoff needs base >= 0, cap >= 0, factor >= 1 and 0 <= jitter <= 1")
        self._random = random.Random(self.seed)

    def ceiling(self, attempt: int) -> float:
        """The un-jittered delay for ``attempt`` (0-based), capped."""
        # Avoid float overflow on long outages: once over the cap, stay there.
        delay = self.base
        for _ in range(attempt):
            delay *= self.factor
            if delay >= self.cap:
                return self.cap
        return min(delay, self.cap)

    def next_delay(self) -> float:
        """Seconds to wait before the next attempt; counts the attempt."""
        top = self.ceiling(self.attempts)
        self.attempts += 1
        low = top * (1.0 - self.jitter)
        return low + (top - low) * self._random.random()

    def reset(self) -> None:
        """A connection succeeded: the next failure starts again from ``base``."""
        self.attempts = 0

    def delays(self) -> Iterator[float]:
        """An endless iterator of ``next_delay()`` values."""
        while True:
            yield self.next_delay()
