"""``krakenfix send`` end to end, as a subprocess against a simulator on 127.0.0.1."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "ops"))
from cli_harness import SimProc, kfx, place_orders, resting_buy, sim_proc, start_sim_proc

__all__ = ["sim_proc"]


def _result(stdout: str) -> dict[str, object]:
    line = stdout.strip().splitlines()[-1]
    obj = json.loads(line)
    assert isinstance(obj, dict)
    return obj


def test_limit_order_is_accepted_and_exits_0(sim_proc: SimProc, tmp_path: Path) -> None:
    r = kfx("send", "--symbol", "BTC/USD", "--side", "buy", "--qty", "0.01", "--price", "1000.0",
            "-o", "compact", env=sim_proc.env(tmp_path))
    assert r.exit_status == 0, r.output
    assert "< ExecutionReport" in r.stdout and "status=New" in r.stdout
    assert "accepted: ClOrdID" in r.stdout


def test_clordid_keeps_increasing_across_runs_and_is_journalled(sim_proc: SimProc, tmp_path: Path) -> None:
    env = sim_proc.env(tmp_path)
    ids = []
    for _ in range(2):
        r = kfx("send", "-s", "BTC/USD", "--side", "buy", "-q", "0.01", "--price", "1000.0", "-o", "json", env=env)
        assert r.exit_status == 0, r.output
        ids.append(int(str(_result(r.stdout)["clordid"])))
    assert ids[1] > ids[0]
    journal = (tmp_path / "state" / "orders.jsonl").read_text()
    assert str(ids[0]) in journal and str(ids[1]) in journal


def test_tick_size_violation_is_rejected_with_exit_1(sim_proc: SimProc, tmp_path: Path) -> None:
    r = kfx("send", "-s", "BTC/USD", "--side", "buy", "-q", "0.01", "--price", "1000.05", "-o", "compact",
            env=sim_proc.env(tmp_path))
    assert r.exit_status == 1, r.output
    assert "< BusinessMessageReject" in r.stdout
    assert "krakenfix: error: rejected: BusinessMessageReject(j): EOrder:Tick size check failed" in r.stderr


def test_post_only_that_would_take_is_rejected_with_exit_1(sim_proc: SimProc, tmp_path: Path) -> None:
    r = kfx("send", "-s", "BTC/USD", "--side", "buy", "-q", "0.01", "--price", "90000.0", "--post-only",
            "-o", "compact", env=sim_proc.env(tmp_path))
    assert r.exit_status == 1, r.output
    assert "cancelled by the engine right after the acknowledgement" in r.stderr


def test_raw_message_with_bad_clordid_gets_session_reject_exit_1(sim_proc: SimProc, tmp_path: Path) -> None:
    r = kfx("send", "--raw", "35=D|11=abc|38=0.01|40=2|44=1000|54=1|55=BTC/USD|59=1", "-o", "raw",
            env=sim_proc.env(tmp_path))
    assert r.exit_status == 1, r.output
    assert "35=3|" in r.stdout
    assert "session Reject(3)" in r.stderr


def test_market_order_waits_for_the_fill(sim_proc: SimProc, tmp_path: Path) -> None:
    r = kfx("send", "-s", "BTC/USD", "--side", "buy", "-q", "0.001", "--type", "market", "--wait", "fill",
            "-o", "json", env=sim_proc.env(tmp_path))
    assert r.exit_status == 0, r.output
    res = _result(r.stdout)
    assert res["result"] == "ok" and res["ord_status"] == "2"


def test_dry_run_prints_the_message_without_connecting(tmp_path: Path) -> None:
    from cli_harness import base_env

    r = kfx("send", "-s", "BTC/USD", "--side", "sell", "-q", "0.5", "--price", "65000.5", "--stp", "cancel-oldest",
            "--alloc-account", "SUB1", "--dry-run", "-o", "raw", "--port", "9", env=base_env(tmp_path))
    assert r.exit_status == 0, r.output
    line = r.stdout.strip()
    assert line.startswith("35=D|11=")
    for part in ("38=0.5|", "44=65000.5|", "54=2|", "55=BTC/USD|", "78=1|79=SUB1|", "7928=2|"):
        assert part in line


def test_missing_order_options_is_a_usage_error(tmp_path: Path) -> None:
    from cli_harness import base_env

    r = kfx("send", "-s", "BTC/USD", "--dry-run", env=base_env(tmp_path))
    assert r.exit_status == 2
    assert r.stderr.startswith("krakenfix: error: missing --side, --qty")


def test_limit_order_without_price_is_a_usage_error(tmp_path: Path) -> None:
    from cli_harness import base_env

    r = kfx("send", "-s", "BTC/USD", "--side", "buy", "-q", "1", "--dry-run", env=base_env(tmp_path))
    assert r.exit_status == 2
    assert "needs a price" in r.stderr
    assert "Traceback" not in r.output


def test_order_that_never_fills_times_out_with_exit_4(sim_proc: SimProc, tmp_path: Path) -> None:
    r = kfx("send", "-s", "BTC/USD", "--side", "buy", "-q", "0.01", "--price", "1000.0", "--wait", "fill",
            "--timeout", "1", "-o", "compact", env=sim_proc.env(tmp_path))
    assert r.exit_status == 4, r.output
    assert "krakenfix: error: timed out: no fill within 1 s; last status OrdStatus(39)=0" in r.stderr


def test_an_order_past_the_pairs_limits_says_what_to_do(tmp_path: Path) -> None:
    """Starter tier: 60 resting orders fill both the rate counter and the open-order cap (SPEC §9)."""
    sim = start_sim_proc(tmp_path / "sim", "--rate-limit", "starter")
    try:
        assert "Spot trading limits: starter tier" in (tmp_path / "sim" / "sim.out").read_text()
        place_orders(sim.port, sim.api_key, sim.api_secret,
                     [resting_buy(price=f"{1000 + i}.0") for i in range(60)], sender="KFXCLIENT")
        r = kfx("send", "-s", "BTC/USD", "--side", "buy", "-q", "0.01", "--price", "999.0", "-o", "compact",
                env=sim.env(tmp_path))
        assert r.exit_status == 1, r.output
        assert "krakenfix: error: rejected: BusinessMessageReject(j): EOrder:" in r.stderr
        assert "rate counter is full" in r.stderr or "maximum of open orders on this pair" in r.stderr, r.stderr
    finally:
        sim.stop()


def test_gtd_effective_and_valid_until_times_are_sent_as_typed(sim_proc: SimProc, tmp_path: Path) -> None:
    env = sim_proc.env(tmp_path)
    r = kfx("send", "-s", "BTC/USD", "--side", "buy", "-q", "0.01", "--price", "1000.0", "--tif", "gtd",
            "--expire-time", "+2h", "--valid-until", "+30s", "-o", "raw", "--dry-run", env=env)
    assert r.exit_status == 0, r.output
    assert "|59=6|" in r.stdout and "|126=" in r.stdout and "|62=" in r.stdout
    gtd = kfx("send", "-s", "BTC/USD", "--side", "buy", "-q", "0.01", "--price", "1000.0", "--tif", "gtd",
              "--expire-time", "2099-01-01T00:00:00Z", "-o", "json", env=env)
    assert gtd.exit_status == 2 and "month ahead" in gtd.stderr  # Kraken's one-month cap, caught before sending
    gtd = kfx("send", "-s", "BTC/USD", "--side", "buy", "-q", "0.01", "--price", "1000.0", "--tif", "gtd",
              "--expire-time", "+1d", "-o", "json", env=env)
    assert gtd.exit_status == 0, gtd.output
    later = kfx("send", "-s", "BTC/USD", "--side", "buy", "-q", "0.01", "--price", "1000.0",
                "--effective-time", "+1h", "-o", "json", env=env)
    assert later.exit_status == 0, later.output
    assert _result(later.stdout)["ord_status"] == "A"  # Pending New until its EffectiveTime


def test_an_unreadable_time_is_a_usage_error(sim_proc: SimProc, tmp_path: Path) -> None:
    r = kfx("send", "-s", "BTC/USD", "--side", "buy", "-q", "0.01", "--price", "1000.0", "--tif", "gtd",
            "--expire-time", "tomorrow", env=sim_proc.env(tmp_path))
    assert r.exit_status == 2
    assert "--expire-time: cannot read the time 'tomorrow'" in r.stderr
