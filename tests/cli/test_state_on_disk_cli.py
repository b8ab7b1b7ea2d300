"""The state dir's contents never stop a command: journal lines of any shape, torn tails."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "ops"))
from cli_harness import SimProc, kfx, sim_proc

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
