"""``krakenfix cancel``: OrderCancelRequest(F) by ClOrdID or OrderID, journal-checked first."""

from __future__ import annotations

from typing import Annotated

import typer

from krakenfix_cli.cli.options import (
    DEFAULT_TIMEOUT,
    ApiKey,
    CaFile,
    DryRun,
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
    Yes,
)
from krakenfix_cli.render import Mode

HELP = """Cancel one order with OrderCancelRequest(F), by --clordid or --order-id.

Kraken only cancels an order this way on the FIX connection that placed it, and refuses
any other with a BusinessMessageReject(j). The order journal under --state-dir records
which connection placed each order, so a cancel that Kraken would refuse is stopped
before sending, with what to do instead (that connection, or mass-cancel --all: 530=7 is
the only mass cancel that reaches another session's orders); --force sends it anyway.
An order the journal records as filled, cancelled or expired is not sent for either.
Exits 0 cancelled, or already cancelled/expired per the journal; 1 rejected, stopped by
the journal check, or already filled/rejected per the journal; 4 no answer.
"""


def cancel(
    clordid: Annotated[str | None, typer.Option("--clordid", show_default=False,
                                                help="The order's ClOrdID(11) (any it carried).")] = None,
    order_id: Annotated[str | None, typer.Option("--order-id", show_default=False,
                                                 help="The order's OrderID(37) (wins over --clordid).")] = None,
    symbol: Annotated[str | None, typer.Option("--symbol", "-s", show_default=False,
                                               help="Symbol(55); taken from the journal when it knows the order.")]
    = None,
    side: Annotated[str | None, typer.Option("--side", show_default=False,
                                             help="Side(54); taken from the journal when it knows the order.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Send even when the journal says another connection "
                                                        "placed the order, or that it is closed.")] = False,
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
    dry_run: DryRun = False,
    yes: Yes = False,
) -> None:
    """Cancel one order."""
    from krakenfix_cli.cli import common
    from krakenfix_cli.cli.errors import CliError
    from krakenfix_cli.cli.exit import ExitStatus
    from krakenfix_cli.cli.options import get_env
    from krakenfix_cli.ops.cancel import CancelArgumentError, already_closed, build_cancel, lookup, scope_problem
    from krakenfix_cli.ops.outcomes import CancelResult, Outcome
    from krakenfix_cli.render.console import write_error

    env = get_env()
    mode = Mode(output)
    if clordid is None and order_id is None:
        raise CliError("nothing to cancel", "give --clordid or --order-id")
    target = common.resolve_target(common.flags_from(
        profile=profile, host=host, port=port, tls=tls, insecure=insecure, sender_comp_id=sender_comp_id,
        target_comp_id=target_comp_id, api_key=api_key, state_dir=state_dir, ca_file=ca_file),
        sim=sim, need_credentials=not dry_run)
    ledger = common.ledger_for(target)
    known = lookup(ledger, clordid=clordid, order_id=order_id)
    closed = already_closed(known) if known is not None and not force else None
    if known is not None and closed is not None:
        # Not a gateway rejection: nothing was sent. Gone without trading is what a cancel wants (0);
        # a fill (or a reject) is not, and a script must notice it (1).
        done = known.state in ("canceled", "expired", "done-for-day")
        if mode is Mode.JSON:
            common.emit_json(env, {"result": "already-" + known.state, "clordid": known.clordid,
                                   "order_id": known.order_id, "state": known.state, "reason": closed})
        if done:
            from krakenfix_cli.render.console import write_note

            write_note(env, f"{closed}; nothing to cancel, nothing was sent")
            raise typer.Exit(ExitStatus.OK)
        write_error(env, f"{closed}; nothing to cancel, nothing was sent (--force sends the F anyway)")
        raise typer.Exit(ExitStatus.REJECTED)
    if known is not None and not target.embedded_sim:
        # F reaches the orders of the connection that sends it: the holder's, when one runs.
        problem = scope_problem(known, common.held_connection(target))
        if problem is not None:
            if not force:
                if mode is Mode.JSON:
                    common.emit_json(env, {"result": "refused", "clordid": known.clordid,
                                           "placed_by": known.placed_by.describe(), "reason": problem.what,
                                           "todo": problem.todo})
                write_error(env, f"{problem.what}; {problem.todo}")
                raise typer.Exit(ExitStatus.REJECTED)
            from krakenfix_cli.render.console import write_warning

            write_warning(env, f"{problem.what}; sending anyway (--force)")
    try:
        msg = build_cancel(ledger, known, clordid=clordid, order_id=order_id, symbol=symbol, side=side,
                           derivatives=target.spec.derivatives)
    except CancelArgumentError as exc:
        raise CliError(str(exc), "see `krakenfix cancel --help`") from None
    common.production_banner(env, target)
    if dry_run:
        common.show_message(env, mode, msg)
        raise typer.Exit(ExitStatus.OK)
    target = common.with_continuity(target, reset)
    common.confirm(env, target, f"cancel order {clordid or order_id}", yes=yes, always=False)
    reporter = common.make_reporter(env, mode)

    async def go() -> CancelResult:
        from krakenfix_cli.ops.cancel import cancel_order
        from krakenfix_cli.ops.session import open_session

        async with open_session(target.spec, reporter, timeout=timeout, embedded_sim=target.embedded_sim,
                                ledger=ledger) as live:
            return await cancel_order(live.channel, msg, reporter, ledger, timeout=timeout)

    result = common.run(go())
    reporter.writer.flush()
    msg = result.message or msg  # as sent: a holder may have renewed its ClOrdID(11)
    if mode is Mode.JSON:
        common.emit_json(env, {"result": result.outcome.value, "clordid": msg.get(11),
                               "orig_clordid": msg.get(41), "order_id": msg.get(37), "reason": result.reason or None})
    if result.outcome is Outcome.OK:
        if mode is not Mode.JSON:
            common.emit_line(env, f"cancelled: {msg.get(41) or msg.get(37)}", "ok")
        raise typer.Exit(ExitStatus.OK)
    if result.outcome is Outcome.REJECTED:
        write_error(env, f"cancel rejected: {result.reason}; {result.advice or 'see the reply above'}")
        raise typer.Exit(ExitStatus.REJECTED)
    from krakenfix_cli.ops.live import HOLDER_GONE

    if result.reason.startswith(HOLDER_GONE):  # says itself what happened and what to check
        write_error(env, result.reason)
    else:
        write_error(env, f"timed out: {result.reason}; raise --timeout, or check the order with `krakenfix tail`")
    raise typer.Exit(ExitStatus.CONNECT_FAILED)


def register(app: typer.Typer) -> None:
    """Add ``cancel`` to ``app``."""
    app.command("cancel", help=HELP)(cancel)
