"""``krakenfix sim`` and ``--sim`` as a user meets them: the endpoint file, the lasting CA and demo
credentials, a second simulator, embedded runs side by side, a corrupt endpoint file, state-dir
and stdout failures. Every simulator here is a real subprocess on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "ops"))
from cli_harness import base_env, kfx, krakenfix_argv

CORRUPT = [b'{"port":"abc"}', b"not json at all", b"\x00\xff\xfe binary \x01", b"[1, 2]",
           json.dumps({"host": "127.0.0.1", "port": 14001, "tls": False, "api_key": "K", "sender": "S",
                       "derivatives_sender": "S_DRV"}).encode()]  # no api_secret


class Sim:
    """A ``krakenfix sim --port 0`` subprocess with its banner in a file."""

    def __init__(self, home: Path, *extra: str, tag: str = "a", port: str = "0") -> None:
        self.env = base_env(home)
        self.state = Path(self.env["KRAKENFIX_STATE_DIR"])
        self.port_file = home / f"port-{tag}"
        self.out = home / f"sim-{tag}.out"
        with self.out.open("wb") as fh:
            self.proc = subprocess.Popen([*krakenfix_argv(), "sim", "--port", port, "--port-file",
                                          str(self.port_file), *extra], stdin=subprocess.DEVNULL, stdout=fh,
                                         stderr=subprocess.STDOUT, env=self.env)

    def wait_ready(self) -> str:
        for _ in range(1200):
            text = self.out.read_text(errors="replace")
            if "Ctrl-C stops it." in text:
                return text
            if self.proc.poll() is not None:
                raise AssertionError(f"krakenfix sim exited {self.proc.returncode}: {text}")
            time.sleep(0.05)
        raise AssertionError("no banner")

    @property
    def port(self) -> int:
        return int(self.port_file.read_text())

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(20)


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path


def _endpoint(state: Path) -> dict[str, object]:
    data = json.loads((state / "sim-endpoint.json").read_text())
    assert isinstance(data, dict)
    return data


# -- item 3: a second simulator disturbs neither the running one's CA nor its endpoint file ----------


def test_a_second_simulator_leaves_the_running_ones_ca_and_endpoint_alone(home: Path) -> None:
    first = Sim(home)
    try:
        first.wait_ready()
        before = _endpoint(first.state)
        ca = Path(str(before["ca_file"]))
        ca_bytes = ca.read_bytes()
        busy = kfx("sim", "--port", str(first.port), env=first.env, timeout=60)
        assert busy.exit_status == 4 and "cannot listen" in busy.stderr, busy.output
        assert ca.read_bytes() == ca_bytes and _endpoint(first.state) == before
        second = Sim(home, tag="b")
        try:
            banner = second.wait_ready()
            assert f"PID {first.proc.pid}" in banner
            assert _endpoint(first.state) == before
        finally:
            assert second.stop() == 0
        assert _endpoint(first.state) == before  # not deleted by the second one's exit
        assert ca.read_bytes() == ca_bytes
        logon = kfx("logon", "--profile", "sim", "-o", "compact", env=first.env)
        assert logon.exit_status == 0, logon.output
    finally:
        assert first.stop() == 0
    assert not (first.state / "sim-endpoint.json").exists()  # the owner removes it


# -- item 7: the CA and demo credentials live in the simulator's state dir and outlast a restart ----


def test_the_banner_gives_the_ca_file_option_and_a_restart_keeps_ca_and_credentials(home: Path) -> None:
    first = Sim(home)
    banner = first.wait_ready()
    ca = Path(str(_endpoint(first.state)["ca_file"]))
    key = _endpoint(first.state)["api_key"]
    assert f"--ca-file {ca}" in banner
    assert ca.parent == first.state / "sim"
    assert stat.S_IMODE(ca.parent.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in ca.parent.iterdir())
    ca_bytes = ca.read_bytes()
    assert first.stop() == 0
    again = Sim(home, tag="b")
    try:
        again.wait_ready()
        assert ca.read_bytes() == ca_bytes and _endpoint(again.state)["api_key"] == key
    finally:
        assert again.stop() == 0


def test_embedded_sim_runs_leave_no_file_behind(home: Path) -> None:
    tmp = home / "tmp"
    tmp.mkdir()
    env = base_env(home, {"TMPDIR": str(tmp)})
    for _ in range(2):
        r = kfx("logon", "--sim", "-o", "compact", env=env)
        assert r.exit_status == 0, r.output
    assert list(tmp.iterdir()) == []
    state = Path(env["KRAKENFIX_STATE_DIR"])
    assert len(list((state / "sim").glob("*.pem"))) == 2  # one CA (certificate + key), reused
    assert not (state / "sessions").exists()  # an embedded run's session store lives in memory


# -- item 8: the sim profile uses the simulator's own credentials, whatever the environment holds ----


def test_profile_sim_finds_the_running_simulator_with_uat_credentials_exported(home: Path) -> None:
    sim = Sim(home)
    try:
        sim.wait_ready()
        env = {**sim.env, "KRAKENFIX_API_KEY": "UATKEY123",
               "KRAKENFIX_API_SECRET": "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="}
        r = kfx("logon", "--profile", "sim", "-o", "compact", env=env)
        assert r.exit_status == 0, r.output
    finally:
        sim.stop()


# -- item 9: embedded simulators side by side each get their own session state ----------------------


def test_three_send_sim_at_once_all_succeed(home: Path) -> None:
    env = base_env(home)
    args = ["send", "--sim", "-s", "BTC/USD", "--side", "buy", "-q", "0.01", "--price", "1000.0", "-o", "json"]
    procs = [subprocess.Popen([*krakenfix_argv(), *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=env) for _ in range(3)]
    results = [(p.wait(120), p.stdout.read(), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
    for rc, out, err in results:
        assert rc == 0, (out + err).decode(errors="replace")


# -- item 10: a corrupt endpoint file is "no simulator found" and one warning ------------------------


@pytest.mark.parametrize("content", CORRUPT)
def test_a_corrupt_endpoint_file_is_one_warning_not_a_crash(home: Path, content: bytes) -> None:
    env = base_env(home)
    state = Path(env["KRAKENFIX_STATE_DIR"])
    state.mkdir(parents=True, mode=0o700)
    (state / "sim-endpoint.json").write_bytes(content)
    r = kfx("send", "--profile", "sim", "--dry-run", "-s", "BTC/USD", "--side", "buy", "-q", "0.01",
            "--price", "1000.0", "-o", "raw", env=env)
    assert r.exit_status == 0, r.output
    warnings = [line for line in r.stderr.splitlines() if "warning:" in line]
    assert len(warnings) == 1 and "sim-endpoint.json" in warnings[0] and "krakenfix sim" in warnings[0]
    assert "Traceback" not in r.output


# -- item 11: the real cause of a failed start; a closed stdout is not a listen failure --------------


def test_sim_on_an_unwritable_state_dir_names_the_path_and_errno(home: Path) -> None:
    blocker = home / "not-a-dir"
    blocker.write_text("")
    env = base_env(home, {"KRAKENFIX_STATE_DIR": str(blocker / "state")})
    r = kfx("sim", "--port", "0", env=env, timeout=60)
    assert r.exit_status == 74, r.output
    assert "cannot listen" not in r.stderr and str(blocker) in r.stderr and "ENOTDIR" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and r.stderr.startswith("krakenfix: error: ")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through a read-only mode")
def test_sim_on_a_read_only_state_dir_exits_74(home: Path) -> None:
    env = base_env(home)
    state = Path(env["KRAKENFIX_STATE_DIR"])
    state.mkdir(parents=True)
    state.chmod(0o500)
    try:
        r = kfx("sim", "--port", "0", env=env, timeout=60)
    finally:
        state.chmod(0o700)
    assert r.exit_status == 74 and "EACCES" in r.stderr and "cannot listen" not in r.stderr, r.output


def test_a_closed_stdout_leaves_the_simulator_serving(home: Path) -> None:
    env = base_env(home)
    port_file = home / "port"
    proc = subprocess.Popen([*krakenfix_argv(), "sim", "--port", "0", "--port-file", str(port_file)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()  # what `| head -1` reads, then it closes the pipe
    assert re.match(rb"krakenfix simulator listening on 127\.0\.0\.1:\d+", first)
    proc.stdout.close()
    try:
        r = kfx("logon", "--profile", "sim", "-o", "compact", env=env)
        assert r.exit_status == 0, r.output
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(20)
    err = proc.stderr.read().decode(errors="replace")
    assert rc == 0 and "cannot listen" not in err and "Traceback" not in err, err


def test_a_running_tail_reconnects_to_a_restarted_simulator(home: Path) -> None:
    first = Sim(home)
    first.wait_ready()
    port = str(first.port)
    out = home / "tail.out"
    with out.open("wb") as fh:
        tail = subprocess.Popen([*krakenfix_argv(), "tail", "--profile", "sim", "-o", "compact"],
                                stdin=subprocess.DEVNULL, stdout=fh, stderr=subprocess.STDOUT, env=first.env)
    second: Sim | None = None

    def logons_answered(n: int) -> None:
        for _ in range(1200):
            text = out.read_text(errors="replace")
            if text.count("logged on to 127.0.0.1") >= n:
                return
            assert tail.poll() is None, text
            time.sleep(0.05)
        raise AssertionError(f"tail logged on fewer than {n} times: {out.read_text(errors='replace')[-2000:]}")

    try:
        logons_answered(1)
        assert first.stop() == 0
        second = Sim(home, tag="b", port=port)
        second.wait_ready()
        logons_answered(2)  # same CA, same demo key: the reconnect succeeds
        assert "certificate verify failed" not in out.read_text(errors="replace")
    finally:
        tail.send_signal(signal.SIGINT)
        tail.wait(20)
        if second is not None:
            second.stop()
        first.stop()


# -- item 5: F's other reading, as a simulator option ----------------------------------------------


@pytest.mark.parametrize(("scope", "cancelled"), [("account", True), ("session", False)])
def test_cancel_scope_option_decides_whether_F_reaches_an_earlier_connections_order(
        home: Path, scope: str, cancelled: bool) -> None:
    sim = Sim(home, "--cancel-scope", scope)
    try:
        banner = sim.wait_ready()
        assert ("any open order of the account" in banner) is cancelled
        sent = kfx("send", "--profile", "sim", "-s", "BTC/USD", "--side", "buy", "-q", "0.01", "--price",
                   "1000.0", "-o", "json", env=sim.env)
        assert sent.exit_status == 0, sent.output
        clordid = str(json.loads(sent.stdout.strip().splitlines()[-1])["clordid"])
        r = kfx("cancel", "--profile", "sim", "--clordid", clordid, "--force", "-o", "compact", env=sim.env)
        assert (r.exit_status == 0) is cancelled, r.output
    finally:
        sim.stop()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_stdout_is_not_reported_as_a_state_dir_failure(home: Path) -> None:
    env = base_env(home)
    port_file = home / "port"
    with open("/dev/full", "wb") as full:
        proc = subprocess.Popen([*krakenfix_argv(), "sim", "--port", "0", "--port-file", str(port_file)],
                                stdin=subprocess.DEVNULL, stdout=full, stderr=subprocess.PIPE, env=env)
    try:
        for _ in range(1200):
            if port_file.exists() and port_file.read_text().strip() and (
                    Path(env["KRAKENFIX_STATE_DIR"]) / "sim-endpoint.json").exists():
                break
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
            time.sleep(0.05)
        r = kfx("logon", "--profile", "sim", "-o", "compact", env=env)
        assert r.exit_status == 0, r.output
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(20)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    assert rc == 0 and "error" not in err, err
