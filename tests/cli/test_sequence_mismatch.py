"""A sequence mismatch is reported as one (not as a silent close), and says how to recover."""

from __future__ import annotations

import sys
from pathlib import Path

from run import run_cli

sys.path.insert(0, str(Path(__file__).parents[1] / "ops"))
from cli_harness import kfx, start_sim_proc

from krakenfix_cli.session.filestore import FileStore


def _store(home: Path) -> FileStore:
    (found,) = (home / "state" / "sessions").iterdir()
    return FileStore(found)


def _sent_141(stdout: str) -> list[str | None]:
    """ResetSeqNumFlag(141) of each Logon(A) we sent (compact lines: ``> Logon ... 141=Y``)."""
    return ["Y" if " 141=Y" in line else None for line in stdout.splitlines() if "> Logon " in line]


def test_a_gateway_that_restarted_its_numbers_is_a_sequence_mismatch(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = start_sim_proc(tmp_path / "sim1")
    try:
        assert kfx("logon", "-o", "compact", env=first.env(home)).exit_status == 0
    finally:
        first.stop()
    with _store(home) as store:
        expected = store.next_target_seq
    # A new gateway process: its numbers start at 1, the store expects more (141=N: same period).
    second = start_sim_proc(tmp_path / "sim2")
    try:
        r = kfx("replay", "-o", "compact", env=second.env(home))
        assert r.exit_status == 3, r.output
        line = r.stderr.splitlines()[-1]
        assert line.startswith("krakenfix: error: logon refused: sequence numbers disagree"), line
        assert f"came with MsgSeqNum(34) 1, our store expected {expected}" in line, line
        assert line.endswith("run again with --reset to restart both sequence numbers at 1 (141=Y)"), line
        assert "whitelist" not in line and "silent close" not in line
        assert "Traceback" not in r.stderr
        # The next command knows from the store that the gateway restarted, and resets.
        again = kfx("logon", "-o", "compact", env=second.env(home))
        assert again.exit_status == 0, again.output
        assert _sent_141(again.stdout) == ["Y"], again.stdout
        after = kfx("replay", "-o", "compact", env=second.env(home))
        assert after.exit_status == 0, after.output
        assert _sent_141(after.stdout) == [None], after.stdout
    finally:
        second.stop()


def test_replay_with_reset_recovers_from_the_mismatch(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = start_sim_proc(tmp_path / "sim1")
    try:
        assert kfx("logon", "-o", "compact", env=first.env(home)).exit_status == 0
    finally:
        first.stop()
    second = start_sim_proc(tmp_path / "sim2")
    try:
        assert kfx("replay", "-o", "compact", env=second.env(home)).exit_status == 3
        fixed = kfx("replay", "--reset", "-o", "compact", env=second.env(home))
        assert fixed.exit_status == 0, fixed.output
        assert _sent_141(fixed.stdout) == ["Y"], fixed.stdout
    finally:
        second.stop()


def test_numbers_lower_than_the_gateway_expects_name_both_and_the_fix(tmp_path: Path) -> None:
    home = tmp_path / "home"
    sim = start_sim_proc(tmp_path / "sim")
    try:
        assert kfx("logon", "-o", "compact", env=sim.env(home)).exit_status == 0
        with _store(home) as store:
            theirs = store.next_sender_seq  # what the gateway expects from us next
            store.set_next_sender_seq(2)  # our numbers went back (a restored backup, say)
        r = kfx("logon", "-o", "compact", env=sim.env(home))
        assert r.exit_status == 3, r.output
        line = r.stderr.splitlines()[-1]
        assert f"the gateway expected MsgSeqNum(34) {theirs}, ours was 2" in line, line
        assert "(gateway said: MsgSeqNum too low" in line, line
        assert line.endswith("run again with --reset to restart both sequence numbers at 1 (141=Y)"), line
        assert "Traceback" not in r.stderr
        fixed = kfx("logon", "--reset", "-o", "compact", env=sim.env(home))
        assert fixed.exit_status == 0, fixed.output
        assert _sent_141(fixed.stdout) == ["Y"], fixed.stdout
    finally:
        sim.stop()


def test_replay_after_logon_with_embedded_simulators_works(tmp_path: Path) -> None:
    env = {"KRAKENFIX_STATE_DIR": str(tmp_path / "state")}
    assert run_cli("logon", "--sim", "-o", "compact", env=env).exit_status == 0
    r = run_cli("replay", "--sim", "-o", "compact", env=env)
    assert r.exit_status == 0, r.output
