"""``krakenfix cancel`` end to end, as a subprocess against a simulator on 127.0.0.1."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "ops"))
from cli_harness import SimProc, kfx, sim_proc

__all__ = ["sim_proc"]


def _place(sim: SimProc, tmp_path: Path) -> dict[str, object]:
    r = kfx("send", "-s", "BTC/USD", "--side", "buy", "-q", "0.01", "--price", "1000.0", "-o", "json",
            env=sim.env(tmp_path))
    assert r.exit_status == 0, r.output
    obj = json.loads(r.stdout.strip().splitlines()[-1])
    assert isinstance(obj, dict)
    return obj


def test_cancel_of_an_order_from_another_connection_is_stopped_before_sending(
        sim_proc: SimProc, tmp_path: Path) -> None:
    placed = _place(sim_proc, tmp_path)
    r = kfx("cancel", "--clordid", str(placed["clordid"]), "-o", "compact", env=sim_proc.env(tmp_path))
    assert r.exit_status == 1, r.output
    assert r.stdout == ""  # nothing was sent: no Logon, no F
    line = r.stderr.strip()
    assert line.startswith(f"krakenfix: error: order {placed['clordid']} was placed by another connection")
    assert "krakenfix mass-cancel --symbol BTC/USD" in line
    assert "krakenfix repl" in line


def test_cancel_by_order_id_finds_the_journalled_order_too(sim_proc: SimProc, tmp_path: Path) -> None:
    placed = _place(sim_proc, tmp_path)
    r = kfx("cancel", "--order-id", str(placed["order_id"]), "-o", "json", env=sim_proc.env(tmp_path))
    assert r.exit_status == 1, r.output
    assert json.loads(r.stdout)["result"] == "refused"


def test_forced_cancel_gets_kraken_business_reject_and_exit_1(sim_proc: SimProc, tmp_path: Path) -> None:
    placed = _place(sim_proc, tmp_path)
    r = kfx("cancel", "--clordid", str(placed["clordid"]), "--force", "-o", "compact", env=sim_proc.env(tmp_path))
    assert r.exit_status == 1, r.output
    assert "> OrderCancelRequest" in r.stdout
    assert "< BusinessMessageReject" in r.stdout  # Kraken never answers F with 35=9
    assert "cancel rejected: BusinessMessageReject(j)" in r.stderr


def test_cancel_of_an_unknown_order_needs_symbol_and_side(sim_proc: SimProc, tmp_path: Path) -> None:
    r = kfx("cancel", "--clordid", "12345", env=sim_proc.env(tmp_path))
    assert r.exit_status == 2
    assert "give --symbol and --side" in r.stderr


def test_cancel_of_an_unknown_order_is_rejected_by_the_gateway(sim_proc: SimProc, tmp_path: Path) -> None:
    r = kfx("cancel", "--clordid", "12345", "-s", "BTC/USD", "--side", "buy", "-o", "raw",
            env=sim_proc.env(tmp_path))
    assert r.exit_status == 1, r.output
    assert "35=j|" in r.stdout


def test_cancel_dry_run_prints_the_f(sim_proc: SimProc, tmp_path: Path) -> None:
    placed = _place(sim_proc, tmp_path)
    r = kfx("cancel", "--order-id", str(placed["order_id"]), "--force", "--dry-run", "-o", "raw",
            env=sim_proc.env(tmp_path))
    assert r.exit_status == 0, r.output
    out = r.stdout.strip().splitlines()[-1]
    assert out.startswith("35=F|") and f"37={placed['order_id']}|" in out and f"41={placed['clordid']}|" in out
