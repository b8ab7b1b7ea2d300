"""``krakenfix mass-cancel`` end to end, as a subprocess against a simulator on 127.0.0.1."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "ops"))
from cli_harness import SimProc, SimThread, base_env, kfx, place_orders, resting_buy, sim_proc, start_sim_proc

from krakenfix_cli.fix.message import Message

__all__ = ["sim_proc"]


@pytest.fixture
def fresh_sim(tmp_path: Path) -> Iterator[SimProc]:
    """A simulator of our own: an account-wide cancel must count only this test's orders."""
    sim = start_sim_proc(tmp_path / "sim", "--rate-limit", "off")  # 1,000 open orders on one pair
    yield sim
    sim.stop()


def test_mass_cancel_of_1000_orders_counts_every_one_and_exits_0(fresh_sim: SimProc, tmp_path: Path) -> None:
    orders = [resting_buy("BTC/USD", price=f"{1000 + i % 100}.0") for i in range(700)]
    orders += [resting_buy("ETH/USD", price=f"{100 + i % 50}.00") for i in range(300)]
    order_ids = place_orders(fresh_sim.port, fresh_sim.api_key, fresh_sim.api_secret, orders)
    assert len(set(order_ids)) == 1000
    r = kfx("mass-cancel", "--all", "--yes", "-o", "json", "--quiet", "1", env=fresh_sim.env(tmp_path))
    assert r.exit_status == 0, r.stderr
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["cancelled"] == 1000
    assert {o["order_id"] for o in summary["orders"]} == set(order_ids)
    assert {o["symbol"] for o in summary["orders"]} == {"BTC/USD", "ETH/USD"}
    again = kfx("mass-cancel", "--all", "--yes", "-o", "compact", "--quiet", "0.5", env=fresh_sim.env(tmp_path))
    assert again.exit_status == 0  # nothing open: zero reports is a valid outcome
    assert "0 orders cancelled" in again.stdout


def test_mass_cancel_prints_a_table_in_compact_mode(fresh_sim: SimProc, tmp_path: Path) -> None:
    place_orders(fresh_sim.port, fresh_sim.api_key, fresh_sim.api_secret, [resting_buy()] * 3)
    r = kfx("mass-cancel", "--all", "--yes", "-o", "compact", "--quiet", "0.5", env=fresh_sim.env(tmp_path))
    assert r.exit_status == 0, r.output
    assert "> OrderMassCancelRequest" in r.stdout and "530=7" in r.stdout
    assert "# cancelled by" in r.stdout
    assert r.stdout.count("BTC/USD  buy") == 3
    assert "3 orders cancelled (EVERY open order on the account" in r.stdout


def test_all_mass_cancel_reaches_orders_of_earlier_connections(sim_proc: SimProc, tmp_path: Path) -> None:
    """The ops story of DESIGN.md: a strategy died; pull its orders from a new connection (only 530=7 can)."""
    env = sim_proc.env(tmp_path)
    sent = kfx("send", "-s", "ETH/USD", "--side", "buy", "-q", "0.01", "--price", "100.00", "-o", "json", env=env)
    assert sent.exit_status == 0, sent.output
    placed = json.loads(sent.stdout.strip().splitlines()[-1])
    r = kfx("mass-cancel", "--all", "--yes", "-o", "json", "--quiet", "0.5", env=env)
    assert r.exit_status == 0, r.output
    report = json.loads(r.stdout.splitlines()[-1])
    assert str(placed["clordid"]) in {o["clordid"] for o in report["orders"]}
    # Nothing left: a second pass cancels nothing and still exits 0 (zero reports is valid, SPEC §10.5).
    r = kfx("mass-cancel", "--all", "--yes", "-o", "compact", "--quiet", "0.5", env=env)
    assert r.exit_status == 0, r.output


def test_symbol_and_session_scopes_say_they_reach_only_this_connection(tmp_path: Path) -> None:
    """530=1/530=6 reach only orders created or replaced on the sending session (SPEC §6.8)."""
    r = kfx("mass-cancel", "--help", env=base_env(tmp_path))
    assert r.exit_status == 0, r.output
    assert "from any session" in " ".join(r.stdout.split())
    assert "every open order on SYMBOL on the account" not in " ".join(r.stdout.split())
    from krakenfix_cli.ops.mass_cancel import describe_scope

    assert describe_scope("symbol", "BTC/USD") == (
        "every open BTC/USD order created or replaced on this connection (530=1)")
    assert "any session" not in describe_scope("session", None)
    assert "from any session" in describe_scope("all", None)


def test_mass_cancel_without_a_terminal_or_yes_refuses_with_exit_2(sim_proc: SimProc, tmp_path: Path) -> None:
    r = kfx("mass-cancel", "--symbol", "BTC/USD", env=sim_proc.env(tmp_path))
    assert r.exit_status == 2
    assert "pass --yes to confirm" in r.stderr
    assert r.stdout == ""


def test_mass_cancel_needs_exactly_one_scope(tmp_path: Path) -> None:
    r = kfx("mass-cancel", "--all", "--symbol", "BTC/USD", "--yes", env=base_env(tmp_path))
    assert r.exit_status == 2
    assert "exclude each other" in r.stderr


