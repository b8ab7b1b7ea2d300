"""The acceptor side: listen, read the first message, let the application pick a session.

The simulator decides which :class:`Session` a connection belongs to from its first
message (SenderCompID(49)/TargetCompID(56) of the Logon); the server owns only the
listening socket and the per-connection driver.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from krakenfix_cli.fix.errors import FixError, FramingError
from krakenfix_cli.fix.framing import Framer
from krakenfix_cli.fix.message import Message, decode
from krakenfix_cli.session.engine import Session
from krakenfix_cli.transport.clock import SYSTEM, Clock
from krakenfix_cli.transport.connection import Connection, EventHandler

#: How long a new connection may take to send its first message.
FIRST_MESSAGE_TIMEOUT = 10.0


@dataclass
class Accepted:
    """What the application hands back for a connection it accepts."""

    session: Session
    on_event: EventHandler
    on_connection: Callable[[Connection], None] | None = None
    "Called with the live Connection before bytes flow (to keep a handle for sending)."
    on_closed: Callable[[Connection, str], Awaitable[None] | None] | None = None
    "Called once the connection is gone, with the reason."


#: Given the first message and the peer address, accept (with a session) or refuse (None).
SessionPicker = Callable[[Message, tuple[str, int]], Accepted | None]


async def _first_message(reader: asyncio.StreamReader) -> tuple[Message | None, bytes]:
    framer = Framer()
    seen = b""
    while True:
        data = await reader.read(65536)
        if not data:
            return None, seen
        seen += data
        framer.feed(data)
        item = framer.next_frame()
        while isinstance(item, FramingError):
            return None, seen
        if item is None:
            if len(seen) > 1 << 16:
                return None, seen
            continue
        try:
            return decode(item), seen
        except FixError:
            return None, seen


async def serve(
    pick: SessionPicker,
    host: str = "127.0.0.1",
    port: int = 0,
    ssl_context: ssl.SSLContext | None = None,
    clock: Clock = SYSTEM,
) -> asyncio.Server:
    """Listen on ``host:port`` (0 = any free port) and drive a Session per accepted connection."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername") or ("?", 0)
        try:
            msg, raw = await asyncio.wait_for(_first_message(reader), FIRST_MESSAGE_TIMEOUT)
        except (TimeoutError, ConnectionError, OSError, ssl.SSLError):
            msg, raw = None, b""
        accepted = pick(msg, peer) if msg is not None else None
        if accepted is None:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            return
        conn = Connection(accepted.session, reader, writer, accepted.on_event, clock)
        if accepted.on_connection is not None:
            accepted.on_connection(conn)
        reason = await conn.run(initial=raw)
        if accepted.on_closed is not None:
            result = accepted.on_closed(conn, reason)
            if result is not None:
                await result

    return await asyncio.start_server(handle, host, port, ssl=ssl_context)
