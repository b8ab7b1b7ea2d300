"""The state dir's contents never stop a command: journal lines of any shape, torn tails."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "ops"))
from cli_harness import SimProc, kfx, sim_proc, spawn

__all__ = ["sim_proc"]

BAD_LINE = b'{"v":1,"ev":"update","t":"abc","clordid":"1700000000000001"}\n'


def _journal(home: Path) -> Path:
    return home / "state" / "orders.jsonl"


def test_a_wrong_shaped_journal_line_is_skipped_and_the_mass_cancel_still_goes(
        sim_proc: SimProc, tmp_path: Path) -> None:
    env = sim_proc.env(tmp_path)
    sent = kfx("send", "-s", "BTC/USD", "--side", "buy", "-q", "0.01", "--price", "1000.0", "-o", "json", env=env)
    assert sent.exit_status == 0, sent.output
    clordid = json.loads(sent.stdout.strip().splitlines()[-1])["clordid"]
    with _journal(tmp_path).open("ab") as fh:
        fh.write(BAD_LINE)
    r = kfx("cancel", "--clordid", clordid, "-o", "compact", env=env)
    assert r.exit_status == 1 and "placed by another connection" in r.stderr, r.output  # the journal was read
    warnings = [line for line in r.stderr.splitlines() if line.startswith("krakenfix: warning:")]
    assert len(warnings) == 1 and "skipped 1 unreadable line" in warnings[0], r.stderr
    m = kfx("mass-cancel", "--all", "--yes", "-o", "compact", "--quiet", "0.5", env=env)
    assert m.exit_status == 0, m.output
    assert "> OrderMassCancelRequest" in m.stdout and "530=7" in m.stdout
    assert "Traceback" not in r.stderr + m.stderr


def _wait_for_lock_holder(state: Path, holder: subprocess.Popen[bytes]) -> None:
    """Until a session store's lock file names its holder (a condition, not a time)."""
    while True:
        assert holder.poll() is None, holder.stderr.read() if holder.stderr else ""
        locks = list(state.glob("sessions/*/lock"))
        if locks and locks[0].read_bytes():
            return
        time.sleep(0.05)


def test_a_session_store_held_by_another_process_names_it_and_exits_75(sim_proc: SimProc, tmp_path: Path) -> None:
    env = sim_proc.env(tmp_path)
    holder = spawn("tail", "-o", "compact", env=env)
    try:
        _wait_for_lock_holder(tmp_path / "state", holder)
        r = kfx("send", "-s", "BTC/USD", "--side", "buy", "-q", "0.01", "--price", "1000.0", "-o", "compact", env=env)
        assert r.exit_status == 75, r.output
        errors = [line for line in r.stderr.splitlines() if line.startswith("krakenfix: error:")]
        assert len(errors) == 1, r.stderr
        assert f"PID {holder.pid}:" in errors[0] and "tail" in errors[0]
        assert "use a different --state-dir" in errors[0]
    finally:
        holder.terminate()
        holder.wait(30)


def test_a_corrupt_session_store_is_named_moved_aside_and_the_command_runs(sim_proc: SimProc, tmp_path: Path) -> None:
    env = sim_proc.env(tmp_path)
    assert kfx("logon", "-o", "compact", env=env).exit_status == 0
    seqnums = next((tmp_path / "state").glob("sessions/*/seqnums"))
    seqnums.write_bytes(b"\x13" * 128)
    r = kfx("logon", "-o", "compact", env=env)
    assert r.exit_status == 0, r.output
    warnings = [line for line in r.stderr.splitlines() if line.startswith("krakenfix: warning:")]
    assert len(warnings) == 1 and str(seqnums.parent) in warnings[0] and "corrupt" in warnings[0], r.stderr
    assert list(seqnums.parent.glob("seqnums.corrupt-*")) and "moved it aside" in warnings[0]
