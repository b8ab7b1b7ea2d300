"""Stdout that a closed reader cannot stop: ``krakenfix send ... | head -1``.

Once the reader of stdout goes away, a write raises BrokenPipeError. That must not stop
the session work: an order may be live, the Logout and the journal still due. So the CLI
puts :class:`ReaderGoneGuard` in front of stdout before anything is printed (one place,
for every command): the first write that finds the pipe closed turns the stream into a
sink (stdout is pointed at /dev/null, so the interpreter's last flush is quiet too) and
every later write is dropped. The command runs to its end and exits by its outcome.
"""

from __future__ import annotations

import errno
import os
from typing import Any, TextIO

_GONE = (errno.EPIPE, errno.EINVAL, errno.ECONNRESET)


class ReaderGoneGuard:
    """A text stream in front of ``inner`` that swallows a closed reader, once and for all."""

    def __init__(self, inner: TextIO) -> None:
        self._inner = inner
        self.reader_gone = False
        "The reader closed the pipe; nothing more is written."

    def _gone(self) -> None:
        self.reader_gone = True
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
