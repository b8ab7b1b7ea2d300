"""``krakenfix send``: a NewOrderSingle(D) from options, or any message from text; await replies.

Kraken refuses in three shapes (kraken-fix/SPEC.md §6.4, §10.8): a session Reject(3)
for field errors (correlated by RefSeqNum(45)), a BusinessMessageReject(j) before the
engine (correlated by BusinessRejectRefID(379): Kraken's own 45 may be 0), and an
unsolicited cancel ExecutionReport after the acknowledgement (post-only that would take,
self-trade prevention). All three count as "rejected". A cancel can follow the ack within
the same engine step, so ``--wait ack`` listens for a short settle period after the ack.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from decimal import Decimal

from krakenfix_cli.fix import framing
from krakenfix_cli.fix.errors import FixError
from krakenfix_cli.fix.message import Message, parse_fields
from krakenfix_cli.fix.values import parse_decimal
from krakenfix_cli.kraken import builders
from krakenfix_cli.ops.live import HOLDER_GONE, Channel
from krakenfix_cli.ops.outcomes import Ledger, Outcome, SendResult
from krakenfix_cli.ops.report import Reporter
from krakenfix_cli.transport import clock

#: How long ``--wait ack`` keeps listening after the acknowledgement for an unsolicited cancel.
SETTLE = 0.25
#: Header and trailer tags the engine writes itself; dropped from ``--raw`` text.
ENGINE_TAGS = frozenset({8, 9, 10, 34, 49, 52, 56})
WAITS = ("ack", "fill", "none")
#: Quantity and price tags of --raw text: OrderQty, Price, StopPx, CashOrderQty, MinQty, MaxFloor, DisplayQty.
AMOUNT_TAGS = frozenset({38, 44, 99, 152, 110, 111, 1138})
#: ExecType(150) values that end an order without (full) execution.
ENDING = frozenset({"4", "C", "8"})
#: TimeInForce(59) values whose unfilled part the engine cancels at once.
IMMEDIATE_TIFS = frozenset({"3", "4"})


class RawMessageError(ValueError):
    """``--raw``/``--file`` text is not a usable message; the text says why."""


@dataclass
class OrderSpec:
    """A NewOrderSingle(D) as the user gave it (decimal quantities and prices as text)."""

    symbol: str
    side: str
    qty: Decimal | str
    ord_type: str = "limit"
    price: Decimal | str | None = None
    stop_px: Decimal | str | None = None
    tif: str = "gtc"
    post_only: bool = False
    reduce_only: bool = False
    exec_inst: list[str] = field(default_factory=list)
    stp: str | None = None
    display_qty: Decimal | str | None = None
    alloc_account: str | None = None
    clordid: str | None = None
    trigger_ref: str | None = None
    expire_time: float | None = None
    "ExpireTime(126), POSIX seconds (time in force gtd)."
    effective_time: float | None = None
    "EffectiveTime(168), POSIX seconds: the order waits, Pending New, until then (Spot)."
    valid_until: float | None = None
    "ValidUntilTime(62), POSIX seconds: refused if it reaches the engine later (2-60 s ahead)."


_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_when(text: str, now: float) -> float:
    """A time as users type it: ``+30s``/``+15m``/``+2h``/``+1d`` from ``now``, a FIX UTC
    timestamp (``20261125-18:00:00[.000]``) or ISO 8601 in UTC (``2026-11-25T18:00:00Z``)."""
    from datetime import UTC, datetime

    from krakenfix_cli.fix.values import parse_utc_timestamp

    t = text.strip()
    if t.startswith("+") and len(t) > 2 and t[-1] in _UNITS:
        try:
            amount = float(t[1:-1])
        except ValueError:
            amount = -1.0
        if amount > 0:
            return now + amount * _UNITS[t[-1]]
    else:
        with contextlib.suppress(ValueError):
            return parse_utc_timestamp(t)
        with contextlib.suppress(ValueError):
            when = datetime.fromisoformat(t.replace("Z", "+00:00"))
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            return when.timestamp()
    raise ValueError(f"cannot read the time {text!r}; give +30s, +15m, +2h, +1d, 20261125-18:00:00 "
                     "or 2026-11-25T18:00:00Z (UTC)")


def message_from_text(text: str) -> Message:
    """``35=D|11=...`` (``|`` or SOH) → a body-only Message; header/trailer fields are the engine's."""
    if len(text) > framing.MAX_BODY_LENGTH:
        raise RawMessageError(f"the message is {len(text)} bytes; the limit is {framing.MAX_BODY_LENGTH} "
                              "(BodyLength the framer accepts): send a smaller message")
    body = text.strip().replace("|", "\x01")
    if not body:
        raise RawMessageError("the message is empty; give it as '35=D|11=...|55=BTC/USD|...'")
    if not body.endswith("\x01"):
        body += "\x01"
    try:
        fields = parse_fields(body)
    except ValueError as exc:
        raise RawMessageError(f"cannot parse the message: {exc}") from None
    msg_type = next((v for t, v in fields if t == 35), None)
    if not msg_type:
        raise RawMessageError("the message has no MsgType(35); start it with 35=<type>|")
    kept = [(t, v) for t, v in fields if t not in ENGINE_TAGS and t != 35]
    for tag, value in kept:
        if tag in AMOUNT_TAGS:
            try:
                parse_decimal(value)
            except FixError:
                raise RawMessageError(f"{tag}={value!r} is not a FIX decimal; write quantities and prices "
                                      "in plain ASCII digits like 0.01 (no '_', exponent or nan)") from None
    return Message.new(msg_type, *kept)


