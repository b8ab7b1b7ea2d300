"""The REPL's order commands: build the message with the builders the subcommands use, send it
through the live session, report the answer on one line.

Requests run in the background (the prompt comes back at once); each gets its own
subscription of the live session, so several in flight never take each other's answers,
and ``ops.send.send_message`` / ``ops.mass_cancel`` do the correlating, as for the
subcommands. Nothing here writes a FIX field by hand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from krakenfix_cli.fix.message import Message
from krakenfix_cli.kraken import builders
from krakenfix_cli.ops.outcomes import Outcome, SendResult
from krakenfix_cli.repl import commands as c
from krakenfix_cli.repl.state import ORD_STATUS_STATES, OrderRow
from krakenfix_cli.transport import clock

if TYPE_CHECKING:
    from krakenfix_cli.repl.app import Repl

#: What reaches an order of another connection (SPEC §6.5, §6.8): 530=1/530=6 do not.
REPL_OTHER_CONNECTION = ("cancel it from the connection that placed it, or `mass-cancel all` (530=7, every open "
                         "order on the account, from any session); `mass-cancel symbol`/`session` reach only "
                         "orders created or replaced on this connection")
MASS_CANCEL_QUIET = 1.0
"Seconds without a cancellation ExecutionReport after which a mass cancel is reported done (SPEC §10.5)."


async def request(repl: Repl, msg: Message, label: str, *, wait: str = "ack") -> SendResult | None:
    """Send ``msg`` on its own subscription and report the answer as one line."""
    from krakenfix_cli.ops.send import SETTLE, send_message

    channel = await repl.request_channel()
    settle = SETTLE if msg.msg_type == "D" else 0.0  # F/G/H: the first answer is the answer
    repl.asked.add(msg.get(11) or "")
    try:
        result = await send_message(channel, msg, repl.screen, repl.ledger, wait=wait, timeout=repl.opts.timeout,
                                    settle=settle)
    finally:
        repl.asked.discard(msg.get(11) or "")
        await repl.release_channel(channel)
    if wait != "none":
        report(repl, result, label)
    return result


def report(repl: Repl, result: SendResult, label: str) -> None:
    """``#1 buy 0.01 BTC/USD @ 1000: new OrderID ...``, or why not."""
    line = repl.screen.line
    if result.outcome is Outcome.REJECTED:
        from krakenfix_cli.kraken.rejects import advice_for

        advice = advice_for(result.reason)
        line(f"{label}: {result.reason}" + (f"; {advice}" if advice else ""), "bad")
        return
    if result.outcome is Outcome.TIMED_OUT:
        line(f"{label}: {result.reason or 'no answer'}", "warn")
        return
    word = ORD_STATUS_STATES.get(result.ord_status or "", "answered")
    if result.message.msg_type == "F":
        word = "canceled" if result.ord_status == "4" else f"cancel answered ({word})"
    style = {"filled": "ok", "partially-filled": "ok", "canceled": "warn"}.get(word, "info")
    oid = f" OrderID {result.order_id}" if result.order_id else ""
    line(f"{label}: {word}{oid}", style)


def instrument_cache(repl: Repl) -> tuple[str, str] | None:
    """The instrument cache this session's orders are checked against: (key, where it lists), or None."""
    from krakenfix_cli.ops import instruments_cache as cache

    if repl.spec.state_dir is None:
        return None
    if repl.sim is not None:
        return cache.embedded_key(derivatives=repl.spec.derivatives), "the embedded simulator"
    twin = repl.opts.instruments_from
    if twin is None:
        return None
    return cache.key_for(twin), f"profile {twin.profile} ({twin.host}:{twin.port})"


def precheck(repl: Repl, msg: Message) -> None:
    """The pre-send check of ``send``/``amend`` (cached InstrumentList only): CommandError on a refusal.

    No cached list (or no market-data twin to key it by): one note, and the order goes.
    """
    from krakenfix_cli.ops import instruments_cache as cache

    found = instrument_cache(repl)
    if found is None or repl.spec.state_dir is None:
        return
    key, where = found
    verdict = cache.check_message(repl.spec.state_dir, key, msg, where)
    if verdict.refusal is not None:
        raise c.CommandError(f"{verdict.refusal}; nothing was sent")
    if verdict.skipped is not None:
        repl.screen.line(verdict.skipped, "warn" if verdict.damaged else "dim")


