"""The real REPL in a pseudo-terminal (pexpect) against the embedded simulator.

Each test spawns ``python -m krakenfix_cli repl --sim`` (40x160, TERM=xterm), types as a
user would and matches the screen with ANSI-tolerant regexes. No sleeps: every step waits
for the text it needs (pexpect's timeout only bounds a hang).
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

ANSI = r"(?:\x1b\[[0-9;?]*[A-Za-z])*"


def loose(text: str) -> str:
    """A regex for ``text`` that tolerates ANSI codes between its characters' words."""
    return r"(?:\s|\x1b\[[0-9;?]*[A-Za-z])+".join(re.escape(part) for part in text.split(" "))


def _argv() -> list[str]:
    from krakenfix_cli.cli import app

    if "repl" in app.COMMANDS:
        return ["-m", "krakenfix_cli", "repl"]
    return ["-m", "krakenfix_cli.cli.repl"]  # until cli/app.py registers `repl`


class Repl:
    """A spawned REPL and a few verbs to drive it."""

    def __init__(self, *args: str) -> None:
        home = tempfile.mkdtemp(prefix="krakenfix-repl-")
        env = {k: v for k, v in os.environ.items() if not k.startswith("KRAKENFIX_")}
        env.update(TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1", COLUMNS="160", LINES="40",
                   KRAKENFIX_STATE_DIR=os.path.join(home, "state"), KRAKENFIX_CONFIG_DIR=os.path.join(home, "config"))
        self.home = home
        self.child = pexpect.spawn(sys.executable, [*_argv(), "--sim", *args], env=env, dimensions=(40, 160),
                                   encoding="utf-8", timeout=20)
        self.child.expect(loose("logged on:"))
        self.prompt()

    def prompt(self) -> None:
        self.child.expect(r"fix>")

    def run(self, line: str, *expect: str) -> str:
        self.child.sendline(line)
        for pattern in expect:
            self.child.expect(pattern)
        return str(self.child.before) + str(self.child.after)

    def quit(self) -> int:
        self.child.sendline("quit")
        self.child.expect(pexpect.EOF)
        self.child.close()
        return int(self.child.exitstatus)


@pytest.fixture
def repl() -> Iterator[Repl]:
    r = Repl("--output", "compact")
    yield r
    if r.child.isalive():
        r.child.terminate(force=True)


def test_order_short_form_is_acknowledged_and_filled(repl: Repl) -> None:
    repl.run("buy 0.01 BTC/USD market", r"ExecutionReport" + ANSI + r".*New", r"Trade", r"#1 buy 0\.01 BTC/USD market"
             + ANSI + r": filled")
    repl.run("orders", r"#1" + r"\s+\d+\s+buy\s+0\.01\s+BTC/USD\s+market\s+filled")
    assert repl.quit() == 0


def test_cancel_by_index_a_resting_order(repl: Repl) -> None:
    repl.run("sell 0.5 ETH/USD @ 999999 post-only", r"#1 sell 0\.5 ETH/USD @ 999999" + ANSI + ": new OrderID")
    repl.run("cancel 1", r"OrderCancelRequest", r"cancel #1" + ANSI + ": canceled")
    repl.run("orders open", loose("no open orders"))
    assert repl.quit() == 0


def test_mass_cancel_asks_and_counts(repl: Repl) -> None:
    repl.run("buy 0.01 BTC/USD @ 1000", r"#1 .*: new")
    repl.run("buy 0.02 BTC/USD @ 1001", r"#2 .*: new")
    repl.run("mass-cancel symbol BTC/USD",
             loose("mass cancel: every open BTC/USD order created or replaced on this connection (530=1)"),
             loose("Type yes to go on:"))
    repl.run("yes", r"OrderMassCancelRequest", r"mass cancel done: 2 orders cancelled")
    repl.run("orders open", loose("no open orders"))
    assert repl.quit() == 0


def test_mass_cancel_not_confirmed_sends_nothing(repl: Repl) -> None:
    repl.run("mass-cancel all", loose("Type yes to go on:"))
    repl.run("no", loose("not confirmed; nothing was sent"))
    assert repl.quit() == 0


