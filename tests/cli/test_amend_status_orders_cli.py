"""``krakenfix amend``, ``status`` and ``orders`` end to end, as subprocesses against a simulator on 127.0.0.1."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "ops"))
from cli_harness import SimProc, base_env, kfx, sim_proc

__all__ = ["sim_proc"]


def _place(env: dict[str, str], *extra: str, price: str = "1000.0") -> dict[str, str]:
    r = kfx("send", "-s", "BTC/USD", "--side", "buy", "-q", "0.01", "--price", price, *extra, "-o", "raw", env=env)
    assert r.exit_status == 0, r.output
    d = next(line for line in r.stdout.splitlines() if "|35=D|" in line)
    fields = dict(f.split("=", 1) for f in d.strip("|").split("|"))
    er = next(line for line in r.stdout.splitlines() if "|35=8|" in line)
    fields["order_id"] = dict(f.split("=", 1) for f in er.strip("|").split("|"))["37"]
    return fields


def _fields(line: str) -> dict[str, str]:
    return dict(f.split("=", 1) for f in line.strip("|").split("|"))


def test_amend_of_a_gtd_post_only_order_keeps_its_tif_expiry_and_post_only_on_the_wire(
        sim_proc: SimProc, tmp_path: Path) -> None:
    env = sim_proc.env(tmp_path)
    d = _place(env, "--tif", "gtd", "--expire-time", "+2h", "--post-only")
    r = kfx("amend", "--clordid", d["11"], "--price", "990.0", "-o", "raw", env=env)
    g = _fields(next(line for line in r.stdout.splitlines() if "|35=G|" in line))
    assert (g["59"], g["126"], g["18"]) == ("6", d["126"], "P")
    assert (g["44"], g["38"], g["40"], g["54"], g["55"]) == ("990", d["38"], d["40"], d["54"], d["55"])
    assert (g["41"], g["37"]) == (d["11"], d["order_id"]) and g["11"] != d["11"]
    # This process is another connection than the one that placed the order: the simulator refuses
    # the G as Kraken scopes it (35=j), and the command says so with exit 1.
    assert r.exit_status == 1, r.output
    assert "krakenfix: error: amend rejected: BusinessMessageReject(j)" in r.stderr
    assert "amend it from the connection that placed it" in r.stderr


def test_amend_dry_run_prints_the_g_and_sends_nothing(sim_proc: SimProc, tmp_path: Path) -> None:
    env = sim_proc.env(tmp_path)
    d = _place(env, "--tif", "gtd", "--expire-time", "+1h", "--post-only")
    r = kfx("amend", "--order-id", d["order_id"], "--qty", "0.02", "--dry-run", "-o", "raw", env=env)
    assert r.exit_status == 0, r.output
    g = _fields(r.stdout.strip())
    assert (g["35"], g["38"], g["44"], g["59"], g["126"], g["18"]) == ("G", "0.02", "1000", "6", d["126"], "P")
    assert "Logon" not in r.stdout


def test_amend_of_an_unknown_order_without_details_exits_2_with_what_to_give(
        sim_proc: SimProc, tmp_path: Path) -> None:
    r = kfx("amend", "--clordid", "1700000000000001", "--price", "990.0", env=sim_proc.env(tmp_path))
    assert r.exit_status == 2, r.output
    assert r.stdout == ""
    assert r.stderr.strip().splitlines() == [
        "krakenfix: error: the order journal does not know this order; give --order-id, --symbol, --side, --type, "
        "--tif, --qty (a G restates the whole order: its time in force, expiry and post-only flag are not kept "
        "unless sent again); see `krakenfix amend --help`"]


def test_amend_that_contradicts_the_journal_is_refused(sim_proc: SimProc, tmp_path: Path) -> None:
    env = sim_proc.env(tmp_path)
    d = _place(env, "--tif", "gtd", "--expire-time", "+1h")
    r = kfx("amend", "--clordid", d["11"], "--price", "990.0", "--tif", "gtc", "--dry-run", env=env)
    assert r.exit_status == 2, r.output
    assert "--tif gtc differs from the order's TimeInForce(59)=6 in the order journal" in r.stderr


def test_amend_and_status_on_derivatives_are_usage_errors(sim_proc: SimProc, tmp_path: Path) -> None:
    env = sim_proc.env(tmp_path)
    a = kfx("amend", "-p", "sim-derivatives", "--clordid", "x", "--price", "1", env=env)
    s = kfx("status", "-p", "sim-derivatives", "--order-id", "x", "-s", "PF_XBTUSD", env=env)
    assert (a.exit_status, s.exit_status) == (2, 2), a.output + s.output
    assert a.stderr.startswith("krakenfix: error: amend is Spot only")
    assert s.stderr.startswith("krakenfix: error: status is Spot only")


def test_status_of_a_journalled_order_prints_its_state_and_updates_the_journal(
        sim_proc: SimProc, tmp_path: Path) -> None:
    env = sim_proc.env(tmp_path)
    d = _place(env)
    r = kfx("status", "--clordid", d["11"], "-o", "compact", env=env)
    assert r.exit_status == 0, r.output
    assert "> OrderStatusRequest" in r.stdout
    assert r.stdout.strip().splitlines()[-1] == (
        f"{d['11']} (OrderID {d['order_id']}): new, filled 0 of 0.01, leaves 0.01, avg price -")
    j = kfx("status", "--order-id", d["order_id"], "-o", "json", env=env)
    assert j.exit_status == 0, j.output
    obj = json.loads(j.stdout.strip().splitlines()[-1])
    assert (obj["result"], obj["state"], obj["leaves_qty"]) == ("ok", "new", "0.01")


def test_status_of_an_order_the_gateway_does_not_know_exits_1_with_its_text(
        sim_proc: SimProc, tmp_path: Path) -> None:
    r = kfx("status", "--order-id", "ONOPE1-AAAAA-BBBBBB", "-s", "BTC/USD", "-o", "compact",
            env=sim_proc.env(tmp_path))
    assert r.exit_status == 1, r.output
    assert "< BusinessMessageReject" in r.stdout
    assert r.stderr.strip().splitlines()[-1].startswith(
        "krakenfix: error: status refused: BusinessMessageReject(j): Unknown order ONOPE1-AAAAA-BBBBBB")


def test_status_of_an_unknown_clordid_says_what_to_give(sim_proc: SimProc, tmp_path: Path) -> None:
    r = kfx("status", "--clordid", "1700000000000009", env=sim_proc.env(tmp_path))
    assert r.exit_status == 2, r.output
    assert r.stderr.strip() == ("krakenfix: error: the order journal does not know this order; give --order-id and "
                                "--symbol; an OrderStatusRequest(H) needs both")


def test_orders_lists_the_journal_without_credentials_or_a_connection(sim_proc: SimProc, tmp_path: Path) -> None:
    d = _place(sim_proc.env(tmp_path), "--tif", "gtd", "--expire-time", "+1h", "--post-only")
    bare = base_env(tmp_path)  # no profile, key, secret or port: nothing to connect with
    r = kfx("orders", "-o", "json", env=bare)
    assert r.exit_status == 0, r.output
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert [(o["clordid"], o["order_id"], o["state"], o["tif"], o["exec_inst"], o["f_reaches"]) for o in rows] == [
        (d["11"], d["order_id"], "new", "6", "P", False)]
    table = kfx("orders", "--open", "-s", "BTC/USD", env=bare)
    assert table.exit_status == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[1].split()[:4] == ["ClOrdID", "OrderID", "state", "filled"]
    assert lines[2].split()[:8] == [d["11"], d["order_id"], "new", "0/0.01", "BTC/USD", "buy", "1000", "0.01"]
    assert lines[2].split()[-1] == "no"  # no session is held: no F reaches it
    other = kfx("orders", "-s", "ETH/USD", env=bare)
    assert other.exit_status == 0 and other.stdout == "", other.output


def test_orders_refresh_learns_what_happened_behind_the_journals_back(sim_proc: SimProc, tmp_path: Path) -> None:
    env = sim_proc.env(tmp_path)
    d = _place(env)
    # Cancelled from a state dir with another journal: this one still says "new".
    gone = kfx("mass-cancel", "--all", "--yes", "--quiet", "0.5", "-o", "compact", env=sim_proc.env(tmp_path / "b"))
    assert gone.exit_status == 0, gone.output
    stale = kfx("orders", "--open", "-o", "json", env=env)
    assert [json.loads(x)["state"] for x in stale.stdout.splitlines()] == ["new"]
    r = kfx("orders", "--refresh", "-o", "json", env=env)
    assert r.exit_status == 0, r.output
    states = {o["clordid"]: o["state"] for o in map(json.loads, r.stdout.splitlines())}
    assert states[d["11"]] == "canceled"
    assert "asked the status of 1 open order(s): 1 answered" in r.stderr
    after = kfx("orders", "--open", "-o", "json", env=env)
    assert after.exit_status == 0 and after.stdout == "", after.output
