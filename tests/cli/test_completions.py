"""The checked-in completion scripts are exactly what the Typer app generates now."""

from __future__ import annotations

from pathlib import Path

import pytest
from run import run_cli

COMPLETIONS = Path(__file__).resolve().parents[2] / "completions"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_checked_in_completion_script_matches_a_fresh_one(shell: str) -> None:
    fresh = run_cli(env={"_KRAKENFIX_COMPLETE": f"source_{shell}"})
    assert fresh.exit_status == 0, fresh.stderr
    checked_in = (COMPLETIONS / f"krakenfix.{shell}").read_text()
    assert checked_in == fresh.stdout, (
        f"completions/krakenfix.{shell} is stale: run `sh completions/generate.sh`"
    )


def test_completion_offers_the_decode_command() -> None:
    r = run_cli(env={"_KRAKENFIX_COMPLETE": "complete_bash", "COMP_WORDS": "krakenfix dec",
                     "COMP_CWORD": "1"})
    assert "decode" in r.stdout
