"""A connection the gateway drops ends ``logon --hold`` and ``send --wait fill`` at once, exit 4."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "ops"))
from cli_harness import SimThread, spawn


@pytest.fixture
def sim() -> Iterator[SimThread]:
    s = SimThread()
    yield s
    s.close()


def _wait_for_line(stream: object, needle: str) -> list[str]:
    """Read lines until one contains ``needle`` (a condition, not a time); all lines read."""
    seen: list[str] = []
    while True:
        line = stream.readline().decode()  # type: ignore[attr-defined]
        assert line, f"ended before {needle!r}: {seen}"
        seen.append(line)
        if needle in line:
            return seen


def _finish(proc: subprocess.Popen[bytes]) -> tuple[int, str, str]:
    # --timeout 600 below: a command still waiting for it would not end within this bound.
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"still waiting after the drop: {out.decode()}{err.decode()}") from None
    return proc.returncode, out.decode(), err.decode()


def test_logon_hold_exits_4_when_the_gateway_drops_the_connection(sim: SimThread, tmp_path: Path) -> None:
    proc = spawn("logon", "--hold", "-o", "compact", "--timeout", "600", env=sim.env(tmp_path))
    _wait_for_line(proc.stderr, "holding the session")
    sim.run(sim.sim.drop_connections)
    rc, out, err = _finish(proc)
    assert rc == 4, out + err
    errors = [line for line in err.splitlines() if line.startswith("krakenfix: error:")]
    assert len(errors) == 1 and "connection dropped by the gateway" in errors[0], err


def test_send_wait_fill_exits_4_at_once_when_the_gateway_drops_the_connection(
        sim: SimThread, tmp_path: Path) -> None:
    proc = spawn("send", "-s", "BTC/USD", "--side", "buy", "-q", "0.01", "--price", "1000.0", "--wait", "fill",
                 "--timeout", "600", "-o", "compact", env=sim.env(tmp_path))
    _wait_for_line(proc.stdout, "< ExecutionReport")  # acknowledged, resting: no fill coming
    sim.run(sim.sim.drop_connections)
    rc, out, err = _finish(proc)
    assert rc == 4, out + err
    errors = [line for line in err.splitlines() if line.startswith("krakenfix: error:")]
    assert len(errors) == 1 and "connection dropped by the gateway before the fill" in errors[0], err
