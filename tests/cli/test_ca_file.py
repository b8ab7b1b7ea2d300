"""--ca-file (KRAKENFIX_CA_FILE, profile ca_file): trust a CA bundle for TLS on every connecting command."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from run import cli_env, run_cli

COMMANDS = [("logon",), ("send", "-s", "BTC/USD", "--side", "buy", "-q", "0.01", "--price", "50000"),
            ("cancel", "--clordid", "1", "--force", "-s", "BTC/USD", "--side", "buy"),
            ("mass-cancel", "--all", "-y"), ("replay",), ("tail", "--duration", "1")]


@pytest.fixture(scope="module")
def tls_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path, dict[str, str]]]:
    """A TLS ``krakenfix sim`` whose state dir the client does not share (no endpoint discovery)."""
    work = tmp_path_factory.mktemp("tls-sim")
    state = work / "simstate"
    port_file = work / "port"
    proc = subprocess.Popen([sys.executable, "-m", "krakenfix_cli", "sim", "--tls", "--port", "0",
                             "--port-file", str(port_file)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=cli_env({"KRAKENFIX_STATE_DIR": str(state)}, str(work)))
    endpoint = state / "sim-endpoint.json"
    try:
        for _ in range(1200):
            if port_file.exists() and port_file.read_text().strip() and endpoint.exists():
                break
            assert proc.poll() is None, "krakenfix sim exited"
            time.sleep(0.05)
        info = json.loads(endpoint.read_text())
        env = {"KRAKENFIX_API_SECRET": info["api_secret"], "KRAKENFIX_NO_KEYRING": "1"}
        yield int(port_file.read_text()), Path(info["ca_file"]), {**env, "KEY": info["api_key"]}
    finally:
        proc.terminate()
        proc.wait(20)


def _logon(port: int, key: str, *extra: str, env: dict[str, str]) -> object:
    return run_cli("logon", "--profile", "sim", "--port", str(port), "--tls", "--sender-comp-id", "KFXDEMO",
                   "--api-key", key, "-o", "compact", *extra, env=env)


def test_ca_file_makes_the_certificate_verified(tls_sim: tuple[int, Path, dict[str, str]]) -> None:
    port, ca, env = tls_sim
    key = env["KEY"]
    plain = {k: v for k, v in env.items() if k != "KEY"}
    r = _logon(port, key, "--ca-file", str(ca), env=plain)
    assert r.exit_status == 0, r.output  # type: ignore[attr-defined]
    assert "verified" in r.stdout and "not verified" not in r.stdout  # type: ignore[attr-defined]
    by_env = _logon(port, key, env={**plain, "KRAKENFIX_CA_FILE": str(ca)})
    assert by_env.exit_status == 0, by_env.output  # type: ignore[attr-defined]
    without = _logon(port, key, env=plain)
    assert without.exit_status == 4 and "--ca-file" in without.stderr  # type: ignore[attr-defined]


def test_a_profile_ca_file_is_used(tls_sim: tuple[int, Path, dict[str, str]], tmp_path: Path) -> None:
    port, ca, env = tls_sim
    plain = {k: v for k, v in env.items() if k != "KEY"}
    config = tmp_path / "config"
    config.mkdir()
    (config / "config.toml").write_text(f'[profiles.mine]\nbase = "sim"\nca_file = "{ca}"\n')
    r = run_cli("logon", "--profile", "mine", "--port", str(port), "--tls", "--sender-comp-id", "KFXDEMO",
                "--api-key", env["KEY"], "-o", "compact", env={**plain, "KRAKENFIX_CONFIG_DIR": str(config)})
    assert r.exit_status == 0, r.output


@pytest.mark.parametrize("command", COMMANDS)
def test_every_connecting_command_takes_ca_file_and_refuses_a_missing_one(command: tuple[str, ...],
                                                                         tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    r = run_cli(*command, "--profile", "uat-spot", "--sender-comp-id", "ME", "--api-key", "K",
                "--ca-file", str(missing), env={"KRAKENFIX_API_SECRET": "AAAA", "KRAKENFIX_NO_KEYRING": "1"})
    assert r.exit_status == 2, r.output
    assert r.stderr.count("\n") == 1 and f"cannot read the CA file {missing}" in r.stderr, r.stderr


def test_the_repl_takes_ca_file_too() -> None:
    # The REPL needs a terminal to run; its options are the same connection options.
    assert "--ca-file" in run_cli("repl", "--help", env={"COLUMNS": "200"}).stdout
