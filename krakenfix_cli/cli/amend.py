"""``krakenfix amend``: OrderCancelReplaceRequest(G) for one order, repeating what the journal knows of it."""

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
    NoCheck,
    Output,
    Port,
    Profile,
    SenderCompId,
    Sim,
    StateDir,
    TargetCompId,
    Timeout,
    Tls,
    Yes,
)
from krakenfix_cli.render import Mode

HELP = """Amend one order with OrderCancelReplaceRequest(G) (Spot only): its price, quantity,
trigger price or display quantity.

A G restates the whole order, so it repeats the order's TimeInForce(59), ExpireTime(126),
post-only ExecInst(18)=P, OrdType, Side and Symbol from the order journal under
--state-dir (what `send` recorded); left out, a GTD order would become GTC. An order the
journal does not know needs --clordid, --order-id, --symbol, --side, --type, --tif (and
--expire-time for gtd) and --qty. Exits 0 replaced (or pending replace); 1 rejected, or
closed per the journal; 2 usage (Derivatives has no G) or refused by the pre-send check
(the new price and quantity against the cached InstrumentList, as for `send`; --no-check
skips it); 4 no answer.
"""

ORDER = "Order"


def amend(
    clordid: Annotated[str | None, typer.Option("--clordid", show_default=False, rich_help_panel=ORDER,
                                                help="The order's ClOrdID(11) (any it carried).")] = None,
    order_id: Annotated[str | None, typer.Option("--order-id", show_default=False, rich_help_panel=ORDER,
                                                 help="The order's OrderID(37).")] = None,
    price: Annotated[str | None, typer.Option("--price", show_default=False, rich_help_panel=ORDER,
                                              help="New Price(44).")] = None,
    qty: Annotated[str | None, typer.Option("--qty", "-q", show_default=False, rich_help_panel=ORDER,
                                            help="New OrderQty(38).")] = None,
    display_qty: Annotated[str | None, typer.Option("--display-qty", show_default=False, rich_help_panel=ORDER,
                                                    help="New DisplayQty(1138) (iceberg).")] = None,
    trigger_price: Annotated[str | None, typer.Option("--trigger-price", "--stop-price", show_default=False,
                                                      rich_help_panel=ORDER, help="New StopPx(99).")] = None,
    symbol: Annotated[str | None, typer.Option("--symbol", "-s", show_default=False, rich_help_panel=ORDER,
                                               help="Symbol(55), when the journal does not know the order.")] = None,
    side: Annotated[str | None, typer.Option("--side", show_default=False, rich_help_panel=ORDER,
                                             help="Side(54), when the journal does not know the order.")] = None,
    ord_type: Annotated[str | None, typer.Option("--type", "-t", show_default=False, rich_help_panel=ORDER,
                                                 help="OrdType(40), when the journal does not know it.")] = None,
    tif: Annotated[str | None, typer.Option("--tif", show_default=False, rich_help_panel=ORDER,
                                            help="TimeInForce(59), when the journal does not know it.")] = None,
    expire_time: Annotated[str | None, typer.Option(
        "--expire-time", metavar="WHEN", show_default=False, rich_help_panel=ORDER,
        help="ExpireTime(126) of a gtd order the journal does not know (as for send).")] = None,
    post_only: Annotated[bool, typer.Option("--post-only", rich_help_panel=ORDER,
                                            help="ExecInst(18) P, when the journal does not know the order.")]
    = False,
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
    dry_run: DryRun = False,
    yes: Yes = False,
    no_check: NoCheck = False,
) -> None:
    """Amend one order."""
    from krakenfix_cli.cli import common
    from krakenfix_cli.cli.errors import CliError
    from krakenfix_cli.cli.exit import ExitStatus
    from krakenfix_cli.cli.options import get_env
    from krakenfix_cli.ops.amend import AmendArgumentError, Change, OrderFacts, build_amend
    from krakenfix_cli.ops.cancel import already_closed, lookup
    from krakenfix_cli.ops.outcomes import AmendResult, Outcome
    from krakenfix_cli.render.console import write_error

    env = get_env()
    mode = Mode(output)
    if clordid is None and order_id is None:
        raise CliError("nothing to amend", "give --clordid or --order-id")
    flags = common.flags_from(
        profile=profile, host=host, port=port, tls=tls, insecure=insecure, sender_comp_id=sender_comp_id,
        target_comp_id=target_comp_id, api_key=api_key, state_dir=state_dir, ca_file=ca_file)
    target = common.resolve_target(flags, sim=sim, need_credentials=not dry_run)
    if target.spec.derivatives:
        raise CliError("amend is Spot only: Kraken Derivatives takes no OrderCancelReplaceRequest(G)",
                       "cancel the order and place it anew")
    ledger = common.ledger_for(target)
    known = lookup(ledger, clordid=clordid, order_id=order_id)
    closed = already_closed(known) if known is not None else None
    if known is not None and closed is not None:
        if mode is Mode.JSON:
            common.emit_json(env, {"result": "already-" + known.state, "clordid": known.clordid,
                                   "order_id": known.order_id, "state": known.state, "reason": closed})
        write_error(env, f"{closed}; nothing to amend, nothing was sent")
        raise typer.Exit(ExitStatus.REJECTED)
    expire: float | None = None
    if expire_time is not None:
        from krakenfix_cli.ops.send import parse_when
        from krakenfix_cli.transport import clock

        try:
            expire = parse_when(expire_time, clock.now())
        except ValueError as exc:
            raise CliError(f"--expire-time: {exc}", "see `krakenfix amend --help`") from None
    change = Change(price=price, qty=qty, display_qty=display_qty, stop_px=trigger_price)
    given = OrderFacts(orig_clordid=clordid, order_id=order_id, symbol=symbol, side=side, ord_type=ord_type,
                       tif=tif, expire_time=expire, post_only=post_only or None)
    try:
        msg = build_amend(ledger, known, change, given, derivatives=False)
    except AmendArgumentError as exc:
        raise CliError(str(exc), "see `krakenfix amend --help`") from None
    if not no_check:
        from krakenfix_cli.cli.precheck import check_before_send

        check_before_send(target, flags, msg)
    common.production_banner(env, target)
    if dry_run:
        common.show_message(env, mode, msg)
        raise typer.Exit(ExitStatus.OK)
    common.confirm(env, target, f"amend order {clordid or order_id}", yes=yes, always=False)
    reporter = common.make_reporter(env, mode)

    async def go() -> AmendResult:
        from krakenfix_cli.ops.amend import amend_order
        from krakenfix_cli.ops.session import open_session

        async with open_session(target.spec, reporter, timeout=timeout, embedded_sim=target.embedded_sim,
                                ledger=ledger) as live:
            return await amend_order(live.channel, msg, reporter, ledger, known, timeout=timeout)

    result = common.run(go())
    reporter.writer.flush()
    msg = result.message or msg  # as sent: a holder may have renewed its ClOrdID(11)
    if mode is Mode.JSON:
        common.emit_json(env, {"result": result.outcome.value, "pending": result.pending, "clordid": msg.get(11),
                               "orig_clordid": msg.get(41), "order_id": msg.get(37), "price": msg.get(44),
                               "qty": msg.get(38), "reason": result.reason or None})
    if result.outcome is Outcome.OK:
        if mode is not Mode.JSON:
            what = "pending replace (the new values are not live yet)" if result.pending else "replaced"
            new = ", ".join(f"{name} {v}" for name, tag in (("price", 44), ("qty", 38), ("trigger", 99),
                                                             ("display", 1138)) if (v := msg.get(tag)))
            common.emit_line(env, f"{what}: {msg.get(41)} is now ClOrdID {msg.get(11)} ({new})", "ok")
        raise typer.Exit(ExitStatus.OK)
    if result.outcome is Outcome.REJECTED:
        write_error(env, f"amend rejected: {result.reason}; {result.advice or 'see the reply above'}")
        raise typer.Exit(ExitStatus.REJECTED)
    write_error(env, f"timed out: {result.reason}; raise --timeout, or check the order with `krakenfix status`")
    raise typer.Exit(ExitStatus.CONNECT_FAILED)


def register(app: typer.Typer) -> None:
    """Add ``amend`` to ``app``."""
    app.command("amend", help=HELP)(amend)
