"""The cached top-level help must equal what the Typer app prints (it is only a fast path)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from krakenfix_cli.cli import entry


@pytest.mark.parametrize("columns", [entry.MAX_CONTENT_WIDTH + 2, 80])
def test_cached_help_matches_the_live_app(columns: int) -> None:
    cache = json.loads(entry.CACHE.read_text(encoding="utf-8"))
    live = entry.render_help(columns)
    assert cache[str(entry.click_width(columns))] == live, (
        "help_cache.json is stale: python -m krakenfix_cli.cli.entry --write-help-cache"
    )


@pytest.mark.parametrize("args", [["--help"], ["-h"], []])
def test_fast_help_is_what_the_app_would_print(args: list[str]) -> None:
    env = dict(os.environ, COLUMNS="80", NO_COLOR="1")
    fast = subprocess.run([sys.executable, "-m", "krakenfix_cli", *args], capture_output=True, text=True,
                          env=env, stdin=subprocess.DEVNULL)
    slow = subprocess.run([sys.executable, "-m", "krakenfix_cli", *args], capture_output=True, text=True,
                          env={**env, "KRAKENFIX_NO_HELP_CACHE": "1"}, stdin=subprocess.DEVNULL)
    assert fast.returncode == slow.returncode == 0
    assert fast.stdout == slow.stdout and "Commands:" in fast.stdout


def test_version_needs_no_typer() -> None:
    code = "import sys; sys.argv=['krakenfix','--version']\nfrom krakenfix_cli.cli import entry\n" \
           "try:\n    entry.main()\nexcept SystemExit:\n    pass\nprint('typer' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.splitlines() == [f"krakenfix {__import__('krakenfix_cli').__version__}", "False"]
