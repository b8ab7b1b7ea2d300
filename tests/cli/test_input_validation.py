"""Bad input is a usage error (exit 2, one line naming what is wrong), never exit 70 or a hang."""

from __future__ import annotations

import pytest
from run import run_cli


def _one_usage_line(r: object, *needles: str) -> None:
    stderr = r.stderr  # type: ignore[attr-defined]
    assert r.exit_status == 2, stderr  # type: ignore[attr-defined]
    assert stderr.count("\n") == 1 and stderr.startswith("krakenfix: error: "), stderr
    for n in needles:
        assert n in stderr, stderr


@pytest.mark.parametrize(("args", "option"), [
    (["logon", "--sim", "--timeout", "nan"], "--timeout"),
    (["logon", "--sim", "--timeout", "inf"], "--timeout"),
    (["logon", "--sim", "--timeout", "-1"], "--timeout"),
    (["logon", "--sim", "--hold", "--duration", "inf"], "--duration"),
    (["tail", "--sim", "--duration", "nan"], "--duration"),
    (["replay", "--sim", "--quiet", "nan"], "--quiet"),
    (["mass-cancel", "--sim", "--all", "--yes", "--quiet", "inf"], "--quiet"),
    (["send", "--sim", "--symbol", "BTC/USD", "--side", "buy", "-q", "1", "--timeout", "nan"], "--timeout"),
])
def test_non_finite_seconds_are_usage_errors_naming_the_option(args: list[str], option: str) -> None:
    r = run_cli(*args, timeout=60)
    _one_usage_line(r, f"'{option}'", "finite")


def test_a_secret_that_is_not_base64_is_a_usage_error() -> None:
    # Port 1 is closed: the secret must be refused while the settings are resolved, before any connect.
    r = run_cli("logon", "--profile", "uat-spot", "--sender-comp-id", "ME", "--api-key", "K",
                "--host", "127.0.0.1", "--port", "1", "--timeout", "5",
                env={"KRAKENFIX_API_SECRET": "not base64!!", "KRAKENFIX_NO_KEYRING": "1"})
    _one_usage_line(r, "not valid base64", "KRAKENFIX_API_SECRET")
    assert "not base64!!" not in r.output
