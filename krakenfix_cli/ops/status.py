"""OrderStatusRequest(H) for a list of orders, and their answers: ``status``, ``orders --refresh``.

On Spot, H reaches any order of the account, not only this connection's (kraken-fix/SPEC.md
§6.7); Derivatives has no H at all. The answer is an ExecutionReport with ExecType(150)=I
whose OrdStatus(39) is the order's state now; an order the gateway does not know gets a
BusinessMessageReject(j) (380=101). FIX 4.4 lets the answer carry the order's own ClOrdID
instead of our request id, so answers are matched by our ClOrdID(11) or by the order's
OrderID(37) (``ops.send.Correlator``). Every answer updates the order journal.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

from krakenfix_cli.fix.message import Message
from krakenfix_cli.kraken import builders
from krakenfix_cli.ops.live import Channel
from krakenfix_cli.ops.outcomes import KnownOrder, Ledger, Outcome, report_details
from krakenfix_cli.ops.report import Reporter
from krakenfix_cli.ops.send import Correlator, rejection
from krakenfix_cli.transport import clock


@dataclass
class StatusAnswer:
    """What the gateway said of one order: its status report, a refusal, or nothing."""

    order: KnownOrder
    outcome: Outcome
    "OK (answered 150=I), REJECTED (35=j/35=3, or not askable), TIMED_OUT (no answer)."
    report: Message | None = None
    "The ExecutionReport(8) answer."
    reason: str = ""
    asked: bool = True
    "False when the order could not be asked about (no OrderID(37) or Symbol(55) known)."


def not_askable(order: KnownOrder) -> str | None:
    """Why no H can be built for ``order`` (H needs OrderID(37) and Symbol(55)); None when it can."""
    missing = [name for name, v in (("OrderID(37)", order.order_id), ("Symbol(55)", order.symbol)) if not v]
    if not missing:
        return None
    return f"no {' or '.join(missing)} known for order {order.clordid}"


async def ask_status(
    channel: Channel,
    orders: Sequence[KnownOrder],
    reporter: Reporter,
    ledger: Ledger,
    *,
    timeout: float = 10.0,
) -> list[StatusAnswer]:
    """Send one H per order and collect the answers until all came or ``timeout`` passed.

    Returns one :class:`StatusAnswer` per order, in the order given. Each H carries a fresh
    ClOrdID(11) from the ledger's watermark. A report updates the journal (state, OrderID,
    progress, the price and quantity it restates); a refusal leaves the journal as it was.
    """
    if channel.derivatives:
        raise builders.OrderArgumentError("OrderStatusRequest(H) is Spot only; Kraken Derivatives has none")
    answers = [StatusAnswer(o, Outcome.TIMED_OUT) for o in orders]
    pending: list[tuple[Correlator, StatusAnswer]] = []
    for answer in answers:
        why = not_askable(answer.order)
        if why is not None:
            answer.outcome, answer.reason, answer.asked = Outcome.REJECTED, why, False
            continue
        o = answer.order
        assert o.order_id is not None and o.symbol is not None
        req = builders.order_status_request(ledger.next_clordid(clock.now()), o.order_id, o.symbol, o.side)
        sent = await channel.send(req)
        pending.append((Correlator.for_request(sent.message, sent.seq), answer))
    deadline = clock.monotonic() + timeout
    while pending and (left := deadline - clock.monotonic()) > 0:
        reply = await channel.next_message(left)
        if reply is None:
            if channel.closed:
                break
            continue
        if reply.msg_type not in ("8", "j", "3"):
            continue
        if reply.msg_type == "8" and reply.get(150) != "I":
            continue  # a fill or cancel streaming past: not the answer (its journal update is the session's)
        hit = next((i for i, (corr, _) in enumerate(pending) if corr.concerns(reply)), None)
        if hit is None:
            continue
        answer = pending.pop(hit)[1]
        if reply.msg_type == "8":
            answer.outcome, answer.report = Outcome.OK, reply
            with contextlib.suppress(OSError):  # the journal adapter warns once itself
                ledger.updated(answer.order.clordid, clock.now(), order_id=reply.get(37) or None,
                               ord_status=reply.get(39) or None, details=report_details(reply))
        else:
            answer.outcome = Outcome.REJECTED
            answer.reason = rejection(reply) or "refused"
    for _, answer in pending:
        answer.reason = (f"the connection closed ({channel.close_reason or 'no reason given'})" if channel.closed
                         else f"no answer to OrderStatusRequest(H) within {timeout:g} s")
    return answers