def _order_id(repl: Repl) -> str:
    return repl.ledger.next_clordid(clock.now(), derivatives=repl.spec.derivatives)


def new_order(repl: Repl, cmd: c.NewOrder) -> None:
    from krakenfix_cli.ops.send import OrderSpec, build_order, parse_when

    repl.require_live()
    now = clock.now()
    try:
        expire = parse_when(cmd.expire, now) if cmd.expire is not None else None
        start = parse_when(cmd.start, now) if cmd.start is not None else None
    except ValueError as exc:
        raise c.CommandError(str(exc)) from None
    spec = OrderSpec(symbol=cmd.symbol, side=cmd.side, qty=cmd.qty, ord_type=cmd.ord_type, price=cmd.price,
                     stop_px=cmd.stop_px, tif=cmd.tif, post_only=cmd.post_only, reduce_only=cmd.reduce_only,
                     clordid=cmd.clordid, expire_time=expire, effective_time=start)  # fmt: skip
    msg = build_order(spec, repl.ledger, now, derivatives=repl.spec.derivatives)
    precheck(repl, msg)
    row = repl.state.add_order(msg.get(11) or "", cmd.symbol, msg.get(54) or "", msg.get(38) or cmd.qty,
                               msg.get(40) or "", msg.get(44))
    row.sent = msg
    repl.spawn(_tracked(repl, row, msg, f"#{row.index} {row.describe()}"))


async def _tracked(repl: Repl, row: OrderRow, msg: Message, label: str) -> None:
    """A D or G whose ClOrdID the holder may have renewed: the row follows what was sent."""
    result = await request(repl, msg, label)
    if result is not None and result.clordid and result.message.msg_type == "D":
        row.clordid = row.latest_clordid = result.clordid
        row.sent = result.message


def find_row(repl: Repl, ref: str) -> OrderRow:
    row = repl.state.find_order(ref)
    if row is not None:
        return row
    known = repl.ledger.find(clordid=ref) or repl.ledger.find(order_id=ref)
    if known is not None:
        raise c.CommandError(
            f"order {ref} was placed by {known.placed_by.describe()}, not this REPL session; Kraken's "
            f"OrderCancelRequest(F) only reaches orders of the same FIX connection: {REPL_OTHER_CONNECTION}"
        )
    raise c.CommandError(f"no order {ref!r} in this session; `orders` lists them")


def _scope_check(repl: Repl, row: OrderRow) -> None:
    if row.connection and row.connection != repl.state.connection:
        raise c.CommandError(
            f"order #{row.index} was placed on an earlier connection ({row.connection}); after a reconnect "
            f"Kraken's F/G no longer reach it: {REPL_OTHER_CONNECTION}"
        )


def cancel(repl: Repl, ref: str) -> None:
    repl.require_live()
    row = find_row(repl, ref)
    if not row.is_open:
        raise c.CommandError(f"order #{row.index} is already {row.state}")
    _scope_check(repl, row)
    msg = builders.order_cancel_request(
        _order_id(repl), row.symbol, row.side, transact_time=clock.now(), orig_clordid=row.latest_clordid,
        order_id=row.order_id, derivatives=repl.spec.derivatives,
    )  # fmt: skip
    repl.spawn(request(repl, msg, f"cancel #{row.index}"))


def amend(repl: Repl, cmd: c.Amend) -> None:
    repl.require_live()
    row = find_row(repl, cmd.ref)
    _scope_check(repl, row)
    if row.order_id is None:
        raise c.CommandError(f"order #{row.index} has no OrderID(37) yet; wait for its acknowledgement")
    base = row.sent or Message.new("D", (38, row.qty), (40, row.ord_type), (54, row.side), (55, row.symbol))
    try:
        msg = builders.amend_of(
            base, _order_id(repl), order_id=row.order_id, orig_clordid=row.latest_clordid,
            transact_time=clock.now(), qty=cmd.qty or row.qty, price=cmd.price or row.price,
            derivatives=repl.spec.derivatives,
        )  # fmt: skip
    except builders.OrderArgumentError as exc:
        raise c.CommandError(str(exc)) from None
    precheck(repl, msg)
    row.sent = msg
    repl.spawn(request(repl, msg, f"amend #{row.index}"))


