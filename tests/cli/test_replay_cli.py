"""``krakenfix replay`` end to end, as a subprocess against a simulator on 127.0.0.1."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "ops"))
from cli_harness import SimProc, base_env, kfx, sim_proc

__all__ = ["sim_proc"]


def _fill_an_order(sim: SimProc, tmp_path: Path) -> dict[str, object]:
    r = kfx("send", "-s", "BTC/USD", "--side", "buy", "-q", "0.01", "--type", "market", "--wait", "fill",
            "-o", "json", env=sim.env(tmp_path))
    assert r.exit_status == 0, r.output
    obj = json.loads(r.stdout.strip().splitlines()[-1])
    assert isinstance(obj, dict)
    return obj


def test_replay_from_1_resends_the_day_and_reconciles_the_order(sim_proc: SimProc, tmp_path: Path) -> None:
    placed = _fill_an_order(sim_proc, tmp_path)
    r = kfx("replay", "--from", "1", "--quiet", "0.5", "-o", "json", env=sim_proc.env(tmp_path))
    assert r.exit_status == 0, r.output
    objects = [json.loads(line) for line in r.stdout.splitlines()]
    replayed = [o for o in objects if o.get("direction") == "in" and o.get("msg_type") == "8"]
    assert replayed, r.output
    assert all({"tag": 43, "name": "PossDupFlag", "value": "Y", "enum": "Yes"} in o["fields"] for o in replayed)
    table = next(o for o in objects if "table" in o)
    row = next(r for r in table["rows"] if r[0] == placed["order_id"])
    assert row[4] == "filled"
    exec_ids = [next(f["value"] for f in o["fields"] if f["tag"] == 17) for o in replayed]
    assert len(exec_ids) == len(set(exec_ids))  # each ExecID shown once
    summary = objects[-1]
    assert summary["orders"][0]["state"] == "filled"


def test_replay_of_a_recorded_log_is_offline(sim_proc: SimProc, tmp_path: Path) -> None:
    placed = _fill_an_order(sim_proc, tmp_path)
    log = next((tmp_path / "state" / "logs").glob("*KFXCLIENT-KRAKEN-TRD.messages.current.log"))
    r = kfx("replay", "--file", str(log), "-o", "compact", env=base_env(tmp_path / "elsewhere"))
    assert r.exit_status == 0, r.output
    assert "# reconciliation" in r.stdout
    assert f"{placed['order_id']}" in r.stdout and "filled" in r.stdout


def test_replay_to_before_from_is_a_usage_error(tmp_path: Path) -> None:
    r = kfx("replay", "--from", "10", "--to", "5", env=base_env(tmp_path))
    assert r.exit_status == 2
    assert "--to 5 is before --from 10" in r.stderr
