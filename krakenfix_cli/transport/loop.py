"""The event loop every command runs on: uvloop where it is installed, asyncio's own otherwise.

Measured here (bench/roundtrip.py's client and simulator, 3,000 sequential orders): the
order → acknowledgement round trip has a p50 of about 535 µs on asyncio's selector loop and
about 380 µs on uvloop at both ends. The difference is loop overhead per wake-up, which a
FIX session pays on every message. ``KRAKENFIX_LOOP=asyncio`` forces the standard loop, to
rule uvloop out when chasing a problem.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's ``new_event_loop`` when it can be used; None means asyncio's default."""
    if os.environ.get("KRAKENFIX_LOOP", "").strip().lower() == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def loop_name() -> str:
    """``uvloop`` or ``asyncio``: for benchmark reports."""
    return "asyncio" if loop_factory() is None else "uvloop"


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on the loop :func:`loop_factory` picks (Ctrl-C as in asyncio.run)."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
