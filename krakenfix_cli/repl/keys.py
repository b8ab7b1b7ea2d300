"""Key bindings, built by one factory; every binding's docstring is its help line.

``build_key_bindings(state, actions)`` returns prompt_toolkit ``KeyBindings``;
``describe_bindings(kb)`` reads the docstrings back for ``help keys`` (F1), and a test
checks that every binding appears there, so a docstring cannot drift from its key the
way pgcli's F5 once carried F4's text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from krakenfix_cli.repl.state import OUTPUT_MODES, ReplState


@dataclass
class KeyActions:
    """What the bindings ask the app to do (the app fills these in)."""

    show_help: Callable[[], None] = lambda: None
    show_orders: Callable[[], None] = lambda: None


def _key_name(key: object) -> str:
    text = str(getattr(key, "value", key))
    names = {"c-d": "Ctrl-D", "c-o": "Ctrl-O", "c-space": "Ctrl-Space", "c-i": "Tab", "c-l": "Ctrl-L"}
    return names.get(text, text.upper() if len(text) <= 3 and text.startswith("f") else text)


def describe_bindings(kb: Any) -> list[tuple[str, str]]:
    """``(keys, first docstring line)`` for every binding of ``kb`` (the help screen)."""
    out: list[tuple[str, str]] = []
    for b in kb.bindings:
        keys = " ".join(_key_name(k) for k in b.keys)
        doc = (b.handler.__doc__ or "").strip().splitlines()
        out.append((keys, doc[0] if doc else ""))
    return out


def keys_help(kb: Any) -> str:
    """The ``help keys`` screen."""
    rows = describe_bindings(kb)
    width = max((len(k) for k, _ in rows), default=0)
    lines = ["Keys:"] + [f"  {k:<{width}}  {d}" for k, d in rows]
    lines.append("  (plus the usual Emacs editing keys; Up/Down walk the history, Ctrl-R searches it)")
    return "\n".join(lines)


def build_key_bindings(state: ReplState, actions: KeyActions | None = None) -> Any:
    """The REPL's key bindings over ``state`` (each handler's docstring is its help line)."""
    from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent

    acts = actions or KeyActions()
    kb = KeyBindings()

    @kb.add("tab")
    def _complete(event: KeyPressEvent) -> None:
        """Complete the word at the cursor, or move to the next completion."""
        buf = event.current_buffer
        if buf.complete_state:
            buf.complete_next()
        else:
            buf.start_completion(select_first=False)

    @kb.add("s-tab")
    def _complete_previous(event: KeyPressEvent) -> None:
        """Move to the previous completion."""
        buf = event.current_buffer
        if buf.complete_state:
            buf.complete_previous()

    @kb.add("f1")
    def _help(event: KeyPressEvent) -> None:
        """Show the commands and these keys."""
        acts.show_help()

    @kb.add("f2")
    def _cycle_output(event: KeyPressEvent) -> None:
        """Cycle the output mode: pretty, compact, raw, json."""
        i = OUTPUT_MODES.index(state.output) if state.output in OUTPUT_MODES else 0
        state.output = OUTPUT_MODES[(i + 1) % len(OUTPUT_MODES)]
        event.app.invalidate()

    @kb.add("f3")
    def _toggle_admin(event: KeyPressEvent) -> None:
        """Show or hide session messages (heartbeats, resends, logon/logout)."""
        state.filter.show_admin = not state.filter.show_admin
        event.app.invalidate()

    @kb.add("f4")
    def _orders(event: KeyPressEvent) -> None:
        """Show this session's orders (same as `orders`)."""
        acts.show_orders()

    @kb.add("c-d")
    def _quit(event: KeyPressEvent) -> None:
        """On an empty line: log out and quit; otherwise delete the character under the cursor."""
        buf = event.current_buffer
        if buf.text:
            buf.delete()
        else:
            event.app.exit(exception=EOFError)

    return kb
