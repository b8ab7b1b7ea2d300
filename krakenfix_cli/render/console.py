"""The stdout/stderr rich Console pair for an :class:`Env`, and the one-line error writer.

Errors stay plain text on a pipe (no rich import on that path, which keeps failures of
fast commands fast); on a colour TTY the ``krakenfix: error:`` prefix is red.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from krakenfix_cli.render.env import Env
from krakenfix_cli.render.escape import escape_text

if TYPE_CHECKING:
    from rich.console import Console

    from krakenfix_cli.fix.message import Message
    from krakenfix_cli.render import MessageWriter

PROG = "krakenfix"


def make_console(env: Env, *, stderr: bool = False, live: bool = False) -> Console:
    """A rich Console on ``env``'s stdout (or stderr), coloured only when ``env`` allows it.

    ``live``: a view that redraws in place (``book``) drives the cursor on any terminal,
    NO_COLOR or not; otherwise an uncoloured console writes plain lines."""
    from rich.console import Console

    from krakenfix_cli.render.theme import rich_theme

    color = env.color_stderr if stderr else env.color_stdout
    tty = env.stderr_isatty if stderr else env.stdout_isatty
    return Console(
        file=env.stderr if stderr else env.stdout,
        theme=rich_theme(),
        no_color=not color,
        color_system="auto" if color else None,
        force_terminal=tty and (color or live),
        force_interactive=tty and live,
        width=env.width if env.width else (None if tty else 100),
        highlight=False,
        emoji=False,
        markup=False,
        soft_wrap=False,
    )


def make_consoles(env: Env) -> tuple[Console, Console]:
    """``(stdout, stderr)`` consoles built from the same ``env``."""
    return make_console(env), make_console(env, stderr=True)


def _prefixed(env: Env, label: str, sgr: str, text: str) -> str:
    head = f"{PROG}: {label}:"
    if env.color_stderr:
        head = f"{sgr}{head}\x1b[0m"
    return f"{head} {escape_text(text)}\n"


def write_error(env: Env, text: str) -> None:
    """``krakenfix: error: <text>`` on stderr: the one line the error boundary prints."""
    env.stderr.write(_prefixed(env, "error", "\x1b[1;31m", text))
    env.stderr.flush()


def write_warning(env: Env, text: str) -> None:
    """``krakenfix: warning: <text>`` on stderr."""
    env.stderr.write(_prefixed(env, "warning", "\x1b[33m", text))


def write_note(env: Env, text: str) -> None:
    """A plain informational line on stderr (dim on a TTY), so stdout stays machine-readable."""
    text = escape_text(text)
    if env.color_stderr:
        env.stderr.write(f"\x1b[2m{text}\x1b[0m\n")
    else:
        env.stderr.write(text + "\n")


class TerminalReporter:
    """The terminal side of ``ops.report.Reporter``: messages to stdout in the chosen mode,
    warnings and notes to stderr, progress only on a stderr TTY, tables to stdout.

    Matches the Protocol structurally (render never imports ops).
    """

    def __init__(self, env: Env, writer: MessageWriter) -> None:
        self.env = env
        self.writer = writer
        self._progress_shown = False
        writer.prepare()

    def message(self, msg: Message, direction: str | None = None, when: float | None = None) -> None:
        self._clear_progress()
        self.writer.write(msg, direction, when)

    def note(self, text: str) -> None:
        self._clear_progress()
        write_note(self.env, text)

    def warn(self, text: str) -> None:
        self._clear_progress()
        self.writer.flush()
        write_warning(self.env, text)

    def progress(self, done: int, total: int | None = None, text: str = "") -> None:
        if not self.env.stderr_isatty:
            return
        count = f"{done}/{total}" if total is not None else str(done)
        self.env.stderr.write(f"\r\x1b[2K{count} {text}".rstrip())
        self.env.stderr.flush()
        self._progress_shown = True

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        from rich.table import Table

        self._clear_progress()
        self.writer.flush()
        t = Table(title=title)
        for c in columns:
            t.add_column(c)
        for r in rows:
            t.add_row(*(escape_text(v) for v in r))
        make_console(self.env).print(t)

    def _clear_progress(self) -> None:
        if self._progress_shown:
            self.env.stderr.write("\r\x1b[2K")
            self._progress_shown = False
