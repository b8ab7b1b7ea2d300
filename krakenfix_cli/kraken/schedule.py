"""Kraken's daily session rollover (SPEC §2.4): when it happens, and which period a time is in.

Both FIX sessions roll over every day at 22:00 UTC; for about 30 seconds logons are
disturbed, and afterwards both sequence streams start again at 1. The client uses the
*period* (the time from one rollover to the next) to tell whether stored sequence numbers
are still the gateway's (ops/continuity.py); the simulator uses the same time as its
default schedule (sim/rollover.py). Pure arithmetic: the caller passes ``now``.
"""

from __future__ import annotations

DAY = 86400
"Seconds in a UTC day (no leap seconds in POSIX time)."
ROLLOVER_AT = 22 * 3600
"The rollover's time of day, in seconds after midnight UTC (Kraken: 10 PM UTC)."
ROLLOVER_AT_TEXT = "22:00"
"The same, as ``HH:MM`` (the simulator's ``--rollover-at`` default)."
ROLLOVER_WINDOW = 30.0
"How long the rollover disturbs logons, in seconds (Kraken: about 30 s)."


def period_start(now: float, at: int = ROLLOVER_AT) -> int:
    """The start (UTC epoch seconds) of the rollover period holding ``now``: the last rollover at or before it."""
    return int((now - at) // DAY) * DAY + at
