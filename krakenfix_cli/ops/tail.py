"""``krakenfix tail``: stay logged on and stream inbound messages through drops and rollovers.

Nothing may be lost or shown twice (kraken-fix/SPEC.md §5.2, §5.7, §10.11, §10.12):

* a dropped line → reconnect with back-off and ResetSeqNumFlag(141)=N, so the engine sees
  the gap and asks for a resend; replays arrive with PossDupFlag(43)=Y;
* the daily rollover (Logout "session rollover", then logons refused for ~30 s, then both
  sequence streams restart at 1) → reconnect with back-off and log on with 141=Y;
* every ExecutionReport is shown once, by ExecID(17), whatever its PossDup flag.

``tail_file`` does the same for a log file (``--file LOG [--follow]``), without a session.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import BinaryIO

from krakenfix_cli.client import Client, ClientSpec, ConnectFailed, LogonRefusedError
from krakenfix_cli.fix.message import Message, decode
from krakenfix_cli.fix.values import parse_utc_timestamp
from krakenfix_cli.ops.dedupe import ExecIdSet
from krakenfix_cli.ops.outcomes import Ledger, TailResult
from krakenfix_cli.ops.report import Reporter
from krakenfix_cli.ops.session import maybe_embedded, show_nothing, tap
from krakenfix_cli.session.events import Disconnect, GapDetected, GapFilled, LogoutReceived, MessageReceived
from krakenfix_cli.transport import clock
from krakenfix_cli.transport.reconnect import Backoff

#: ExecType(150) by the words users type.
EXEC_TYPES = {
    "new": "0", "canceled": "4", "cancelled": "4", "cancel": "4", "replaced": "5", "replace": "5",
    "pending-new": "A", "expired": "C", "restated": "D", "trade": "F", "fill": "F", "status": "I",
    "order-status": "I", "rejected": "8",
}  # fmt: skip


class FilterError(ValueError):
    """A filter value names nothing we know."""


@dataclass
class TailFilter:
    """Which messages to show; empty sets match everything."""

    msg_types: set[str] = field(default_factory=set)
    symbols: set[str] = field(default_factory=set)
    clordids: set[str] = field(default_factory=set)
    exec_types: set[str] = field(default_factory=set)
    where: Callable[[Message, str], bool] | None = None
    "A ``log grep`` expression (``--where``), over the message and its direction."

    def matches(self, msg: Message, direction: str = "in") -> bool:
        if self.where is not None and not self.where(msg, direction):
            return False
        if self.msg_types and msg.msg_type not in self.msg_types:
            return False
        if self.symbols and msg.get(55) not in self.symbols:
            return False
        if self.clordids and not ({msg.get(11), msg.get(41), msg.get(379)} & self.clordids):
            return False
        return not (self.exec_types and msg.get(150) not in self.exec_types)

    @classmethod
    def build(cls, msg_types: Iterable[str] = (), symbols: Iterable[str] = (), clordids: Iterable[str] = (),
              exec_types: Iterable[str] = (), where: str | None = None) -> TailFilter:
        """From what the user typed: MsgType codes or names, ExecType codes or words, an expression."""
        predicate = None
        if where:
            from krakenfix_cli.ops.logq.expr import ExprError, compile_expr

            try:
                predicate = compile_expr(where)
            except ExprError as exc:
                raise FilterError(f"bad --where expression at column {exc.column}: {exc.text}") from None
        return cls(
            msg_types={msg_type_code(t) for t in _split(msg_types)},
            symbols=set(_split(symbols)),
            clordids=set(_split(clordids)),
            exec_types={exec_type_code(t) for t in _split(exec_types)},
            where=predicate,
        )


def _split(values: Iterable[str]) -> list[str]:
    return [p.strip() for v in values for p in v.split(",") if p.strip()]


def msg_type_code(text: str) -> str:
    """``8``, ``ExecutionReport`` or ``execution-report`` → ``8``."""
    if len(text) <= 2 and text.isalnum():
        return text
    from krakenfix_cli.fix.dictionary import fix44

    wanted = text.replace("-", "").replace("_", "").lower()
    for m in fix44().all_messages():
        if m.name.lower() == wanted:
            return m.msg_type
    raise FilterError(f"unknown message type {text!r}; give a MsgType(35) code (8, j, 3, ...) or a name "
                      "(ExecutionReport, BusinessMessageReject, ...)")


def exec_type_code(text: str) -> str:
    """``F``, ``trade`` or ``fill`` → ``F``."""
    code = EXEC_TYPES.get(text.lower())
    if code is not None:
        return code
    if len(text) == 1 and text.isalnum():
        return text.upper()
    raise FilterError(f"unknown exec type {text!r}; give an ExecType(150) code or one of "
                      f"{', '.join(sorted(set(EXEC_TYPES)))}")


@dataclass
class _State:
    result: TailResult
    filt: TailFilter
    seen: ExecIdSet
    reporter: Reporter
    max_messages: int | None
    ledger: Ledger | None = None
    tracked: set[str] = field(default_factory=set)
    "Every ClOrdID of the journalled open orders: their reports update the journal."

    def track_open_orders(self) -> None:
        """Refresh :attr:`tracked` from the journal (at each logon)."""
        if self.ledger is not None:
            self.tracked = {c for o in self.ledger.open_orders() for c in (o.clordid, o.latest_clordid)}

    def offer(self, msg: Message, when: float | None, direction: str | None = "in") -> bool:
        """Show ``msg`` unless it is a duplicate or filtered out; True when tail should stop."""
        self.result.received += 1
        if msg.msg_type == "8":
            exec_id = msg.get(17)
            if exec_id and not self.seen.first_time(exec_id):
                self.result.duplicates += 1
                return False
            if self.tracked:
                self._journal(msg)
        if not self.filt.matches(msg, direction or "in"):
            return False
        self.reporter.message(msg, direction, when)
        self.result.shown += 1
        return self.max_messages is not None and self.result.shown >= self.max_messages


    def _journal(self, msg: Message) -> None:
        """A report about a journalled order: note its state, so `cancel` knows it later."""
        cid, orig = msg.get(11), msg.get(41)
        key = orig if orig in self.tracked else cid if cid in self.tracked else None
        if key is None or self.ledger is None:
            return
        new = cid if key == orig and cid and cid != orig else None
        self.ledger.updated(key, clock.now(), order_id=msg.get(37), ord_status=msg.get(39), new_clordid=new)
        if new:
            self.tracked.add(new)


async def _wait(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep ``seconds`` unless ``stop`` is set first; True when stopped."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), max(0.0, seconds))
    return stop.is_set()


async def tail(
    spec: ClientSpec,
    reporter: Reporter,
    *,
    filt: TailFilter | None = None,
    stop: asyncio.Event | None = None,
    timeout: float = 10.0,
    max_messages: int | None = None,
    duration: float | None = None,
    backoff: Backoff | None = None,
    embedded_sim: bool = False,
    ledger: Ledger | None = None,
) -> TailResult:
    """Stream inbound application messages until ``stop``, ``max_messages`` or ``duration``.

    The first connection's failure is raised (``ConnectFailed``/``LogonRefusedError``):
    a tail that never logged on has nothing to survive. Later failures are retried.
    With a ``ledger``, each logon after a rollover asks OrderStatusRequest(H) for the
    journalled open orders of this SenderCompID/TargetCompID (:func:`ask_open_orders`).
    """
    async with maybe_embedded(spec, reporter, embedded_sim) as (spec, _sim):
        return await _tail(spec, reporter, filt or TailFilter(), stop or asyncio.Event(), timeout, max_messages,
                           duration, backoff or Backoff(), ledger)


async def ask_open_orders(client: Client, spec: ClientSpec, ledger: Ledger, reporter: Reporter) -> int:
    """OrderStatusRequest(H) for each journalled open order this CompID pair placed; how many.

    A rollover restarts both sequence streams, so a report sent just before it that never
    arrived cannot be asked for by a resend (SPEC §2.4, §5.2); the order's current state
    can, and its answer (150=I) streams like any report. Spot only (no 35=H on Derivatives).
    """
    if spec.derivatives or spec.market_data:
        return 0
    from krakenfix_cli.kraken import builders

    orders = [o for o in ledger.open_orders()
              if o.order_id and o.symbol and o.placed_by.sender == spec.sender_comp_id
              and o.placed_by.target == spec.target_comp_id]  # fmt: skip
    for o in orders:
        assert o.order_id is not None and o.symbol is not None
        await client.send(builders.order_status_request(o.latest_clordid, o.order_id, o.symbol, o.side))
    if orders:
        reporter.note(f"asked the status of {len(orders)} journalled open order(s): reports in flight at "
                      "the rollover cannot be resent")
    return len(orders)


async def _tail(
    spec: ClientSpec,
    reporter: Reporter,
    filt: TailFilter,
    stop: asyncio.Event,
    timeout: float,
    max_messages: int | None,
    duration: float | None,
    backoff: Backoff,
    ledger: Ledger | None = None,
) -> TailResult:
    result = TailResult()
    state = _State(result, filt, ExecIdSet(), reporter, max_messages, ledger)
    deadline = None if duration is None else clock.monotonic() + duration
    reset = spec.reset_on_logon
    seqs: tuple[int, int] | None = None
    connected_once = False

    def time_left() -> float | None:
        return None if deadline is None else deadline - clock.monotonic()

    while True:
        left = time_left()
        if left is not None and left <= 0:
            result.stopped_by = "duration"
            return result
        if stop.is_set():
            result.stopped_by = "interrupted"
            return result
        client = Client.from_spec(dataclasses.replace(spec, reset_on_logon=reset, checkpoint=True))
        if seqs is not None and not reset:
            client.session.store.set_next_sender_seq(max(seqs[0], client.session.store.next_sender_seq))
            client.session.store.set_next_target_seq(max(seqs[1], client.session.store.next_target_seq))
        tap(client, reporter, show_nothing)
        try:
            try:
                facts = await client.connect(timeout if left is None else max(0.1, min(timeout, left)))
            except (ConnectFailed, LogonRefusedError) as exc:
                if not connected_once:
                    raise
                text = exc.reason if isinstance(exc, LogonRefusedError) else exc.detail
                if isinstance(exc, LogonRefusedError) and _wants_reset(exc.reason + " " + exc.diagnosis):
                    reset = True
                delay = backoff.next_delay()
                reporter.note(f"reconnect failed ({text or exc}); retrying in {delay:.1f} s")
                await client.close()
                if await _wait(stop, delay if left is None else min(delay, max(0.0, left))):
                    result.stopped_by = "interrupted"
                    return result
                continue
            backoff.reset()
            if connected_once:
                result.reconnects += 1
            connected_once = True
            how = "141=Y, sequence numbers reset" if facts.reset else "141=N, continuing sequence numbers"
            reporter.note(f"logged on to {spec.host}:{spec.port} as {spec.sender_comp_id}→{spec.target_comp_id} "
                          f"({how}); streaming")
            state.track_open_orders()
            if result.rollovers and facts.reset and ledger is not None:
                await ask_open_orders(client, spec, ledger, reporter)
            outcome = await _stream(client, state, stop, time_left)
            if client.failure is not None:
                raise client.failure  # our own side broke (disk full): reconnecting cannot help
            if outcome in ("interrupted", "duration", "max-messages"):
                result.stopped_by = outcome
                with contextlib.suppress(Exception):
                    await client.logout(min(timeout, 5.0))
                return result
            if outcome == "rollover":
                result.rollovers += 1
                reset = True
                reporter.note("session rollover: reconnecting with back-off, then logging on with 141=Y")
            else:
                reset = False
                reporter.note(f"disconnected ({outcome}); reconnecting with 141=N to fill the gap")
            seqs = (client.session.next_sender_seq, client.session.next_target_seq)
        finally:
            await client.close()
        delay = backoff.next_delay()
        left = time_left()
        if await _wait(stop, delay if left is None else min(delay, max(0.0, left))):
            result.stopped_by = "interrupted"
            return result


def _wants_reset(text: str) -> bool:
    low = text.lower()
    return "rollover" in low or "141=y" in low or "reset" in low


async def _stream(client: Client, state: _State, stop: asyncio.Event, time_left: object) -> str:
    """Consume the connection's events; returns why it ended."""
    assert callable(time_left)
    rollover = False
    stop_task = asyncio.create_task(stop.wait())
    try:
        while True:
            left = time_left()
            if left is not None and left <= 0:
                return "duration"
            get = asyncio.create_task(client.inbound.get())
            done, _ = await asyncio.wait({get, stop_task}, timeout=left, return_when=asyncio.FIRST_COMPLETED)
            if get not in done:
                get.cancel()
                return "interrupted" if stop.is_set() else "duration"
            ev = get.result()
            if isinstance(ev, MessageReceived):
                done_now = state.offer(ev.message, _sending_time(ev.message))
                client.processed(ev.message)
                if done_now:
                    return "max-messages"
            elif isinstance(ev, LogoutReceived):
                if "rollover" in ev.text.lower():
                    rollover = True
                else:
                    state.reporter.note(f"the gateway logged us out: {ev.text or '(no reason given)'}")
            elif isinstance(ev, GapDetected):
                state.reporter.note(f"gap: expected MsgSeqNum(34) {ev.expected}, got {ev.received}; "
                                    "asked for a resend")
            elif isinstance(ev, GapFilled):
                state.reporter.note(f"gap filled through MsgSeqNum(34) {ev.through}")
            elif isinstance(ev, Disconnect):
                return "rollover" if rollover else (ev.reason or "connection closed")
    finally:
        stop_task.cancel()


