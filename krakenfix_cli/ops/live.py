"""The live-session core: one logged-on FIX session that every command, ``tail`` and the REPL share.

Kraken scopes almost everything to the live session (kraken-fix/SPEC.md §5.7, §5.8,
§6.5–§6.8, §10.4): OrderCancelRequest(F) and mass cancel 530=1/530=6 reach only the
orders of the connection that sends them, cancel-on-disconnect fires when it drops, and a
resend can only ask for its numbers. So one object owns the Client and everything that is
true of the session rather than of a command:

* the connection, and (``reconnect=True``) its return after a drop (141=N: the engine sees
  the gap and asks for a resend) or the daily rollover (141=Y, then OrderStatusRequest(H)
  for the journalled open orders, whose in-flight reports no resend can reach);
* ExecID(17) deduplication: a report resent as PossDup is handed out as a duplicate;
* the order journal: a NewOrderSingle(D) is journalled with the connection that sends it
  *before* it goes out, and every report about a journalled order updates it;
* subscribers: each gets the inbound application messages, decoded once and in sequence
  order, in a bounded queue of its own, plus what happened to the line.

A :class:`Subscription` is the :class:`Channel` a command talks through; the session
holder (``ops.holder``) offers the same interface to other processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from krakenfix_cli.client_types import ClientSpec, ConnectFailed, LogonFacts, LogonRefusedError, Watcher
from krakenfix_cli.fix.message import Message
from krakenfix_cli.fix.values import parse_utc_timestamp
from krakenfix_cli.ops.dedupe import ExecIdSet
from krakenfix_cli.ops.outcomes import ConnRef, Ledger, NullLedger, order_details, report_details
from krakenfix_cli.ops.report import Reporter
from krakenfix_cli.transport import clock
from krakenfix_cli.transport.reconnect import Backoff

if TYPE_CHECKING:
    from krakenfix_cli.client import Client

#: How a channel's close reason starts when the session holder (another process) vanished.
HOLDER_GONE = "the session holder"
#: What a gateway's Logout(5) says when the numbers restart after it (SPEC §2.4, §10.11).
ROLLOVER_HINTS = ("rollover", "failover", "maintenance")
#: A subscriber that lets this many items pile up unread is cut off (memory stays bounded).
DEFAULT_QUEUE = 65_536


# -- what a subscriber receives -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Received:
    """An inbound application message (or Reject), accepted and sequenced by the engine."""

    message: Message
    poss_dup: bool = False
    duplicate: bool = False
    "An ExecutionReport whose ExecID(17) was already handed out (a PossDup resend)."
    when: float | None = None
    "Its SendingTime(52), POSIX seconds (None when unreadable)."


@dataclass(frozen=True, slots=True)
class GapClosed:
    """A gap the engine asked to be resent is filled through ``through``."""

    through: int


@dataclass(frozen=True, slots=True)
class Lost:
    """The connection is gone; ``final`` when no reconnection will follow."""

    reason: str
    final: bool


@dataclass(frozen=True, slots=True)
class Restored:
    """Logged on again after a loss; ``reset`` when the numbers restarted (141=Y)."""

    conn: ConnRef
    reset: bool


Item = Received | GapClosed | Lost | Restored


@dataclass(frozen=True, slots=True)
class Sent:
    """What went out: its MsgSeqNum(34), and the message as sent (a holder may have given it a
    fresh ClOrdID(11): Spot's must increase in the order they reach the gateway, SPEC §6.2)."""

    seq: int
    message: Message


class SessionDown(ConnectFailed):
    """Nothing was sent: the session is not logged on right now (between reconnects, or closed)."""

    def __init__(self, detail: str) -> None:
        super().__init__("down", detail)


class Channel(Protocol):
    """What a command needs of a live session: send, and read what answers."""

    @property
    def conn(self) -> ConnRef:
        """The connection messages go out on now (its identity in the order journal)."""
        ...

    @property
    def derivatives(self) -> bool:
        """True on a Derivatives session (no 35=H; UUID ClOrdIDs)."""
        ...

    @property
    def closed(self) -> bool:
        """True once nothing more will arrive."""
        ...

    @property
    def close_reason(self) -> str:
        """Why it closed (empty while open)."""
        ...

    async def send(self, msg: Message) -> Sent:
        """Send ``msg``; what went out. Raises ConnectFailed when nothing was sent."""
        ...

    async def next_message(self, timeout: float | None = None) -> Message | None:
        """The next new inbound application message; None on time-out or once closed."""
        ...

    async def next_item(self, timeout: float | None = None) -> Item | None:
        """The next item of any kind (duplicates included); None on time-out or once closed."""
        ...

    async def request_resend(self, begin: int, end: int = 0) -> None:
        """ResendRequest(2) for [begin, end]."""
        ...


def conn_ref(client: Client) -> ConnRef:
    """A client's connection as the order journal records it."""
    spec = client.spec
    return ConnRef(spec.sender_comp_id, spec.target_comp_id, client.connection_id)


def sending_time(msg: Message) -> float | None:
    """SendingTime(52) as POSIX seconds, or None."""
    try:
        return parse_utc_timestamp(msg.get(52) or "")
    except ValueError:
        return None


class ItemQueue:
    """Items waiting for one reader, and whether more will come: what every channel reads from."""

    def __init__(self, maxsize: int = 0) -> None:
        self._queue: asyncio.Queue[Item] = asyncio.Queue(maxsize)
        self._closed = asyncio.Event()
        self._reason = ""

    @property
    def closed(self) -> bool:
        return self._closed.is_set() and self._queue.empty()

    @property
    def close_reason(self) -> str:
        return self._reason

    def _take(self, item: Item) -> Item:
        """What a reader gets for ``item`` (a channel may show it on the way)."""
        return item

    async def next_item(self, timeout: float | None = None) -> Item | None:
        if not self._queue.empty():
            return self._take(self._queue.get_nowait())
        if self._closed.is_set():
            return None
        get = asyncio.ensure_future(self._queue.get())
        closed = asyncio.ensure_future(self._closed.wait())
        try:
            done, _ = await asyncio.wait({get, closed}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            closed.cancel()
            if not get.done():
                get.cancel()
        if get in done:
            return self._take(get.result())
        if not self._queue.empty():
            return self._take(self._queue.get_nowait())
        return None

    async def next_message(self, timeout: float | None = None) -> Message | None:
        deadline = None if timeout is None else clock.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - clock.monotonic())
            item = await self.next_item(left)
            if item is None:
                return None
            if isinstance(item, Received) and not item.duplicate:
                return item.message


class Subscription(ItemQueue):
    """One subscriber's view of a :class:`LiveSession`: a bounded queue of items, and a way to send."""

    def __init__(self, live: LiveSession, maxsize: int) -> None:
        super().__init__(maxsize)
        self._live = live

    # -- Channel --
    @property
    def conn(self) -> ConnRef:
        return self._live.conn

    @property
    def derivatives(self) -> bool:
        return self._live.spec.derivatives

    async def send(self, msg: Message) -> Sent:
        if self._closed.is_set():
            raise SessionDown(self._reason or "the subscription is closed")
        return await self._live.send(msg)

    async def request_resend(self, begin: int, end: int = 0) -> None:
        await self._live.request_resend(begin, end)

    # -- for the session --
    def offer(self, item: Item) -> None:
        """Queue ``item``; a subscriber that fell this far behind is closed instead."""
        if self._closed.is_set():
            return
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.close(f"fell behind: {self._queue.maxsize} unread messages")

    def close(self, reason: str) -> None:
        """Nothing more will be queued; what is queued is still handed out."""
        if not self._closed.is_set():
            self._reason = reason
            self._closed.set()
            self._live._forget(self)


class LiveSession:
    """One live FIX session: connect, stay (optionally) connected, journal, dedupe, fan out."""

    def __init__(
        self,
        spec: ClientSpec,
        reporter: Reporter,
        *,
        ledger: Ledger | None = None,
        reconnect: bool = False,
        backoff: Backoff | None = None,
        watch: Watcher | None = None,
        connect_timeout: float = 10.0,
    ) -> None:
        self.spec = spec
        self.reporter = reporter
        self.ledger: Ledger = ledger if ledger is not None else NullLedger()
        self.reconnect = reconnect
        self.backoff = backoff or Backoff()
        self.watch = watch
        self.connect_timeout = connect_timeout
        self.client: Client | None = None
        self.facts = LogonFacts()
        self.seen = ExecIdSet()
        self.tracked: set[str] = set()
        "ClOrdIDs whose reports update the journal: the journalled open orders and what went out here."
        self.connected_since: float | None = None
        self.reconnects = 0
        self.rollovers = 0
        self.close_reason = ""
        self.failure: BaseException | None = None
        "A local error that ended the session (a full disk under the store): reconnecting cannot help."
        self._subs: list[Subscription] = []
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._done = asyncio.Event()
        self._conn = ConnRef(spec.sender_comp_id, spec.target_comp_id, "")
        self._reset = spec.reset_on_logon
        self._seqs: tuple[int, int] | None = None
        self._rollover = False

    # -- identity --
    @property
    def conn(self) -> ConnRef:
        """The current (or last) connection."""
        return self._conn

    @property
    def is_logged_on(self) -> bool:
        return self.client is not None and self.client.is_logged_on

    @property
    def done(self) -> bool:
        """True once the session has ended for good (closed, or lost without reconnect)."""
        return self._done.is_set()

    async def wait_done(self) -> None:
        """Until the session has ended for good."""
        await self._done.wait()

    def subscribe(self, maxsize: int = DEFAULT_QUEUE) -> Subscription:
        """A new subscriber: it sees what arrives from now on."""
        sub = Subscription(self, maxsize)
        if self._done.is_set():
            sub.close(self.close_reason or "the session has ended")
        else:
            self._subs.append(sub)
        return sub

    def _forget(self, sub: Subscription) -> None:
        with contextlib.suppress(ValueError):
            self._subs.remove(sub)

    # -- lifecycle --
    async def start(self) -> LogonFacts:
        """The first connection: its failure is raised (ConnectFailed / LogonRefusedError)."""
        client = self.client = self._new_client()
        self.facts = client.facts  # what the connection learnt so far, failed or not
        try:
            facts = await client.connect(self.connect_timeout)
        except BaseException:
            await client.close()
            self._finish("the first connection failed")
            raise
        self._connected(client, facts)
        self._task = asyncio.create_task(self._run(client))
        return facts

    def _new_client(self) -> Client:
        from krakenfix_cli.client import Client  # the engine and the transport: only for a session of our own

        spec = dataclasses.replace(self.spec, reset_on_logon=self._reset, checkpoint=self.reconnect)
        client = Client.from_spec(spec)
        store = client.session.store
        if self._seqs is not None and not self._reset:
            # A memory store (--sim) forgets between connections: carry the numbers over.
            store.set_next_sender_seq(max(self._seqs[0], store.next_sender_seq))
            store.set_next_target_seq(max(self._seqs[1], store.next_target_seq))
        warning = getattr(store, "warning", None)  # a corrupt store was moved aside
        if warning:
            self.reporter.warn(warning)
        log = client.session.log
        if log is not None and hasattr(log, "on_failure"):
            log.on_failure = self._log_failed
        if self.watch is not None:
            client.watchers.append(self.watch)
        return client

    def _stamp_period(self, client: Client) -> None:
        """The gateway accepted a reset: these numbers belong to this rollover period, so the next
        command of the period continues them (141=N; ``ops.continuity``)."""
        from krakenfix_cli.kraken.schedule import period_start

        stamp = getattr(client.session.store, "stamp_period", None)  # a memory store has no history
        if stamp is not None:
            try:
                stamp(period_start(clock.now()))
            except OSError as exc:
                self.reporter.warn(f"could not record the session's rollover period ({exc.strerror or exc}); "
                                   "the next command resets the sequence numbers")

    def _log_failed(self, exc: OSError, path: object) -> None:
        """The message log is a record: its failure is a warning, never the command's outcome."""
        self.reporter.warn(f"could not write the message log {path} ({exc.strerror or exc}); the session goes "
                           "on, but the log lacks its messages from here on: free some space")

    def _connected(self, client: Client, facts: LogonFacts) -> None:
        if facts.reset:
            self._stamp_period(client)
        self.client = client
        self.facts = facts
        self._conn = conn_ref(client)
        self.connected_since = clock.now()
        self.close_reason = ""
        with contextlib.suppress(Exception):
            self.tracked = {c for o in self.ledger.open_orders() for c in (o.clordid, o.latest_clordid)}

    async def close(self, timeout: float = 5.0) -> None:
        """Log out (when logged on) and end the session for good."""
        self._stopping.set()
        client = self.client
        if client is not None:
            if client.is_logged_on:
                with contextlib.suppress(Exception):
                    await client.logout(timeout)
            await client.close()
        if self._task is not None:
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(self._task), timeout)
            if not self._task.done():
                self._task.cancel()
        self._finish(self.close_reason or "closed")

    def _finish(self, reason: str) -> None:
        if self._done.is_set():
            return
        self.close_reason = self.close_reason or reason
        for sub in list(self._subs):
            sub.offer(Lost(self.close_reason, True))
            sub.close(self.close_reason)
        self._done.set()

    def _fan_out(self, item: Item) -> None:
        for sub in list(self._subs):
            sub.offer(item)

    # -- traffic --
    async def send(self, msg: Message, *, fresh_clordid: bool = False) -> Sent:
        """Journal (for a D), then send on the current connection; SessionDown when not logged on.

        ``fresh_clordid``: replace ClOrdID(11) by the watermark's next one now (a holder does it
        for IDs its clients generated, so that they reach the gateway in increasing order)."""
        client = self.client
        if client is None or not client.is_logged_on or self._stopping.is_set():
            raise SessionDown(f"the session is not logged on ({self.close_reason or 'reconnecting'}); "
                              "nothing was sent")
        if fresh_clordid and msg.get(11):
            try:
                msg = msg.replace(11, self.ledger.next_clordid(clock.now(), derivatives=self.spec.derivatives))
            except Exception:  # a watermark that cannot give one never stops a send (an emergency mass cancel)
                pass
        elif msg.get(11):
            # Chosen by someone else (--clordid, --raw, a holder's client): generated ones stay above it.
            self.ledger.remember_clordid(msg.get(11) or "", derivatives=self.spec.derivatives)
        clordid = msg.get(11)
        if clordid:
            if msg.msg_type == "D":
                # Journal first: if we crash after the send, `cancel` still knows whose order it is.
                self.ledger.placed(clordid, self._conn, clock.now(), symbol=msg.get(55), side=msg.get(54),
                                   details=order_details(msg))
            if msg.msg_type in ("D", "F", "G"):
                self.tracked.add(clordid)
        return Sent(await client.send(msg), msg)

    async def request_resend(self, begin: int, end: int = 0) -> None:
        client = self.client
        if client is None or not client.is_logged_on:
            raise SessionDown(f"the session is not logged on ({self.close_reason or 'reconnecting'})")
        await client.request_resend(begin, end)

    def _journal(self, msg: Message) -> None:
        """A report about a journalled order: note its state, so `cancel` and `orders` know it later."""
        cid, orig = msg.get(11), msg.get(41)
        key = orig if orig in self.tracked else cid if cid in self.tracked else None
        if key is None:
            return
        new = cid if key == orig and cid and cid != orig else None
        try:
            self.ledger.updated(key, clock.now(), order_id=msg.get(37), ord_status=msg.get(39), new_clordid=new,
                                details=report_details(msg))
        except OSError as exc:
            self.reporter.warn(f"could not update the order journal ({exc.strerror or exc}); the report "
                               "above is the truth: check it with `krakenfix orders --refresh` later")
        if new:
            self.tracked.add(new)

    # -- the pump --
    async def _run(self, client: Client) -> None:
        """Pump each connection's events; reconnect when allowed; end the session otherwise."""
        try:
            while True:
                reason = await self._pump(client)
                if client.failure is not None:
                    self.failure = client.failure
                    self.close_reason = f"stopped by a local error: {client.failure}"
                    return
                self.close_reason = reason
                self._seqs = (client.session.next_sender_seq, client.session.next_target_seq)
                await client.close()
                if not self.reconnect or self._stopping.is_set():
                    return
                if self._rollover:
                    self.rollovers += 1
                    self._reset = True
                    self.reporter.note("session rollover: reconnecting with back-off, then logging on with 141=Y")
                else:
                    self._reset = False
                    self.reporter.note(f"disconnected ({reason}); reconnecting with 141=N to fill the gap")
                self._fan_out(Lost(reason, False))
                next_client = await self._reconnect()
                if next_client is None:
                    return
                client = next_client
        finally:
            self._finish(self.close_reason or "connection closed")

    async def _reconnect(self) -> Client | None:
        """Back-off and log on again until it works or the session is closed."""
        rolled = self._rollover
        self._rollover = False
        while not self._stopping.is_set():
            delay = self.backoff.next_delay()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
            if self._stopping.is_set():
                return None
            client = self._new_client()
            try:
                facts = await client.connect(self.connect_timeout)
            except (ConnectFailed, LogonRefusedError) as exc:
                await client.close()
                if client.failure is not None:
                    self.failure = client.failure
                    self.close_reason = f"stopped by a local error: {client.failure}"
                    return None
                text = exc.reason if isinstance(exc, LogonRefusedError) else exc.detail
                if isinstance(exc, LogonRefusedError) and _wants_reset(exc.reason + " " + exc.diagnosis):
                    self._reset = True
                self.reporter.note(f"reconnect failed ({text or exc}); retrying with back-off")
                continue
            except BaseException:  # cancelled (closed) mid-connect: release the store, then go
                await client.close()
                raise
            if self._stopping.is_set():  # closed while it logged on: do not leave it behind
                with contextlib.suppress(Exception):
                    await client.logout(2.0)
                await client.close()
                return None
            self.backoff.reset()
            self.reconnects += 1
            self._connected(client, facts)
            self.reporter.note(f"logged on to {self.spec.host}:{self.spec.port} as "
                               f"{self.spec.sender_comp_id}→{self.spec.target_comp_id} ("
                               + ("141=Y, sequence numbers reset" if facts.reset else
                                  "141=N, continuing sequence numbers") + ")")
            self._fan_out(Restored(self._conn, facts.reset))
            if rolled and facts.reset:
                await self.ask_open_orders()
            return client
        return None

    async def _pump(self, client: Client) -> str:
        """One connection's events, until it ends; returns why it ended."""
        from krakenfix_cli.session.events import Disconnect, GapDetected, GapFilled, LogoutReceived, MessageReceived

        while True:
            ev = await client.inbound.get()
            if isinstance(ev, MessageReceived):
                msg = ev.message
                duplicate = False
                if msg.msg_type == "8":
                    exec_id = msg.get(17)
                    duplicate = bool(exec_id) and not self.seen.first_time(exec_id or "")
                    if not duplicate and self.tracked:
                        self._journal(msg)
                self._fan_out(Received(msg, ev.poss_dup, duplicate, sending_time(msg)))
                client.processed(msg)
            elif isinstance(ev, LogoutReceived):
                if any(hint in ev.text.lower() for hint in ROLLOVER_HINTS):
                    self._rollover = True
                if not self._stopping.is_set():  # not the answer to our own Logout
                    self.reporter.note(f"gateway sent Logout(5): {ev.text or 'no text'}")
            elif isinstance(ev, GapDetected):
                self.reporter.note(f"gap: expected MsgSeqNum(34) {ev.expected}, got {ev.received}; "
                                   "asked for a resend")
            elif isinstance(ev, GapFilled):
                self.reporter.note(f"gap filled through MsgSeqNum(34) {ev.through}")
                self._fan_out(GapClosed(ev.through))
            elif isinstance(ev, Disconnect):
                return ev.reason or "connection closed"

    async def ask_open_orders(self) -> int:
        """OrderStatusRequest(H) for each journalled open order this CompID pair placed; how many.

        A rollover restarts both sequence streams, so a report sent just before it that never
        arrived cannot be asked for by a resend (SPEC §2.4, §5.2); the order's current state
        can, and its answer (150=I) streams like any report. Spot only (no 35=H on Derivatives).
        """
        spec = self.spec
        if spec.derivatives or spec.market_data:
            return 0
        from krakenfix_cli.kraken import builders

        orders = [o for o in self.ledger.open_orders()
                  if o.order_id and o.symbol and o.placed_by.sender == spec.sender_comp_id
                  and o.placed_by.target == spec.target_comp_id]  # fmt: skip
        for o in orders:
            assert o.order_id is not None and o.symbol is not None
            await self.send(builders.order_status_request(o.latest_clordid, o.order_id, o.symbol, o.side))
        if orders:
            self.reporter.note(f"asking the status of {len(orders)} open order(s) from the order journal: "
                               "reports in flight at the rollover cannot be resent")
        return len(orders)


def _wants_reset(text: str) -> bool:
    low = text.lower()
    return "rollover" in low or "141=y" in low or "reset" in low

