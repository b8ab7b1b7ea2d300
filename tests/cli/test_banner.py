"""What every connecting command says first: the production banner (dry runs too) and --insecure."""

from __future__ import annotations

import pytest
from run import run_cli

from krakenfix_cli.kraken.profiles import PROD_HOST

ORDER = ("--symbol", "BTC/USD", "--side", "buy", "-q", "0.01", "--price", "50000")
CLOSED = ("--host", "127.0.0.1", "--port", "1", "--timeout", "5")
CREDS = {"KRAKENFIX_API_SECRET": "AAAA", "KRAKENFIX_NO_KEYRING": "1"}


@pytest.mark.parametrize("args", [
    ("send", *ORDER),
    ("cancel", "--clordid", "1", "--force", "--symbol", "BTC/USD", "--side", "buy"),
    ("mass-cancel", "--all"),
])
def test_a_production_dry_run_shows_the_banner_and_the_host(args: tuple[str, ...]) -> None:
    r = run_cli(*args, "--profile", "prod-spot", "--sender-comp-id", "ME", "--dry-run", "-o", "raw")
    assert r.exit_status == 0, r.stderr
    assert "PRODUCTION: profile prod-spot" in r.stderr and PROD_HOST in r.stderr
    assert "35=" in r.stdout


def test_a_market_data_banner_does_not_speak_of_orders() -> None:
    r = run_cli("logon", "--profile", "prod-spot-md", "--sender-comp-id", "ME", *CLOSED)
    banner = next(line for line in r.stderr.splitlines() if line.startswith("PRODUCTION"))
    assert "market data" in banner and "orders here are real" not in banner


@pytest.mark.parametrize("command", [("logon",), ("replay",), ("tail", "--duration", "1"),
                                     ("send", *ORDER, "--dry-run"), ("mass-cancel", "--all", "--dry-run")])
def test_every_command_that_uses_insecure_says_so(command: tuple[str, ...]) -> None:
    r = run_cli(*command, "--profile", "uat-spot", "--insecure", "--sender-comp-id", "ME", "--api-key", "K",
                *CLOSED, env=CREDS)
    warnings = [line for line in r.stderr.splitlines() if "--insecure" in line and "not verified" in line]
    assert len(warnings) == 1, r.stderr
    assert warnings[0].startswith("krakenfix: warning: ")
