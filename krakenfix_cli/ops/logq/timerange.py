"""``--since`` / ``--until``: a time of day (``21:59``, ``21:59:30.5``) or a full UTC time.

A time of day compares with each message's UTC time of day, so ``--since 21:59 --until
22:01`` works on any day's log; ``--since 23:59 --until 00:01`` wraps midnight. A full
time (``20261202-21:59:00``, ``2026-12-02T21:59:00``, optional fraction) compares
absolutely. Messages without any time are kept out of a bounded range.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_TIME_OF_DAY = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?")
_FULL = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})[-T ](\d{1,2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?Z?")


class TimeError(ValueError):
    """A ``--since``/``--until`` value that is neither form."""


@dataclass(frozen=True)
class Bound:
    seconds: float
    time_of_day: bool


def parse_bound(text: str) -> Bound:
    """``text`` as a :class:`Bound`; raises :class:`TimeError`."""
    t = text.strip()
    m = _TIME_OF_DAY.fullmatch(t)
    if m is not None:
        h, mi, sec = int(m.group(1)), int(m.group(2)), float(m.group(3) or 0)
        if h > 23 or mi > 59 or sec >= 60:
            raise TimeError(f"not a time of day: {text!r}")
        return Bound(h * 3600 + mi * 60 + sec, True)
    m = _FULL.fullmatch(t)
    if m is not None:
        try:
            base = dt.datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4)),
                               int(m.group(5)), tzinfo=dt.UTC)
        except ValueError:
            raise TimeError(f"not a date and time: {text!r}") from None
        return Bound(base.timestamp() + float(m.group(6) or 0), False)
    raise TimeError(f"not a time: {text!r}")


@dataclass(frozen=True)
class TimeRange:
    since: Bound | None = None
    until: Bound | None = None

    def __contains__(self, when: float | None) -> bool:
        if self.since is None and self.until is None:
            return True
        if when is None:
            return False
        tod = when % 86400
        lo, hi = self.since, self.until
        if lo is not None and hi is not None and lo.time_of_day and hi.time_of_day and lo.seconds > hi.seconds:
            return tod >= lo.seconds or tod <= hi.seconds  # wraps midnight
        if lo is not None and (tod if lo.time_of_day else when) < lo.seconds:
            return False
        return not (hi is not None and (tod if hi.time_of_day else when) > hi.seconds)
