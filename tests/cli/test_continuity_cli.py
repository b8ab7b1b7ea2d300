"""Sequence continuity without a session holder: one-shot commands continue the day's numbers.

Real ``krakenfix`` processes against a ``krakenfix sim`` subprocess on 127.0.0.1, one state
dir, no holder: each command logs on itself. Within a rollover period only the first
logon resets (141=Y); later ones continue (141=N), so ``replay --from 1`` reaches every
earlier command's reports. ``--reset`` and a store stamped with an older period reset.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parents[1] / "ops"))
from cli_harness import SimProc, kfx, start_sim_proc

from krakenfix_cli.kraken.schedule import DAY
from krakenfix_cli.session.filestore import FileStore


def _objects(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def _logon_reset_flags(stdout: str) -> list[str | None]:
    """ResetSeqNumFlag(141) of each Logon(A) we sent (None: not sent, i.e. N)."""
    flags = []
    for o in _objects(stdout):
        if o.get("direction") == "out" and o.get("msg_type") == "A":
            flags.append(next((f["value"] for f in o["fields"] if f["tag"] == 141), None))
    return flags


def _store_dir(home: Path) -> Path:
    found = list((home / "state" / "sessions").iterdir())
    assert len(found) == 1, found
    return found[0]


def _send(sim: SimProc, home: Path, *extra: str) -> tuple[str, list[str | None]]:
    """A resting limit order; its OrderID and the 141 of the Logon that carried it."""
    r = kfx("send", "-s", "BTC/USD", "--side", "buy", "-q", "0.01", "--type", "limit", "--price", "1000",
            "-o", "json", *extra, env=sim.env(home))
    assert r.exit_status == 0, r.output
    result = _objects(r.stdout)[-1]
    return str(result["order_id"]), _logon_reset_flags(r.stdout)


def _replayed_orders(sim: SimProc, home: Path) -> set[str]:
    r = kfx("replay", "--from", "1", "--quiet", "0.5", "-o", "json", env=sim.env(home))
    assert r.exit_status == 0, r.output
    assert _logon_reset_flags(r.stdout) == [None], r.output  # replay never resets on its own
    table = next(o for o in _objects(r.stdout) if "table" in o)
    return {row[0] for row in table["rows"]}


def test_three_sends_then_replay_from_1_reconciles_all_three(tmp_path: Path) -> None:
    sim = start_sim_proc(tmp_path / "sim")
    home = tmp_path / "home"
    try:
        first, flags1 = _send(sim, home)
        second, flags2 = _send(sim, home)
        third, flags3 = _send(sim, home)
        assert (flags1, flags2, flags3) == (["Y"], [None], [None])
        assert len({first, second, third}) == 3
        assert _replayed_orders(sim, home) == {first, second, third}
    finally:
        sim.stop()


def test_reset_logs_on_with_141_y_and_the_earlier_messages_are_out_of_reach(tmp_path: Path) -> None:
    sim = start_sim_proc(tmp_path / "sim")
    home = tmp_path / "home"
    try:
        before, _ = _send(sim, home)
        after, flags = _send(sim, home, "--reset")
        assert flags == ["Y"]
        orders = _replayed_orders(sim, home)
        assert after in orders and before not in orders
    finally:
        sim.stop()


def test_a_store_from_an_earlier_rollover_period_resets_on_the_next_logon(tmp_path: Path) -> None:
    sim = start_sim_proc(tmp_path / "sim")
    home = tmp_path / "home"
    try:
        _send(sim, home)
        with FileStore(_store_dir(home)) as store:
            period = store.reset_period
            assert period is not None
            store.stamp_period(period - DAY)  # as if the numbers were from before the last 22:00 UTC
        _, flags = _send(sim, home)
        assert flags == ["Y"]
        with FileStore(_store_dir(home)) as store:
            assert store.reset_period == period  # the new numbers belong to this period again
        _, flags = _send(sim, home)
        assert flags == [None]
    finally:
        sim.stop()


def test_a_store_without_a_period_stamp_resets(tmp_path: Path) -> None:
    sim = start_sim_proc(tmp_path / "sim")
    home = tmp_path / "home"
    try:
        _send(sim, home)
        seqnums = _store_dir(home) / "seqnums"
        data = bytearray(seqnums.read_bytes())
        data[44:64] = bytes(20)  # what a store written before the stamp existed looks like
        data[108:128] = bytes(20)
        seqnums.write_bytes(bytes(data))
        _, flags = _send(sim, home)
        assert flags == ["Y"]
    finally:
        sim.stop()


def test_a_refused_logon_does_not_vouch_for_its_reset(tmp_path: Path) -> None:
    sim = start_sim_proc(tmp_path / "sim")
    home = tmp_path / "home"
    try:
        bad = kfx("logon", "-o", "json", env=sim.env(home, KRAKENFIX_API_SECRET="AAAA" + sim.api_secret[4:]))
        assert bad.exit_status == 3, bad.output
        assert _logon_reset_flags(bad.stdout) == ["Y"]
        assert "sequence numbers: 141=Y, the session store has no sequence numbers yet" in bad.stderr
        with FileStore(_store_dir(home)) as store:
            assert store.reset_period is None
        _, flags = _send(sim, home)  # the right secret now: a fresh start, not a continue
        assert flags == ["Y"]
    finally:
        sim.stop()
