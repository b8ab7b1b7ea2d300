"""Every key binding has a docstring, and the help screen lists each one."""

from __future__ import annotations

from krakenfix_cli.repl.keys import build_key_bindings, describe_bindings, keys_help
from krakenfix_cli.repl.state import ReplState


def test_every_binding_has_a_docstring_and_is_on_the_help_screen() -> None:
    kb = build_key_bindings(ReplState())
    screen = keys_help(kb)
    assert len(kb.bindings) >= 6
    for binding in kb.bindings:
        doc = (binding.handler.__doc__ or "").strip()
        assert doc, f"binding {binding.keys} has no docstring"
        assert doc.splitlines()[0] in screen


def test_docstrings_match_their_keys() -> None:
    rows = dict(describe_bindings(build_key_bindings(ReplState())))
    assert "output mode" in rows["F2"]
    assert "session messages" in rows["F3"]
    assert "orders" in rows["F4"]
    assert "help" in rows["F1"].lower() or "commands" in rows["F1"]
    assert "quit" in rows["Ctrl-D"]
    assert "Complete" in rows["Tab"]
