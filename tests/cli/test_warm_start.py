"""Warm start: a one-shot command runs in a fork of the warm server its session holder keeps.

Real processes against a simulator on 127.0.0.1 (a detached `krakenfix session start`, then
commands in other processes), and the server's refusals in-process.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "ops"))
from cli_harness import SimThread, kfx, krakenfix_argv

from krakenfix_cli.cli import warm, warm_server


@pytest.fixture
def sim() -> Iterator[SimThread]:
    s = SimThread(flow_interval=None)
    yield s
    s.close()


def _warm_socket(home: Path) -> Path:
    """The warm server's socket, once it listens (it loads the CLI first)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for path in sorted((home / "state" / "warm").glob("*.sock")):
            with socket.socket(socket.AF_UNIX) as probe:
                try:
                    probe.connect(str(path))
                    return path
                except OSError:
                    pass
        time.sleep(0.05)
    raise AssertionError("no warm server listened")


def _server_pid(sock: Path) -> int:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if str(sock).encode() in cmdline and b"krakenfix_cli.cli.warm_server" in cmdline:
                return int(entry.name)
    raise AssertionError(f"no warm server process for {sock}")


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _wait_for(condition: object, what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.05)
    raise AssertionError(what)


@pytest.fixture
def held(sim: SimThread, tmp_path: Path) -> Iterator[tuple[dict[str, str], int, Path]]:
    """A detached holder of the sim profile and its warm server's socket."""
    env = sim.env(tmp_path)
    assert kfx("session", "start", env=env).exit_status == 0
    pid = int(json.loads(kfx("session", "status", "-o", "json", env=env).stdout.splitlines()[0])["pid"])
    try:
        yield env, pid, _warm_socket(tmp_path)
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _order(price: str) -> list[str]:
    return ["send", "--symbol", "BTC/USD", "--side", "buy", "--qty", "0.01", "--price", price, "--post-only"]


def _shape(text: str) -> list[str]:
    """Lines with their numbers, IDs and times blanked: what must be the same warm or cold."""
    return [re.sub(r"\b[0-9A-Z]+(?:-[0-9A-Z]+)+\b|\d+", "#", line) for line in text.splitlines()]


def test_a_warm_send_loads_neither_click_nor_asyncio_and_says_what_a_cold_one_says(
        held: tuple[dict[str, str], int, Path]) -> None:
    env, _pid, _sock = held
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "krakenfix_cli", *_order("1000.0")],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    loaded = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "krakenfix_cli.cli.warm" in loaded
    assert not loaded & {"typer", "click", "asyncio", "rich", "krakenfix_cli.cli.app", "krakenfix_cli.ops.live"}
    warm_err = [line for line in proc.stderr.splitlines() if not line.startswith("import time:")]
    cold = kfx(*_order("1001.0"), env={**env, "KRAKENFIX_WARM": "0"})
    assert cold.exit_status == 0
    assert _shape(proc.stdout) == _shape(cold.stdout)
    assert _shape("\n".join(warm_err)) == _shape(cold.stderr)
    assert "accepted: ClOrdID" in proc.stdout


@pytest.mark.parametrize("args", [
    ["send", "--symbol", "BTC/USD", "--side", "buy"],  # usage: no --qty
    ["send", "--symbol", "BTC/USD", "--side", "buy", "--qty", "0.01", "--type", "market", "--price", "5"],
    ["cancel", "--clordid", "1700000000000000"],  # nothing of that ID
    ["send", "--raw", "35=D|11=1|55=BTC/USD|54=1|38=0.01|40=2", "--no-check", "-o", "json"],  # no Price
])
def test_failures_exit_and_read_the_same_warm_or_cold(held: tuple[dict[str, str], int, Path],
                                                      args: list[str]) -> None:
    env, _pid, _sock = held
    warm_run = kfx(*args, env=env)
    cold_run = kfx(*args, env={**env, "KRAKENFIX_WARM": "0"})
    assert warm_run.exit_status == cold_run.exit_status != 0
    assert _shape(warm_run.stderr) == _shape(cold_run.stderr)
    assert _shape(warm_run.stdout) == _shape(cold_run.stdout)


def test_a_warm_command_has_the_terminal_as_its_own(held: tuple[dict[str, str], int, Path]) -> None:
    """On a TTY the output is pretty (the child sees the client's terminal, at its size)."""
    env, _pid, _sock = held
    argv = krakenfix_argv()
    screens = []
    for switch in ("1", "0"):
        child = pexpect.spawn(argv[0], [*argv[1:], *_order("1002.0"), "--dry-run"], dimensions=(40, 90),
                              env={**{k: v for k, v in env.items() if k != "COLUMNS"}, "KRAKENFIX_WARM": switch},
                              timeout=60, encoding="utf-8")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0, child.before
        screens.append(child.before)
    warm_screen, cold_screen = screens
    assert "╭" in warm_screen and "NewOrderSingle" in warm_screen  # rich's panel: pretty on a terminal
    panel = [line for line in warm_screen.splitlines() if line.startswith(("╭", "│", "╰"))]
    assert panel and max(len(line.rstrip()) for line in panel) <= 90  # drawn for the client's 90 columns
    assert _shape(warm_screen) == _shape(cold_screen)