def test_mass_cancel_dry_run_prints_the_q(tmp_path: Path) -> None:
    r = kfx("mass-cancel", "--symbol", "BTC/USD", "--dry-run", "-o", "raw", env=base_env(tmp_path))
    assert r.exit_status == 0, r.output
    line = r.stdout.strip()
    assert line.startswith("35=q|") and "55=BTC/USD|" in line and line.endswith("530=1|")


def test_mass_cancel_of_an_unknown_symbol_is_rejected_exit_1(sim_proc: SimProc, tmp_path: Path) -> None:
    r = kfx("mass-cancel", "--symbol", "DOGE/XYZ", "--yes", "-o", "compact", env=sim_proc.env(tmp_path))
    assert r.exit_status == 1, r.output
    assert "mass cancel rejected: BusinessMessageReject(j)" in r.stderr


# -- a gateway that answers OrderStatusRequest(H) with the order's own ClOrdID (FIX 4.4 allows it) -----------------
@pytest.fixture
def own_clordid_sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimThread]:
    from krakenfix_cli.sim import gateway as gw

    def on_status(self: gw.TradingHandler, msg: Message, now: float) -> None:
        o = self._find(msg)
        if o is None:
            self._reject(msg, 101, f"Unknown order {msg.get(37)}")
            return
        self._send_er(gw.execution_report(self.venue, o, "I", now, clordid=o.clordid))  # not our request id

    monkeypatch.setattr(gw.TradingHandler, "on_status", on_status)
    sim = SimThread()
    yield sim
    sim.close()


def _journalled_order(sim: SimThread, tmp_path: Path) -> str:
    r = kfx("send", "-s", "BTC/USD", "--side", "buy", "-q", "0.01", "--price", "1000.0", "-o", "json",
            env=sim.env(tmp_path))
    assert r.exit_status == 0, r.output
    return str(json.loads(r.stdout.strip().splitlines()[-1])["order_id"])


def test_survivor_check_matches_a_status_answer_by_order_id(
        own_clordid_sim: SimThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The q misses an order (as 530=1/530=6 miss another session's): H finds it open, by 37, and it is exit 1."""
    from krakenfix_cli.sim import gateway as gw

    monkeypatch.setattr(gw.TradingHandler, "on_mass_cancel", lambda self, msg, now: None)  # before the handler
    order_id = _journalled_order(own_clordid_sim, tmp_path)
    r = kfx("mass-cancel", "--all", "--yes", "-o", "json", "--quiet", "0.3", "--timeout", "30",
            env=own_clordid_sim.env(tmp_path))
    assert r.exit_status == 1, r.output
    report = json.loads(r.stdout.strip().splitlines()[-1])
    assert len(report["survivors"]) == 1
    assert "did not answer" not in r.stderr
    assert "1 order(s) in scope survived the mass cancel" in r.stderr
    assert order_id


def test_an_order_already_closed_ends_the_survivor_wait(own_clordid_sim: SimThread, tmp_path: Path) -> None:
    """A journalled order closed elsewhere (cancel-on-disconnect, the UI): its 'closed' answer ends the wait."""
    order_id = _journalled_order(own_clordid_sim, tmp_path)
    venue = own_clordid_sim.sim.gateway.venue(False)

    def close_it() -> None:
        o = next(o for o in venue.orders.values() if o.order_id == order_id)
        venue.books[o.symbol].cancel(o)

    own_clordid_sim.run(close_it)
    r = kfx("mass-cancel", "--all", "--yes", "-o", "json", "--quiet", "0.3", "--timeout", "30",
            env=own_clordid_sim.env(tmp_path))
    assert r.exit_status == 0, r.output
    assert "did not answer" not in r.stderr  # answered "canceled" by OrderID, not waited out
    assert json.loads(r.stdout.strip().splitlines()[-1])["survivors"] == []


def test_mass_cancel_shows_each_report_and_calls_out_a_fill(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each ExecutionReport is printed as it arrives; one that is not a cancellation (a fill) is named."""
    from krakenfix_cli.sim import gateway as gw

    original = gw.TradingHandler.on_mass_cancel

    def fill_then_cancel(self: gw.TradingHandler, msg: Message, now: float) -> None:
        o = next(o for o in self.venue.orders.values() if o.is_open and o.account == self.comp.account)
        self._send_er(gw.execution_report(self.venue, o, "F", now, status="1"))  # a fill racing the q
        original(self, msg, now)

    monkeypatch.setattr(gw.TradingHandler, "on_mass_cancel", fill_then_cancel)
    sim = SimThread()
    try:
        place_orders(sim.port, sim.sim.credentials.api_key, sim.sim.credentials.api_secret.reveal(),
                     [resting_buy(), resting_buy(price="1001.0")])
        r = kfx("mass-cancel", "--all", "--yes", "-o", "compact", "--quiet", "0.5", env=sim.env(tmp_path))
    finally:
        sim.close()
    assert r.exit_status == 0, r.output
    cancels = [line for line in r.stdout.splitlines() if "< ExecutionReport" in line and "Canceled" in line]
    assert len(cancels) == 2
    assert "during the mass cancel: ExecutionReport Trade (fill) for" in r.stderr
    assert "2 orders cancelled" in r.stdout