def test_symbols_complete_from_the_gateways_instrument_list(repl: Repl) -> None:
    """A trading REPL asks the market-data twin for InstrumentList(y): the simulator lists BTC/USD
    and ETH/USD only, so BTC/ completes to BTC/USD alone (the built-in list also had BTC/EUR)."""
    repl.child.expect(loose("2 instruments from InstrumentList(y) ready for completion"))
    repl.child.send("buy 0.01 BTC/")
    repl.child.send("\t")
    repl.child.expect(r"BTC/USD")
    repl.child.send("\x03")
    assert repl.quit() == 0


def test_tab_completes_a_tag_name_and_an_enum_value(repl: Repl) -> None:
    child = repl.child
    child.send("raw 35=D|OrdTy")
    child.send("\t")
    child.expect(r"40 OrdType")
    child.send("\x03")  # Ctrl-C clears the line, the REPL stays
    child.send("raw 35=D|40=")
    child.send("\t")
    child.expect(r"1 \(Market\)")
    child.expect(r"2 \(Limit\)")
    child.send("\x03")
    child.send("raw 35=D|54=")
    child.send("\t")
    child.expect(r"1 \(Buy\)")
    child.expect(r"2 \(Sell\)")
    child.send("\x03")
    assert repl.quit() == 0


def test_unknown_command_is_one_line_and_the_prompt_survives(repl: Repl) -> None:
    repl.run("frobnicate", loose("error: unknown command 'frobnicate'; `help` lists the commands"))
    repl.run("help", r"Commands", r"F2\s+Cycle the output mode")
    assert repl.quit() == 0


def test_reconnect_keeps_sequence_numbers(repl: Repl) -> None:
    repl.run("buy 0.01 BTC/USD @ 1000", r"#1 .*: new")
    repl.run("reconnect", loose("connection lost"), loose("reconnected"))
    repl.run("seq", r"next outbound MsgSeqNum\(34\) \d+, next inbound \d+")
    assert repl.quit() == 0


def test_survives_a_forced_rollover_and_trades_after_it() -> None:
    r = Repl("--output", "compact", "--sim-rollover-every", "4")
    try:
        r.child.expect(loose("reconnected after the rollover"))  # a fresh period: the order beats the next one
        r.run("buy 0.01 BTC/USD @ 1000", r"#1 .*: new")
        r.child.expect(loose("gateway sent Logout(5): session rollover"))
        r.child.expect(loose("reconnected after the rollover"))
        # Reports in flight at a rollover cannot be resent: the REPL asks for open orders' states.
        r.child.expect(loose("asking the status of 1 open order(s)"))
        r.child.expect(r"ExecutionReport" + ANSI + r".*Order Status")
        r.child.expect(r"status #1" + ANSI + r": new")
        r.run("buy 0.01 BTC/USD market", r"#2 .*: filled")
        assert r.quit() == 0
    finally:
        if r.child.isalive():
            r.child.terminate(force=True)


def test_a_gap_shows_each_execution_report_once_and_in_order(repl: Repl) -> None:
    """Lower the expected inbound number: the next report arrives ahead of a gap.

    The engine queues it and asks for a resend from the gap; the gateway resends the
    reports already shown (PossDup) and then the queued one. Each ExecID must appear
    once, and the queued report only after the gap is filled (it used to be shown as
    it arrived on the wire, then again after the resend).
    """
    seen = io.StringIO()
    repl.child.logfile_read = seen
    repl.run("buy 0.01 BTC/USD market", r"#1 .*: filled")
    repl.run("seq", r"next inbound (\d+)")
    expected = int(repl.child.match.group(1))
    repl.run(f"seq in {expected - 2}", rf"next inbound {expected - 2}\b")
    repl.run("buy 0.02 BTC/USD @ 1000", loose("gap: expected MsgSeqNum(34)"), loose("gap filled"), r"#2 .*: new")
    repl.run("orders", r"#2\s+\d+\s+buy\s+0\.02\s+BTC/USD")
    assert repl.quit() == 0
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\r", "", seen.getvalue())
    exec_ids = re.findall(r"ExecutionReport .*?\b17=(\S+)", plain)
    assert len(exec_ids) == 3, plain  # New and Trade for #1, New for #2
    assert len(set(exec_ids)) == len(exec_ids), plain
    assert plain.index("gap filled") < plain.rindex("ExecutionReport"), plain