def _waiting_send(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A send that waits for a fill that never comes (post-only far below the market)."""
    proc = subprocess.Popen([*krakenfix_argv(), *_order("1003.0"), "--wait", "fill", "--timeout", "120",
                             "-o", "compact"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    for line in proc.stdout:
        if b"< ExecutionReport" in line:
            return proc
    raise AssertionError(f"no acknowledgement: {proc.stderr.read() if proc.stderr else b''!r}")


def test_ctrl_c_reaches_the_warm_command(held: tuple[dict[str, str], int, Path]) -> None:
    env, _pid, sock = held
    server = _server_pid(sock)
    proc = _waiting_send(env)
    assert _children(server)  # the command runs in the server's fork
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    _wait_for(lambda: not _children(server), "the interrupted command is still running")


def test_a_killed_client_takes_its_command_with_it(held: tuple[dict[str, str], int, Path]) -> None:
    env, _pid, sock = held
    server = _server_pid(sock)
    proc = _waiting_send(env)
    proc.kill()
    proc.wait()
    _wait_for(lambda: not _children(server), "the command outlived its client")


def test_a_warm_server_killed_mid_command_fails_its_client_with_exit_4_and_one_line(
        held: tuple[dict[str, str], int, Path]) -> None:
    env, _pid, sock = held
    server = _server_pid(sock)
    proc = _waiting_send(env)
    os.kill(server, signal.SIGKILL)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == warm.LOST
    lines = err.decode().strip().splitlines()
    assert lines[-1].startswith("krakenfix: error: the warm start server went away while the command ran")
    assert "Traceback" not in err.decode()


def test_the_warm_server_ends_with_its_holder_and_commands_start_cold_again(
        held: tuple[dict[str, str], int, Path]) -> None:
    env, _pid, sock = held
    server = _server_pid(sock)
    assert kfx("session", "stop", env=env).exit_status == 0
    _wait_for(lambda: not sock.exists() and not Path(f"/proc/{server}").exists(), "the warm server outlived its holder")
    assert kfx(*_order("1004.0"), "--dry-run", env=env).exit_status == 0  # cold: nothing to fork from


# -- the server's refusals, in-process ------------------------------------------------------------------------
@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[warm_server.Server]:
    def no_fork() -> int:
        raise AssertionError("the server forked on a request it should have refused")

    monkeypatch.setattr(os, "fork", no_fork)
    parent_r, parent_w = os.pipe()
    srv = warm_server.Server(tmp_path / "warm" / "1.sock", parent_fd=parent_r)
    srv.bind()
    yield srv
    srv.stop_listening()
    os.close(parent_w)
    os.close(parent_r)


def _ask(srv: warm_server.Server, request: dict[str, object]) -> dict[str, object]:
    """Send ``request`` with our stdio, let the server take one step per event, read its answer."""
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.connect(str(srv.path))
    socket.send_fds(client, [json.dumps(request).encode() + b"\n"], [0, 1, 2])
    srv._accept()
    job = next(iter(srv.jobs.values()))
    assert srv._readable(job) is None  # refused: nothing forked, nothing returned
    client.settimeout(10)
    answer = json.loads(client.recv(65536).splitlines()[0])
    client.close()
    return answer


def _request(**override: object) -> dict[str, object]:
    obj = json.loads(warm._request(["send", "--help"]))
    obj.update(override)
    return obj


def test_the_server_refuses_other_code_another_interpreter_set_up_and_bad_requests(
        server: warm_server.Server) -> None:
    assert _ask(server, _request(code=["/usr/bin/python9", "0.0", "/elsewhere"]))["type"] == "refused"
    env = {**os.environ, "PYTHONPATH": "/somewhere/else"}
    assert _ask(server, _request(env=env))["why"] == "another interpreter configuration (PYTHON* variables)"
    assert _ask(server, _request(args="send"))["type"] == "refused"
    assert _ask(server, _request(streams=[]))["type"] == "refused"
    assert not server.by_pidfd


def test_the_server_refuses_once_the_code_on_disk_changed_and_stops_listening(
        server: warm_server.Server) -> None:
    server.fingerprint = "what was installed before"
    answer = _ask(server, _request())
    assert answer == {"type": "refused", "why": "the code on disk changed since this server started"}
    assert server.closing and not server.path.exists()


def test_the_server_hangs_up_on_another_user(server: warm_server.Server,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(warm_server, "_peer_uid", lambda _sock: os.getuid() + 1)
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.connect(str(server.path))
    server._accept()
    assert not server.jobs
    client.settimeout(10)
    assert client.recv(1) == b""


def test_a_refusing_server_leaves_the_command_to_start_cold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "warm" / "2.sock"
    path.parent.mkdir()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(1)

    def refuse() -> None:
        conn, _ = listener.accept()
        socket.recv_fds(conn, 1 << 20, 3)
        conn.sendall(b'{"type":"refused","why":"stale"}\n')
        conn.close()

    thread = threading.Thread(target=refuse)
    thread.start()
    monkeypatch.setenv("KRAKENFIX_STATE_DIR", str(tmp_path))
    monkeypatch.delenv(warm.ENV_SWITCH, raising=False)
    assert warm.run(["send", "--help"]) is None
    thread.join(10)
    listener.close()
    assert warm.run(["tail"]) is None  # not a warm command at all
