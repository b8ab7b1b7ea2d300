"""A small test-only FIX initiator for the simulator tests: our engine + transport over loopback.

Deliberately independent of ``krakenfix_cli.client`` (written concurrently): it drives a
:class:`Session` through :class:`Connection` and collects what arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable, Sequence
from typing import Any

from krakenfix_cli.fix.message import Field, Message
from krakenfix_cli.fix.values import format_utc_timestamp
from krakenfix_cli.kraken.auth import NonceSource, logon_auth_fields
from krakenfix_cli.session.config import Role, SessionConfig
from krakenfix_cli.session.engine import Session
from krakenfix_cli.session.events import Disconnect, Event, LogonAccepted, LogonRefused, MessageReceived
from krakenfix_cli.session.store import MemoryStore, MessageStore
from krakenfix_cli.sim.certs import client_context
from krakenfix_cli.sim.runner import RunningSimulator
from krakenfix_cli.transport import clock
from krakenfix_cli.transport.connection import Connection

NONCES = NonceSource()
WAIT = 10.0


class LogonFailed(Exception):
    """The simulator refused or closed."""


class FixClient:
    """One initiator session against a running simulator."""

    def __init__(
        self,
        sim: RunningSimulator,
        *,
        sender: str | None = None,
        target: str = "KRAKEN-TRD",
        api_key: str | None = None,
        secret: Any = None,
        auth: bool = True,
        reset: bool = True,
        cod: bool | None = None,
        store: MessageStore | None = None,
        extra_logon: Sequence[Field] = (),
        logon_fields: Callable[[int, float], Sequence[Field]] | None = None,
        hbi: int = 30,
    ) -> None:
        self.sim = sim
        creds = sim.credentials
        self.sender = sender or creds.sender_comp_id
        self.target = target
        self.api_key = api_key or creds.api_key
        self.secret = secret if secret is not None else creds.api_secret
        self.store = store or MemoryStore()

        def default_fields(seq: int, now: float) -> Sequence[Field]:
            out: list[Field] = []
            if auth:
                nonce = NONCES.next(int(now * 1000))
                out += logon_auth_fields(self.api_key, self.secret, self.sender, self.target, seq, nonce, cod)
            out += list(extra_logon)
            return out

        self.config = SessionConfig(
            Role.INITIATOR, self.sender, target, heartbeat_interval=hbi, reset_on_logon=reset,
            logon_fields=logon_fields or default_fields, deliver_duplicates=True,
        )  # fmt: skip
        self.session = Session(self.config, self.store)
        self.inbox: list[Message] = []
        self.events: list[Event] = []
        self.conn: Connection | None = None
        self._task: asyncio.Task[str] | None = None
        self._changed = asyncio.Event()
        self.logon_error: str | None = None
        self.logged_on = False
        self.disconnected = False

    # -- lifecycle ----------------------------------------------------------------------------------
    async def open(self) -> None:
        """Connect (TLS when the simulator uses it) and start the session; no waiting."""
        ctx: ssl.SSLContext | None = client_context(self.sim.ca_file) if self.sim.tls and self.sim.ca_file else None
        reader, writer = await asyncio.open_connection(self.sim.host, self.sim.port, ssl=ctx)
        self.conn = Connection(self.session, reader, writer, self._on_event)
        self.disconnected = False
        self.logged_on = False
        self.logon_error = None
        self._task = asyncio.create_task(self.conn.run())

    async def connect(self) -> FixClient:
        """Open and wait for the Logon answer; raise LogonFailed with the reason otherwise."""
        await self.open()
        await self.until(lambda: self.logged_on or self.disconnected)
        if not self.logged_on:
            raise LogonFailed(self.logon_error or "closed without a Logout")
        return self

    def _on_event(self, ev: Event) -> None:
        self.events.append(ev)
        if isinstance(ev, LogonAccepted):
            self.logged_on = True
        elif isinstance(ev, LogonRefused):
            self.logon_error = ev.reason
        elif isinstance(ev, Disconnect):
            self.disconnected = True
        elif isinstance(ev, MessageReceived):
            self.inbox.append(ev.message)
        self._changed.set()

    async def until(self, cond: Callable[[], bool], timeout: float = WAIT) -> None:
        """Wait until ``cond()`` holds (a guard against hanging, not a timing assertion)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not cond():
            if self._task is not None and self._task.done():
                self.disconnected = True
                if cond():
                    return
            left = deadline - loop.time()
            if left <= 0:
                raise TimeoutError("condition not met")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(left, 0.05))

    async def closed(self, timeout: float = WAIT) -> None:
        """Until the socket is closed."""
        assert self._task is not None
        await asyncio.wait_for(asyncio.shield(self._task), timeout)
        self.disconnected = True

    async def logout(self) -> None:
        """Orderly Logout and wait for the close."""
        assert self.conn is not None
        self.conn.logout()
        await self.closed()

    def abort(self) -> None:
        """Drop the socket without a Logout."""
        assert self.conn is not None
        self.conn.abort()

    # -- messages -----------------------------------------------------------------------------------
    def send(self, msg: Message) -> int:
        """Send an application message; returns its MsgSeqNum(34)."""
        assert self.conn is not None
        return self.conn.send(msg)

    def of_type(self, *types: str) -> list[Message]:
        """Received messages of these MsgTypes."""
        return [m for m in self.inbox if m.msg_type in types]

    async def wait_for(self, pred: Callable[[Message], bool], timeout: float = WAIT) -> Message:
        """The first received message (oldest first) matching ``pred``."""
        found: list[Message] = []

        def cond() -> bool:
            for m in self.inbox:
                if pred(m):
                    found.append(m)
                    return True
            return False

        await self.until(cond, timeout)
        return found[0]

    async def wait_count(self, pred: Callable[[Message], bool], n: int, timeout: float = WAIT) -> list[Message]:
        """Wait until ``n`` received messages match; returns them."""
        await self.until(lambda: sum(1 for m in self.inbox if pred(m)) >= n, timeout)
        return [m for m in self.inbox if pred(m)]

    async def roundtrip(self) -> None:
        """A barrier: everything the simulator sent before the answer to this probe has arrived.

        The probe is an OrderStatusRequest(H) for an order that does not exist; whatever the
        simulator answers (35=j or 35=3) carries RefSeqNum(45) = the probe's MsgSeqNum(34).
        """
        probe = Message.new("H", (11, next_clordid()), (37, "ONONE0-NONE0-NONE00"), (55, "BTC/USD"))
        seq = str(self.send(probe))
        await self.wait_for(lambda m: m.msg_type in ("j", "3") and m.get(45) == seq)


