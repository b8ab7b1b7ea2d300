"""The REPL's order forms run the pre-send check (cached InstrumentList only), in a pseudo-terminal
against the embedded simulator: a refusal is one line and nothing is sent; a valid order goes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")


def loose(text: str) -> str:
    """A regex for ``text`` that tolerates ANSI codes between its words."""
    return r"(?:\s|\x1b\[[0-9;?]*[A-Za-z])+".join(re.escape(part) for part in text.split(" "))


def test_off_tick_and_too_small_orders_are_refused_before_sending_and_a_valid_one_goes() -> None:
    home = tempfile.mkdtemp(prefix="krakenfix-repl-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KRAKENFIX_")}
    env.update(TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1", COLUMNS="160", LINES="40", NO_COLOR="1",
               KRAKENFIX_STATE_DIR=os.path.join(home, "state"), KRAKENFIX_CONFIG_DIR=os.path.join(home, "config"))
    cached = subprocess.run([sys.executable, "-m", "krakenfix_cli", "instruments", "--sim", "-o", "json"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert cached.returncode == 0, cached.stderr
    child = pexpect.spawn(sys.executable, ["-m", "krakenfix_cli", "repl", "--sim", "--output", "compact"], env=env,
                          dimensions=(40, 160), encoding="utf-8", timeout=20)
    try:
        child.expect(loose("logged on:"))
        child.expect("fix>")
        child.sendline("buy 0.01 BTC/USD @ 50000.03")
        child.expect(loose("price 50000.03 is not on BTC/USD's tick size 0.1 (TickSize 5022): use 50000.0 or "
                           "50000.1; nothing was sent"))
        child.expect("fix>")
        child.sendline("sell 0.00001 BTC/USD @ 90000")
        child.expect(loose("quantity 0.00001 is below BTC/USD's minimum 0.0001"))
        child.expect("fix>")
        child.sendline("buy 0.01 BTC/USD @ 1000.1")
        child.expect(r"#1 buy 0\.01 BTC/USD")
        child.expect("fix>")
        child.sendline("orders")
        child.expect(r"#1\s+\d+\s+buy")
        assert "#2" not in str(child.before)  # the refused orders were never rows
        child.sendline("quit")
        child.expect(pexpect.EOF)
    finally:
        if child.isalive():
            child.terminate(force=True)
    logs = [os.path.join(home, "state", "logs", n) for n in os.listdir(os.path.join(home, "state", "logs"))
            if "KRAKEN-TRD.messages" in n]
    sent = [line for p in logs for line in Path(p).read_text(encoding="latin-1").splitlines()
            if "\x0135=D\x01" in line]
    assert len(sent) == 1 and "\x0144=1000.1\x01" in sent[0]  # only the valid order reached the simulator


def test_the_repls_own_instrument_list_fills_the_cache_its_order_forms_check_against() -> None:
    """No `krakenfix instruments` first: the list the REPL fetches at logon is the one it checks with."""
    home = tempfile.mkdtemp(prefix="krakenfix-repl-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KRAKENFIX_")}
    env.update(TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1", COLUMNS="160", LINES="40", NO_COLOR="1",
               KRAKENFIX_STATE_DIR=os.path.join(home, "state"), KRAKENFIX_CONFIG_DIR=os.path.join(home, "config"))
    child = pexpect.spawn(sys.executable, ["-m", "krakenfix_cli", "repl", "--sim", "--output", "compact"], env=env,
                          dimensions=(40, 160), encoding="utf-8", timeout=20)
    try:
        child.expect(loose("instruments from InstrumentList(y) ready for completion"))
        child.sendline("buy 0.01 BTC/USD @ 50000.03")
        child.expect(loose("price 50000.03 is not on BTC/USD's tick size 0.1"))
        child.sendline("quit")
        child.expect(pexpect.EOF)
    finally:
        if child.isalive():
            child.terminate(force=True)
    assert list(Path(home, "state", "instruments").glob("*.json"))
