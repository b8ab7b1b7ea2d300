"""``krakenfix tail``: stay logged on and stream inbound messages through drops and rollovers.

Nothing may be lost or shown twice (kraken-fix/SPEC.md §5.2, §5.7, §10.11, §10.12). The
live-session core (``ops.live``) does the work: it reconnects through drops (141=N, the
gap filled with PossDup replays) and the daily rollover (141=Y), and marks every
ExecutionReport it has already handed out (by ExecID(17)); this module filters and shows.

``tail_file`` does the same for a log file (``--file LOG [--follow]``), without a session.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import BinaryIO

from krakenfix_cli.client_types import ClientSpec
from krakenfix_cli.fix.message import Message, decode
from krakenfix_cli.fix.values import parse_utc_timestamp
from krakenfix_cli.ops import holder_client
from krakenfix_cli.ops.dedupe import ExecIdSet
from krakenfix_cli.ops.holder import Beside, holding
from krakenfix_cli.ops.live import Channel, LiveSession, Lost, Received, Restored
from krakenfix_cli.ops.outcomes import Ledger, TailResult
from krakenfix_cli.ops.report import Reporter
from krakenfix_cli.ops.session import maybe_embedded
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

    def offer(self, msg: Message, when: float | None, direction: str | None = "in",
              duplicate: bool | None = None) -> bool:
        """Show ``msg`` unless it is a duplicate or filtered out; True when tail should stop.

        ``duplicate`` is the live session's verdict; a log file has none, so ExecIDs are
        checked here."""
        self.result.received += 1
        if duplicate is None and msg.msg_type == "8":
            exec_id = msg.get(17)
            duplicate = bool(exec_id) and not self.seen.first_time(exec_id or "")
        if duplicate:
            self.result.duplicates += 1
            return False
        if not self.filt.matches(msg, direction or "in"):
            return False
        self.reporter.message(msg, direction, when)
        self.result.shown += 1
        return self.max_messages is not None and self.result.shown >= self.max_messages


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
    beside: Beside | None = None,
) -> TailResult:
    """Stream inbound application messages until ``stop``, ``max_messages`` or ``duration``.

    When a holder already serves the session, tail streams through it. Otherwise tail holds
    the session itself while it runs (``ops.holder``: other commands send through it), and
    the live session (``ops.live``) reconnects through drops and rollovers and journals what
    it learns. The first connection's failure is raised (``ConnectFailed`` /
    ``LogonRefusedError``): a tail that never logged on has nothing to survive.
    """
    filt = filt or TailFilter()
    stop = stop or asyncio.Event()
    async with maybe_embedded(spec, reporter, embedded_sim) as (spec, sim):
        if sim is None:
            remote = await holder_client.connect(spec, None)
            if remote is not None:
                reporter.note(f"streaming through the session holder ({remote.info.describe()})")
                try:
                    return await _stream(None, remote, filt, reporter, stop, max_messages, duration)
                finally:
                    await remote.close()
        live = LiveSession(spec, reporter, ledger=ledger, reconnect=True, backoff=backoff or Backoff(),
                           connect_timeout=timeout)
        sub = live.subscribe()
        try:
            facts = await live.start()
            async with holding(live, "krakenfix tail", beside=beside):
                how = "141=Y, sequence numbers reset" if facts.reset else "141=N, continuing sequence numbers"
                reporter.note(f"logged on to {spec.host}:{spec.port} as {spec.sender_comp_id}→"
                              f"{spec.target_comp_id} ({how}); streaming")
                return await _stream(live, sub, filt, reporter, stop, max_messages, duration)
        finally:
            await live.close(min(timeout, 5.0))


async def _stream(live: LiveSession | None, sub: Channel, filt: TailFilter, reporter: Reporter,
                  stop: asyncio.Event, max_messages: int | None, duration: float | None) -> TailResult:
    """Show the session's items until told to stop; the result's counters say what happened."""
    result = TailResult()
    state = _State(result, filt, ExecIdSet(), reporter, max_messages)
    deadline = None if duration is None else clock.monotonic() + duration
    stop_task = asyncio.create_task(stop.wait())
    try:
        while True:
            left = None if deadline is None else deadline - clock.monotonic()
            if left is not None and left <= 0:
                result.stopped_by = "duration"
                break
            get = asyncio.create_task(sub.next_item())
            done, _ = await asyncio.wait({get, stop_task}, timeout=left, return_when=asyncio.FIRST_COMPLETED)
            if get not in done:
                get.cancel()
                result.stopped_by = "interrupted" if stop.is_set() else "duration"
                break
            item = get.result()
            if isinstance(item, Received):
                if state.offer(item.message, item.when, duplicate=item.duplicate):
                    result.stopped_by = "max-messages"
                    break
            elif isinstance(item, Lost) and not item.final and live is None:
                reporter.note(f"the session holder's connection dropped ({item.reason}); it reconnects")
            elif isinstance(item, Restored):
                result.reconnects += 1 if live is None else 0
            elif item is None or (isinstance(item, Lost) and item.final):
                if live is not None and live.failure is not None:
                    raise live.failure  # our own side broke (disk full): reconnecting cannot help
                result.stopped_by = sub.close_reason or "connection closed"
                break
    finally:
        stop_task.cancel()
        if live is not None:
            result.reconnects, result.rollovers = live.reconnects, live.rollovers
    return result


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
