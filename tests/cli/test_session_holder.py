"""One live session shared by every command: the holder (`session start`, `tail`) and its clients.

Real processes against a simulator on 127.0.0.1: a holder in one process, commands in others.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "ops"))
from cli_harness import SimThread, kfx, krakenfix_argv

from krakenfix_cli.session.filestore import session_dir
from krakenfix_cli.settings.journal import OrderJournal

SPOT = "KRAKEN-TRD"


@pytest.fixture
def sim() -> Iterator[SimThread]:
    s = SimThread(flow_interval=None)
    yield s
    s.close()


def _sessdir(home: Path) -> Path:
    """The sim profile's session directory (the one the holder serves)."""
    found = sorted((home / "state" / "sessions").glob(f"sim__*__{SPOT}"))
    return found[0] if found else session_dir(home / "state", "KFXDEMO", SPOT, "sim")


@pytest.fixture
def holder(sim: SimThread, tmp_path: Path) -> Iterator[tuple[dict[str, str], int]]:
    """`krakenfix session start` (detached) on the sim profile; killed at the end whatever happened."""
    env = sim.env(tmp_path)
    started = kfx("session", "start", env=env)
    assert started.exit_status == 0, started.stderr
    status = kfx("session", "status", "-o", "json", env=env)
    pid = int(json.loads(status.stdout.splitlines()[0])["pid"])
    try:
        yield env, pid
    finally:
        with _suppress():
            os.kill(pid, signal.SIGKILL)


class _suppress:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return True


def _order_args(price: str = "1000.0") -> list[str]:
    return ["--symbol", "BTC/USD", "--side", "buy", "--qty", "0.01", "--price", price, "--post-only"]


def test_the_holder_socket_is_private_and_says_who_holds_the_session(
        holder: tuple[dict[str, str], int], tmp_path: Path) -> None:
    env, pid = holder
    sock = _sessdir(tmp_path) / "holder.sock"
    assert stat.S_ISSOCK(sock.stat().st_mode)
    assert stat.S_IMODE(sock.stat().st_mode) == 0o600
    assert stat.S_IMODE(sock.parent.stat().st_mode) == 0o700
    status = json.loads(kfx("session", "status", "-o", "json", env=env).stdout.splitlines()[0])
    assert (status["pid"], status["sender"], status["target"], status["connected"]) == (pid, "KFXCLIENT", SPOT, True)
    text = kfx("session", "status", env=env).stdout
    assert f"PID {pid}" in text and "KFXCLIENT→KRAKEN-TRD" in text and "logged on since" in text


def test_send_in_one_process_and_cancel_in_another_go_through_the_holder(
        holder: tuple[dict[str, str], int], sim: SimThread) -> None:
    env, pid = holder
    sent = kfx("send", *_order_args(), "-o", "json", env=env)
    assert sent.exit_status == 0, sent.stderr
    assert sent.stderr.count(f"through the session holder (PID {pid}") == 1
    result = json.loads(sent.stdout.splitlines()[-1])
    assert result["result"] == "ok"
    cancelled = kfx("cancel", "--clordid", result["clordid"], "-o", "json", env=env)
    assert cancelled.exit_status == 0, cancelled.stderr
    assert json.loads(cancelled.stdout.splitlines()[-1])["result"] == "ok"
    order = sim.sim.gateway.spot.orders[result["order_id"]]
    assert not order.is_open
    status = json.loads(kfx("session", "status", "-o", "json", env=env).stdout.splitlines()[0])
    assert status["open_orders"] == []


