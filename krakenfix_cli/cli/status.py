"""``krakenfix status``: OrderStatusRequest(H) for one order of the account, as a one-line summary."""

from __future__ import annotations

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
    from krakenfix_cli.ops.status import StatusAnswer

HELP = """Ask the state of one order with OrderStatusRequest(H) (Spot only), by --clordid or
--order-id, and print it in one line: state, filled, leaves, average price.

On Spot, H reaches any order of the account, whichever connection placed it. The request
needs the order's OrderID(37) and Symbol(55): taken from the order journal under
--state-dir when it knows the order, else give --order-id and --symbol. The answer
updates the journal. Exits 0 answered; 1 the gateway does not know the order; 2 usage
(Derivatives has no H); 4 no answer.
"""


def summary(answer: StatusAnswer) -> str:
    """``<clordid> (OrderID <id>): new, filled 0 of 0.01, leaves 0.01, avg price -`` from a 150=I answer."""
    from krakenfix_cli.settings.journal import state_from_ord_status

    er, order = answer.report, answer.order
    if er is None:
        return f"{order.latest_clordid}: {answer.reason}"
    avg = er.get(6)
    oid = er.get(37) or order.order_id
    who = order.latest_clordid + (f" (OrderID {oid})" if oid and oid != order.latest_clordid else "")
    return (f"{who}: {state_from_ord_status(er.get(39) or '?')}, filled {er.get(14) or '0'} of {er.get(38) or '?'}, "
            f"leaves {er.get(151) or '?'}, avg price {avg if avg and avg.strip('0.') else '-'}")


def answer_json(answer: StatusAnswer) -> dict[str, object]:
    """One order's answer as ``-o json`` prints it."""
    from krakenfix_cli.settings.journal import state_from_ord_status

    er = answer.report
    return {
        "result": answer.outcome.value, "clordid": answer.order.latest_clordid,
        "order_id": (er.get(37) if er is not None else None) or answer.order.order_id,
        "state": state_from_ord_status(er.get(39) or "?") if er is not None else None,
        "cum_qty": er.get(14) if er is not None else None, "leaves_qty": er.get(151) if er is not None else None,
        "avg_px": er.get(6) if er is not None else None, "reason": answer.reason or None,
    }


def status(
    clordid: Annotated[str | None, typer.Option("--clordid", show_default=False,
                                                help="The order's ClOrdID(11) (any it carried).")] = None,
    order_id: Annotated[str | None, typer.Option("--order-id", show_default=False,
                                                 help="The order's OrderID(37).")] = None,
    symbol: Annotated[str | None, typer.Option("--symbol", "-s", show_default=False,
                                               help="Symbol(55); taken from the journal when it knows the order.")]
    = None,
    side: Annotated[str | None, typer.Option("--side", show_default=False,
                                             help="Side(54); taken from the journal when it knows the order.")] = None,
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
    """Ask the state of one order."""
    import dataclasses

    from krakenfix_cli.cli import common
    from krakenfix_cli.cli.errors import CliError
    from krakenfix_cli.cli.exit import ExitStatus
    from krakenfix_cli.cli.options import get_env
    from krakenfix_cli.ops.cancel import lookup
    from krakenfix_cli.ops.outcomes import ConnRef, KnownOrder, Outcome
    from krakenfix_cli.render.console import write_error

    env = get_env()
    mode = Mode(output)
    if clordid is None and order_id is None:
        raise CliError("no order given", "give --clordid or --order-id")
    target = common.resolve_target(common.flags_from(
        profile=profile, host=host, port=port, tls=tls, insecure=insecure, sender_comp_id=sender_comp_id,
        target_comp_id=target_comp_id, api_key=api_key, state_dir=state_dir, ca_file=ca_file), sim=sim)
    if target.spec.derivatives:
        raise CliError("status is Spot only: Kraken Derivatives takes no OrderStatusRequest(H)",
                       "follow the order's reports with `krakenfix tail`, or `krakenfix orders` for the journal")
    ledger = common.ledger_for(target)
    known = lookup(ledger, clordid=clordid, order_id=order_id)
    if known is None:
        name = clordid or order_id or ""
        known = KnownOrder(name, name, ConnRef("", "", ""), "unknown", symbol, side, order_id)
    else:
        known = dataclasses.replace(known, order_id=known.order_id or order_id, symbol=known.symbol or symbol,
                                    side=known.side or side)
    missing = [flag for flag, v in (("--order-id", known.order_id), ("--symbol", known.symbol)) if not v]
    if missing:
        what = "the order journal does not know this order" if known.state == "unknown" else \
            "the order journal has no OrderID(37) or Symbol(55) for this order"
        raise CliError(f"{what}; give {' and '.join(missing)}", "an OrderStatusRequest(H) needs both")
    common.production_banner(env, target)
    reporter = common.make_reporter(env, mode)

    async def go() -> StatusAnswer:
        from krakenfix_cli.ops.session import open_session
        from krakenfix_cli.ops.status import ask_status

        async with open_session(target.spec, reporter, timeout=timeout, embedded_sim=target.embedded_sim,
                                ledger=ledger) as live:
            return (await ask_status(live.channel, [known], reporter, ledger, timeout=timeout))[0]

    answer = common.run(go())
    reporter.writer.flush()
    if mode is Mode.JSON:
        common.emit_json(env, answer_json(answer))
    if answer.outcome is Outcome.OK:
        if mode is not Mode.JSON:
            common.emit_line(env, summary(answer), "ok")
        raise typer.Exit(ExitStatus.OK)
    if answer.outcome is Outcome.REJECTED:
        write_error(env, f"status refused: {answer.reason}; check the ClOrdID/OrderID and --symbol "
                         "(`krakenfix orders` lists the journalled ones)")
        raise typer.Exit(ExitStatus.REJECTED)
    write_error(env, f"timed out: {answer.reason}; raise --timeout, or follow the order with `krakenfix tail`")
    raise typer.Exit(ExitStatus.CONNECT_FAILED)


def register(app: typer.Typer) -> None:
    """Add ``status`` to ``app``."""
    app.command("status", help=HELP)(status)
