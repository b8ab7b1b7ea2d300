"""`bench/run_all.py --quick` runs every benchmark end to end and prints its table (CI smoke test).

No figure is asserted (no timed asserts): the table is for people. This only proves each
benchmark still starts, measures and reports something, so the full campaign does not rot.
About 50 s on the development machine; the pytest time-out is raised for slower runners.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


@pytest.mark.timeout(400)
def test_run_all_quick_prints_one_row_per_metric() -> None:
    pytest.importorskip("pexpect")
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "run_all.py"), "--quick"], capture_output=True,
                          text=True, cwd=ROOT, timeout=390)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "metric" in out and "ratio" in out and "met?" in out
    for metric in ("codec frame+verify msg/s", "start-up `krakenfix --help` ms", "logon: process start",
                   "order->ack round trip p50 us", "pipelined orders/s", "tail compact lines to a pipe msg/s",
                   "REPL start-up to logged-on prompt ms", "send through a holder, start -> ack ms"):
        assert metric in out, out