def build_order(spec: OrderSpec, ledger: Ledger, now: float, *, derivatives: bool) -> Message:
    """NewOrderSingle(D) from ``spec``, with a generated ClOrdID when none is given."""
    if spec.clordid:
        clordid = spec.clordid
    else:
        clordid = ledger.next_clordid(now, derivatives=derivatives)
    msg = builders.new_order_single(
        clordid, spec.symbol, spec.side, spec.qty, spec.ord_type, transact_time=now, price=spec.price,
        stop_px=spec.stop_px, tif=spec.tif, post_only=spec.post_only, reduce_only=spec.reduce_only,
        exec_inst=spec.exec_inst, stp=spec.stp, display_qty=spec.display_qty, alloc_account=spec.alloc_account,
        trigger_ref=spec.trigger_ref, expire_time=spec.expire_time, effective_time=spec.effective_time,
        valid_until=spec.valid_until, derivatives=derivatives,
    )
    if spec.clordid:
        ledger.remember_clordid(spec.clordid, derivatives=derivatives)  # the REPL sends without send_message
    return msg


def fill_transact_time(msg: Message, now: float) -> Message:
    """Add TransactTime(60) to a D/F/G/q typed without one (it is required there)."""
    from krakenfix_cli.fix.values import format_utc_timestamp

    if msg.msg_type in ("D", "F", "G", "q") and 60 not in msg:
        return msg.with_fields((60, format_utc_timestamp(now)))
    return msg


@dataclass
class Correlator:
    """Which inbound messages answer what we sent: by ClOrdID, OrderID, RefSeqNum or RefID.

    An answer to F/G/H may carry the order's own ClOrdID rather than our request id (FIX 4.4
    allows it, SPEC §6.7), so for those the order's OrderID(37) matches too.
    """

    clordid: str | None
    seq: int
    msg_type: str
    order_id: str | None = None

    @classmethod
    def for_request(cls, msg: Message, seq: int = 0) -> Correlator:
        """The correlator for ``msg`` as sent with MsgSeqNum ``seq``."""
        oid = msg.get(37) if msg.msg_type in ("F", "G", "H") else None
        return cls(msg.get(11), seq, msg.msg_type, oid or None)

    def concerns(self, msg: Message) -> bool:
        mt = msg.msg_type
        if mt == "3":
            return msg.get(45) == str(self.seq)
        if mt == "j":
            ref = msg.get(379)
            if ref is not None and self.clordid is not None:
                return ref == self.clordid
            return msg.get(45) == str(self.seq) or (msg.get(372) == self.msg_type and ref is None)
        if self.clordid is None:
            return True
        if self.order_id is not None and msg.get(37) == self.order_id:
            return True
        return self.clordid in (msg.get(11), msg.get(41))


def rejection(msg: Message, *, cancel_expected: bool = False) -> str | None:
    """Why ``msg`` is a refusal of what we sent, or None when it is not one."""
    mt = msg.msg_type
    if mt == "3":
        return f"session Reject(3): {msg.get(58) or 'no text'} (SessionRejectReason(373)={msg.get(373)})"
    if mt == "j":
        return f"BusinessMessageReject(j): {msg.get(58) or 'no text'} (BusinessRejectReason(380)={msg.get(380)})"
    if mt == "9":
        return f"OrderCancelReject(9): {msg.get(58) or 'no text'}"
    if mt == "8":
        et = msg.get(150)
        if et == "8":
            return f"rejected: {msg.get(58) or 'no text'}"
        if et == "4" and not cancel_expected:
            return f"cancelled by the engine right after the acknowledgement: {msg.get(58) or 'no reason given'}"
        if et == "C" and not cancel_expected:
            return f"expired: {msg.get(58) or 'no reason given'}"
    return None


