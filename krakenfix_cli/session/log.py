"""The engine's record slot, typed: what a session log (the file log, a test's list) must take.

The engine calls it with raw frames as they arrive (before validation: a record of the
line, as QuickFIX's file log keeps) and as they are queued (after the store), plus its own
event lines. A screen must not use it: the screen shows messages after the engine accepted
them (``session.events``) and after the transport wrote them (``Connection``'s
``on_written``).
"""

from __future__ import annotations

from typing import Protocol


class SessionLog(Protocol):
    """A message log: frames in, frames out, event lines."""

    def incoming(self, frame: bytes, now: float) -> None:
        """A whole inbound frame, as received."""

    def outgoing(self, frame: bytes, now: float) -> None:
        """An outbound frame, stored and queued for the wire."""

    def event(self, text: str, now: float) -> None:
        """A line about the session (disconnects, refusals)."""

    def close(self) -> None:
        """Flush and close (the client does it when the connection ends)."""
