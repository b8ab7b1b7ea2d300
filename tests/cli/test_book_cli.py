"""``book`` and ``trades`` against a simulator on 127.0.0.1: verified snapshots, live updates, renewal after
a drop and a rollover, the simulator's trades (SPEC §7, §10.11, §10.13)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "ops"))
from cli_harness import SimThread, kfx, place_orders, spawn

SYMBOL = "BTC/USD"


@pytest.fixture
def sim() -> Iterator[SimThread]:
    s = SimThread(flow_interval=None, refusal_window=0.5)  # nothing moves unless a test trades
    yield s
    s.close()


def _subscriptions(sim: SimThread) -> list[str]:
    async def ids() -> list[str]:
        return [s.req_id for h in sim.sim.gateway.md_handlers for s in h.subs]

    return sim.call(ids())


def _wait_subscribed(sim: SimThread, proc: subprocess.Popen[bytes],
                     not_in: frozenset[str] | set[str] = frozenset()) -> str:
    """Until the simulator holds a subscription not in ``not_in`` (a condition, not a time)."""
    import time

    while True:
        fresh = [r for r in _subscriptions(sim) if r not in not_in]
        if fresh:
            return fresh[-1]
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)


def _book_levels(sim: SimThread, side: str, depth: int = 10) -> list[list[str]]:
    async def levels() -> list[list[str]]:
        book = sim.sim.gateway.spot.books[SYMBOL]
        return [[f"{px:.1f}", f"{qty:.8f}"] for px, qty in book.levels(side, depth)]

    return sim.call(levels())


def _buy(sim: SimThread, price: str, tif: str = "1", qty: str = "0.01") -> None:
    creds = sim.sim.credentials
    place_orders(sim.port, creds.api_key, creds.api_secret.reveal(),
                 [{"38": qty, "40": "2", "44": price, "54": "1", "55": SYMBOL, "59": tif}])


def _next_json(proc: subprocess.Popen[bytes], kind: str, seen: list[dict[str, Any]]) -> dict[str, Any]:
    """Read JSON lines until one of ``kind``."""
    assert proc.stdout is not None
    while True:
        line = proc.stdout.readline().decode()
        assert line, f"ended before a {kind!r} line: {seen} {proc.stderr.read().decode() if proc.stderr else ''}"
        obj = json.loads(line)
        seen.append(obj)
        if obj["type"] == kind:
            return obj


def test_book_once_prints_the_simulators_book_verified(sim: SimThread, tmp_path: Path) -> None:
    proc = spawn("book", SYMBOL, "--once", "-o", "json", "--timeout", "120", env=sim.env(tmp_path))
    _wait_subscribed(sim, proc)
    _buy(sim, "59999.7")  # a new best bid: an update whose 5041 covers the whole top of book
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, out.decode() + err.decode()
    book = json.loads(out.decode())
    assert book["type"] == "book" and book["verified"] == 1 and book["mismatches"] == 0
    assert book["bids"][0] == ["59999.7", "0.01000000"]
    assert book["bids"] == _book_levels(sim, "1") and book["asks"] == _book_levels(sim, "2")


def test_book_stream_verifies_updates_and_renews_after_a_drop_and_a_rollover(sim: SimThread, tmp_path: Path) -> None:
    proc = spawn("book", SYMBOL, "-o", "json", "--duration", "100", env=sim.env(tmp_path))
    seen: list[dict[str, Any]] = []
    try:
        first = _next_json(proc, "snapshot", seen)
        subs = {_wait_subscribed(sim, proc)}
        _buy(sim, "59999.7")
        upd = _next_json(proc, "update", seen)
        assert upd["ok"] is True and upd["checksum"] == upd["computed"] and upd["best_bid"] == "59999.7"

        for i, steer in enumerate((sim.sim.drop_connections, sim.sim.force_rollover)):
            sim.run(steer)
            _next_json(proc, "restored", seen)
            snap = _next_json(proc, "snapshot", seen)
            assert snap["md_req_id"] not in (first["md_req_id"], *(s["md_req_id"] for s in seen[:-1]
                                                                     if s["type"] == "snapshot"))
            assert snap["bids"] == _book_levels(sim, "1") and snap["asks"] == _book_levels(sim, "2")
            subs.add(_wait_subscribed(sim, proc, subs))
            price = ("59999.8", "59999.9")[i]
            _buy(sim, price)
            upd = _next_json(proc, "update", seen)
            assert upd["ok"] is True and upd["best_bid"] == price, upd
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    assert "2 reconnect(s), 1 rollover(s)" in err.decode(), err.decode()
    assert all(o.get("ok") is not False for o in seen)


def test_trades_streams_the_simulators_trades(sim: SimThread, tmp_path: Path) -> None:
    proc = spawn("trades", SYMBOL, "-o", "json", "--duration", "100", env=sim.env(tmp_path))
    try:
        _wait_subscribed(sim, proc)
        best_ask = Decimal(_book_levels(sim, "2", 1)[0][0])
        _buy(sim, str(best_ask + 5), tif="3", qty="0.02")  # IOC through the best ask: one trade
        trade = _next_json(proc, "trade", [])
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    assert (trade["side"], trade["price"], trade["size"]) == ("buy", f"{best_ask:.1f}", "0.02000000")


def test_an_unknown_symbol_is_one_line_and_exit_1(sim: SimThread, tmp_path: Path) -> None:
    r = kfx("book", "NOPE/USD", "--once", env=sim.env(tmp_path))
    errors = [line for line in r.stderr.splitlines() if line.startswith("krakenfix: error:")]
    assert r.exit_status == 1 and len(errors) == 1 and "NOPE/USD" in errors[0], r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("args", [("--depth", "7"), ("--l3",)])
def test_bad_options_are_one_line_and_exit_2(sim: SimThread, tmp_path: Path, args: tuple[str, ...]) -> None:
    r = kfx("book", SYMBOL, "--once", *args, env=sim.env(tmp_path))
    assert r.exit_status == 2 and "Traceback" not in r.stderr, r.stderr
    assert [line.startswith("krakenfix: error:") for line in r.stderr.splitlines() if line.strip()] == [True], r.stderr
