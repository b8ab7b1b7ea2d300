"""What ``book`` and ``trades`` share: resolve the market-data session, run the feed, print it.

Imported inside the command functions only (it pulls in rich, asyncio and the client).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from krakenfix_cli.cli import common
from krakenfix_cli.cli.errors import CliError, register_error
from krakenfix_cli.cli.exit import ExitStatus
from krakenfix_cli.ops.bookfeed import FeedEvent, FeedState, MarketDataRefused

register_error(MarketDataRefused, ExitStatus.REJECTED,
               lambda exc: f"{exc}; check the symbol's spelling (BTC/USD on Spot, PF_XBTUSD on Derivatives)")


def run_market(symbol: str, depth: int, *, once: bool, l3: bool, duration: float | None, output: str,
               trades_only: bool, flags: dict[str, Any], timeout: float, sim: bool) -> None:
    """Run ``book`` (``trades_only=False``) or ``trades`` to its end; exits through typer/CliError."""
    import typer

    from krakenfix_cli.cli import book_view
    from krakenfix_cli.cli.options import get_env
    from krakenfix_cli.ops.bookfeed import run_feed
    from krakenfix_cli.render import Mode
    from krakenfix_cli.render.console import make_console, write_note

    env = get_env()
    if not symbol.strip():
        raise CliError("SYMBOL is empty", "give a pair such as BTC/USD")
    state_dir: Path | None = flags.get("state_dir")
    target = common.market_data_target(common.flags_from(
        profile=flags.get("profile"), host=flags.get("host"), port=flags.get("port"), tls=flags.get("tls"),
        insecure=bool(flags.get("insecure")), sender_comp_id=flags.get("sender_comp_id"), target_comp_id=None,
        api_key=None, state_dir=state_dir, ca_file=flags.get("ca_file")), sim=sim)
    if l3 and not target.spec.derivatives:
        raise CliError("--l3 is only available for Derivatives (SPEC: 266=N)",
                       "use a Derivatives profile (sim-derivatives, uat-derivatives) or drop --l3")
    common.production_banner(env, target)
    reporter = common.make_reporter(env, Mode.COMPACT)
    console = make_console(env, live=output == "pretty" and not once and not trades_only)
    live_view: Any = None

    def on_event(state: FeedState, ev: FeedEvent) -> None:
        nonlocal live_view
        if ev.kind in ("lost", "restored", "mismatch") and output != "json":
            reporter.note(f"{ev.kind}: {ev.text}" if ev.kind == "mismatch" else
                          f"market data {'renewed' if ev.kind == 'restored' else 'interrupted'}: {ev.text}")
        if trades_only:
            for t in ev.applied.trades if ev.applied is not None else ():
                if output == "json":
                    common.emit_json(env, book_view.trade_object(state.book, t))
                else:
                    common.emit_line(env, book_view.trade_line(state.book, t))
            return
        if once:
            return
        if output == "json":
            common.emit_json(env, book_view.event_object(state, ev))
        elif output == "compact":
            common.emit_line(env, book_view.compact_line(state, ev))
        elif live_view is None:
            from rich.live import Live

            live_view = Live(book_view.Ladder(state), console=console, refresh_per_second=4, transient=False)
            live_view.start()

    def done(state: FeedState, ev: FeedEvent) -> bool:
        return once and ev.kind == "update" and ev.applied is not None and ev.applied.verified is True

    if once and duration is None:
        duration = timeout

    def go(stop: common.StopEvent) -> Any:
        return run_feed(target.spec, reporter, symbol, depth=depth, l3=l3, on_event=on_event, stop=stop,
                        done=done, timeout=timeout, duration=duration, embedded_sim=target.embedded_sim)

    try:
        result = common.run_stoppable(go)
    finally:
        if live_view is not None:
            live_view.stop()
    state = result.state
    assert state is not None
    book = state.book
    if once:
        if output == "json":
            common.emit_json(env, book_view.book_object(state))
        elif output == "compact":
            for line in book_view.status_lines(state):
                common.emit_line(env, line)
            for line in book_view.ladder_lines(state):
                common.emit_line(env, line)
        else:
            console.print(book_view.Ladder(state, fit=False))
        if result.stopped_by != "done":
            raise CliError(f"no checksummed update of {symbol} within {duration:g} s: the snapshot above is not "
                           "verified", "try again, or a longer --timeout on a quiet pair",
                           ExitStatus.CONNECT_FAILED)
    else:
        write_note(env, f"{book.snapshots} snapshot(s), {book.updates} update(s), {book.verified} checksum(s) ok, "
                        f"{book.mismatches} mismatch(es), {state.resubscribes} fresh snapshot(s); "
                        f"{state.reconnects} reconnect(s), {state.rollovers} rollover(s); stopped: "
                        f"{result.stopped_by}")
    raise typer.Exit(0)
