"""``krakenfix instruments`` and the pre-send check of ``send``/``amend``, as subprocesses against a
simulator on 127.0.0.1 (SPEC §6.3, §7.6)."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "ops"))
from cli_harness import SimProc, kfx, sim_proc, start_sim_proc

from krakenfix_cli.sim.gateway import SPOT_INSTRUMENTS

__all__ = ["sim_proc"]


def _cache_files(home: Path) -> list[Path]:
    return sorted((home / "state" / "instruments").glob("*.json"))


def _sent(home: Path, msg_type: str) -> list[str]:
    """Every message of ``msg_type`` the CLI's message logs hold (what went to the simulator)."""
    logs = home / "state" / "logs"
    return [line for p in sorted(logs.glob("*.messages.*")) for line in p.read_text(errors="replace").splitlines()
            if f"\x0135={msg_type}\x01" in line or f"|35={msg_type}|" in line]


def _cache(env: dict[str, str]) -> None:
    r = kfx("instruments", "-o", "json", env=env)
    assert r.exit_status == 0, r.output


def test_json_lists_exactly_the_simulators_instruments_and_caches_them_0600(sim_proc: SimProc,
                                                                             tmp_path: Path) -> None:
    r = kfx("instruments", "-o", "json", env=sim_proc.env(tmp_path))
    assert r.exit_status == 0, r.output
    got = [json.loads(line) for line in r.stdout.splitlines()]
    want = [{"symbol": i.symbol, "tick_size": format(i.tick, "f"), "price_decimals": i.price_precision,
             "lot_decimals": i.qty_precision, "qty_min": format(i.qty_min, "f"),
             "qty_increment": format(i.lot, "f"), "status": i.status} for i in SPOT_INSTRUMENTS]
    assert [{k: g[k] for k in want[0]} for g in got] == want
    files = _cache_files(tmp_path)
    assert len(files) == 1 and stat.S_IMODE(files[0].stat().st_mode) == 0o600
    cached = json.loads(files[0].read_text())
    assert [i["symbol"] for i in cached["instruments"]] == [i.symbol for i in SPOT_INSTRUMENTS]
    assert cached["fetched_at"] == got[0]["fetched_at"]


def test_table_shows_each_pairs_rules_and_symbols_filter_it(sim_proc: SimProc, tmp_path: Path) -> None:
    eth = next(i for i in SPOT_INSTRUMENTS if i.symbol == "ETH/USD")
    r = kfx("instruments", "ETH/USD", "-o", "compact", env=sim_proc.env(tmp_path))
    assert r.exit_status == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[1].split() == ["symbol", "tick", "size", "price", "dp", "lot", "dp", "min", "qty", "qty",
                                "increment", "status"]
    assert lines[2:] == [lines[2]] and lines[2].split() == [
        "ETH/USD", format(eth.tick, "f"), str(eth.price_precision), str(eth.qty_precision),
        format(eth.qty_min, "f"), format(eth.lot, "f"), "online"]


def test_an_unlisted_symbol_exits_1_with_one_line(sim_proc: SimProc, tmp_path: Path) -> None:
    r = kfx("instruments", "BTC/USD", "NOPE/USD", "-o", "json", env=sim_proc.env(tmp_path))
    assert r.exit_status == 1, r.output
    assert [json.loads(line)["symbol"] for line in r.stdout.splitlines()] == ["BTC/USD"]
    errors = [line for line in r.stderr.splitlines() if line.startswith("krakenfix: error:")]
    assert errors == ["krakenfix: error: not in the InstrumentList: NOPE/USD; `krakenfix instruments` lists "
                      "every pair"]


def test_the_cache_answers_without_the_gateway_and_refresh_asks_it(tmp_path: Path) -> None:
    sim = start_sim_proc(tmp_path / "sim")
    env = sim.env(tmp_path)
    try:
        first = kfx("instruments", "-o", "json", env=env)
        assert first.exit_status == 0, first.output
    finally:
        sim.stop()
    again = kfx("instruments", "-o", "json", env=env)  # nobody listens on that port any more
    assert again.exit_status == 0, again.output
    assert again.stdout == first.stdout and "cached" in again.stderr
    fresh = kfx("instruments", "--refresh", "--timeout", "3", env=env)
    assert fresh.exit_status == 4, fresh.output
    assert "Traceback" not in fresh.stderr


