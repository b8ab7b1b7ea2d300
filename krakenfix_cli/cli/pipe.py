"""Stdout that a closed reader cannot stop: ``krakenfix send ... | head -1``.

Once the reader of stdout goes away, a write raises BrokenPipeError. That must not stop
the session work: an order may be live, the Logout and the journal still due. So the CLI
puts :class:`ReaderGoneGuard` in front of stdout before anything is printed (one place,
for every command): the first write that finds the pipe closed turns the stream into a
sink (stdout is pointed at /dev/null, so the interpreter's last flush is quiet too) and
every later write is dropped. The command runs to its end and exits by its outcome; a
streaming one (``tail``, ``logon --hold``: they run until stopped) is stopped as by Ctrl-C,
through :func:`on_reader_gone`, since nobody reads what it streams.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from typing import Any, TextIO

_GONE = (errno.EPIPE, errno.EINVAL, errno.ECONNRESET)


class ReaderGoneGuard:
    """A text stream in front of ``inner`` that swallows a closed reader, once and for all."""

    def __init__(self, inner: TextIO) -> None:
        self._inner = inner
        self.reader_gone = False
        "The reader closed the pipe; nothing more is written."
        self.callbacks: list[Callable[[], None]] = []
        "Called once when the reader goes away (a streaming command's stop)."

    def _gone(self) -> None:
        self.reader_gone = True
        for callback in list(self.callbacks):
            callback()
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._inner.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass

    def write(self, text: str) -> int:
        if self.reader_gone:
            return len(text)
        try:
            return self._inner.write(text)
        except OSError as exc:
            if exc.errno not in _GONE:
                raise
            self._gone()
            return len(text)

    def flush(self) -> None:
        if self.reader_gone:
            return
        try:
            self._inner.flush()
        except OSError as exc:
            if exc.errno not in _GONE:
                raise
            self._gone()

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def isatty(self) -> bool:
        return self._inner.isatty()

    def __getattr__(self, name: str) -> Any:  # fileno, encoding, buffer, ...
        return getattr(self._inner, name)


def guard_stdout() -> None:
    """Put the guard in front of ``sys.stdout`` (idempotent)."""
    import sys

    if not isinstance(sys.stdout, ReaderGoneGuard) and sys.stdout is not None:
        sys.stdout = ReaderGoneGuard(sys.stdout)  # type: ignore[assignment]


def on_reader_gone(callback: Callable[[], None]) -> Callable[[], None]:
    """Call ``callback`` when stdout's reader goes away; returns the undo. A no-op unguarded."""
    import sys

    guard = sys.stdout
    if not isinstance(guard, ReaderGoneGuard):
        return lambda: None
    if guard.reader_gone:
        callback()
        return lambda: None
    guard.callbacks.append(callback)

    def undo() -> None:
        if callback in guard.callbacks:
            guard.callbacks.remove(callback)

    return undo
