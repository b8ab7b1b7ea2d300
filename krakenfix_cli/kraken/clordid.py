"""ClOrdID(11) generation and shape checks (kraken-fix/SPEC.md §6.2, §10.6).

Two formats: an ever-increasing decimal number of at most 18 characters (Spot only), and
a "timestamp-first v4 UUID" whose first 48 bits count 10-µs units since the epoch (the
only format on Derivatives). Kraken tracks that a session's ClOrdIDs increase, so both
generators take the last value handed out (persisted by ``settings.journal``) and the
current time as arguments: nothing here reads a clock.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

SPOT_MAX_LEN = 18
_SPOT_RE = re.compile(r"[1-9][0-9]{0,17}\Z")
_UUID_RE = re.compile(r"([0-9a-f]{8})-([0-9a-f]{4})-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\Z", re.IGNORECASE)
UUID_TICKS_PER_SECOND = 100_000  # 10-µs units
_MAX_TICKS = (1 << 48) - 1


def next_spot_clordid(now: float, last: str | int | None = None) -> str:
    """``max(now in µs, last + 1)`` as decimal: increasing across calls and restarts."""
    now_us = int(now * 1_000_000)
    prev = _spot_value(last)
    value = max(now_us, prev + 1 if prev is not None else 1)
    text = str(value)
    if len(text) > SPOT_MAX_LEN:
        raise ValueError(f"ClOrdID {text} would exceed {SPOT_MAX_LEN} characters")
    return text


def _spot_value(last: str | int | None) -> int | None:
    if last is None:
        return None
    if isinstance(last, int):
        return last
    return int(last) if _SPOT_RE.match(last) else None


def next_derivatives_clordid(
    now: float, last: str | None = None, random_bytes: Callable[[int], bytes] = os.urandom
) -> str:
    """A timestamp-first v4 UUID whose 48-bit time is > ``last``'s (strictly increasing).

    Layout: 48 bits of 10-µs ticks, version nibble 4, 12 random bits, RFC 4122 variant
    ``10``, 62 random bits.
    """
    ticks = int(now * UUID_TICKS_PER_SECOND)
    prev = _uuid_ticks(last) if last else None
    if prev is not None and ticks <= prev:
        ticks = prev + 1
    if not 0 <= ticks <= _MAX_TICKS:
        raise ValueError("time does not fit the 48-bit ClOrdID timestamp")
    rand = int.from_bytes(random_bytes(10), "big")
    rand_a = rand & 0xFFF
    rand_b = (rand >> 12) & ((1 << 62) - 1)
    value = (ticks << 80) | (0x4 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _uuid_ticks(clordid: str) -> int | None:
    m = _UUID_RE.match(clordid)
    if m is None:
        return None
    return int(m.group(1) + m.group(2), 16)


def next_clordid(now: float, last: str | None = None, *, derivatives: bool = False) -> str:
    """The next ClOrdID for a Spot (number) or Derivatives (UUID) session.

    Spot takes both formats (SPEC §6.2), so its generator never gets stuck: once the
    number would pass 18 characters (a user sent ``--clordid 999999999999999999``) it goes
    on with timestamp-first UUIDs, and stays on them (Kraken tracks that ClOrdIDs increase)
    until the watermark is reset along with Kraken's sequence (ForceResetClOrdID(5030)=Y).
    """
    if derivatives:
        return next_derivatives_clordid(now, last)
    if last is not None and is_valid_derivatives_clordid(last):
        return next_derivatives_clordid(now, last)
    try:
        return next_spot_clordid(now, last)
    except ValueError:
        return next_derivatives_clordid(now)


def is_increasing_number_clordid(clordid: str) -> bool:
    """Format 1: a positive decimal number of at most 18 characters."""
    return _SPOT_RE.match(clordid) is not None


def is_valid_derivatives_clordid(clordid: str) -> bool:
    """Format 2 (the only one on Derivatives): a canonical v4 UUID, RFC 4122 variant."""
    return _UUID_RE.match(clordid) is not None


def is_valid_spot_clordid(clordid: str) -> bool:
    """Valid on a Spot session: either format (SPEC §6.2)."""
    return is_increasing_number_clordid(clordid) or is_valid_derivatives_clordid(clordid)


def uuid_timestamp(clordid: str) -> float | None:
    """POSIX seconds encoded in a timestamp-first UUID ClOrdID; None for other shapes."""
    ticks = _uuid_ticks(clordid)
    return None if ticks is None else ticks / UUID_TICKS_PER_SECOND


def clordid_order_key(clordid: str) -> int | None:
    """A number that increases with the ClOrdID (µs for numbers, 10-µs ticks for UUIDs)."""
    if is_increasing_number_clordid(clordid):
        return int(clordid)
    return _uuid_ticks(clordid)


class ClOrdIdGenerator:
    """Hands out increasing ClOrdIDs for one session kind, remembering the last one."""

    def __init__(self, *, derivatives: bool = False, last: str | None = None) -> None:
        self.derivatives = derivatives
        self.last = last

    def next(self, now: float) -> str:
        """A new ClOrdID greater than every one this generator (or ``last``) produced."""
        self.last = next_clordid(now, self.last, derivatives=self.derivatives)
        return self.last
