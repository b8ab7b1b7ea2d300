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
    # Only 530=7 reaches another session's orders (SPEC §6.8): never recommend --symbol for it.
    assert "`krakenfix mass-cancel --all` (530=7" in line
    assert "mass-cancel --symbol" not in line
    assert "reach only orders created or replaced on the connection that sends them" in line


def test_cancel_of_a_journalled_filled_order_says_so_and_sends_nothing(sim_proc: SimProc, tmp_path: Path) -> None:
    env = sim_proc.env(tmp_path)
    r = kfx("send", "-s", "BTC/USD", "--side", "buy", "-q", "0.01", "--type", "market", "--wait", "fill",
            "-o", "json", env=env)
    assert r.exit_status == 0, r.output
    clordid = str(json.loads(r.stdout.strip().splitlines()[-1])["clordid"])
    r = kfx("cancel", "--clordid", clordid, "-o", "compact", env=env)
    assert r.exit_status == 1, r.output  # a fill is not what a cancel wanted: a script must see it
    assert r.stdout == ""  # no logon, no F
    line = r.stderr.strip()
    assert line.startswith(f"krakenfix: error: order {clordid} is already filled (the order journal recorded it at ")
    assert "another connection" not in line and "mass-cancel" not in line


def test_cancel_of_a_journalled_cancelled_order_exits_0_without_sending(sim_proc: SimProc, tmp_path: Path) -> None:
    env = sim_proc.env(tmp_path)
    placed = _place(sim_proc, tmp_path)
    first = kfx("cancel", "--clordid", str(placed["clordid"]), "--force", "-o", "compact", env=env)
    assert first.exit_status == 1, first.output  # another connection's order: 35=j
    gone = kfx("mass-cancel", "--all", "--yes", "-o", "compact", "--quiet", "0.5", env=env)
    assert gone.exit_status == 0, gone.output
    r = kfx("cancel", "--clordid", str(placed["clordid"]), "-o", "json", env=env)
    assert r.exit_status == 0, r.output
    assert json.loads(r.stdout)["result"] == "already-canceled"
    assert f"order {placed['clordid']} is already canceled" in r.stderr


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