async def send_message(
    channel: Channel,
    msg: Message,
    reporter: Reporter,
    ledger: Ledger,
    *,
    wait: str = "ack",
    timeout: float = 10.0,
    settle: float = SETTLE,
) -> SendResult:
    """Send ``msg`` through ``channel`` and wait for ``wait`` (ack, fill or none).

    The live session journals a D before it goes out and every report about it after
    (``ops.live``); this function only correlates the answers and judges them."""
    if wait not in WAITS:
        raise ValueError(f"wait must be one of {WAITS}")
    now = clock.now()
    msg = fill_transact_time(msg, now)
    clordid = msg.get(11)
    if clordid:
        # Whoever chose it (--clordid, --raw, --file, the REPL): generated ones stay above it.
        ledger.remember_clordid(clordid, derivatives=channel.derivatives)
    sent = await channel.send(msg)
    msg, seq = sent.message, sent.seq
    clordid = msg.get(11)
    result = SendResult(Outcome.OK, msg, clordid, seq)
    if wait == "none":
        reporter.note(f"sent {msg.msg_type} as MsgSeqNum(34) {seq}; not waiting for an answer (--wait none)")
        return result
    corr = Correlator.for_request(msg, seq)
    loop_deadline = clock.monotonic() + timeout
    acked_at: float | None = None
    cancel_expected = msg.msg_type in ("F", "q")
    # IOC(3)/FOK(4): the engine cancels what does not fill at once; that is the order working.
    immediate = msg.msg_type == "D" and msg.get(59) in IMMEDIATE_TIFS
    while True:
        now_m = clock.monotonic()
        if acked_at is not None:
            remaining = min(acked_at + settle, loop_deadline) - now_m
        else:
            remaining = loop_deadline - now_m
        if remaining <= 0:
            break
        reply = await channel.next_message(remaining)
        if reply is None:
            if not channel.closed:
                continue
            if acked_at is not None:
                return result  # acknowledged; the settle period ends with the connection
            result.outcome = Outcome.TIMED_OUT
            what = "the fill" if wait == "fill" and result.replies else "an answer"
            lost = channel.close_reason or "no reason given"
            result.reason = lost if lost.startswith(HOLDER_GONE) else \
                f"connection dropped by the gateway before {what} ({lost})"
            return result
        if not corr.concerns(reply):
            continue
        result.replies.append(reply)
        if reply.msg_type == "8":
            result.order_id = reply.get(37) or result.order_id
            result.ord_status = reply.get(39) or result.ord_status
        if immediate and reply.msg_type == "8" and reply.get(150) in ("4", "C"):
            return _immediate_outcome(result, msg, reply)
        why = rejection(reply, cancel_expected=cancel_expected)
        if why is not None:
            result.outcome, result.reason = Outcome.REJECTED, why
            if msg.msg_type == "D" and clordid and reply.msg_type in ("3", "j"):
                ledger.updated(clordid, clock.now(), ord_status="8")  # refused before the engine
            return result
        if reply.msg_type != "8":
            if msg.msg_type in ("D", "F", "G", "H", "q"):
                continue  # not an answer we recognise; keep listening
            return result  # any other message type: the first correlated answer is the answer
        if wait == "fill":
            if reply.get(39) == "2":
                return result
            continue
        if acked_at is None:
            acked_at = clock.monotonic()
            if settle <= 0 or reply.get(39) in ("2", "4", "C"):
                return result
    if acked_at is not None:
        return result
    result.outcome = Outcome.TIMED_OUT
    what = "fill" if wait == "fill" else "answer"
    got = f"; last status OrdStatus(39)={result.ord_status}" if result.ord_status else ""
    result.reason = f"no {what} within {timeout:g} s{got}"
    return result


def _immediate_outcome(result: SendResult, sent: Message, cancel: Message) -> SendResult:
    """An IOC/FOK's cancel: OK with the fill when anything filled, NOT_FILLED (exit 6) when nothing did."""
    tif = "IOC" if sent.get(59) == "3" else "FOK"
    cum = cancel.get(14) or "0"
    qty = cancel.get(38) or sent.get(38) or "?"
    try:
        filled = Decimal(cum) > 0
    except ArithmeticError:
        filled = False
    if filled:
        result.outcome = Outcome.OK
        result.reason = f"filled {cum} of {qty} ({tif}: the remainder was cancelled)"
    else:
        result.outcome = Outcome.NOT_FILLED
        result.reason = f"{tif}: nothing filled of {qty}; the order was cancelled ({cancel.get(58) or 'no liquidity'})"
    return result

