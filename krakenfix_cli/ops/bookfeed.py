"""Keep one symbol's book (and its trades) live on the market-data session, through drops and rollovers.

A market-data subscription dies with its connection (SPEC §7.1, §10.13), so on every logon
(the first, and each :class:`~krakenfix_cli.ops.live.Restored`) the feed asks the
InstrumentList for the pair's precisions (§7.6 advises it per connection; the checksum needs
them, §7.4) and then subscribes again with a fresh MDReqID(262). Items of an older MDReqID
are ignored. A checksum mismatch or an entry the book cannot apply is repaired the same way:
unsubscribe, subscribe again, and the new snapshot replaces the book.

What happens is handed to ``on_event`` as a :class:`FeedEvent`; rendering is the caller's.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from krakenfix_cli.client_types import ClientSpec
from krakenfix_cli.fix.message import Message
from krakenfix_cli.kraken import builders
from krakenfix_cli.kraken.builders import InstrumentListType, MDEntryType
from krakenfix_cli.ops.live import LiveSession, Lost, Received, Restored, Subscription
from krakenfix_cli.ops.marketdata import Applied, BookDataError, OrderBook, precisions
from krakenfix_cli.ops.report import Reporter
from krakenfix_cli.ops.session import maybe_embedded
from krakenfix_cli.transport import clock
from krakenfix_cli.transport.reconnect import Backoff

#: How many seconds the update rate is averaged over.
RATE_WINDOW = 5.0


class MarketDataRefused(Exception):
    """The gateway refused the subscription (MarketDataRequestReject(Y)) or does not list the pair."""


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """One thing that happened: ``kind`` is snapshot, update, mismatch, lost or restored."""

    kind: str
    applied: Applied | None = None
    text: str = ""


@dataclass
class FeedState:
    """The book and what the view shows around it."""

    book: OrderBook
    depth: int
    connection: str = "connecting"
    req_id: str = ""
    resubscribes: int = 0
    "Fresh snapshots asked for after a mismatch or a bad entry."
    reconnects: int = 0
    rollovers: int = 0
    _times: deque[float] = field(default_factory=deque)

    def tick(self) -> None:
        """Count an update for the rate."""
        now = clock.monotonic()
        self._times.append(now)
        while self._times and self._times[0] < now - RATE_WINDOW:
            self._times.popleft()

    @property
    def rate(self) -> float:
        """Updates a second over the last few seconds."""
        now = clock.monotonic()
        while self._times and self._times[0] < now - RATE_WINDOW:
            self._times.popleft()
        return len(self._times) / RATE_WINDOW

    @property
    def checksum_status(self) -> str:
        """ok / MISMATCH / unverified, with the counts."""
        b = self.book
        if b.mismatches:
            return f"{b.verified} ok, {b.mismatches} mismatch(es), {self.resubscribes} fresh snapshot(s)"
        if b.verified:
            return f"ok ({b.verified} verified)"
        return "unverified (no checksummed update yet)"


class BookFeed:
    """The subscription state machine over one :class:`LiveSession` subscriber."""

    def __init__(self, live: LiveSession, sub: Subscription, symbol: str, depth: int, *, l3: bool,
                 on_event: Callable[[FeedState, FeedEvent], None]) -> None:
        self.live = live
        self.sub = sub
        self.symbol = symbol
        self.l3 = l3
        self.on_event = on_event
        self.state = FeedState(OrderBook(symbol), depth)
        self._n = 0
        self._list_req = ""

    def _next_id(self, what: str) -> str:
        self._n += 1
        return f"kfx-{what}-{int(clock.now() * 1000)}-{self._n}"

    async def logged_on(self) -> None:
        """A new connection: ask the precisions; the subscription follows their answer."""
        self.state.req_id = ""
        self._list_req = self._next_id("il")
        await self.sub.send(builders.instrument_list_request(self._list_req, InstrumentListType.SINGLE,
                                                                  symbol=self.symbol))

    async def subscribe(self) -> None:
        """V with a fresh MDReqID: snapshot plus updates."""
        self.state.req_id = self._next_id("md")
        kinds = (MDEntryType.BID, MDEntryType.OFFER) if self.l3 else (
            MDEntryType.BID, MDEntryType.OFFER, MDEntryType.TRADE)
        await self.sub.send(builders.market_data_request(self.state.req_id, [self.symbol], self.state.depth, kinds,
                                                         aggregated=not self.l3))

    async def resubscribe(self, why: str) -> None:
        """Drop the subscription whose book went wrong and ask for a fresh snapshot."""
        old = self.state.req_id
        self.state.resubscribes += 1
        if old:
            await self.sub.send(builders.market_data_request(old, [self.symbol], self.state.depth,
                                                             subscribe=False, aggregated=not self.l3,
                                                             entry_types=(MDEntryType.BID, MDEntryType.OFFER)))
        await self.subscribe()
        self.on_event(self.state, FeedEvent("mismatch", text=why))

    async def handle(self, msg: Message) -> None:
        """One inbound application message."""
        t = msg.msg_type
        if t == "y" and msg.get(320) == self._list_req:
            found = precisions(msg).get(self.symbol)
            if (msg.get(560) or "0") != "0" or found is None:
                raise MarketDataRefused(f"the gateway does not list {self.symbol}"
                                        + (f": {msg.get(58)}" if msg.get(58) else ""))
            self.state.book.precision = found
            await self.subscribe()
        elif t == "Y" and msg.get(262) == self.state.req_id:
            raise MarketDataRefused(f"MarketDataRequestReject(Y) 281={msg.get(281) or '?'}: "
                                    f"{msg.get(58) or 'no text'}")
        elif t in ("W", "X") and msg.get(262) == self.state.req_id and self.state.req_id:
            book = self.state.book
            try:
                applied = book.apply_snapshot(msg) if t == "W" else book.apply_incremental(msg)
            except BookDataError as exc:
                await self.resubscribe(f"an entry could not be applied ({exc})")
                return
            if t == "X":
                self.state.tick()
                if applied.verified is False:
                    self.on_event(self.state, FeedEvent("update", applied))
                    await self.resubscribe(f"checksum mismatch: 5041={applied.expected}, "
                                           f"computed {applied.computed}")
                    return
            self.on_event(self.state, FeedEvent("snapshot" if t == "W" else "update", applied))


@dataclass
class FeedResult:
    """How the feed ended."""

    stopped_by: str = ""
    state: FeedState | None = None


async def run_feed(
    spec: ClientSpec,
    reporter: Reporter,
    symbol: str,
    *,
    depth: int,
    l3: bool = False,
    on_event: Callable[[FeedState, FeedEvent], None],
    stop: asyncio.Event | None = None,
    done: Callable[[FeedState, FeedEvent], bool] | None = None,
    timeout: float = 10.0,
    duration: float | None = None,
    backoff: Backoff | None = None,
    embedded_sim: bool = False,
) -> FeedResult:
    """Log on to the market-data session ``spec`` and keep ``symbol``'s book until ``stop``/``done``.

    The first connection's failure is raised (``ConnectFailed`` / ``LogonRefusedError``); a
    refused subscription raises :class:`MarketDataRefused`. ``done(state, event)`` ends the feed
    when it returns True (``--once``)."""
    stop = stop or asyncio.Event()
    async with maybe_embedded(spec, reporter, embedded_sim) as (spec, _sim):
        live = LiveSession(spec, reporter, reconnect=True, backoff=backoff or Backoff(), connect_timeout=timeout)
        sub = live.subscribe()
        result = FeedResult()
        finished = False

        def event(state: FeedState, ev: FeedEvent) -> None:
            nonlocal finished
            on_event(state, ev)
            if done is not None and done(state, ev):
                finished = True

        feed = BookFeed(live, sub, symbol, depth, l3=l3, on_event=event)
        result.state = feed.state
        try:
            await live.start()
            feed.state.connection = f"logged on to {spec.host}:{spec.port} as {spec.sender_comp_id}"
            await feed.logged_on()
            deadline = None if duration is None else clock.monotonic() + duration
            stop_task = asyncio.create_task(stop.wait())
            try:
                while not finished:
                    left = None if deadline is None else deadline - clock.monotonic()
                    if left is not None and left <= 0:
                        result.stopped_by = "duration"
                        break
                    get = asyncio.create_task(sub.next_item())
                    ready, _ = await asyncio.wait({get, stop_task}, timeout=left, return_when=asyncio.FIRST_COMPLETED)
                    if get not in ready:
                        get.cancel()
                        result.stopped_by = "interrupted" if stop.is_set() else "duration"
                        break
                    item = get.result()
                    if isinstance(item, Received):
                        await feed.handle(item.message)
                    elif isinstance(item, Restored):
                        feed.state.reconnects, feed.state.rollovers = live.reconnects, live.rollovers
                        feed.state.connection = ("logged on again after the rollover (141=Y)" if item.reset
                                                 else "logged on again (141=N)")
                        event(feed.state, FeedEvent("restored", text=feed.state.connection))
                        with contextlib.suppress(Exception):  # dropped again at once: the next Restored retries
                            await feed.logged_on()
                    elif isinstance(item, Lost) and not item.final:
                        feed.state.connection = f"reconnecting ({item.reason})"
                        feed.state.req_id = ""
                        event(feed.state, FeedEvent("lost", text=item.reason))
                    elif item is None or isinstance(item, Lost):
                        if live.failure is not None:
                            raise live.failure
                        result.stopped_by = sub.close_reason or "connection closed"
                        break
                if finished:
                    result.stopped_by = "done"
            finally:
                stop_task.cancel()
        finally:
            await live.close(min(timeout, 5.0))
        return result
