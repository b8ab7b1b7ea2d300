"""``krakenfix tail`` end to end: a subprocess tailing a simulator we steer (drop, rollover)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "ops"))
from cli_harness import SimThread, base_env, kfx, place_orders, resting_buy, spawn


@pytest.fixture
def steered_sim() -> Iterator[SimThread]:
    sim = SimThread(refusal_window=1.0, flow_interval=0.2)
    yield sim
    sim.close()


def _fields(obj: dict[str, Any]) -> dict[int, str]:
    return {f["tag"]: f["value"] for f in obj.get("fields", []) if "tag" in f and "value" in f}


def _gtd(seconds: float, price: str) -> dict[str, str]:
    expire = time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(time.time() + seconds))
    return resting_buy("BTC/USD", price=price, **{"59": "6", "126": expire})


def _finish(proc: Any, lines: list[str]) -> str:
    """Let tail end on its own, keep its last lines, check it exited 0; its stderr."""
    out, err = proc.communicate(timeout=60)
    lines += out.decode().splitlines()
    assert proc.returncode == 0, err.decode()
    return str(err.decode())


def _reap(proc: Any) -> None:
    """After a failed step: do not leave tail running."""
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def _wait_lines(proc: Any, lines: list[str], n: int) -> None:
    """Read tail's stdout until it has shown ``n`` messages (or has exited)."""
    while sum(1 for line in lines if '"msg_type"' in line) < n:
        raw = proc.stdout.readline()
        if not raw:
            return
        lines.append(raw.decode())


def test_tail_sees_every_execution_report_once_across_a_drop_and_a_rollover(
        steered_sim: SimThread, tmp_path: Path) -> None:
    creds = steered_sim.sim.credentials
    key, secret = creds.api_key, creds.api_secret.reveal()
    # Three batches of orders that expire (ER 150=C) at different times, owned by KFXDEMO.
    batches = [[_gtd(t, f"{1000 + 10 * b + i}.0") for i in range(4)] for b, t in enumerate((4, 9, 14))]
    placed = [place_orders(steered_sim.port, key, secret, batch) for batch in batches]
    env = steered_sim.env(tmp_path)
    proc = spawn("tail", "--sender-comp-id", "KFXDEMO", "--msg-type", "8", "--exec-type", "expired",
                 "--max-messages", "12", "--duration", "60", "-o", "json", env=env)
    lines: list[str] = []
    try:
        _wait_lines(proc, lines, 4)
        steered_sim.run(steered_sim.sim.drop_connections)  # abnormal drop: reconnect with 141=N
        _wait_lines(proc, lines, 8)
        steered_sim.run(steered_sim.sim.force_rollover)  # Logout, refusal window, then 141=Y
        _wait_lines(proc, lines, 12)
        stderr = _finish(proc, lines)
    finally:
        _reap(proc)
    objects = [json.loads(line) for line in lines if line.strip()]
    messages = [o for o in objects if "msg_type" in o]
    summary = objects[-1]
    exec_ids = [_fields(m)[17] for m in messages]
    assert len(exec_ids) == 12 and len(set(exec_ids)) == 12
    assert {_fields(m)[37] for m in messages} == {oid for batch in placed for oid in batch}
    assert summary["stopped_by"] == "max-messages"
    assert summary["rollovers"] >= 1 and summary["reconnects"] >= 2
    assert "141=Y, sequence numbers reset" in stderr and "141=N, continuing sequence numbers" in stderr


def test_tail_stops_after_its_duration_and_exits_0(steered_sim: SimThread, tmp_path: Path) -> None:
    r = kfx("tail", "--duration", "0.5", env=steered_sim.env(tmp_path))
    assert r.exit_status == 0, r.output
    assert "stopped: duration" in r.stderr


def test_tail_with_bad_credentials_exits_3(steered_sim: SimThread, tmp_path: Path) -> None:
    r = kfx("tail", "--duration", "5", env=steered_sim.env(tmp_path, KRAKENFIX_API_SECRET="QUJD"))
    assert r.exit_status == 3, r.output
    assert "logon refused: bad signature" in r.stderr


