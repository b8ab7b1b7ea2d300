"""``krakenfix mass-cancel``: OrderMassCancelRequest(q) and a count of what it took down.

Kraken sends no OrderMassCancelReport(r): each cancelled order gets its own
ExecutionReport (150=4), and nothing at all when nothing was open (kraken-fix/SPEC.md
§6.8, §10.5). So we count cancellation reports (deduplicated by OrderID(37)) until the
line has been quiet for a while, and then ask about the orders the journal still thinks
are open in that scope (OrderStatusRequest(H), Spot only): any that answer "still open"
survived, which is exit 1.
"""

from __future__ import annotations

import contextlib

from krakenfix_cli.fix.message import Message
from krakenfix_cli.kraken import builders
from krakenfix_cli.kraken.clordid import next_derivatives_clordid
from krakenfix_cli.ops.live import Channel
from krakenfix_cli.ops.outcomes import CancelledOrder, ConnRef, KnownOrder, Ledger, MassCancelResult, Outcome
from krakenfix_cli.ops.report import Reporter
from krakenfix_cli.ops.send import Correlator, rejection
from krakenfix_cli.transport import clock

#: Seconds without a cancellation report after which the mass cancel is taken as complete.
QUIET = 1.0
#: At most this many journalled orders are checked with OrderStatusRequest(H) afterwards.
MAX_VERIFY = 200
OPEN_STATUSES = frozenset({"0", "1", "5", "6", "9", "A", "E"})
KINDS = {"symbol": "1", "session": "6", "all": "7"}


def describe_scope(kind: str, symbol: str | None) -> str:
    """The scope in words, as the confirmation prompt and the report show it."""
    code = KINDS.get(kind, kind)
    if code == "1":
        return f"every open {symbol} order created or replaced on this connection (530=1)"
    if code == "6":
        return "every open order created or replaced on this connection (530=6)"
    return "EVERY open order on the account, from any session, REST or WebSocket (530=7)"


def emergency_clordid(ledger: Ledger, now: float, *, derivatives: bool) -> str:
    """The watermark's next ClOrdID, or a fresh timestamp-first UUID when the watermark cannot give
    one (an unreadable or full state dir, an exhausted mark): a mass cancel and its status checks
    must go whatever the state dir holds; Spot and Derivatives both take that format (SPEC §6.2)."""
    try:
        return ledger.next_clordid(now, derivatives=derivatives)
    except Exception:  # whatever the watermark met, the emergency command still sends
        return next_derivatives_clordid(now)


def build_mass_cancel(ledger: Ledger, kind: str, symbol: str | None, *, derivatives: bool) -> Message:
    """OrderMassCancelRequest(q) with a fresh ClOrdID(11)."""
    now = clock.now()
    return builders.order_mass_cancel(emergency_clordid(ledger, now, derivatives=derivatives), KINDS.get(kind, kind),
                                      symbol, transact_time=now, derivatives=derivatives)


def in_scope(order: KnownOrder, msg: Message, conn: ConnRef) -> bool:
    """Would the mass cancel ``msg`` reach ``order`` (as far as the journal can tell)?"""
    if order.placed_by.target != conn.target:
        return False
    kind = msg.get(530)
    if kind == "1":
        return order.symbol == msg.get(55)
    if kind == "6":
        return order.placed_by == conn
    return True


async def mass_cancel(
    channel: Channel,
    msg: Message,
    reporter: Reporter,
    ledger: Ledger,
    *,
    quiet: float = QUIET,
    timeout: float = 10.0,
    verify: bool = True,
    derivatives: bool = False,
) -> MassCancelResult:
    """Send ``msg`` (35=q), count the cancellation reports until ``quiet`` s of silence, check survivors."""
    scope = describe_scope(msg.get(530) or "", msg.get(55))
    conn = channel.conn
    known = [o for o in ledger.open_orders() if in_scope(o, msg, conn)]
    sent = await channel.send(msg)
    msg = sent.message
    result = MassCancelResult(Outcome.OK, msg, scope, quiet_period=quiet)
    corr = Correlator(msg.get(11), sent.seq, "q")
    seen: set[str] = set()
    hard_stop = clock.monotonic() + max(timeout, quiet) * 30  # a runaway stream still ends
    while True:
        left = hard_stop - clock.monotonic()
        if left <= 0:
            reporter.warn("cancellation reports were still arriving when the time limit was hit; the count is partial")
            break
        reply = await channel.next_message(min(quiet, left))
        if reply is None:
            break  # quiet: Kraken sends no summary, so silence is the end
        if reply.msg_type in ("3", "j", "9"):
            if corr.concerns(reply):
                result.outcome = Outcome.REJECTED
                result.reason = rejection(reply) or "refused"
                reporter.message(reply, "in", None)
                return result
            continue
        if reply.msg_type != "8":
            continue
        if reply.get(150) not in ("4", "6"):
            # Not a cancellation, but it matters: a fill while orders are being pulled.
            reporter.warn(f"during the mass cancel: {describe_other_report(reply)}")
            continue
        order_id = reply.get(37) or ""
        if order_id in seen:
            continue
        seen.add(order_id)
        orig = reply.get(41) or reply.get(11) or ""
        result.cancelled.append(CancelledOrder(
            clordid=orig, order_id=order_id, symbol=reply.get(55) or "", side=builders.side_word(reply.get(54)),
            leaves_qty=reply.get(151) or "", cum_qty=reply.get(14) or "",
        ))
        if len(result.cancelled) % 50 == 0:
            reporter.progress(len(result.cancelled), None, "cancelled")
    reporter.progress(len(result.cancelled), None, "cancelled")
    if verify:
        gone = {c.order_id for c in result.cancelled} | {c.clordid for c in result.cancelled}
        left_open = [o for o in known if o.order_id not in gone and o.latest_clordid not in gone
                     and o.clordid not in gone]
        result.survivors = await _verify(channel, left_open, reporter, ledger, timeout, derivatives)
    if result.survivors:
        result.outcome = Outcome.REJECTED
        result.reason = f"{len(result.survivors)} order(s) in scope are still open"
    return result


