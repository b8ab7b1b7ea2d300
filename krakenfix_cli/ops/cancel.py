"""``krakenfix cancel``: OrderCancelRequest(F) by ClOrdID or OrderID, checked against the journal first.

Kraken's F only reaches orders placed on the same FIX connection; any other order is
refused with a BusinessMessageReject(j), never an OrderCancelReject(9) (kraken-fix/SPEC.md
§6.5, §10.4). The order journal records which connection placed each ClOrdID, so we can
say so before sending, and say what works instead: the connection that placed it, or a
mass cancel with 530=7, the only type that reaches another session's orders (530=1 and
530=6 reach only orders created or replaced on the sending session, §6.8). The journal
also knows orders that are already filled or cancelled: those are not worth a logon.
"""

from __future__ import annotations

from dataclasses import dataclass

from krakenfix_cli.fix.message import Message
from krakenfix_cli.fix.values import format_utc_timestamp
from krakenfix_cli.kraken import builders
from krakenfix_cli.kraken.rejects import advice_for
from krakenfix_cli.ops.live import Channel
from krakenfix_cli.ops.outcomes import CancelResult, ConnRef, KnownOrder, Ledger, Outcome
from krakenfix_cli.ops.report import Reporter
from krakenfix_cli.ops.send import send_message
from krakenfix_cli.transport import clock


class CancelArgumentError(ValueError):
    """Not enough to build the cancel (no symbol/side and the journal does not know the order)."""


@dataclass(frozen=True)
class ScopeProblem:
    """Why F from this connection cannot reach the order, and what to do instead."""

    what: str
    todo: str


def scope_problem(known: KnownOrder, current: ConnRef | None) -> ScopeProblem | None:
    """The refusal Kraken would give, when the journal says another connection placed the order.

    ``current`` is None before connecting: a connection not yet made is by definition not
    the one that placed a journalled order.
    """
    if _placed_on(known, current):
        return None
    return ScopeProblem(
        what=(f"order {known.clordid} was placed by another connection ({known.placed_by.describe()}); "
              "Kraken's OrderCancelRequest(F) only cancels orders of the connection that placed them and "
              "would refuse it with a BusinessMessageReject(j)"),
        todo=OTHER_CONNECTION_TODO + "; --force sends the F anyway",
    )


def _placed_on(order: KnownOrder, current: ConnRef | None) -> bool:
    return current is not None and order.placed_by == current


def f_reaches(order: KnownOrder, current: ConnRef | None) -> bool:
    """Can an OrderCancelRequest(F) sent on ``current`` cancel ``order`` now (SPEC §6.5, §10.4)?

    Only an open order placed on that very connection; ``current`` is None when no session is
    held, and then no F reaches anything (a new connection is another session)."""
    return order.is_open and _placed_on(order, current)


#: What reaches another connection's order (SPEC §6.5, §6.8): the one home of this advice.
OTHER_CONNECTION_TODO = (
    "cancel it from the connection that placed it, or use `krakenfix mass-cancel --all` (530=7, every "
    "open order on the account, from any session); --symbol (530=1) and --session (530=6) reach only "
    "orders created or replaced on the connection that sends them"
)


def already_closed(known: KnownOrder) -> str | None:
    """Why there is nothing to cancel, when the journal records the order as finished; else None."""
    if known.is_open:
        return None
    when = f" at {format_utc_timestamp(known.updated)} UTC" if known.updated is not None else ""
    return f"order {known.clordid} is already {known.state} (the order journal recorded it{when})"


def lookup(ledger: Ledger, *, clordid: str | None, order_id: str | None) -> KnownOrder | None:
    """The journalled order the user means, if the journal knows it."""
    if order_id:
        found = ledger.find(order_id=order_id)
        if found is not None:
            return found
    if clordid:
        return ledger.find(clordid=clordid)
    return None


def build_cancel(
    ledger: Ledger,
    known: KnownOrder | None,
    *,
    clordid: str | None,
    order_id: str | None,
    symbol: str | None,
    side: str | None,
    derivatives: bool,
) -> Message:
    """OrderCancelRequest(F): a fresh ClOrdID(11), the order's OrderID(37) and/or latest ClOrdID (41)."""
    if clordid is None and order_id is None:
        raise CancelArgumentError("give the order's --clordid or --order-id")
    orig = clordid
    if known is not None:
        orig = known.latest_clordid if clordid is None or clordid == known.clordid else clordid
        order_id = order_id or known.order_id
        symbol = symbol or known.symbol
        side = side or known.side
    if not symbol or not side:
        missing = " and ".join(n for n, v in (("--symbol", symbol), ("--side", side)) if not v)
        raise CancelArgumentError(f"the order journal does not know this order; give {missing}")
    now = clock.now()
    new_id = ledger.next_clordid(now, derivatives=derivatives)
    return builders.order_cancel_request(new_id, symbol, side, transact_time=now, orig_clordid=orig,
                                         order_id=order_id, derivatives=derivatives)


async def cancel_order(
    channel: Channel,
    msg: Message,
    reporter: Reporter,
    ledger: Ledger,
    *,
    timeout: float = 10.0,
) -> CancelResult:
    """Send the F and wait for the cancellation ExecutionReport (150=4) or the refusal."""
    sent = await send_message(channel, msg, reporter, ledger, wait="ack", timeout=timeout, settle=0.0)
    result = CancelResult(sent.outcome, sent.message, sent.reason, replies=sent.replies)
    if sent.outcome is Outcome.OK:
        last = sent.replies[-1] if sent.replies else None
        if last is None or last.msg_type != "8" or last.get(150) not in ("4", "6"):
            state = last.get(39) if last is not None else None
            result.outcome = Outcome.REJECTED
            result.reason = f"the gateway did not confirm the cancel (OrdStatus(39)={state})"
    elif sent.outcome is Outcome.REJECTED:
        text = sent.reason
        if "380)=101" in text or "Unknown order" in text:
            result.advice = ("the order is unknown to this connection: it was placed on another connection, "
                             "or it is no longer open; " + OTHER_CONNECTION_TODO)
        else:
            result.advice = advice_for(text) or ""
    return result