def test_twenty_sends_at_once_through_one_holder_each_acknowledged_once(
        holder: tuple[dict[str, str], int], sim: SimThread, tmp_path: Path) -> None:
    env, _pid = holder
    procs = [subprocess.Popen([*krakenfix_argv(), "send", *_order_args(f"{1000 + i}.0"), "-o", "json"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
             for i in range(20)]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
        results.append(json.loads(out.decode().splitlines()[-1]))
    clordids = [r["clordid"] for r in results]
    assert len(set(clordids)) == 20
    seqs = sorted(r["seq"] for r in results)
    assert seqs == list(range(seqs[0], seqs[0] + 20))  # one session, no number used twice or skipped
    venue = sim.sim.gateway.spot.orders
    placed = {o.clordid: o for o in venue.values()}
    assert set(clordids) <= set(placed)
    assert all(placed[c].order_id == r["order_id"] for c, r in zip(clordids, results, strict=True))
    journal = OrderJournal(tmp_path / "state").orders()
    by_clordid = {rec.clordid: rec for rec in journal.values()}
    for r in results:
        rec = by_clordid[r["clordid"]]
        assert (rec.order_id, rec.state) == (r["order_id"], "new")
    store = (_sessdir(tmp_path) / "messages").read_bytes() if (_sessdir(tmp_path) / "messages").exists() else b""
    if store:
        assert all(c.encode() in store for c in clordids)


def test_tail_holds_the_session_and_shows_a_mass_cancel_sent_from_another_process(
        sim: SimThread, tmp_path: Path) -> None:
    env = sim.env(tmp_path)
    for i in range(3):
        assert kfx("send", *_order_args(f"{900 + i}.0"), env=env).exit_status == 0
    tail = subprocess.Popen([*krakenfix_argv(), "tail", "-o", "json", "--duration", "60"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        deadline = time.monotonic() + 30
        while not (_sessdir(tmp_path) / "holder.sock").exists():
            assert tail.poll() is None and time.monotonic() < deadline, "tail never held the session"
            time.sleep(0.05)
        refused = kfx("session", "stop", env=env)  # a tail is ended where it runs
        assert refused.exit_status == 1 and "held by krakenfix tail" in refused.stderr, refused.stderr
        mc = kfx("mass-cancel", "--all", "--yes", "-o", "json", env=env)
        assert mc.exit_status == 0, mc.stderr
        assert "through the session holder" in mc.stderr
        assert json.loads(mc.stdout.splitlines()[-1])["cancelled"] == 3
        shown: list[dict[str, object]] = []
        assert tail.stdout is not None
        while sum(1 for m in shown if _field(m, 150) == "4") < 3:
            line = tail.stdout.readline()
            assert line, "tail ended before it showed the cancellations"
            obj = json.loads(line)
            if obj.get("msg_type") == "8":
                shown.append(obj)
    finally:
        tail.send_signal(signal.SIGINT)
        tail.wait(30)
    assert tail.returncode == 0
    assert not (_sessdir(tmp_path) / "holder.sock").exists()


def _field(obj: dict[str, object], tag: int) -> str | None:
    for f in obj.get("fields", []):  # type: ignore[attr-defined]
        if f.get("tag") == tag:
            return str(f.get("value"))
    return None


def test_a_holder_killed_in_a_burst_fails_its_clients_with_exit_4_and_the_next_continues_the_sequence(
        holder: tuple[dict[str, str], int], sim: SimThread, tmp_path: Path) -> None:
    env, pid = holder
    procs = [subprocess.Popen([*krakenfix_argv(), "send", *_order_args(f"{2000 + i}.0"), "-o", "json",
                               "--wait", "fill", "--timeout", "30"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
             for i in range(5)]
    # --wait fill on resting orders: each client waits on the holder until it dies.
    deadline = time.monotonic() + 60
    while len([o for o in sim.sim.gateway.spot.orders.values() if o.is_open]) < 5:
        assert time.monotonic() < deadline, "the burst did not reach the gateway"
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    for p in procs:
        _out, err = p.communicate(timeout=60)
        lines = [ln for ln in err.decode().splitlines() if ln.startswith("krakenfix: error")]
        assert p.returncode == 4, err.decode()
        assert len(lines) == 1 and "went away mid-request" in lines[0], err.decode()
    sent_before = {o.clordid for o in sim.sim.gateway.spot.orders.values()}
    again = kfx("session", "start", env=env)
    assert again.exit_status == 0, again.stderr
    status = json.loads(kfx("session", "status", "-o", "json", env=env).stdout.splitlines()[0])
    try:
        log = (_sessdir(tmp_path) / "holder.log").read_text()
        assert "141=N, continuing sequence numbers" in log.splitlines()[-1] or "141=N" in log
        sent = kfx("send", *_order_args("3000.0"), "-o", "json", env=env)
        assert sent.exit_status == 0, sent.stderr
        # Nothing was sent twice: the killed holder's orders each reached the gateway once.
        after = [o.clordid for o in sim.sim.gateway.spot.orders.values()]
        assert len(after) == len(set(after)) == len(sent_before) + 1
    finally:
        with _suppress():
            os.kill(int(status["pid"]), signal.SIGKILL)


def test_the_holder_refuses_what_is_the_sessions_own(holder: tuple[dict[str, str], int]) -> None:
    env, _pid = holder
    logon = kfx("send", "--raw", "35=A|98=0|108=30", env=env)
    assert logon.exit_status == 4, logon.stderr
    assert "the session's own" in logon.stderr
    stopped = kfx("session", "stop", env=env)
    assert stopped.exit_status == 0 and "stopped the session holder" in stopped.stdout
    assert kfx("session", "status", env=env).stdout.startswith("no session is held")


def test_through_the_holder_amend_replaces_a_gtd_post_only_order_and_orders_says_f_reaches_it(
        holder: tuple[dict[str, str], int], sim: SimThread) -> None:
    env, _pid = holder
    sent = kfx("send", *_order_args(), "--tif", "gtd", "--expire-time", "+2h", "-o", "json", env=env)
    assert sent.exit_status == 0, sent.stderr
    result = json.loads(sent.stdout.splitlines()[-1])
    listed = [json.loads(line) for line in kfx("orders", "--open", "-o", "json", env=env).stdout.splitlines()]
    assert [o["f_reaches"] for o in listed if o["clordid"] == result["clordid"]] == [True]
    amended = kfx("amend", "--clordid", result["clordid"], "--price", "990.0", "-o", "raw", env=env)
    assert amended.exit_status == 0, amended.stderr
    g = next(line for line in amended.stdout.splitlines() if "|35=G|" in line)
    fields = dict(f.split("=", 1) for f in g.split("|") if "=" in f)
    assert (fields["59"], fields["18"], fields["44"]) == ("6", "P", "990") and fields["126"]
    assert f"is now ClOrdID {fields['11']} " in amended.stdout
    order = sim.sim.gateway.spot.orders[result["order_id"]]
    assert order.is_open and str(order.price) in ("990.0", "990")
    status = kfx("status", "--clordid", result["clordid"], "-o", "json", env=env)
    assert status.exit_status == 0, status.stderr
    assert json.loads(status.stdout.splitlines()[-1])["state"] == "new"


def test_logon_and_replay_go_through_the_holder(holder: tuple[dict[str, str], int]) -> None:
    env, pid = holder
    for price in ("1000.0", "1001.0"):
        assert kfx("send", *_order_args(price), env=env).exit_status == 0
    logon = kfx("logon", env=env)
    assert logon.exit_status == 0, logon.stderr
    assert f"held by PID {pid}" in logon.stdout and "the session holder stays logged on" in logon.stdout
    replay = kfx("replay", "--from", "1", "-o", "json", env=env)
    assert replay.exit_status == 0, replay.stderr
    assert replay.stderr.count(f"through the session holder (PID {pid}") == 1
    summary = json.loads(replay.stdout.splitlines()[-1])
    assert len(summary["orders"]) == 2, replay.stdout


def test_the_rooms_that_used_to_repeat_the_session_logic_no_longer_do() -> None:
    """tail and the REPL run on ops.live: no reconnect loop, correlation or mass cancel of their own."""
    root = Path(__file__).parents[2] / "krakenfix_cli"
    app = (root / "repl" / "app.py").read_text()
    assert len(app.splitlines()) < 400
    for path in [root / "ops" / "tail.py", *sorted((root / "repl").glob("*.py"))]:
        text = path.read_text()
        assert "Wiretap" not in text and "session.log =" not in text, path
        assert "next_delay(" not in text and "Correlator" not in text, path  # reconnect loop, correlation
        assert "from krakenfix_cli.client import" not in text, path  # no Client of their own
    for path in sorted((root / "ops").glob("*.py")):
        assert "Wiretap" not in path.read_text(), path


def _holder_socket(home: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX)
    path = _sessdir(home) / "holder.sock"
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        sock.connect(f"/proc/self/fd/{fd}/holder.sock")  # the test's paths are too long for sockaddr_un
    finally:
        os.close(fd)
    sock.settimeout(20)
    return sock


def test_the_holder_survives_garbage_and_an_oversized_line(holder: tuple[dict[str, str], int],
                                                            tmp_path: Path) -> None:
    env, pid = holder
    with _holder_socket(tmp_path) as sock:
        reader = sock.makefile("rb")
        sock.sendall(b"not json\n{\"op\": 5}\n[1]\n")
        answers = [json.loads(reader.readline()) for _ in range(3)]
        assert [a["type"] for a in answers] == ["error"] * 3
        sock.sendall(b'{"op":"send","id":1,"fields":[[35,"D"],[11,"x\\u0001y"]]}\n')
        assert "not sent" in json.loads(reader.readline())["text"]
    with _holder_socket(tmp_path) as sock:
        reader = sock.makefile("rb")
        with _suppress():
            sock.sendall(b"x" * (2 << 20) + b"\n")  # longer than any line the holder takes
        try:  # the holder says why and hangs up; unread bytes may turn its close into a reset
            lines = reader.read().splitlines()
        except ConnectionResetError:
            lines = []
        assert all("line longer than" in json.loads(line)["text"] for line in lines)
    status = json.loads(kfx("session", "status", "-o", "json", env=env).stdout.splitlines()[0])
    assert status["pid"] == pid and status["connected"] is True


def test_tail_streams_through_a_running_holder(holder: tuple[dict[str, str], int]) -> None:
    env, pid = holder
    tail = subprocess.Popen([*krakenfix_argv(), "tail", "-o", "json", "--max-messages", "1", "--duration", "60"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        assert tail.stderr is not None
        first = tail.stderr.readline().decode()
        assert f"streaming through the session holder (PID {pid}" in first, first
        assert kfx("send", *_order_args(), env=env).exit_status == 0
        out, err = tail.communicate(timeout=60)
    finally:
        if tail.poll() is None:
            tail.kill()
            tail.wait()
    assert tail.returncode == 0, err.decode()
    shown = [json.loads(line) for line in out.decode().splitlines() if '"msg_type"' in line]
    assert len(shown) == 1 and shown[0]["msg_type"] == "8"


def test_a_send_through_the_holder_loads_no_engine_transport_or_tls_of_its_own(
        holder: tuple[dict[str, str], int]) -> None:
    """What makes it cheap: the holder has the session; the command only talks to its socket.

    Started cold (a warm start loads nothing of the sort: tests/cli/test_warm_start.py).
    """
    env, _pid = holder
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "krakenfix_cli", "send", *_order_args(),
                           "--wait", "none"], capture_output=True, text=True, env={**env, "KRAKENFIX_WARM": "0"},
                          timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    loaded = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "krakenfix_cli.ops.holder_client" in loaded
    assert not loaded & {"krakenfix_cli.client", "krakenfix_cli.session.engine", "krakenfix_cli.transport.connection",
                         "krakenfix_cli.transport.tls"}