def status(repl: Repl, ref: str) -> None:
    repl.require_live()
    row = repl.state.find_order(ref)
    if row is None:
        # On Spot, H reaches any order of the account (SPEC §6.7), unlike F: ask about the
        # journal's orders of other connections too.
        known = repl.ledger.find(clordid=ref) or repl.ledger.find(order_id=ref)
        if known is None:
            raise c.CommandError(f"no order {ref!r} in this session or the order journal; `orders` lists them")
        if not known.order_id or not known.symbol:
            raise c.CommandError(f"the order journal has no OrderID(37) or symbol for {ref}; "
                                 "`raw 35=H|11=...|37=...|55=...` asks anyway")
        msg = builders.order_status_request(known.latest_clordid, known.order_id, known.symbol, known.side,
                                            derivatives=repl.spec.derivatives)
        repl.spawn(request(repl, msg, f"status {ref}"))
        return
    if row.order_id is None:
        raise c.CommandError(f"order #{row.index} has no OrderID(37) yet")
    msg = builders.order_status_request(row.latest_clordid, row.order_id, row.symbol, row.side,
                                        derivatives=repl.spec.derivatives)
    repl.spawn(request(repl, msg, f"status #{row.index}"))


async def mass_cancel(repl: Repl, cmd: c.MassCancel) -> None:
    from krakenfix_cli.ops.mass_cancel import KINDS, describe_scope

    repl.require_live()
    msg = builders.order_mass_cancel(_order_id(repl), KINDS[cmd.scope], cmd.symbol, transact_time=clock.now(),
                                     derivatives=repl.spec.derivatives)
    if not cmd.yes and not await repl.confirm(f"mass cancel: {describe_scope(cmd.scope, cmd.symbol)}"):
        repl.screen.note("not confirmed; nothing was sent")
        return
    repl.spawn(_run_mass_cancel(repl, msg, cmd.symbol if cmd.scope == "symbol" else None))


async def _run_mass_cancel(repl: Repl, msg: Message, symbol: str | None) -> None:
    """``ops.mass_cancel`` on its own subscription: it counts the per-order cancels (Kraken sends no r)."""
    from krakenfix_cli.ops.mass_cancel import mass_cancel as run

    channel = await repl.request_channel()
    repl.screen.note("OrderMassCancelRequest(q) sent; counting the cancellations (Kraken sends no report)")
    try:
        result = await run(channel, msg, repl.screen, repl.ledger, quiet=MASS_CANCEL_QUIET,
                           timeout=repl.opts.timeout, verify=False, derivatives=repl.spec.derivatives)
    finally:
        await repl.release_channel(channel)
    if result.outcome is Outcome.REJECTED:
        repl.screen.line(f"mass cancel refused: {result.reason}", "bad")
        return
    n = len(result.cancelled)
    survivors = [r for r in repl.state.open_orders() if r.connection == repl.state.connection
                 and (symbol is None or r.symbol == symbol)]  # in scope: this connection (and the symbol)
    tail = f"; {len(survivors)} of this session's orders in scope still open" if survivors else ""
    repl.screen.line(f"mass cancel done: {n} order{'s' if n != 1 else ''} cancelled{tail}",
                     "warn" if tail else "ok")


async def raw(repl: Repl, cmd: c.Raw) -> None:
    from krakenfix_cli.ops.send import fill_transact_time

    repl.require_live()
    msg = fill_transact_time(Message.new(cmd.fields[0][1], *cmd.fields[1:]), clock.now())
    if msg.msg_type in ("D", "F", "G", "H", "q"):
        if msg.msg_type == "D" and msg.get(11):
            repl.state.add_order(msg.get(11) or "", msg.get(55) or "", msg.get(54) or "", msg.get(38) or "",
                                 msg.get(40) or "", msg.get(44))
        repl.spawn(request(repl, msg, f"raw {msg.msg_type}"))
        return
    channel: Any = await repl.request_channel()
    try:
        sent = await channel.send(msg)
    finally:
        await repl.release_channel(channel)
    repl.screen.note(f"sent MsgType(35)={msg.msg_type} as MsgSeqNum(34) {sent.seq}")
