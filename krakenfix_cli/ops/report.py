"""Reporter: how an ops function hands messages, notes, progress and warnings upward.

ops never imports render (siblings never import each other): the CLI passes a Reporter
that renders to the terminal, the REPL passes its own, and tests pass
:class:`RecordingReporter` and assert on what it collected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from krakenfix_cli.fix.message import Message


class Reporter(Protocol):
    """Sink for everything an operation wants the user to see besides its result."""

    def message(self, msg: Message, direction: str | None = None, when: float | None = None) -> None:
        """A FIX message sent (``"out"``) or received (``"in"``), or decoded (``None``)."""

    def note(self, text: str) -> None:
        """A fact worth a line (``logged on in 12 ms``), never an error."""

    def warn(self, text: str) -> None:
        """Something is wrong but the operation goes on (a bad frame in a log)."""

    def progress(self, done: int, total: int | None = None, text: str = "") -> None:
        """How far a long operation has come (``total`` None when unknown)."""

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        """A small table (a reconciliation of orders by final state, ...)."""


class NullReporter:
    """Discards everything (library callers that only want the result)."""

    def message(self, msg: Message, direction: str | None = None, when: float | None = None) -> None:
        pass

    def note(self, text: str) -> None:
        pass

    def warn(self, text: str) -> None:
        pass

    def progress(self, done: int, total: int | None = None, text: str = "") -> None:
        pass

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        pass


@dataclass
class RecordingReporter:
    """Keeps everything it is told, in order: the test double for ops functions."""

    messages: list[tuple[Message, str | None, float | None]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    tables: list[tuple[str, list[str], list[list[str]]]] = field(default_factory=list)
    progress_calls: list[tuple[int, int | None, str]] = field(default_factory=list)

    def message(self, msg: Message, direction: str | None = None, when: float | None = None) -> None:
        self.messages.append((msg, direction, when))

    def note(self, text: str) -> None:
        self.notes.append(text)

    def warn(self, text: str) -> None:
        self.warnings.append(text)

    def progress(self, done: int, total: int | None = None, text: str = "") -> None:
        self.progress_calls.append((done, total, text))

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        self.tables.append((title, list(columns), [list(r) for r in rows]))
