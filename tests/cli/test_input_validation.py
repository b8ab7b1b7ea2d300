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


@pytest.mark.parametrize("option", ["--qty", "--price"])
@pytest.mark.parametrize("value", ["0_01", "1_000", "\uff11", "1e3", "nan", "inf", "-1", "+1", " 1", "1."])
def test_quantities_and_prices_are_plain_ascii_decimals(option: str, value: str) -> None:
    args = {"--qty": "0.01", "--price": "50000"}
    args[option] = value
    r = run_cli("send", "--sim", "--symbol", "BTC/USD", "--side", "buy", "--qty", args["--qty"],
                "--price", args["--price"], "--dry-run", "-o", "raw")
    _one_usage_line(r, "plain decimal")
    assert "35=D" not in r.stdout


def test_a_plain_decimal_goes_on_the_wire_as_typed() -> None:
    r = run_cli("send", "--sim", "--symbol", "BTC/USD", "--side", "buy", "--qty", "0.01", "--price", "50000",
                "--dry-run", "-o", "raw")
    assert r.exit_status == 0, r.stderr
    assert "|38=0.01|" in r.stdout and "|44=50000|" in r.stdout


@pytest.mark.parametrize("field", ["38=0_01", "38=1e3", "44=\uff15\uff10", "44=nan"])
def test_raw_quantities_and_prices_are_checked(field: str) -> None:
    r = run_cli("send", "--sim", "--raw", f"35=D|11=5|55=BTC/USD|54=1|40=2|{field}", "--dry-run", "-o", "raw")
    _one_usage_line(r, "not a FIX decimal")


@pytest.mark.parametrize(("option", "value", "what"), [
    ("--sender-comp-id", "ME\x01" + "8674=1", "SenderCompID"),
    ("--sender-comp-id", "../../escape", "SenderCompID"),
    ("--sender-comp-id", "A=B", "SenderCompID"),
    ("--target-comp-id", "KRAKEN-TRD\x01" + "8674=1", "TargetCompID"),
    ("--target-comp-id", "a/b", "TargetCompID"),
    ("--api-key", "KEY\x01" + "8674=1", "API key"),
    ("--api-key", "KEY WITH SPACE", "API key"),
])
def test_values_for_fields_and_file_names_are_validated(option: str, value: str, what: str) -> None:
    # Port 1 is closed: the value must be refused while the settings are resolved, before any connect.
    args = {"--sender-comp-id": "ME", "--target-comp-id": "KRAKEN-TRD", "--api-key": "K", option: value}
    r = run_cli("logon", "--profile", "uat-spot", "--host", "127.0.0.1", "--port", "1", "--timeout", "5",
                *[x for k, v in args.items() for x in (k, v)],
                env={"KRAKENFIX_API_SECRET": "AAAA", "KRAKENFIX_NO_KEYRING": "1"})
    _one_usage_line(r, what, option)
    assert "\x01" not in r.stderr


@pytest.mark.parametrize(("option", "value", "what"), [
    ("--sender-comp-id", "../../escape", "SenderCompID"),
    ("--api-key", "KEY\x01" + "8674=1", "API key"),
])
def test_sim_refuses_a_bad_typed_value_too(option: str, value: str, what: str) -> None:
    """--sim needs no profile, but a value typed for a field is still refused, not ignored."""
    r = run_cli("logon", "--sim", option, value, "-o", "compact")
    _one_usage_line(r, what, option)


def test_the_environment_is_validated_too() -> None:
    r = run_cli("logon", "--profile", "uat-spot", "--host", "127.0.0.1", "--port", "1", "--api-key", "K",
                env={"KRAKENFIX_SENDER_COMP_ID": "../x", "KRAKENFIX_API_SECRET": "AAAA",
                     "KRAKENFIX_NO_KEYRING": "1"})
    _one_usage_line(r, "SenderCompID", "KRAKENFIX_SENDER_COMP_ID")
