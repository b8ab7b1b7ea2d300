"""``krakenfix trades SYMBOL``: stream the pair's trades from the market-data session."""

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

HELP = """Stream SYMBOL's trades (time, taker side, price, size) from the market-data session.

Logs on with the SenderCompID alone (no API key) to the profile's market-data twin
(`<profile>-md`; --port is that session's port) and subscribes to the pair (Kraken
subscribes bids and offers with trades, so the top of the book comes along unseen). The
subscription is renewed after a dropped connection and after the daily rollover.
Ctrl-C exits 0.
"""


class TradesOutput(StrEnum):
    """``trades -o``."""

    COMPACT = "compact"
    JSON = "json"


def trades(
    symbol: Annotated[str, typer.Argument(help="The pair, as the gateway spells it: BTC/USD, PF_XBTUSD.",
                                          show_default=False)],
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
    output: Annotated[TradesOutput, typer.Option(
        "--output", "-o", case_sensitive=False, rich_help_panel=OUTPUT,
        help="compact: one line per trade; json: one object per trade.")] = TradesOutput.COMPACT,
) -> None:
    """Stream trades."""
    from krakenfix_cli.cli.market import run_market

    run_market(symbol, 10, once=False, l3=False, duration=duration, output=output.value, trades_only=True,
               flags=dict(profile=profile, host=host, port=port, tls=tls, insecure=insecure, ca_file=ca_file,
                          sender_comp_id=sender_comp_id, state_dir=state_dir), timeout=timeout, sim=sim)


def register(app: typer.Typer) -> None:
    """Add ``trades`` to ``app``."""
    app.command("trades", help=HELP)(trades)
