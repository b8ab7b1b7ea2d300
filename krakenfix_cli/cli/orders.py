"""``krakenfix orders``: the order journal as a table; ``--refresh`` asks the gateway first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

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
    SenderCompId,
    Sim,
    StateDir,
    TargetCompId,
    Timeout,
    Tls,
)
from krakenfix_cli.render import Mode

if TYPE_CHECKING:
    from krakenfix_cli.cli.common import JournalLedger
    from krakenfix_cli.ops.outcomes import ConnRef, KnownOrder
    from krakenfix_cli.settings.config import ConnectionFlags

HELP = """List the orders in the order journal under --state-dir: state, filled, symbol, side,
price, quantity, when and by which connection each was placed, and whether an
OrderCancelRequest(F) can reach it now (only from the connection that placed it; with no
session held, none can).

Needs no credentials and no connection, unless --refresh: then it logs on, asks
OrderStatusRequest(H) for each open order shown (Spot only), updates the journal with the
answers and prints the result. Exits 0.
"""

COLUMNS = ("ClOrdID", "OrderID", "state", "filled", "symbol", "side", "price", "qty", "placed (UTC)",
           "placed by (logon UTC)", "F reaches")


def _current(order: KnownOrder, held: Sequence[ConnRef]) -> ConnRef | None:
    """The held connection an F for ``order`` would go out on (None: no holder serves its session)."""
    return next((c for c in held if c.sender == order.placed_by.sender and c.target == order.placed_by.target), None)


def row(order: KnownOrder, held: Sequence[ConnRef]) -> list[str]:
    """One table row; ``held`` are the connections of the running session holders."""
    from krakenfix_cli.fix.values import format_utc_timestamp
    from krakenfix_cli.kraken.builders import side_word
    from krakenfix_cli.ops.cancel import f_reaches

    placed = format_utc_timestamp(order.placed, millis=False) if order.placed else "-"
    by = order.placed_by
    filled = f"{order.cum_qty or '0'}/{order.qty}" if order.qty else (order.cum_qty or "-")
    reach = ("yes" if f_reaches(order, _current(order, held)) else "no") if order.is_open else "-"
    return [order.latest_clordid, order.order_id or "-", order.state, filled, order.symbol or "-",
            side_word(order.side) or "-", order.price or "-", order.qty or "-", placed,
            f"{by.sender} {by.connection_id.rpartition('@')[2] or '-'}", reach]


def as_json(order: KnownOrder, held: Sequence[ConnRef]) -> dict[str, object]:
    """One order as ``-o json`` prints it (one object per line)."""
    import dataclasses

    from krakenfix_cli.ops.cancel import f_reaches

    obj = dataclasses.asdict(order)
    obj["placed_by"] = dataclasses.asdict(order.placed_by)
    obj["open"] = order.is_open
    obj["f_reaches"] = f_reaches(order, _current(order, held))
    return obj


def orders(
    open_only: Annotated[bool, typer.Option("--open", help="Only orders not known to be finished.")] = False,
    symbol: Annotated[str | None, typer.Option("--symbol", "-s", show_default=False,
                                               help="Only this Symbol(55).")] = None,
    refresh: Annotated[bool, typer.Option("--refresh", help="Log on and ask OrderStatusRequest(H) for each open "
                                                            "order first (Spot only).")] = False,
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
) -> None:
    """List the journalled orders."""
    from krakenfix_cli.cli import common
    from krakenfix_cli.cli.exit import ExitStatus
    from krakenfix_cli.cli.options import get_env

    env = get_env()
    mode = Mode(output)
    if refresh:
        ledger = _refresh(mode, symbol, common.flags_from(
            profile=profile, host=host, port=port, tls=tls, insecure=insecure, sender_comp_id=sender_comp_id,
            target_comp_id=target_comp_id, api_key=api_key, state_dir=state_dir, ca_file=ca_file), sim, timeout)
    else:
        from krakenfix_cli.settings import paths

        ledger = common.ledger_at(paths.state_dir(state_dir))
    shown = [o for o in ledger.all_orders()
             if (not open_only or o.is_open) and (symbol is None or o.symbol == symbol)]
    from krakenfix_cli.cli.holder_process import held_connections

    current = held_connections(ledger.journal.state_dir)  # F reaches only a held connection's orders
    if mode is Mode.JSON:
        for o in shown:
            common.emit_json(env, as_json(o, current))
        raise typer.Exit(ExitStatus.OK)
    if not shown:
        from krakenfix_cli.render.console import write_note

        write_note(env, f"no {'open ' if open_only else ''}orders{' for ' + symbol if symbol else ''} in the "
                        f"order journal {ledger.journal.path}")
        raise typer.Exit(ExitStatus.OK)
    # Plain aligned columns in every text mode: IDs must never be cut to fit a panel.
    reporter = common.make_reporter(env, Mode.COMPACT)
    reporter.table(f"orders in {ledger.journal.path}", COLUMNS, [row(o, current) for o in shown])
    raise typer.Exit(ExitStatus.OK)


def _refresh(mode: Mode, symbol: str | None, flags: ConnectionFlags, sim: bool, timeout: float) -> JournalLedger:
    """Ask H for the open journalled orders (of ``symbol``) and let the answers update the journal."""
    from krakenfix_cli.cli import common
    from krakenfix_cli.cli.errors import CliError
    from krakenfix_cli.cli.options import get_env
    from krakenfix_cli.ops.outcomes import Outcome
    from krakenfix_cli.ops.status import StatusAnswer
    from krakenfix_cli.render.console import write_note, write_warning

    target = common.resolve_target(flags, sim=sim)
    if target.spec.derivatives:
        raise CliError("orders --refresh is Spot only: Kraken Derivatives takes no OrderStatusRequest(H)",
                       "drop --refresh to list the journal as it is")
    ledger = common.ledger_for(target)
    wanted = [o for o in ledger.open_orders() if symbol is None or o.symbol == symbol]
    e = get_env()
    if not wanted:
        write_note(e, "no open orders in the order journal to refresh")
        return ledger
    common.production_banner(e, target)
    reporter = common.make_reporter(e, Mode.COMPACT if mode is Mode.PRETTY else mode)

    async def go() -> list[StatusAnswer]:
        from krakenfix_cli.ops.session import open_session, show_nothing
        from krakenfix_cli.ops.status import ask_status

        async with open_session(target.spec, reporter, timeout=timeout, embedded_sim=target.embedded_sim,
                                ledger=ledger, show=show_nothing) as live:
            return await ask_status(live.channel, wanted, reporter, ledger, timeout=timeout)

    answers = common.run(go())
    answered = sum(a.outcome is Outcome.OK for a in answers)
    write_note(e, f"asked the status of {sum(a.asked for a in answers)} open order(s): {answered} answered")
    for a in answers:
        if a.outcome is not Outcome.OK:
            write_warning(e, f"{a.order.latest_clordid}: {a.reason}")
    return ledger


def register(app: typer.Typer) -> None:
    """Add ``orders`` to ``app``."""
    app.command("orders", help=HELP)(orders)
