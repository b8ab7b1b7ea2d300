"""``book``'s live view in a pseudo-terminal (pexpect) at two sizes: it fits the terminal it is in."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "ops"))
from cli_harness import SimThread, krakenfix_argv

from krakenfix_cli.cli.book_view import CHROME_LINES

pexpect = pytest.importorskip("pexpect")

SYMBOL = "BTC/USD"
ROW = re.compile(r"^\s*[\d.]+(\s+[\d.]+){3,5}\s*$")


@pytest.fixture(scope="module")
def sim() -> Iterator[SimThread]:
    s = SimThread(flow_interval=None)  # a still book: every redraw is the same frame
    yield s
    s.close()


def _first_frame(sim: SimThread, home: Path, rows: int, cols: int) -> list[str]:
    env = sim.env(home, TERM="xterm")
    env.pop("COLUMNS", None)  # the terminal's own size, as a user has it
    argv = krakenfix_argv()
    child = pexpect.spawn(argv[0], [*argv[1:], "book", SYMBOL], env=env, dimensions=(rows, cols), timeout=60)
    try:
        child.expect(r"connection: [^\r\n]*\r\n")
        child.expect(r"\r\x1b\[2K")  # the next redraw starts: the frame before it is complete
        frame = child.before.decode()
        child.sendintr()
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
    return [re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", line).rstrip() for line in frame.split("\r\n")]



def test_a_wide_tall_terminal_shows_the_whole_depth_with_cumulative_sizes(sim: SimThread, tmp_path: Path) -> None:
    lines = _first_frame(sim, tmp_path, 30, 120)
    assert "bid cum" in lines[0] and "ask cum" in lines[0], lines
    assert len([line for line in lines if ROW.match(line)]) == 10, lines


def test_a_small_terminal_gets_fewer_rows_and_no_cumulative_columns(sim: SimThread, tmp_path: Path) -> None:
    lines = _first_frame(sim, tmp_path, 14, 60)
    assert "bid size" in lines[0] and "bid cum" not in lines[0], lines
    assert len([line for line in lines if ROW.match(line)]) == 14 - CHROME_LINES, lines
    assert all(len(line) <= 60 for line in lines), lines
