"""ChecksumOrderBook(5041): the one computation of Kraken's book checksum (SPEC §7.4).

The simulator stamps it on every book update and ``book`` verifies it, so both import it
from here: a change to the algorithm cannot make the two disagree. It is a CRC32, an
unsigned 32-bit value up to 4294967295; keep it an ``int`` end to end (a signed 32-bit field
type would refuse about half of all updates).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from decimal import Decimal
from functools import lru_cache

#: Levels per side that enter the checksum.
CHECKSUM_LEVELS = 10

Level = tuple[Decimal, Decimal]


@lru_cache(maxsize=1 << 16)
def _digits(value: Decimal, precision: int) -> str:
    """``value`` with ``precision`` decimals, the dot dropped and leading zeros stripped.

    Cached: the top levels of a book change far less often than the book is checked, and
    formatting a Decimal was 60% of verifying an update (cProfile, bench/book.py)."""
    return f"{value:.{precision}f}".replace(".", "").lstrip("0")


def checksum_text(price_precision: int, qty_precision: int, asks: Sequence[Level], bids: Sequence[Level]) -> str:
    """What CRC32 is taken of: price then quantity of the best 10 asks (ascending), then bids (descending)."""
    parts: list[str] = []
    for px, qty in [*asks[:CHECKSUM_LEVELS], *bids[:CHECKSUM_LEVELS]]:
        parts.append(_digits(px, price_precision))
        parts.append(_digits(qty, qty_precision))
    return "".join(parts)


def book_checksum(price_precision: int, qty_precision: int, asks: Sequence[Level], bids: Sequence[Level]) -> int:
    """ChecksumOrderBook(5041) of a book: ``asks`` best (lowest) first, ``bids`` best (highest) first."""
    return zlib.crc32(checksum_text(price_precision, qty_precision, asks, bids).encode("ascii"))
