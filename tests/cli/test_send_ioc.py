"""An IOC's cancelled remainder is the normal IOC outcome, not a rejection (issue 9 §4)."""

from __future__ import annotations

import re

from run import run_cli

from krakenfix_cli.cli.exit import EXIT_TABLE, ExitStatus


def test_an_ioc_that_fills_in_part_reports_the_fill_and_exits_0() -> None:
    # A market buy far larger than the simulator's book: some fills, the remainder is cancelled.
    r = run_cli("send", "--sim", "--symbol", "BTC/USD", "--side", "buy", "-q", "1000", "--type", "market",
                "--tif", "ioc", "-o", "compact")
    assert r.exit_status == 0, r.output
    m = re.search(r"filled ([0-9.]+) of 1000 \(IOC: the remainder was cancelled\)", r.stdout)
    assert m is not None and 0 < float(m.group(1)) < 1000, r.stdout
    assert "rejected" not in r.output


def test_an_ioc_that_fills_nothing_exits_6_saying_so() -> None:
    # A limit buy far below the best ask: nothing can fill at once.
    r = run_cli("send", "--sim", "--symbol", "BTC/USD", "--side", "buy", "-q", "0.01", "--price", "50000",
                "--tif", "ioc", "-o", "compact")
    assert r.exit_status == ExitStatus.NOT_FILLED == 6, r.output
    assert "not filled: IOC: nothing filled of 0.01" in r.stdout
    assert "rejected" not in r.output


def test_the_not_filled_code_is_documented() -> None:
    from pathlib import Path

    assert (ExitStatus.NOT_FILLED, "an IOC/FOK order filled nothing (send)") in EXIT_TABLE
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    assert "| 6 |" in readme
