"""``krakenfix replay``: ResendRequest(2) from a sequence number, and a reconciliation of the orders."""

from __future__ import annotations

import dataclasses
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

HELP = """Ask the gateway to resend its messages from --from (to --to), and reconcile the orders.

Logs on continuing the sequence numbers (141=N, from the store under --state-dir), sends
ResendRequest(2), prints every replayed message (PossDupFlag(43)=Y) and a table of orders
by final state, cumulative quantity and fills, counting each ExecID(17) once. Sequence
numbers restart at the daily rollover, so only the current day is reachable. Replay never
resets them on its own, not even after a rollover: a reset (141=Y) makes every earlier
message unreachable, so --reset is only for when the gateway refuses the stored numbers.
--file LOG replays a recorded log offline instead. Exits 0.
"""


def replay(
    begin: Annotated[int, typer.Option("--from", min=1, help="BeginSeqNo(7): the first MsgSeqNum(34) wanted.")]
    = 1,
    end: Annotated[int, typer.Option("--to", min=0, help="EndSeqNo(16): the last one; 0 = up to now.")] = 0,
    file: Annotated[Path | None, typer.Option("--file", "-f", dir_okay=False, show_default=False,
                                              help="Replay this recorded FIX log offline.")] = None,
    quiet: Annotated[float, typer.Option("--quiet", parser=seconds("--quiet", 0.05), metavar="SECONDS",
                                         help="The replay is over after this long without a message.")] = 1.0,
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
    output: Output = Mode.PRETTY,
    reset: Reset = False,
) -> None:
    """Replay messages from a sequence number."""
    from krakenfix_cli.cli import common
    from krakenfix_cli.cli.errors import CliError
    from krakenfix_cli.cli.exit import ExitStatus
    from krakenfix_cli.cli.options import get_env
    from krakenfix_cli.ops.outcomes import ReplayResult
    from krakenfix_cli.render.console import write_warning

    env = get_env()
    mode = Mode(output)
    if end and end < begin:
        raise CliError(f"--to {end} is before --from {begin}", "give --to 0 for everything since --from")
    reporter = common.make_reporter(env, mode)
    if file is not None:
        from krakenfix_cli.ops.replay import replay_log

        with file.open("rb") as stream:
            result = replay_log(stream, reporter, begin=begin, end=end)
    else:
        target = common.resolve_target(common.flags_from(
            profile=profile, host=host, port=port, tls=tls, insecure=insecure, sender_comp_id=sender_comp_id,
            target_comp_id=target_comp_id, api_key=api_key, state_dir=state_dir, ca_file=ca_file), sim=sim)
        # Continue today's numbers (141=N) so the gateway can resend them, even across a
        # rollover: a reset would make them unreachable (a fresh --sim has none: it resets).
        target = common.with_continuity(target, reset, may_reset=False)
        spec = target.spec
        common.production_banner(env, target)

        async def go() -> ReplayResult:
            from krakenfix_cli.ops.replay import replay as do_replay
            from krakenfix_cli.ops.session import open_session

            async with open_session(spec, reporter, timeout=timeout, embedded_sim=target.embedded_sim,
                                    show=lambda m, d: d == "out" and m.msg_type in ("A", "2", "5")) as live:
                return await do_replay(live.channel, reporter, begin=begin, end=end, timeout=timeout, quiet=quiet)

        result = common.run(go())
    reporter.writer.flush()
    for problem in result.problems:
        write_warning(env, problem)
    if mode is Mode.JSON:
        common.emit_json(env, {"result": "ok", "messages": result.messages, "duplicates": result.duplicates,
                               "first_seq": result.first_seq, "last_seq": result.last_seq,
                               "orders": [dataclasses.asdict(o) for o in result.orders]})
    else:
        common.emit_line(env, f"{result.messages} message(s) replayed (MsgSeqNum(34) {result.first_seq or '-'}"
                              f"..{result.last_seq or '-'}), {len(result.orders)} order(s), "
                              f"{result.duplicates} duplicate report(s) ignored", "ok")
    raise typer.Exit(ExitStatus.OK)


def register(app: typer.Typer) -> None:
    """Add ``replay`` to ``app``."""
    app.command("replay", help=HELP)(replay)