#: ExecType(150) values other than a cancellation that may arrive during a mass cancel.
EXEC_TYPES = {"0": "New", "5": "Replaced", "A": "Pending New", "C": "Expired", "E": "Pending Replace",
              "F": "Trade (fill)", "I": "Order Status", "8": "Rejected"}


def describe_other_report(er: Message) -> str:
    """One line for a non-cancel ExecutionReport seen while counting cancellations."""
    et = er.get(150) or "?"
    what = f"ExecutionReport {EXEC_TYPES.get(et, 'ExecType(150)=' + et)} for {er.get(41) or er.get(11) or '?'}"
    parts = [f"OrderID {er.get(37)}" if er.get(37) else "", er.get(55) or ""]
    if et == "F":
        parts.append(f"{builders.side_word(er.get(54))} {er.get(32) or '?'} @ {er.get(31) or '?'}")
    parts.append(f"OrdStatus(39)={er.get(39) or '?'}, LeavesQty(151)={er.get(151) or '?'}")
    return what + " (" + ", ".join(p for p in parts if p) + "); it is not counted as cancelled"




async def _verify(
    channel: Channel,
    candidates: list[KnownOrder],
    reporter: Reporter,
    ledger: Ledger,
    timeout: float,
    derivatives: bool,
) -> list[KnownOrder]:
    """Ask about each journalled order the mass cancel did not report; return those still open."""
    checkable = [o for o in candidates if o.order_id and o.symbol]
    if not checkable:
        return []
    if derivatives:
        reporter.warn(f"{len(checkable)} journalled order(s) in scope were not reported cancelled; "
                      "Derivatives has no OrderStatusRequest(H) to check them")
        return []
    if len(checkable) > MAX_VERIFY:
        reporter.warn(f"checking only {MAX_VERIFY} of {len(checkable)} journalled orders not reported cancelled")
        checkable = checkable[:MAX_VERIFY]
    pending: dict[str, tuple[Correlator, KnownOrder]] = {}
    for o in checkable:
        assert o.order_id is not None and o.symbol is not None
        rid = emergency_clordid(ledger, clock.now(), derivatives=False)
        sent = await channel.send(builders.order_status_request(rid, o.order_id, o.symbol, o.side))
        pending[sent.message.get(11) or rid] = (Correlator.for_request(sent.message, sent.seq), o)
    survivors: list[KnownOrder] = []
    deadline = clock.monotonic() + timeout
    while pending and (left := deadline - clock.monotonic()) > 0:
        reply = await channel.next_message(left)
        if reply is None:
            break
        if reply.msg_type not in ("8", "j", "3"):
            continue
        # By our request id (11/41) or the order's OrderID(37): an answer may carry the order's own
        # ClOrdID instead of ours (SPEC §6.7); a reject by 379/45.
        hit = next((k for k, (corr, _) in pending.items() if corr.concerns(reply)), None)
        if hit is None:
            continue
        order = pending.pop(hit)[1]
        if reply.msg_type == "8" and reply.get(39) in OPEN_STATUSES:
            survivors.append(order)
        elif reply.msg_type == "8":
            with contextlib.suppress(Exception):
                ledger.updated(order.clordid, clock.now(), ord_status=reply.get(39))
        elif reply.msg_type == "j":  # unknown to the gateway: closed and forgotten
            with contextlib.suppress(Exception):
                ledger.updated(order.clordid, clock.now(), ord_status="4")
        else:
            reporter.warn(f"OrderStatusRequest(H) for {order.clordid} was refused: {rejection(reply)}")
    if pending:
        reporter.warn(f"{len(pending)} journalled order(s) did not answer an OrderStatusRequest(H); "
                      "check them with `krakenfix tail` or the REPL")
    return survivors
