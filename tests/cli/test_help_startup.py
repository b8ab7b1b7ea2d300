"""``krakenfix --help`` must stay cheap: no rich, prompt_toolkit, asyncio or dictionary import.

Checked through sys.modules in a fresh interpreter, not with a timer (no timed asserts);
bench/ and the closing notes carry the milliseconds.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("rich", "prompt_toolkit", "asyncio", "cryptography", "keyring", "pydantic",
         "krakenfix_cli.fix.dictionary", "krakenfix_cli.kraken.dictionary", "krakenfix_cli.ops")

PROBE = """
import contextlib, io, json, sys
from krakenfix_cli.cli.app import run
with contextlib.redirect_stdout(io.StringIO()):
    status = run(sys.argv[1:])
heavy = sorted(m for m in sys.modules if m.split('.')[0] in {h.split('.')[0] for h in HEAVY}
               and any(m == h or m.startswith(h + '.') for h in HEAVY))
print(json.dumps({"status": status, "heavy": heavy}))
"""


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["--version"]])
def test_help_imports_nothing_heavy(args: list[str]) -> None:
    import json

    code = f"HEAVY = {HEAVY!r}\n{PROBE}"
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    result = json.loads(out.splitlines()[-1])
    assert result["status"] == 0
    assert result["heavy"] == []


def test_subcommand_help_imports_no_render_or_dictionary() -> None:
    import json

    heavy = ("rich", "prompt_toolkit", "asyncio", "krakenfix_cli.fix.dictionary", "krakenfix_cli.ops")
    code = f"HEAVY = {heavy!r}\n{PROBE}"
    out = subprocess.run([sys.executable, "-c", code, "decode", "--help"], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    assert json.loads(out.splitlines()[-1])["heavy"] == []


def test_a_named_subcommand_builds_only_its_own_module() -> None:
    """`krakenfix decode ...` converts one Typer function, not all nine (REPL start-up)."""
    import json

    names = ("logon", "send", "cancel", "mass_cancel", "replay", "tail", "repl", "decode", "sim")
    listing = f"cmds = sorted(m for m in sys.modules if m.rsplit('.', 1)[-1] in {names!r} and '.cli.' in m)\n"
    probe = PROBE.replace("heavy = sorted(", listing + "heavy = sorted(").replace(
        '"heavy": heavy}', '"heavy": heavy, "cmds": cmds}')
    code = f"HEAVY = {('rich',)!r}\n{probe}"
    out = subprocess.run([sys.executable, "-c", code, "--debug", "decode", "--help"], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    result = json.loads(out.splitlines()[-1])
    assert result["status"] == 0
    assert result["cmds"] == ["krakenfix_cli.cli.decode"]


@pytest.mark.parametrize(
    ("args", "module"),
    [(["mass-cancel", "--dry-run"], "mass_cancel"), (["--debug", "repl"], "repl"), (["mass_cancel"], None),
     (["--help"], None), (["frobnicate"], None), ([], None), (["--version", "send"], None)],
)
def test_which_runs_need_only_one_command(args: list[str], module: str | None) -> None:
    from krakenfix_cli.cli.app import _named_command

    assert _named_command(args) == module
