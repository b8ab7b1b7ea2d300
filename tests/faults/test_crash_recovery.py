"""kill -9 in the middle of a burst of 1,000 orders; restart; nothing lost, nothing twice.

The client is ``tests/support/burst_client.py`` in a subprocess (its own FileStore and
checkpoint under a state dir); the simulator runs in this process (``SimThread``) so the
test can read what the gateway really accepted. The kill comes from outside (SIGKILL)
once ExecutionReports are flowing and while orders are still going out; no sleeps decide
anything: each step waits for the file or exit status it needs, bounded only against a hang.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "ops"))
from cli_harness import SimThread  # type: ignore[import-not-found]

BURST = Path(__file__).parents[1] / "support" / "burst_client.py"
ORDERS = 1000
KILL_AFTER = 150
"ExecutionReports recorded before the kill."
HANG = 60.0


def _burst(sim: SimThread, state: Path, seen: Path, result: Path, *extra: str) -> subprocess.Popen[bytes]:
    creds = sim.sim.credentials
    argv = [sys.executable, str(BURST), "--port", str(sim.port), "--api-key", creds.api_key,
            "--secret", creds.api_secret.reveal(), "--sender", creds.sender_comp_id, "--state-dir", str(state),
            "--seen", str(seen), "--result", str(result), "--orders", str(ORDERS), *extra]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _lines(path: Path) -> list[list[str]]:
    if not path.exists():
        return []
    return [line.split() for line in path.read_text().splitlines() if len(line.split()) == 4]


def _wait_for_lines(proc: subprocess.Popen[bytes], seen: Path, n: int) -> None:
    deadline = time.monotonic() + HANG
    while len(_lines(seen)) < n:
        assert proc.poll() is None, f"burst client exited early: {proc.stderr.read() if proc.stderr else ''!r}"
        assert time.monotonic() < deadline, "no ExecutionReports from the burst"
        time.sleep(0.01)


def test_kill_9_mid_burst_then_resume_loses_and_repeats_nothing(tmp_path: Path) -> None:
    sim = SimThread(flow_interval=None, rate_limit="off")  # a 1,000-order burst on one pair
    try:
        state, seen = tmp_path / "state", tmp_path / "seen.txt"
        first = _burst(sim, state, seen, tmp_path / "first.json", "--pace", "0.01", "--pace-every", "40")
        _wait_for_lines(first, seen, KILL_AFTER)
        os.kill(first.pid, signal.SIGKILL)
        assert first.wait(HANG) == -signal.SIGKILL
        sent_before_kill = int((state / "next_order").read_text())
        assert sent_before_kill < ORDERS, "the kill came after the burst; nothing was tested"
        before = len(_lines(seen))

        second = _burst(sim, state, seen, tmp_path / "second.json", "--resume")
        _, err = second.communicate(timeout=HANG)
        assert second.returncode == 0, err.decode(errors="replace")
        result = json.loads((tmp_path / "second.json").read_text())

        # Sequence numbers continue: no 141=Y, the Logon comes after every order already sent.
        assert result["reset"] is False
        assert result["logon_seq"] >= sent_before_kill + 2

        rows = _lines(seen)
        assert len(rows) > before
        exec_ids = Counter(r[0] for r in rows)
        assert [e for e, n in exec_ids.items() if n > 1] == []

        # Every order the gateway accepted from this session has its ExecutionReport, once.
        async def accepted() -> dict[str, str]:
            sender = sim.sim.credentials.sender_comp_id
            return {o.clordid: o.order_id for o in sim.sim.gateway.spot.orders.values()
                    if getattr(o.owner, "sender", None) == sender}

        orders: dict[str, str] = sim.call(accepted())
        new_reports = {r[1] for r in rows if r[2] == "0"}
        assert len(orders) >= sent_before_kill - 1
        assert sorted(set(orders) - new_reports) == []
        assert sorted(new_reports - set(orders)) == []
        assert len(exec_ids) == len(orders)
        assert result["acked"] == len(orders)
    finally:
        sim.close()
