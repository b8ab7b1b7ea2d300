"""Drive a sans-IO :class:`Session` over an asyncio stream pair.

One task reads the socket and feeds ``receive_bytes``; after every input the driver
flushes ``bytes_to_send`` and keeps a single timer at or before ``next_deadline`` (aioquic's
``QuicConnectionProtocol`` habit). Events are handed to a callback, in order, on the
event loop. The driver is the only place a session meets a socket.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from krakenfix_cli.session.engine import Session
from krakenfix_cli.session.events import Disconnect, Event
from krakenfix_cli.transport.clock import SYSTEM, Clock

EventHandler = Callable[[Event], None]
#: Told each frame once the transport has handed it to the socket: (frame, now).
WrittenHandler = Callable[[bytes, float], None]


class Connection:
    """A Session bound to one socket (reader/writer) until either side closes."""

    def __init__(
        self,
        session: Session,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        on_event: EventHandler,
        clock: Clock = SYSTEM,
        on_written: WrittenHandler | None = None,
    ) -> None:
        self.session = session
        self.on_written = on_written
        self.reader = reader
        self.writer = writer
        self.on_event = on_event
        self.clock = clock
        self._timer: asyncio.TimerHandle | None = None
        #: The session deadline the armed timer was set for.
        self._armed_for = 0.0
        self._closed = asyncio.Event()
        self._closing = False
        self._loop = asyncio.get_running_loop()
        #: Why the connection ended (Disconnect reason, EOF, socket error).
        self.close_reason = ""

    # -- lifecycle --------------------------------------------------------------------------------
    async def run(self, initial: bytes = b"") -> str:
        """Connect the session, pump bytes until the socket closes; returns why it closed.

        ``initial`` is what an acceptor already read to pick the session (the Logon).
        """
        self.session.connect(self.clock.now())
        self._after_input()
        if initial:
            self.session.receive_bytes(initial, self.clock.now())
            self._after_input()
        try:
            while not self._closing:
                try:
                    data = await self.reader.read(65536)
                except (ConnectionError, OSError) as exc:
                    self.close_reason = self.close_reason or f"socket error: {exc}"
                    break
                if not data:
                    self.close_reason = self.close_reason or "connection closed by peer"
                    break
                self.session.receive_bytes(data, self.clock.now())
                self._after_input()
        finally:
            await self._shutdown()
        return self.close_reason

    def send(self, msg: object) -> int:
        """Send an application or admin message through the session; returns its MsgSeqNum(34)."""
        from krakenfix_cli.fix.message import Message

        assert isinstance(msg, Message)
        seq = self.session.send(msg, self.clock.now())
        self._after_input()
        return seq

    def logout(self, text: str = "") -> None:
        """Start an orderly Logout(5)."""
        self.session.logout(self.clock.now(), text)
        self._after_input()

    def request_resend(self, begin: int, end: int) -> None:
        """Send ResendRequest(2)."""
        self.session.request_resend(begin, end, self.clock.now())
        self._after_input()

    def abort(self, reason: str = "aborted") -> None:
        """Close the socket now, without a Logout(5) (a dropped line)."""
        self.close_reason = self.close_reason or reason
        self._closing = True
        self.writer.transport.abort()

    async def wait_closed(self) -> None:
        """Until the connection is fully shut down."""
        await self._closed.wait()

    @property
    def closed(self) -> bool:
        """True once the socket is closed."""
        return self._closed.is_set()

    # -- pumping ----------------------------------------------------------------------------------
    def _flush(self) -> None:
        """Write what the session queued; tell ``on_written`` each frame that went to the socket."""
        if self.on_written is None:
            data = self.session.bytes_to_send()
            if data and not self.writer.is_closing():
                self.writer.write(data)
            return
        frames = self.session.frames_to_send()
        if frames and not self.writer.is_closing():
            self.writer.write(b"".join(frames))
            now = self.clock.now()
            for frame in frames:
                self.on_written(frame, now)

    def _after_input(self) -> None:
        """Flush bytes, deliver events, re-arm the single timer."""
        self._flush()
        while True:
            ev = self.session.next_event()
            if ev is None:
                break
            if isinstance(ev, Disconnect):
                self.close_reason = self.close_reason or ev.reason
                self._closing = True
            self.on_event(ev)
        self._flush()
        if self._closing:
            self._begin_close()
            return
        self._arm()

    def _arm(self) -> None:
        """Keep one timer at or before the session's next deadline.

        Every inbound message moves the heartbeat deadlines later, so an armed timer that is
        not later than the new deadline is kept rather than cancelled and re-created per
        message: it may fire early, where ``handle_timer`` finds nothing due (its predicates
        are the deadlines themselves) and ``_after_input`` arms it again for the real one.
        """
        deadline = self.session.next_deadline()
        timer = self._timer
        if timer is not None:
            if deadline is not None and deadline >= self._armed_for:
                return
            timer.cancel()
            self._timer = None
        if deadline is None:
            return
        self._armed_for = deadline
        delay = max(0.0, deadline - self.clock.now())
        self._timer = self._loop.call_later(delay, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        if self._closing:
            return
        self.session.handle_timer(self.clock.now())
        self._after_input()

    def _begin_close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self.writer.is_closing():
            self.writer.close()

    async def _shutdown(self) -> None:
        self._closing = True
        self._begin_close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.writer.wait_closed(), 2.0)
        self.session.connection_lost(self.clock.now())
        while True:
            ev = self.session.next_event()
            if ev is None:
                break
            self.on_event(ev)
        self._closed.set()