def test_a_corrupt_cache_is_one_warning_and_a_refetch(sim_proc: SimProc, tmp_path: Path) -> None:
    env = sim_proc.env(tmp_path)
    _cache(env)
    (path,) = _cache_files(tmp_path)
    path.write_text('{"format": 1, "fetched_at": "soon", "instruments": [')
    r = kfx("instruments", "-o", "json", env=env)
    assert r.exit_status == 0, r.output
    warnings = [line for line in r.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and str(path) in warnings[0] and "asking the gateway again" in warnings[0]
    assert len(r.stdout.splitlines()) == len(SPOT_INSTRUMENTS)
    assert json.loads(path.read_text())["format"] == 1


def test_send_off_tick_exits_2_with_the_nearest_prices_and_sends_nothing(sim_proc: SimProc, tmp_path: Path) -> None:
    env = sim_proc.env(tmp_path)
    _cache(env)
    r = kfx("send", "-s", "BTC/USD", "--side", "buy", "-q", "0.01", "--price", "50000.03", "-o", "compact", env=env)
    assert r.exit_status == 2, r.output
    assert r.stdout == ""
    assert r.stderr.strip().splitlines() == [
        "krakenfix: error: price 50000.03 is not on BTC/USD's tick size 0.1 (TickSize 5022): use 50000.0 or "
        "50000.1; --no-check sends it anyway"]
    assert _sent(tmp_path, "D") == []
    # --no-check: the same order reaches the simulator, which refuses it as Kraken would.
    forced = kfx("send", "-s", "BTC/USD", "--side", "buy", "-q", "0.01", "--price", "50000.03", "--no-check",
                 "-o", "compact", env=env)
    assert forced.exit_status == 1, forced.output
    assert "Tick size check failed" in forced.stderr
    assert len(_sent(tmp_path, "D")) == 1


def test_send_below_the_minimum_exits_2_and_no_check_sends_it(sim_proc: SimProc, tmp_path: Path) -> None:
    env = sim_proc.env(tmp_path)
    _cache(env)
    r = kfx("send", "-s", "BTC/USD", "--side", "buy", "-q", "0.00001", "--price", "1000.0", env=env)
    assert r.exit_status == 2, r.output
    assert "quantity 0.00001 is below BTC/USD's minimum 0.0001 (QtyMin 5011): use at least 0.0001" in r.stderr
    assert _sent(tmp_path, "D") == []
    forced = kfx("send", "-s", "BTC/USD", "--side", "buy", "-q", "0.00001", "--price", "1000.0", "--no-check",
                 env=env)
    assert forced.exit_status == 1 and "Order minimum not met" in forced.stderr, forced.output


def test_raw_d_is_checked_too(sim_proc: SimProc, tmp_path: Path) -> None:
    env = sim_proc.env(tmp_path)
    _cache(env)
    r = kfx("send", "--raw", "35=D|11=1700000000000009|55=ETH/USD|54=2|38=0.1|40=2|44=3000.005|59=1", env=env)
    assert r.exit_status == 2, r.output
    assert "price 3000.005 is not on ETH/USD's tick size 0.01 (TickSize 5022): use 3000.00 or 3000.01" in r.stderr


def test_without_a_cache_the_order_goes_with_one_note(sim_proc: SimProc, tmp_path: Path) -> None:
    r = kfx("send", "-s", "BTC/USD", "--side", "buy", "-q", "0.01", "--price", "1000.0", "-o", "json",
            env=sim_proc.env(tmp_path))
    assert r.exit_status == 0, r.output
    notes = [line for line in r.stderr.splitlines() if "pre-send check is skipped" in line]
    assert len(notes) == 1 and "`krakenfix instruments` fetches one" in notes[0]
    assert _cache_files(tmp_path) == []  # the check fetched nothing


def test_amend_to_an_off_tick_price_exits_2_and_sends_no_g(sim_proc: SimProc, tmp_path: Path) -> None:
    env = sim_proc.env(tmp_path)
    _cache(env)
    placed = kfx("send", "-s", "BTC/USD", "--side", "buy", "-q", "0.01", "--price", "1000.0", "-o", "json", env=env)
    assert placed.exit_status == 0, placed.output
    clordid = json.loads(placed.stdout.splitlines()[-1])["clordid"]
    r = kfx("amend", "--clordid", clordid, "--price", "990.05", env=env)
    assert r.exit_status == 2, r.output
    assert "price 990.05 is not on BTC/USD's tick size 0.1 (TickSize 5022): use 990.0 or 990.1" in r.stderr
    assert _sent(tmp_path, "G") == []
