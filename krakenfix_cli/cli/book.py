"""``krakenfix book SYMBOL``: the live order book from the market-data session, checksum-verified."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from krakenfix_cli.cli.options import (
    DEFAULT_TIMEOUT,
    OUTPUT,
    CaFile,
    Host,
    Insecure,
    Port,
    Profile,
    SenderCompId,
    Sim,
    StateDir,
    Timeout,
    Tls,
    seconds,
)

HELP = """Show SYMBOL's order book live, from the market-data session.

Logs on with the SenderCompID alone (no API key) to the profile's market-data twin
(`<profile>-md`; --port is that session's port), asks the InstrumentList for the pair's
precisions, subscribes (MarketDataRequest, snapshot plus updates) and applies every update
in order. Each update's ChecksumOrderBook(5041) is verified; a mismatch is counted, shown
and repaired by a fresh snapshot. The subscription is renewed after a dropped connection and
after the daily rollover. The view redraws in place and follows the terminal's size.
--once prints one snapshot, verified by the first checksummed update, and exits 0 (4 when
none came within --timeout). Ctrl-C exits 0.
"""


class BookOutput(StrEnum):
    """``book -o``."""

    PRETTY = "pretty"
    COMPACT = "compact"
    JSON = "json"


class Depth(StrEnum):
    """MarketDepth(264) choices (SPEC §7.1)."""

    D10 = "10"
    D25 = "25"
    D100 = "100"
    D500 = "500"
    D1000 = "1000"


def book(
    symbol: Annotated[str, typer.Argument(help="The pair, as the gateway spells it: BTC/USD, PF_XBTUSD.",
                                          show_default=False)],
    depth: Annotated[Depth, typer.Option("--depth", "-d", help="Levels a side (MarketDepth(264)).")] = Depth.D10,
    once: Annotated[bool, typer.Option("--once", help="Print one verified snapshot and exit.")] = False,
    l3: Annotated[bool, typer.Option(
        "--l3", help="Level 3 (266=N): one entry per order, Derivatives only; no trades.")] = False,
    duration: Annotated[float | None, typer.Option(
        "--duration", parser=seconds("--duration"), show_default=False, metavar="SECONDS",
        help="Stop after this long.")] = None,
    profile: Profile = None,
    host: Host = None,
    port: Port = None,
    tls: Tls = None,
    insecure: Insecure = False,
    ca_file: CaFile = None,
    sender_comp_id: SenderCompId = None,
    state_dir: StateDir = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
    sim: Sim = False,
    output: Annotated[BookOutput, typer.Option(
        "--output", "-o", case_sensitive=False, rich_help_panel=OUTPUT,
        help="pretty: the live view; compact: one line per update; json: snapshots and updates, one object "
             "per line.")] = BookOutput.PRETTY,
) -> None:
    """Show the live order book."""
    from krakenfix_cli.cli.market import run_market

    run_market(symbol, int(depth.value), once=once, l3=l3, duration=duration, output=output.value, trades_only=False,
               flags=dict(profile=profile, host=host, port=port, tls=tls, insecure=insecure, ca_file=ca_file,
                          sender_comp_id=sender_comp_id, state_dir=state_dir), timeout=timeout, sim=sim)


def register(app: typer.Typer) -> None:
    """Add ``book`` to ``app``."""
    app.command("book", help=HELP)(book)
