"""Env: every fact about the terminal, gathered once at the entry point and passed down.

Render functions never call ``isatty()`` or read ``NO_COLOR`` themselves (STYLE.md rule
10, after httpie's ``context.Environment``): tests build an ``Env`` over ``StringIO``
streams and get exactly the output a pipe would.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TextIO


def _isatty(stream: object) -> bool:
    try:
        return bool(stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError, OSError):
        return False


@dataclass(frozen=True)
class Env:
    """The streams and what they are connected to."""

    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    "Where messages and results go."
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    "Where errors, warnings, notes and progress go."
    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    "Where piped input (``krakenfix decode < log``) comes from."
    stdout_isatty: bool = False
    stderr_isatty: bool = False
    stdin_isatty: bool = False
    no_color: bool = False
    "``NO_COLOR`` is set (https://no-color.org): never colour, even on a TTY."
    width: int | None = None
    "Terminal width in columns when stdout is a TTY (or ``COLUMNS``); ``None`` for pipes."
    debug: bool = False
    "``--debug``: show tracebacks and internal detail."

    @classmethod
    def from_system(cls, *, debug: bool = False, environ: Mapping[str, str] | None = None) -> Env:
        """The real process streams; called once, by ``cli.app.main`` (or the REPL)."""
        environ = os.environ if environ is None else environ
        out_tty = _isatty(sys.stdout)
        width: int | None = None
        columns = environ.get("COLUMNS", "")
        if columns.isdigit() and int(columns) > 0:
            width = int(columns)
        elif out_tty:
            try:
                width = os.get_terminal_size(sys.stdout.fileno()).columns
            except (OSError, ValueError, AttributeError):
                width = None
        return cls(
            stdout=sys.stdout,
            stderr=sys.stderr,
            stdin=sys.stdin,
            stdout_isatty=out_tty,
            stderr_isatty=_isatty(sys.stderr),
            stdin_isatty=_isatty(sys.stdin),
            no_color="NO_COLOR" in environ and environ["NO_COLOR"] != "",
            width=width,
            debug=debug or environ.get("KRAKENFIX_DEBUG", "") not in ("", "0"),
        )

    @property
    def color_stdout(self) -> bool:
        """Colour the message stream: only on a TTY, and never with ``NO_COLOR``."""
        return self.stdout_isatty and not self.no_color

    @property
    def color_stderr(self) -> bool:
        """Colour error and warning lines: only on a TTY, and never with ``NO_COLOR``."""
        return self.stderr_isatty and not self.no_color