def _recorded_log(steered_sim: SimThread, tmp_path: Path) -> Path:
    """A message log with one accepted and one rejected (tick size) order."""
    env = steered_sim.env(tmp_path)
    for price in ("1000.0", "1000.05"):
        kfx("send", "-s", "BTC/USD", "--side", "buy", "-q", "0.01", "--price", price, env=env)
    logs = list((tmp_path / "state" / "logs").glob("*.messages.current.log"))
    assert logs
    return logs[0]


def test_tail_file_filters_a_recorded_log(steered_sim: SimThread, tmp_path: Path) -> None:
    log = _recorded_log(steered_sim, tmp_path)
    r = kfx("tail", "--file", str(log), "--msg-type", "ExecutionReport,j", "-o", "raw", env=base_env(tmp_path))
    assert r.exit_status == 0, r.output
    kinds = [line.split("|")[2] for line in r.stdout.splitlines()]
    assert sorted(kinds) == ["35=8", "35=j"]


def test_tail_where_takes_the_log_grep_language(steered_sim: SimThread, tmp_path: Path) -> None:
    log = _recorded_log(steered_sim, tmp_path)
    r = kfx("tail", "--file", str(log), "--where", "direction=in and (ExecType in (New) or Text ~ 'Tick size')",
            "-o", "raw", env=base_env(tmp_path))
    assert r.exit_status == 0, r.output
    kinds = sorted(line.split("|")[2] for line in r.stdout.splitlines())
    assert kinds == ["35=8", "35=j"], r.stdout
    bad = kfx("tail", "--file", str(log), "--where", "ExecType in (New", env=base_env(tmp_path))
    assert bad.exit_status == 2 and "bad --where expression at column" in bad.stderr, bad.output


def test_after_a_rollover_tail_asks_the_state_of_journalled_open_orders(
        steered_sim: SimThread, tmp_path: Path) -> None:
    """Reports in flight at a rollover cannot be resent; the orders' states can be asked for."""
    env = steered_sim.env(tmp_path)
    sent = kfx("send", "-s", "BTC/USD", "--side", "buy", "-q", "0.01", "--price", "1000.0", "-o", "json", env=env)
    assert sent.exit_status == 0, sent.output
    order_id = json.loads(sent.stdout.strip().splitlines()[-1])["order_id"]
    proc = spawn("tail", "--msg-type", "8", "--exec-type", "status", "--max-messages", "1", "--duration", "60",
                 "-o", "json", env=env)
    lines: list[str] = []
    notes: list[str] = []
    try:
        while not any("streaming" in n for n in notes):  # logged on: now the rollover
            raw = proc.stderr.readline()
            assert raw, "".join(notes)
            notes.append(raw.decode())
        steered_sim.run(steered_sim.sim.force_rollover)
        _wait_lines(proc, lines, 1)
        stderr = _finish(proc, lines)
    finally:
        _reap(proc)
    status = [json.loads(line) for line in lines if '"msg_type"' in line]
    assert [(_fields(m)[150], _fields(m)[37], _fields(m)[39]) for m in status] == [("I", order_id, "0")]
    assert "asking the status of 1 open order(s) from the order journal" in "".join(notes) + stderr


def test_tail_writes_what_it_sees_of_journalled_orders_into_the_journal(
        steered_sim: SimThread, tmp_path: Path) -> None:
    """An order `send` journalled expires while `tail` watches: the journal learns it."""
    from krakenfix_cli.settings.journal import OrderJournal

    env = steered_sim.env(tmp_path)
    sent = kfx("send", "-s", "BTC/USD", "--side", "buy", "-q", "0.01", "--price", "1000.0", "--tif", "gtd",
               "--expire-time", "+3s", "-o", "json", env=env)
    assert sent.exit_status == 0, sent.output
    clordid = json.loads(sent.stdout.strip().splitlines()[-1])["clordid"]
    journal = OrderJournal(tmp_path / "state")
    before = journal.find(clordid=clordid)
    assert before is not None and before.state == "new"
    r = kfx("tail", "--msg-type", "8", "--exec-type", "expired", "--max-messages", "1", "--duration", "30",
            "-o", "json", env=env)
    assert r.exit_status == 0, r.output
    after = journal.find(clordid=clordid)
    assert after is not None and after.state == "expired"