def test_good_till_date_and_pending_new_orders_from_the_short_form(repl: Repl) -> None:
    repl.run("buy 0.01 BTC/USD @ 1000 until +1h", r"NewOrderSingle.*59=6.*126=", r"#1 .*: new")
    repl.run("buy 0.01 BTC/USD @ 1001 start +1h", r"NewOrderSingle.*168=", r"#2 .*: pending-new")
    repl.run("buy 0.01 BTC/USD @ 1002 until soon", loose("error: cannot read the time 'soon'"))
    assert repl.quit() == 0


def test_amend_repeats_time_in_force_expiry_and_post_only(repl: Repl) -> None:
    """A G restates the order (SPEC §6.6): a GTD post-only order stays GTD (59=6, 126) and post-only (18=P)."""
    repl.run("buy 0.01 BTC/USD @ 1000 post-only until +1h", r"NewOrderSingle[^\n]*18=P[^\n]*126=(\d{8}-[\d:]{8})")
    expire = repl.child.match
    repl.child.expect(r"#1 .*: new")
    repl.run("amend 1 price 1001", r"OrderCancelReplaceRequest[^\n]*18=P[^\n]*44=1001[^\n]*59=6[^\n]*126="
             + re.escape(expire.group(1)), r"amend #1" + ANSI + ": ")
    assert repl.quit() == 0


def test_status_asks_about_an_order_of_another_connection(tmp_path: Path) -> None:
    """On Spot, OrderStatusRequest(H) reaches any order of the account (SPEC §6.7): no F-scope refusal."""
    sys.path.insert(0, str(Path(__file__).parents[1] / "ops"))
    from cli_harness import kfx, start_sim_proc

    sim = start_sim_proc(tmp_path / "sim")
    try:
        env = sim.env(tmp_path)
        sent = kfx("send", "-s", "BTC/USD", "--side", "buy", "-q", "0.01", "--price", "1000.0", "-o", "json", env=env)
        assert sent.exit_status == 0, sent.output
        clordid = str(json.loads(sent.stdout.strip().splitlines()[-1])["clordid"])
        env.update(TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1", COLUMNS="160", LINES="40")
        child = pexpect.spawn(sys.executable, [*_argv(), "--output", "compact"], env=env, dimensions=(40, 160),
                              encoding="utf-8", timeout=20)
        try:
            child.expect(loose("logged on:"))
            child.expect(r"fix>")
            child.sendline(f"status {clordid}")
            child.expect(r"OrderStatusRequest")
            child.expect(r"status " + re.escape(clordid) + ANSI + r": new")
            child.sendline("quit")
            child.expect(pexpect.EOF)
        finally:
            child.terminate(force=True)
    finally:
        sim.stop()


def test_pretty_panels_follow_a_terminal_resize() -> None:
    """A panel is drawn at the terminal's width now, not the width the REPL started with."""
    repl = Repl("--output", "pretty")
    child = repl.child
    try:
        repl.run("buy 0.01 BTC/USD @ 1000", r"#1 .*: new")
        repl.prompt()
        child.setwinsize(40, 48)  # narrower than a panel of this order (about 58 columns)
        child.sendline("buy 0.01 BTC/USD @ 1001")
        child.expect(r"NewOrderSingle")
        child.expect(r"#2 .*: new")
        borders = [len(re.sub(ANSI, "", line).rstrip()) for line in str(child.before).splitlines()
                   if re.sub(ANSI, "", line).lstrip().startswith(("╭", "╰"))]
        assert borders, str(child.before)
        assert max(borders) <= 48
        assert repl.quit() == 0
    finally:
        if child.isalive():
            child.terminate(force=True)


def test_filter_where_shows_only_the_matching_reports(repl: Repl) -> None:
    repl.run("filter where ExecType = Trade", loose("filter: app where ExecType = Trade"))
    seen = io.StringIO()
    repl.child.logfile_read = seen
    repl.run("buy 0.01 BTC/USD market", r"#1 .*: filled")
    repl.run("filter where ExecType = (", loose("error: bad expression at column"))
    assert repl.quit() == 0
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\r", "", seen.getvalue())
    reports = re.findall(r"ExecutionReport \S+ (\w+)", plain)
    assert reports and set(reports) == {"Trade"}, plain
