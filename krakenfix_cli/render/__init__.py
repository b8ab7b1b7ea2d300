"""Render layer: messages → rich renderables (pretty) or text lines (compact, raw, json).

Import cost matters here: ``cli/options.py`` imports :class:`Mode` for ``--output``, so
this module pulls in nothing heavy. rich, the dictionary and the group tree are loaded
inside the functions that need them.

Public API::

    Env.from_system(debug=...)                      # render.env: terminal facts, built once
    render_message(msg, mode, env, direction=None, when=None) -> str | rich renderable
    MessageWriter(env, mode).write(msg, direction, when)   # what commands use for streams
"""

from __future__ import annotations

import importlib
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from krakenfix_cli.render.env import Env

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from krakenfix_cli.fix.message import Message
    from krakenfix_cli.render.compact import CompactRenderer

__all__ = ["Direction", "Env", "MessageWriter", "Mode", "Names", "default_dictionary", "render_message"]

#: ``"in"`` (received, shown ``<``) or ``"out"`` (sent, shown ``>``); ``None`` when unknown.
Direction = str | None


class Mode(StrEnum):
    """``--output`` modes; the values are what users type."""

    PRETTY = "pretty"
    COMPACT = "compact"
    RAW = "raw"
    JSON = "json"


class Names(Protocol):
    """The part of the FIX dictionary rendering uses (``kraken()`` satisfies it)."""

    def field_name(self, tag: int) -> str: ...
    def enum_meaning(self, tag: int, value: str) -> str | None: ...
    def msg_name(self, msg_type: str) -> str: ...


_DICTIONARY: Any = None


def default_dictionary() -> Any:
    """The FIX 4.4 + Kraken dictionary (loaded on first use, then cached).

    Falls back to plain FIX 4.4 only while ``kraken/dictionary.py`` is absent (a partial
    checkout); names and enums of standard fields are the same there.
    """
    global _DICTIONARY
    if _DICTIONARY is None:
        try:
            module = importlib.import_module("krakenfix_cli.kraken.dictionary")
            _DICTIONARY = module.kraken()
        except ModuleNotFoundError as exc:
            if exc.name != "krakenfix_cli.kraken.dictionary":
                raise
            _DICTIONARY = importlib.import_module("krakenfix_cli.fix.dictionary").fix44()
    return _DICTIONARY


def render_message(
    msg: Message,
    mode: Mode | str,
    env: Env,
    direction: Direction = None,
    when: float | None = None,
    dictionary: Any = None,
) -> str | RenderableType:
    """One message in ``mode``: a rich renderable for pretty, one text line otherwise.

    Secrets (Password(554), RawData(96), ...) are always redacted. Colour follows
    ``env`` (TTY and no ``NO_COLOR``); the line carries no trailing newline.
    """
    mode = Mode(mode)
    d = dictionary if dictionary is not None else default_dictionary()
    if mode is Mode.COMPACT:
        from krakenfix_cli.render.compact import renderer_for

        return renderer_for(d, env.color_stdout).line(msg, direction, when)
    if mode is Mode.RAW:
        from krakenfix_cli.render.raw import render_raw

        return render_raw(msg)
    if mode is Mode.JSON:
        from krakenfix_cli.render.jsonl import render_json

        return render_json(msg, d, direction, when)
    from krakenfix_cli.render.pretty import render_pretty

    return render_pretty(msg, d, direction, when)


class MessageWriter:
    """Writes a stream of messages to ``env.stdout`` in one mode, as fast as the mode allows.

    compact/raw/json write plain strings (no rich per line); pretty prints panels
    through one rich Console made from ``env``.
    """

    def __init__(self, env: Env, mode: Mode | str, dictionary: Any = None) -> None:
        self.env = env
        self.mode = Mode(mode)
        self._dictionary = dictionary
        self._console: Console | None = None
        self._compact: CompactRenderer | None = None
        self._out = env.stdout

    @property
    def dictionary(self) -> Any:
        if self._dictionary is None:
            self._dictionary = default_dictionary()
        return self._dictionary

    def prepare(self) -> None:
        """Load the dictionary and the renderer now, not while a session waits on the event loop.

        The first message otherwise pays for them (about 100 ms for pretty), and that time
        would show up in `krakenfix logon`'s measured Logon round trip.
        """
        _ = self.dictionary
        if self.mode is Mode.COMPACT and self._compact is None:
            from krakenfix_cli.render.compact import renderer_for

            self._compact = renderer_for(self.dictionary, self.env.color_stdout)
        elif self.mode is Mode.PRETTY and self._console is None:
            from krakenfix_cli.render.console import make_console
            from krakenfix_cli.render.pretty import render_pretty  # noqa: F401

            self._console = make_console(self.env)

    def write(self, msg: Message, direction: Direction = None, when: float | None = None) -> None:
        """Render ``msg`` and write it (a panel, or one line)."""
        if self.mode is Mode.COMPACT:
            r = self._compact
            if r is None:
                from krakenfix_cli.render.compact import renderer_for

                r = self._compact = renderer_for(self.dictionary, self.env.color_stdout)
            self._out.write(r.line(msg, direction, when) + "\n")
        elif self.mode is Mode.PRETTY:
            if self._console is None:
                from krakenfix_cli.render.console import make_console

                self._console = make_console(self.env)
            from krakenfix_cli.render.pretty import render_pretty

            self._console.print(render_pretty(msg, self.dictionary, direction, when))
        else:
            line = render_message(msg, self.mode, self.env, direction, when, self.dictionary)
            assert isinstance(line, str)
            self._out.write(line + "\n")

    def flush(self) -> None:
        """Flush the output stream (call after a batch, before blocking on input)."""
        self._out.flush()