def _sending_time(msg: Message) -> float | None:
    try:
        return parse_utc_timestamp(msg.get(52) or "")
    except ValueError:
        return None


# -- tail a log file -------------------------------------------------------------------------------------
async def tail_file(
    stream: BinaryIO,
    reporter: Reporter,
    *,
    filt: TailFilter | None = None,
    follow: bool = False,
    stop: asyncio.Event | None = None,
    max_messages: int | None = None,
    duration: float | None = None,
    poll_interval: float = 0.2,
) -> TailResult:
    """Show the messages of a FIX log (any layout ``fix.logfile`` reads); ``follow`` waits for more."""
    from krakenfix_cli.fix import logfile

    result = TailResult()
    state = _State(result, filt or TailFilter(), ExecIdSet(), reporter, max_messages)
    stop = stop or asyncio.Event()
    deadline = None if duration is None else clock.monotonic() + duration

    def emit(entries: Iterable[logfile.LogEntry]) -> bool:
        for stamp, frame in entries:
            if not isinstance(frame, bytes):
                reporter.warn(f"skipped bytes that are not a FIX message: {frame}")
                continue
            try:
                msg = decode(frame)
            except ValueError as exc:
                reporter.warn(f"skipped a message that does not decode: {exc}")
                continue
            when = None
            if stamp:
                with contextlib.suppress(ValueError):
                    when = parse_utc_timestamp(stamp[:21])
            if state.offer(msg, when, None):
                return True
        return False

    # One chunk at a time, yielding to the loop in between: Ctrl-C and SIGTERM stop a read of
    # an endless input (``/dev/zero``) at once, and memory stays one chunk plus a frame.
    reader = logfile.LogReader(stream)
    while True:
        if follow:
            reader.rewind_if_truncated()
        if emit(reader.poll(max_chunks=1)):
            result.stopped_by = "max-messages"
            return result
        if stop.is_set():
            result.stopped_by = "interrupted"
            return result
        left = None if deadline is None else deadline - clock.monotonic()
        if left is not None and left <= 0:
            result.stopped_by = "duration"
            return result
        if not reader.at_eof:
            await asyncio.sleep(0)
            continue
        if not follow:
            emit(reader.close())
            result.stopped_by = "end of file"
            return result
        if await _wait(stop, poll_interval if left is None else min(poll_interval, left)):
            result.stopped_by = "interrupted"
            return result
