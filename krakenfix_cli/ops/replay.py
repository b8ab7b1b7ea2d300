"""``krakenfix replay``: ask the gateway to resend from a sequence number, and reconcile the orders.

The ResendRequest(2) goes out with BeginSeqNo(7)=``--from`` and EndSeqNo(16)=``--to`` or 0
(everything since); the gateway answers with the original application messages marked
PossDupFlag(43)=Y and gap-fills the admin ones (kraken-fix/SPEC.md §5.2). The Client hands
replays up even though they are below the expected MsgSeqNum (``deliver_duplicates``).
The session must continue its sequence numbers to address them, so the Logon carries
ResetSeqNumFlag(141)=N; a rollover in between makes older numbers unreachable (§10.11).

The reconciliation folds ExecutionReports by OrderID(37), deduplicated by ExecID(17):
final OrdStatus(39), cumulative quantity, number of fills. ``replay_log`` does the same
for a recorded log, offline.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import BinaryIO

from krakenfix_cli.fix.message import Message, decode
from krakenfix_cli.ops.live import Channel, GapClosed, Lost, Received
from krakenfix_cli.ops.outcomes import OrderSummary, ReplayResult
from krakenfix_cli.ops.report import Reporter
from krakenfix_cli.transport import clock

#: Seconds without a replayed message after which the replay is taken as complete.
QUIET = 1.0
STATES = {"0": "new", "1": "partially filled", "2": "filled", "4": "canceled", "5": "replaced",
          "6": "pending cancel", "8": "rejected", "A": "pending new", "C": "expired", "E": "pending replace"}
#: What only a gateway sends (a client never does): the inbound side of a two-way log.
INBOUND_TYPES = frozenset({"8", "9", "j", "3", "y", "W", "X", "Y", "h"})


@dataclass
class _Order:
    order_id: str
    clordid: str = ""
    symbol: str = ""
    side: str = ""
    status: str = ""
    cum_qty: str = "0"
    leaves_qty: str = ""
    fills: int = 0
    reports: int = 0


@dataclass
class Reconciler:
    """Folds ExecutionReports into orders, each ExecID(17) counted once."""

    orders: dict[str, _Order] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    duplicates: int = 0

    def add(self, msg: Message) -> bool:
        """Fold ``msg`` in; False when it is a duplicate ExecutionReport (or not one)."""
        if msg.msg_type != "8":
            return False
        exec_id = msg.get(17)
        if exec_id:
            if exec_id in self.seen:
                self.duplicates += 1
                return False
            self.seen.add(exec_id)
        oid = msg.get(37) or msg.get(11) or "?"
        o = self.orders.setdefault(oid, _Order(oid))
        o.reports += 1
        if not o.clordid:  # the ClOrdID the order was placed with (cancels and amends carry it in 41)
            o.clordid = msg.get(41) or msg.get(11) or ""
        o.symbol = msg.get(55) or o.symbol
        o.side = {"1": "buy", "2": "sell"}.get(msg.get(54) or "", msg.get(54) or o.side)
        if msg.get(150) != "I" or not o.status:
            o.status = msg.get(39) or o.status
        o.cum_qty = msg.get(14) or o.cum_qty
        o.leaves_qty = msg.get(151) or o.leaves_qty
        if msg.get(150) == "F":
            o.fills += 1
        return True

    def summaries(self) -> list[OrderSummary]:
        return [OrderSummary(o.order_id, o.clordid, o.symbol, o.side, STATES.get(o.status, o.status),
                             o.cum_qty, o.leaves_qty, o.fills, o.reports) for o in self.orders.values()]


def report_table(reporter: Reporter, result: ReplayResult) -> None:
    """The reconciliation table: order → final state, quantities, fills."""
    rows = [[s.order_id, s.clordid, s.symbol, s.side, s.state, s.cum_qty, s.leaves_qty, str(s.fills)]
            for s in result.orders]
    reporter.table(f"reconciliation ({len(rows)} orders, {result.duplicates} duplicate report(s) ignored)",
                   ["OrderID", "ClOrdID", "Symbol", "Side", "Final state", "CumQty", "LeavesQty", "Fills"], rows)


async def replay(
    channel: Channel,
    reporter: Reporter,
    *,
    begin: int,
    end: int = 0,
    timeout: float = 10.0,
    quiet: float = QUIET,
) -> ReplayResult:
    """Send ResendRequest(2) for [begin, end] through ``channel``; show and reconcile what comes back."""
    result = ReplayResult()
    rec = Reconciler()
    while await channel.next_item(0) is not None:  # what arrived with the Logon is not part of the replay
        pass
    await channel.request_resend(begin, end)
    reporter.note(f"ResendRequest(2) BeginSeqNo(7)={begin} EndSeqNo(16)={end} sent")
    first_deadline = clock.monotonic() + timeout
    got_any = False
    while True:
        wait = quiet if got_any else max(0.0, first_deadline - clock.monotonic())
        if wait <= 0:
            break
        ev = await channel.next_item(wait)
        if ev is None:
            break
        if isinstance(ev, Received):
            msg = ev.message
            seq = msg.get_int(34)
            if seq is None or seq < begin or (end and seq > end):
                continue
            got_any = True
            result.messages += 1
            result.first_seq = seq if result.first_seq is None else min(result.first_seq, seq)
            result.last_seq = seq if result.last_seq is None else max(result.last_seq, seq)
            is_new = rec.add(msg)
            if msg.msg_type != "8" or is_new:
                reporter.message(msg, "in", None)
        elif isinstance(ev, GapClosed):
            got_any = True
            if end and ev.through >= end:
                break
        elif isinstance(ev, Lost):
            result.problems.append(f"disconnected during the replay: {ev.reason}")
            if ev.final:
                break
    result.duplicates = rec.duplicates
    result.orders = rec.summaries()
    if result.messages == 0:
        result.problems.append(f"the gateway resent no application message from MsgSeqNum(34) {begin}"
                               + ("" if not end else f" to {end}"))
    report_table(reporter, result)
    return result


def replay_log(stream: BinaryIO, reporter: Reporter, *, begin: int = 1, end: int = 0) -> ReplayResult:
    """Replay a recorded log offline: the gateway's messages from ``begin`` (to ``end``), reconciled."""
    from krakenfix_cli.fix import logfile

    result = ReplayResult()
    rec = Reconciler()

    def messages(entries: Iterable[logfile.LogEntry]) -> Iterable[Message]:
        for _stamp, frame in entries:
            if isinstance(frame, bytes):
                with contextlib.suppress(ValueError):
                    yield decode(frame)

    for msg in messages(logfile.read_log(stream)):
        if msg.msg_type not in INBOUND_TYPES:
            continue
        seq = msg.get_int(34)
        if seq is None or seq < begin or (end and seq > end):
            continue
        result.messages += 1
        result.first_seq = seq if result.first_seq is None else min(result.first_seq, seq)
        result.last_seq = seq if result.last_seq is None else max(result.last_seq, seq)
        if rec.add(msg) or msg.msg_type != "8":
            reporter.message(msg, "in", None)
    result.duplicates = rec.duplicates
    result.orders = rec.summaries()
    report_table(reporter, result)
    return result
