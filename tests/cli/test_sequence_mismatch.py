"""A sequence mismatch is reported as one (not as a silent close), and says how to recover."""

from __future__ import annotations

import sys
from pathlib import Path

from run import run_cli

sys.path.insert(0, str(Path(__file__).parents[1] / "ops"))
from cli_harness import kfx, start_sim_proc


def test_a_gateway_that_restarted_its_numbers_is_a_sequence_mismatch(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = start_sim_proc(tmp_path / "sim1")
    try:
        assert kfx("logon", "-o", "compact", env=first.env(home)).exit_status == 0
    finally:
        first.stop()
    # A new gateway process: its numbers start at 1, the store expects more (141=N on replay).
    second = start_sim_proc(tmp_path / "sim2")
    try:
        r = kfx("replay", "-o", "compact", env=second.env(home))
        assert r.exit_status == 3, r.output
        line = r.stderr.splitlines()[-1]
        assert line.startswith("krakenfix: error: logon refused: sequence numbers disagree"), line
        assert "MsgSeqNum too low" in line and "krakenfix logon" in line and "(141)=Y" in line
        assert "whitelist" not in line and "silent close" not in line
        # What the advice says works: logon resets (141=Y), then replay continues (141=N).
        assert kfx("logon", "-o", "compact", env=second.env(home)).exit_status == 0
        again = kfx("replay", "-o", "compact", env=second.env(home))
        assert again.exit_status == 0, again.output
    finally:
        second.stop()


def test_replay_after_logon_with_embedded_simulators_works(tmp_path: Path) -> None:
    env = {"KRAKENFIX_STATE_DIR": str(tmp_path / "state")}
    assert run_cli("logon", "--sim", "-o", "compact", env=env).exit_status == 0
    r = run_cli("replay", "--sim", "-o", "compact", env=env)
    assert r.exit_status == 0, r.output
