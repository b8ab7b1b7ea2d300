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
