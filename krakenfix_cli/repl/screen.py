"""The REPL's screen: lines, message panels and tables above the prompt, in the current output mode.

It is also the Reporter the ops functions and the live session write to (``ops.report``),
so a note from a reconnect and a panel from a send land in the same place and style.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from krakenfix_cli.fix.message import Message
from krakenfix_cli.render import MessageWriter, Mode
from krakenfix_cli.render.env import Env
from krakenfix_cli.repl.state import ReplState

_STYLES = {"ok": "\x1b[1;32m", "bad": "\x1b[1;31m", "warn": "\x1b[33m", "dim": "\x1b[2m", "info": "\x1b[36m"}


class Screen:
    """Where the REPL writes; ``out`` becomes prompt_toolkit's patched stdout while the prompt runs."""

    def __init__(self, env: Env, state: ReplState) -> None:
        self.env = env
        self.state = state
        self.out: TextIO = env.stdout
        self._writer: MessageWriter | None = None
        self._writer_mode = ""
        self._writer_width: int | None = None

    # -- output -----------------------------------------------------------------------------------
    @property
    def color(self) -> bool:
        return self.env.color_stdout

    def line(self, text: str, style: str = "") -> None:
        """One line above the prompt (coloured on a colour TTY)."""
        if style and self.color:
            text = f"{_STYLES.get(style, '')}{text}\x1b[0m"
        self.out.write(text + "\n")
        self.out.flush()

    def writer(self) -> MessageWriter:
        """The message writer for the current output mode (rebuilt when it changes)."""
        env = self._render_env()
        if self._writer is None or self._writer_mode != self.state.output or self._writer_width != env.width:
            self._writer = MessageWriter(env, Mode(self.state.output))
            self._writer_mode = self.state.output
            self._writer_width = env.width
        return self._writer

    def _render_env(self) -> Env:
        """``env`` at the terminal's width now: a resize must reach the next panel (COLUMNS is the start's)."""
        width = self.env.width
        if self.env.stdout_isatty and sys.__stdout__ is not None:
            with contextlib.suppress(OSError, ValueError):
                width = os.get_terminal_size(sys.__stdout__.fileno()).columns
        return dataclasses.replace(self.env, stdout=self.out, width=width)

    # Reporter protocol (ops call these) -----------------------------------------------------------
    def message(self, msg: Message, direction: str | None = None, when: float | None = None) -> None:
        w = self.writer()
        w.write(msg, direction, when)
        w.flush()

    def note(self, text: str) -> None:
        self.line(text, "dim")

    def warn(self, text: str) -> None:
        self.line(f"warning: {text}", "warn")

    def progress(self, done: int, total: int | None = None, text: str = "") -> None:
        pass

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        if self.state.output in ("compact", "raw", "json") or not rows:
            widths = [len(col) for col in columns]
            for r in rows:
                widths = [max(w, len(v)) for w, v in zip(widths, r, strict=False)]
            self.line(f"{title}:", "info")
            self.line("  ".join(col.ljust(w) for col, w in zip(columns, widths, strict=False)).rstrip())
            for r in rows:
                self.line("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=False)).rstrip())
            return
        from rich.table import Table

        from krakenfix_cli.render.console import make_console

        t = Table(title=title, title_justify="left")
        for col in columns:
            t.add_column(col)
        state_style = {"filled": "fill", "canceled": "cancel", "rejected": "reject", "new": "new",
                       "partially-filled": "fill", "expired": "cancel"}  # fmt: skip
        for r in rows:
            style = state_style.get(r[6], "") if len(r) > 6 else ""
            t.add_row(*r, style=style or None)
        make_console(self._render_env()).print(t)
