"""``krakenfix amend``: OrderCancelReplaceRequest(G) changing an order's price, quantity, trigger or display.

Spot only (kraken-fix/SPEC.md §6.6). A G restates the whole order: TimeInForce(59) is
required, a GTD order needs its ExpireTime(126) again, a post-only one its ExecInst(18)=P,
or the amend would quietly turn a GTD into a GTC and let a post-only order take. So the G
repeats what the order journal recorded from the order's NewOrderSingle(D); only price,
trigger price, quantity and display quantity may change (anything else needs cancel +
new). OrigClOrdID(41) is the order's *latest* ClOrdID and OrderID(37) must match it
(§10.7). An order the journal does not know needs all of that from the user.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from krakenfix_cli.fix.message import Message
from krakenfix_cli.fix.values import format_utc_timestamp
from krakenfix_cli.kraken import builders
from krakenfix_cli.kraken.rejects import advice_for
from krakenfix_cli.ops.live import Channel
from krakenfix_cli.ops.outcomes import AMENDABLE_DETAILS, ORDER_DETAIL_TAGS, AmendResult, KnownOrder, Ledger, Outcome
from krakenfix_cli.ops.report import Reporter
from krakenfix_cli.ops.send import send_message
from krakenfix_cli.transport import clock


class AmendArgumentError(ValueError):
    """Not enough to build the G, or a change an amend cannot make; the text says what to give."""


@dataclass(frozen=True)
class Change:
    """The new values (decimal text); None keeps the order's."""

    price: str | None = None
    qty: str | None = None
    display_qty: str | None = None
    stop_px: str | None = None

    @property
    def empty(self) -> bool:
        return all(getattr(self, n) is None for n in AMENDABLE_DETAILS)


@dataclass(frozen=True)
class OrderFacts:
    """What the user says of an order the journal does not know (or knows without details)."""

    orig_clordid: str | None = None
    order_id: str | None = None
    symbol: str | None = None
    side: str | None = None
    ord_type: str | None = None
    tif: str | None = None
    expire_time: float | None = None
    "POSIX seconds (``--expire-time``)."
    post_only: bool | None = None


#: Which option gives each fact, for the "give ..." line.
_OPTION = {"orig_clordid": "--clordid", "order_id": "--order-id", "symbol": "--symbol", "side": "--side",
           "ord_type": "--type", "tif": "--tif", "qty": "--qty", "expire_time": "--expire-time"}

_FIELD = {"symbol": "Symbol(55)", "side": "Side(54)", "ord_type": "OrdType(40)", "tif": "TimeInForce(59)",
          "expire_time": "ExpireTime(126)"}


def _wire(name: str, value: str) -> str:
    """A user's spelling as the wire value, so it compares with the journal's."""
    parse = {"side": builders.Side.parse, "ord_type": builders.OrdType.parse, "tif": builders.TimeInForce.parse}
    return parse[name](value).value if name in parse else value


