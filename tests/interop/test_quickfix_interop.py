"""Interop with QuickFIX (PyPI quickfix-tls), software no one here wrote.

QuickFIX's acceptor binds every interface, so it only ever runs inside a private network
namespace (``unshare -n``) whose sole interface is loopback.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def _can_unshare() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    return probe.returncode == 0


def finished(proc: subprocess.CompletedProcess[str], out: Path) -> bool:
    """The harness ran to the end: exit 0, or QuickFIX's segfault in teardown after its results.

    QuickFIX's C++ threads sometimes crash the process as they wind down after the Logout
    (faulthandler shows no Python frame in the crashing thread, and it happened about once in
    ten runs under load). The harness writes its results file only after every step, and the
    tests check every field of it, so a crash after that file exists costs no evidence.
    """
    crashed_late = proc.returncode in (-11, 139) and out.exists() and "Segmentation fault" in proc.stderr
    return proc.returncode == 0 or crashed_late


needs_namespace = pytest.mark.skipif(not _can_unshare(), reason="unshare -n is not permitted here")
pytest.importorskip("quickfix")


@needs_namespace
@pytest.mark.parametrize("tls", [False, True], ids=["tcp", "tls"])
def test_our_client_against_a_quickfix_acceptor(tls: bool, tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    harness = HERE / "qf_acceptor_harness.py"
    cmd = f"ip link set lo up && {sys.executable} {harness} --port 5501 --out {out}" + (" --tls" if tls else "")
    proc = subprocess.run(["unshare", "-n", "sh", "-c", cmd], capture_output=True, text=True, timeout=120)
    assert finished(proc, out), proc.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["acks"] == [f"ORD{i}" for i in range(5)]
    assert result["cancel_exec_type"] == "4"
    assert result["our_gap_detected"] and result["gap_replays"][:2] == ["ORD4", "CXL0"]
    assert result["gap_ack"] == "GAP1" and result["after_gap_ack"] == "AFTERGAP"
    assert result["duplicates_dropped"] >= 2
    assert result["skip_ack"] == "SKIPPED" and result["qf_resend_requests"] >= 1
    assert result["reset_ack"] == "RESET1" and result["qf_sequence_resets"] >= 1
    assert result["closed"]
    if tls:
        assert result["tls_version"] in ("TLSv1.2", "TLSv1.3")


@pytest.mark.parametrize("tls", [False, True], ids=["tcp", "tls"])
def test_a_quickfix_initiator_against_our_simulator(tls: bool, tmp_path: Path) -> None:
    """QuickFIX logs on with Kraken's signature, trades, and recovers a gap each way."""
    state = tmp_path / "state"
    port_file = tmp_path / "port"
    env = {**os.environ, "KRAKENFIX_STATE_DIR": str(state), "KRAKENFIX_CONFIG_DIR": str(tmp_path / "cfg")}
    sim = subprocess.Popen(
        [sys.executable, "-m", "krakenfix_cli", "sim", "--tls" if tls else "--no-tls", "--port", "0",
         "--port-file", str(port_file)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        endpoint = state / "sim-endpoint.json"
        for _ in range(200):
            if endpoint.exists() and port_file.exists() and port_file.read_text().strip():
                break
            time.sleep(0.05)
        out = tmp_path / "result.json"
        cmd = [sys.executable, str(HERE / "qf_initiator_harness.py"), "--port", port_file.read_text().strip(),
               "--endpoint", str(endpoint), "--out", str(out)]
        if tls:
            cmd += ["--tls", "--ca", json.loads(endpoint.read_text())["ca_file"]]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert finished(proc, out), (proc.stdout + proc.stderr)[-2000:] + (out.read_text() if out.exists() else "")
        result = json.loads(out.read_text())
        assert result["acks"] and result["cancelled"] and result["after_acked"]
        assert result["simulator_asked_resend"] and result["replayed"]
        assert "4" in result["admin_in"] and result["logged_out"]
    finally:
        sim.terminate()
        sim.wait(10)
