"""``krakenfix logon`` end to end, as a subprocess against a simulator on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import pytest
from run import run_cli

sys.path.insert(0, str(Path(__file__).parents[1] / "ops"))
from cli_harness import SimProc, kfx, scan_for_secret, sim_proc

__all__ = ["sim_proc"]

WRONG_SECRET = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="


def test_logon_reports_each_step_and_exits_0(sim_proc: SimProc, tmp_path: Path) -> None:
    r = kfx("logon", "--output", "compact", env=sim_proc.env(tmp_path))
    assert r.exit_status == 0, r.output
    for step in ("TCP", "TLS", "Logon", "Heartbeat", "Clock"):
        assert f"ok   {step}" in r.stdout
    assert "nonce window" in r.stdout
    assert "> Logon" in r.stdout and "< Logon" in r.stdout
    assert "554=***" in r.stdout


def test_logon_json_is_one_object_per_line(sim_proc: SimProc, tmp_path: Path) -> None:
    r = kfx("logon", "--output", "json", env=sim_proc.env(tmp_path))
    assert r.exit_status == 0, r.output
    objects = [json.loads(line) for line in r.stdout.splitlines()]
    summary = objects[-1]
    assert summary["ok"] is True
    assert [s["step"] for s in summary["steps"]] == ["TCP", "TLS", "Logon", "Heartbeat", "Clock"]
    assert abs(summary["clock_skew_ms"]) < summary["nonce_window_ms"]


def test_logon_with_wrong_secret_exits_3_saying_bad_signature(sim_proc: SimProc, tmp_path: Path) -> None:
    r = kfx("logon", "-o", "compact", env=sim_proc.env(tmp_path, KRAKENFIX_API_SECRET=WRONG_SECRET))
    assert r.exit_status == 3, r.output
    assert "krakenfix: error: logon refused: bad signature" in r.stderr
    assert "Traceback" not in r.output


def test_logon_with_unknown_key_exits_3_saying_bad_api_key(sim_proc: SimProc, tmp_path: Path) -> None:
    r = kfx("logon", "-o", "compact", "--api-key", "KFXnot-a-key", env=sim_proc.env(tmp_path))
    assert r.exit_status == 3, r.output
    assert "logon refused: bad API key" in r.stderr


def test_logon_with_unknown_compid_exits_3_saying_silent_close(sim_proc: SimProc, tmp_path: Path) -> None:
    r = kfx("logon", "-o", "compact", "--sender-comp-id", "NOBODY", env=sim_proc.env(tmp_path))
    assert r.exit_status == 3, r.output
    assert "silent close" in r.stderr
    assert "whitelist" in r.stderr


def test_logon_to_a_closed_port_exits_4(sim_proc: SimProc, tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = kfx("logon", "-o", "compact", "--port", str(port), env=sim_proc.env(tmp_path))
    assert r.exit_status == 4, r.output
    assert r.stderr.strip().splitlines()[-1].startswith("krakenfix: error: cannot connect")


def test_logon_with_tls_against_a_plain_port_exits_4(sim_proc: SimProc, tmp_path: Path) -> None:
    r = kfx("logon", "-o", "compact", "--tls", "--timeout", "5", env=sim_proc.env(tmp_path))
    assert r.exit_status == 4, r.output
    assert "TLS" in r.stderr


def test_logon_hold_stays_up_for_the_duration_then_logs_out(sim_proc: SimProc, tmp_path: Path) -> None:
    r = kfx("logon", "--hold", "--duration", "1", "-o", "compact", env=sim_proc.env(tmp_path))
    assert r.exit_status == 0, r.output
    assert "held for" in r.stdout
    assert "> Logout" in r.stdout


def test_logon_sim_needs_no_credentials(tmp_path: Path) -> None:
    from cli_harness import base_env

    r = kfx("logon", "--sim", "-o", "compact", env=base_env(tmp_path))
    assert r.exit_status == 0, r.output
    assert "TLSv1." in r.stdout  # the embedded simulator speaks TLS with its own CA


def test_logon_never_shows_or_stores_the_secret(sim_proc: SimProc, tmp_path: Path) -> None:
    env = sim_proc.env(tmp_path)
    runs = [kfx("logon", "-o", mode, env=env) for mode in ("pretty", "compact", "raw", "json")]
    runs.append(kfx("logon", "-o", "raw", env=sim_proc.env(tmp_path, KRAKENFIX_API_SECRET=WRONG_SECRET)))
    assert all(r.exit_status in (0, 3) for r in runs)
    texts = [r.output for r in runs]
    found = scan_for_secret(sim_proc.api_secret, texts, tmp_path / "state")
    found += scan_for_secret(WRONG_SECRET, texts, tmp_path / "state")
    assert found == []


def test_session_store_keeps_no_logon_password(sim_proc: SimProc, tmp_path: Path) -> None:
    r = kfx("logon", "-o", "raw", env=sim_proc.env(tmp_path))
    assert r.exit_status == 0
    assert scan_for_secret(sim_proc.api_secret, [r.output], tmp_path / "state") == []



@pytest.mark.parametrize(("extra", "env", "status"), [
    ((), {}, 2),  # no API key: a usage error
    (("--api-key", "K"), {"KRAKENFIX_API_SECRET": "AAAA"}, 4),  # nothing listens on port 1
    (("--api-key", "K"), {"KRAKENFIX_API_SECRET": WRONG_SECRET[:-1] + "!"}, 2),  # not base64
])
def test_debug_adds_the_traceback_and_keeps_the_exit_status(extra: tuple[str, ...], env: dict[str, str],
                                                            status: int) -> None:
    args = ("logon", "--profile", "uat-spot", "--sender-comp-id", "ME", "--host", "127.0.0.1", "--port", "1",
            "--timeout", "5", *extra)
    env = {**env, "KRAKENFIX_NO_KEYRING": "1"}
    plain = run_cli(*args, env=env)
    debug = run_cli("--debug", *args, env=env)
    by_env = run_cli(*args, env={**env, "KRAKENFIX_DEBUG": "1"})
    assert plain.exit_status == debug.exit_status == by_env.exit_status == status, debug.output
    line = plain.stderr.splitlines()[-1]
    assert line.startswith("krakenfix: error: ")
    assert debug.stderr.splitlines()[-1] == line
    assert "Traceback" not in plain.output
    if status == 2:  # raised as an exception: --debug shows where
        assert "Traceback" in debug.stderr