def build_amend(
    ledger: Ledger,
    known: KnownOrder | None,
    change: Change,
    given: OrderFacts,
    *,
    derivatives: bool,
) -> Message:
    """The G for ``known`` (or for the order ``given`` describes) with ``change`` applied.

    The journal's facts win; a flag fills in what the journal lacks, and one that contradicts
    the journal is refused (only price, quantity, trigger and display quantity are amendable).
    """
    if derivatives:
        raise AmendArgumentError("amending (OrderCancelReplaceRequest(G)) is Spot only; Kraken Derivatives "
                                 "has no G: cancel the order and place it anew")
    if change.empty:
        raise AmendArgumentError("nothing to amend; give --price, --qty, --display-qty or --trigger-price")
    expire = format_utc_timestamp(given.expire_time, millis=False) if given.expire_time is not None else None
    flags: dict[str, str | None] = {
        "orig_clordid": given.orig_clordid, "order_id": given.order_id, "symbol": given.symbol,
        "side": given.side, "ord_type": given.ord_type, "tif": given.tif, "expire_time": expire,
    }
    facts = dict(flags)
    post_only = bool(given.post_only)
    if known is not None:
        journal = {
            "orig_clordid": known.latest_clordid, "order_id": known.order_id, "symbol": known.symbol,
            "side": known.side, "ord_type": known.ord_type, "tif": known.tif, "expire_time": known.expire_time,
        }
        for name, value in journal.items():
            flag = flags[name]
            if value is None:
                continue
            if flag is not None and name not in ("orig_clordid", "order_id") and _wire(name, flag) != value:
                raise AmendArgumentError(
                    f"{_OPTION[name]} {flag} differs from the order's {_FIELD[name]}={value} in the order journal; "
                    "an amend "
                    "changes only price, quantity, trigger price and display quantity: cancel and place anew")
            facts[name] = value
        if known.tif is not None:  # the journal has the D's details: its ExecInst(18) decides
            post_only = "P" in (known.exec_inst or "").split()
    qty = change.qty or (known.qty if known is not None else None)
    need = [*[n for n in ("orig_clordid", "order_id", "symbol", "side", "ord_type", "tif") if not facts[n]],
            *(["qty"] if not qty else [])]
    if facts["tif"] and _wire("tif", facts["tif"] or "") == builders.TimeInForce.GTD.value and not facts["expire_time"]:
        need.append("expire_time")
    if need:
        what = "the order journal does not know this order" if known is None else \
            "the order journal lacks details of this order"
        raise AmendArgumentError(
            f"{what}; give {', '.join(_OPTION[n] for n in need)} (a G restates the whole order: its time in force, "
            "expiry and post-only flag are not kept unless sent again)")

    def keep(new: str | None, old: str | None) -> str | None:
        return new if new is not None else old

    assert facts["orig_clordid"] and facts["order_id"] and facts["symbol"] and facts["side"]
    assert facts["ord_type"] and facts["tif"] and qty
    now = clock.now()
    try:
        return builders.order_cancel_replace(
            ledger.next_clordid(now), facts["order_id"], facts["orig_clordid"], facts["symbol"], facts["side"],
            qty, facts["ord_type"], transact_time=now,
            price=keep(change.price, known.price if known is not None else None),
            stop_px=keep(change.stop_px, known.stop_px if known is not None else None),
            tif=facts["tif"], post_only=post_only,
            display_qty=keep(change.display_qty, known.display_qty if known is not None else None),
            expire_time=facts["expire_time"],
        )  # fmt: skip
    except builders.OrderArgumentError as exc:
        raise AmendArgumentError(str(exc)) from None


#: The advice for a G the gateway does not find (380=101).
UNKNOWN_ORDER_TODO = (
    "the order is unknown to this connection: it is closed, its ClOrdID changed (check `krakenfix status`), "
    "or it was placed on another connection; amend it from the connection that placed it, or cancel it "
    "(`krakenfix mass-cancel --all` reaches any session's orders) and place it anew"
)


async def amend_order(
    channel: Channel,
    msg: Message,
    reporter: Reporter,
    ledger: Ledger,
    known: KnownOrder | None = None,
    *,
    timeout: float = 10.0,
) -> AmendResult:
    """Send the G and wait for Replaced (150=5) or Pending Replace (39=E), or the refusal.

    A replace is written to the journal with the G's new price and quantity (the session's
    journalling has already added the new ClOrdID to the order's chain)."""
    sent = await send_message(channel, msg, reporter, ledger, wait="ack", timeout=timeout, settle=0.0)
    msg = sent.message  # as sent: a holder may have renewed its ClOrdID(11)
    result = AmendResult(sent.outcome, msg, sent.reason, replies=sent.replies)
    if sent.outcome is Outcome.OK:
        last = sent.replies[-1] if sent.replies else None
        exec_type = last.get(150) if last is not None else None
        if last is None or last.msg_type != "8" or (exec_type != "5" and last.get(39) != "E"):
            result.outcome = Outcome.REJECTED
            result.reason = f"the gateway did not confirm the amend (ExecType(150)={exec_type})"
            return result
        result.pending = exec_type != "5"
        result.report = last
        if known is not None and not result.pending:
            new = {n: v for n in AMENDABLE_DETAILS if (v := msg.get(ORDER_DETAIL_TAGS[n]))}
            with contextlib.suppress(OSError):  # the journal adapter warns itself
                ledger.updated(known.clordid, clock.now(), details=new)
    elif sent.outcome is Outcome.REJECTED:
        text = sent.reason
        if "380)=101" in text or "Unknown order" in text:
            result.advice = UNKNOWN_ORDER_TODO
        else:
            result.advice = advice_for(text) or ""
    return result