_clordid = [0]


def next_clordid() -> str:
    """Increasing numeric ClOrdIDs for Spot tests (Kraken format 1)."""
    now_us = int(clock.now() * 1_000_000)
    _clordid[0] = max(now_us, _clordid[0] + 1)
    return str(_clordid[0])


def order(
    symbol: str = "BTC/USD",
    side: str = "1",
    qty: str = "0.01",
    ord_type: str = "2",
    price: str | None = "50000.0",
    tif: str = "1",
    clordid: str | None = None,
    **extra: str,
) -> Message:
    """A NewOrderSingle(D); ``extra`` keys are tag numbers as ``t<tag>`` (``t18="P"``)."""
    fields: list[tuple[int, object]] = [(11, clordid or next_clordid()), (38, qty), (40, ord_type)]
    if price is not None:
        fields.append((44, price))
    fields += [(54, side), (55, symbol), (59, tif), (60, format_utc_timestamp(clock.now()))]
    for k, v in extra.items():
        fields.append((int(k.lstrip("t")), v))
    return Message.new("D", *fields)


def is_er(exec_type: str, clordid: str | None = None) -> Callable[[Message], bool]:
    """Predicate: an ExecutionReport with this ExecType(150) (and ClOrdID(11))."""

    def pred(m: Message) -> bool:
        return m.msg_type == "8" and m.get(150) == exec_type and (clordid is None or m.get(11) == clordid)

    return pred


def is_type(msg_type: str) -> Callable[[Message], bool]:
    """Predicate on MsgType(35)."""
    return lambda m: m.msg_type == msg_type
