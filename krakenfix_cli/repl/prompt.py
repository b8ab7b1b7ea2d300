"""The REPL's prompt: prompt_toolkit's session (completion, lexer, toolbar, keys, history) and the read loop.

``self`` is the :class:`~repl.app.Repl` these functions serve (named so, as they read like its methods).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, TextIO, cast

from krakenfix_cli.repl import commands as c

if TYPE_CHECKING:
    from krakenfix_cli.repl.app import Repl


async def run_prompt(self: Repl) -> int:
    """Build the prompt, log on, read lines until ``quit``; returns the exit status."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.patch_stdout import patch_stdout
    from prompt_toolkit.styles import Style

    from krakenfix_cli.repl.completer import build_completer
    from krakenfix_cli.repl.history import build_history
    from krakenfix_cli.repl.keys import KeyActions, build_key_bindings
    from krakenfix_cli.repl.lexer import STYLE_RULES, build_lexer
    from krakenfix_cli.repl.toolbar import build_toolbar

    actions = KeyActions(show_help=lambda: _run_soon(self, c.Help()),
                         show_orders=lambda: _run_soon(self, c.Orders()))
    self.keys = build_key_bindings(self.state, actions)
    completer = build_completer(self.state)
    toolbar = cast(Any, build_toolbar(self.state))
    history = build_history(self.opts.history_path) if self.opts.history_path is not None else None
    self.session = PromptSession(
        message=cast(Any, lambda: prompt_text(self)),
        completer=completer,
        lexer=build_lexer(),
        bottom_toolbar=toolbar,
        key_bindings=self.keys,
        history=history,
        style=Style.from_dict(STYLE_RULES),
        complete_while_typing=False,
        refresh_interval=1.0,
        enable_history_search=False,
        include_default_pygments_style=False,
    )
    with patch_stdout(raw=True):
        self.screen.out = cast(TextIO, sys.stdout)
        self.line("krakenfix REPL: Tab completes, F1 or `help` for help, `quit` or Ctrl-D to leave", "dim")
        await self.start()
        while not self.quitting:
            try:
                text = await self.session.prompt_async(
                    cast(Any, lambda: prompt_text(self)), completer=completer, bottom_toolbar=toolbar
                )
            except KeyboardInterrupt:
                continue  # Ctrl-C clears the line, as in a shell
            except EOFError:
                break
            await self.execute(text)
        await self.shutdown()
    return 0

def prompt_text(self: Repl) -> list[tuple[str, str]]:
    style = "class:prompt.prod" if self.state.production else "class:prompt"
    return [(style, "fix> ")]

def _run_soon(self: Repl, cmd: c.Command) -> None:
    """Run a command from a key binding (its output goes above the prompt)."""
    self.spawn(self.dispatch(cmd))


async def confirm(self: Repl, what: str) -> bool:
    """Ask before a destructive command: the profile is named, red for production."""
    assert self.session is not None
    target = f"{self.state.profile} ({self.spec.host}:{self.spec.port}, {self.spec.sender_comp_id})"
    if self.state.production:
        self.line(f"PRODUCTION: {what} on {target}", "bad")
        word = self.spec.profile or "production"
        prompt = f"Type the profile name ({word}) to go on: "
    else:
        self.line(f"{what} on {target}", "warn")
        word, prompt = "yes", "Type yes to go on: "
    try:
        answer = await self.session.prompt_async(prompt, completer=None, bottom_toolbar=None)
    except (KeyboardInterrupt, EOFError):
        answer = ""
    return answer.strip() == word
