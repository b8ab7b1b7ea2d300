"""``krakenfix mass-cancel``: OrderMassCancelRequest(q), confirmed, counted, tabulated."""

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
    seconds,
)
from krakenfix_cli.render import Mode

HELP = """Cancel many orders at once with OrderMassCancelRequest(q).

Scope: --symbol SYMBOL (530=1) or --session (530=6) reach only the open orders created or
replaced on the connection that sends the q (SYMBOL's, or all of them); --all (530=7) is
the only one that reaches every open order on the account, from any session. Shows
the scope and asks first; without a terminal it refuses unless --yes. Kraken sends no
summary, so each ExecutionReport is shown as it arrives and the cancellations are counted
until --quiet seconds pass with none (any other report, a fill, is called out); then the
count and a table are printed and journalled orders still open are reported. Exits 0
done; 1 rejected or orders survived; 2 not confirmed.
"""


def mass_cancel(
    symbol: Annotated[str | None, typer.Option("--symbol", "-s", show_default=False,
                                               help="Cancel this connection's open orders on SYMBOL (530=1).")] = None,
    session: Annotated[bool, typer.Option("--session", help="Cancel this connection's open orders (530=6).")] = False,
    all_orders: Annotated[bool, typer.Option("--all", help="Cancel every open order on the account, from any session "
                                                              "(530=7).")]
    = False,
    quiet: Annotated[float, typer.Option("--quiet", parser=seconds("--quiet", 0.05), metavar="SECONDS",
                                         help="Stop counting after this long without a cancellation.")] = 1.0,
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
    """Cancel many orders at once."""
    from krakenfix_cli.cli import common
    from krakenfix_cli.cli.errors import CliError
    from krakenfix_cli.cli.exit import ExitStatus
    from krakenfix_cli.cli.options import get_env
    from krakenfix_cli.kraken.builders import side_word
    from krakenfix_cli.ops.mass_cancel import build_mass_cancel, describe_scope
    from krakenfix_cli.ops.outcomes import MassCancelResult, Outcome
    from krakenfix_cli.render.console import write_error

    env = get_env()
    mode = Mode(output)
    chosen = [name for name, on in (("--symbol", symbol is not None), ("--session", session), ("--all", all_orders))
              if on]
    if len(chosen) != 1:
        raise CliError("choose one scope" if not chosen else f"{' and '.join(chosen)} exclude each other",
                       "give --symbol SYMBOL, --session or --all")
    kind = "symbol" if symbol is not None else "session" if session else "all"
    target = common.resolve_target(common.flags_from(
        profile=profile, host=host, port=port, tls=tls, insecure=insecure, sender_comp_id=sender_comp_id,
        target_comp_id=target_comp_id, api_key=api_key, state_dir=state_dir, ca_file=ca_file),
        sim=sim, need_credentials=not dry_run)
    ledger = common.ledger_for(target)
    msg = build_mass_cancel(ledger, kind, symbol, derivatives=target.spec.derivatives)
    scope = describe_scope(kind, symbol)
    common.production_banner(env, target)
    if dry_run:
        common.show_message(env, mode, msg)
        raise typer.Exit(ExitStatus.OK)
    target = common.with_continuity(target, reset)
    from krakenfix_cli.render.console import write_note

    write_note(env, f"mass cancel: {scope}, on {target.describe()}")
    common.confirm(env, target, f"cancel {scope}", yes=yes, always=True)
    reporter = common.make_reporter(env, mode)

    async def go() -> MassCancelResult:
        from krakenfix_cli.ops.mass_cancel import mass_cancel as do_mass_cancel
        from krakenfix_cli.ops.session import open_session, show_all_but_heartbeats

        # Every ExecutionReport is shown as it arrives, in the chosen mode, then counted in the table.
        async with open_session(target.spec, reporter, timeout=timeout, embedded_sim=target.embedded_sim,
                                show=show_all_but_heartbeats, ledger=ledger) as live:
            return await do_mass_cancel(live.channel, msg, reporter, ledger, quiet=quiet,
                                        timeout=timeout, derivatives=target.spec.derivatives)

    result = common.run(go())
    reporter.writer.flush()
    n = len(result.cancelled)
    rows = [[c.clordid, c.order_id, c.symbol, c.side, c.cum_qty, c.leaves_qty] for c in result.cancelled]
    if mode is Mode.JSON:
        common.emit_json(env, {"result": result.outcome.value, "scope": scope, "cancelled": n,
                               "orders": [dict(zip(("clordid", "order_id", "symbol", "side", "cum_qty",
                                                    "leaves_qty"), r, strict=True)) for r in rows],
                               "survivors": [o.clordid for o in result.survivors],
                               "reason": result.reason or None})
    else:
        if rows:
            reporter.table(f"cancelled by {result.message.get(11)} ({n})", ["ClOrdID", "OrderID", "Symbol", "Side",
                                                                  "CumQty", "LeavesQty"], rows)
        if result.survivors:
            reporter.table("still open", ["ClOrdID", "OrderID", "Symbol", "Side", "placed by"],
                           [[o.clordid, o.order_id or "", o.symbol or "",
                             side_word(o.side), o.placed_by.describe()]
                            for o in result.survivors])
        common.emit_line(env, f"{n} order{'s' if n != 1 else ''} cancelled ({scope}; counted until "
                              f"{result.quiet_period:g} s without a report)",
                         "ok" if result.outcome is Outcome.OK else "bad")
    if result.outcome is Outcome.OK:
        raise typer.Exit(ExitStatus.OK)
    if result.survivors:
        hint = ("orders of another connection are outside 530=1/530=6 here: use --all (530=7)" if kind != "all"
                else "check them with `krakenfix tail` and cancel them where they were placed")
        write_error(env, f"{len(result.survivors)} order(s) in scope survived the mass cancel; {hint}")
    else:
        write_error(env, f"mass cancel rejected: {result.reason}; see the reply above")
    raise typer.Exit(ExitStatus.REJECTED)


def register(app: typer.Typer) -> None:
    """Add ``mass-cancel`` to ``app``."""
    app.command("mass-cancel", help=HELP)(mass_cancel)
