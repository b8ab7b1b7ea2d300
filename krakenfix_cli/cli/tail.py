"""``krakenfix tail``: stream inbound messages live (through reconnects and rollovers) or from a log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from krakenfix_cli.cli.options import (
    DEFAULT_TIMEOUT,
    ApiKey,
    CaFile,
    Host,
    Insecure,
    Output,
    Port,
    Profile,
    Reset,
    SenderCompId,
    Sim,
    StateDir,
    TargetCompId,
    Timeout,
    Tls,
    seconds,
)
from krakenfix_cli.render import Mode

HELP = """Stay logged on and stream inbound messages, or tail a FIX log file with --file.

Survives dropped connections (reconnect with back-off and 141=N: the gap is resent) and
the daily 22:00 UTC rollover (reconnect after it with 141=Y); ExecutionReports are shown
once each, by ExecID(17), even when replayed. Filters combine; each takes a comma list
and may be repeated. Exits 0 on Ctrl-C, after --max-messages or --duration; 3/4 when the
first logon or connection fails. --file without --follow exits 0 at the end of the file,
130 on Ctrl-C (143 on SIGTERM) before it.
"""

FILTERS = "Filters"


def tail(
    msg_type: Annotated[list[str] | None, typer.Option(
        "--msg-type", "-m", rich_help_panel=FILTERS, show_default=False,
        help="MsgType(35) codes or names: 8, ExecutionReport, j, ...")] = None,
    symbol: Annotated[list[str] | None, typer.Option("--symbol", "-s", rich_help_panel=FILTERS,
                                                     show_default=False, help="Symbol(55).")] = None,
    clordid: Annotated[list[str] | None, typer.Option("--clordid", rich_help_panel=FILTERS, show_default=False,
                                                      help="ClOrdID(11) or OrigClOrdID(41).")] = None,
    exec_type: Annotated[list[str] | None, typer.Option(
        "--exec-type", "-e", rich_help_panel=FILTERS, show_default=False,
        help="ExecType(150) codes or words: new, trade, canceled, expired, replaced, ...")] = None,
    where: Annotated[str | None, typer.Option(
        "--where", "-w", rich_help_panel=FILTERS, show_default=False, metavar="EXPR",
        help="Show only messages matching EXPR, the `krakenfix log grep` language: "
             "'ExecType in (Trade, Canceled) and Symbol ~ ^BTC', '58 exists', 'not 43=Y'.")] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", dir_okay=False, show_default=False,
                                              help="Tail this FIX log instead of a live session.")] = None,
    follow: Annotated[bool, typer.Option("--follow", "-F", help="With --file: wait for new lines.")] = False,
    max_messages: Annotated[int | None, typer.Option(
        "--max-messages", "-n", min=1, show_default=False, help="Stop after showing this many messages.")] = None,
    duration: Annotated[float | None, typer.Option(
        "--duration", parser=seconds("--duration"), show_default=False,
        metavar="SECONDS", help="Stop after this long.")] = None,
    profile: Profile = None,
    host: Host = None,
    port: Port = None,
    tls: Tls = None,
    insecure: Insecure = False,
    ca_file: CaFile = None,
    sender_comp_id: SenderCompId = None,
    target_comp_id: TargetCompId = None,
    api_key: ApiKey = None,
    state_dir: StateDir = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
    sim: Sim = False,
    output: Output = Mode.COMPACT,
    reset: Reset = False,
) -> None:
    """Stream inbound messages."""
    from krakenfix_cli.cli import common
    from krakenfix_cli.cli.errors import CliError
    from krakenfix_cli.cli.exit import ExitStatus
    from krakenfix_cli.cli.options import get_env
    from krakenfix_cli.ops.tail import FilterError, TailFilter
    from krakenfix_cli.render.console import write_note

    env = get_env()
    mode = Mode(output)
    try:
        filt = TailFilter.build(msg_type or [], symbol or [], clordid or [], exec_type or [], where)
    except FilterError as exc:
        raise CliError(str(exc), "see `krakenfix tail --help`") from None
    reporter = common.make_reporter(env, mode)
    if follow and file is None:
        raise CliError("--follow needs --file", "give the log to follow with --file LOG")
    interrupted = int(ExitStatus.OK)
    if file is not None:
        from collections.abc import Awaitable

        from krakenfix_cli.ops.outcomes import TailResult
        from krakenfix_cli.ops.tail import tail_file

        stops: list[common.StopEvent] = []

        def start(stop: common.StopEvent) -> Awaitable[TailResult]:
            stops.append(stop)
            return tail_file(stream, reporter, filt=filt, follow=follow, stop=stop, max_messages=max_messages,
                             duration=duration)

        with file.open("rb") as stream:
            result = common.run_stoppable(start)
        signum = stops[0].signum if stops else None
        if not follow and result.stopped_by == "interrupted" and signum is not None:
            # A file read ends at its end; a signal before that is an interruption (130 on
            # Ctrl-C, 143 on SIGTERM), unlike --follow and live tail, which end by Ctrl-C.
            interrupted = 128 + signum
    else:
        from krakenfix_cli.cli.warm_server import serving
        from krakenfix_cli.ops.tail import tail as do_tail

        target = common.resolve_target(common.flags_from(
            profile=profile, host=host, port=port, tls=tls, insecure=insecure, sender_comp_id=sender_comp_id,
            target_comp_id=target_comp_id, api_key=api_key, state_dir=state_dir, ca_file=ca_file), sim=sim)
        target = common.with_continuity(target, reset)
        common.production_banner(env, target)
        ledger = common.ledger_for(target)
        result = common.run_stoppable(lambda stop: do_tail(
            target.spec, reporter, filt=filt, stop=stop, timeout=timeout, max_messages=max_messages,
            duration=duration, embedded_sim=target.embedded_sim, ledger=ledger, beside=serving))
    reporter.writer.flush()
    summary = (f"{result.shown} shown of {result.received} received; {result.duplicates} duplicate(s) dropped; "
               f"{result.reconnects} reconnect(s), {result.rollovers} rollover(s); stopped: {result.stopped_by}")
    if mode is Mode.JSON:
        common.emit_json(env, {"result": "ok", "shown": result.shown, "received": result.received,
                               "duplicates": result.duplicates, "reconnects": result.reconnects,
                               "rollovers": result.rollovers, "stopped_by": result.stopped_by})
    else:
        write_note(env, summary)
    raise typer.Exit(interrupted)


def register(app: typer.Typer) -> None:
    """Add ``tail`` to ``app``."""
    app.command("tail", help=HELP)(tail)
