"""The session holder: a live session that other processes of the same user send through.

Kraken takes one logon per CompID pair and scopes F, 530=1/6, cancel-on-disconnect and
resends to the live session (kraken-fix/SPEC.md §5.7, §6.5–§6.8, §10.4). So whoever holds
the session (``krakenfix session start``, ``tail``, the REPL) serves it on a Unix socket in
its state directory, and every other command goes through it (``ops.holder_client``).

What a client may ask (one JSON object per line; ``ops.holder_wire``, docs/holder-protocol.md):

* ``{"op": "hello"}`` → ``{"type": "hello", ...}``: who holds the session and its state;
* ``{"op": "subscribe"}``: from now on, every inbound application message and what happens
  to the line is pushed (``in``, ``gap``, ``down``, ``up``);
* ``{"op": "send", "id": N, "fields": [[35, "D"], ...]}`` → ``sent`` (with the MsgSeqNum and
  the connection) or ``error`` (nothing was sent);
* ``{"op": "resend", "id": N, "begin": B, "end": E}`` → ``resent`` or ``error``;
* ``{"op": "status"}`` → ``status``: the hello plus the journalled open orders of this connection;
* ``{"op": "stop"}`` → ``stopping``, then the holder logs out and exits.

The socket is 0600 in a 0700 directory, and a peer of another uid is refused at once
(SO_PEERCRED). Lines are bounded (``MAX_LINE``), and so is what waits for a slow reader: a
client that falls behind is cut off rather than let the holder's memory grow.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import struct
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from krakenfix_cli.client_types import ClientSpec
from krakenfix_cli.fix.redact import redact_frame
from krakenfix_cli.fix.values import format_utc_timestamp
from krakenfix_cli.ops import holder_wire as wire
from krakenfix_cli.ops.live import GapClosed, Item, LiveSession, Lost, Received, Restored, SessionDown
from krakenfix_cli.ops.outcomes import KnownOrder, Ledger
from krakenfix_cli.ops.report import Reporter
from krakenfix_cli.transport.reconnect import Backoff

#: What runs beside a holder while it serves, given the state dir (the CLI's warm server).
Beside = Callable[[Path | None], contextlib.AbstractContextManager[object]]
#: Items a client's subscription may hold unread before it is cut off.
CLIENT_QUEUE = 16_384
#: Lines waiting for a client's socket.
OUT_QUEUE = 1_024


class HolderBusy(Exception):
    """Another process already holds (serves) this session."""

    def __init__(self, pid: int | None, path: Path) -> None:
        self.pid = pid
        self.path = path
        who = f"PID {pid}" if pid else "another process"
        super().__init__(f"the session is already held by {who} ({path})")


def peer_uid(sock: socket.socket) -> int | None:
    """The connecting process's uid (Linux SO_PEERCRED), or None where the platform cannot say."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:  # pragma: no cover - not Linux
        return None
    raw = sock.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", raw)
    return int(uid)


class HolderServer:
    """Serve ``live`` on its session's Unix socket until :meth:`close`."""

    def __init__(self, live: LiveSession, path: Path, command: str, *, stoppable: bool = False) -> None:
        self.live = live
        self.path = path
        self.command = command
        self.stoppable = stoppable
        "``session stop`` may end it (a `krakenfix session`); a tail or the REPL is ended where it runs."
        self.stop_requested = asyncio.Event()
        self.clients = 0
        self._server: asyncio.AbstractServer | None = None
        self._inode: int | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    # -- lifecycle --
    async def start(self) -> None:
        """Bind the socket (0600 in a 0700 directory); HolderBusy when a live holder answers there."""
        directory = self.path.parent
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(directory, 0o700)
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            where = wire.short_path(self.path, dir_fd)
            if self.path.exists() or self.path.is_symlink():
                pid = await _answering_pid(where)
                if pid is not None:
                    raise HolderBusy(pid, self.path)
                with contextlib.suppress(FileNotFoundError):
                    self.path.unlink()  # a holder that died left its socket: nobody answers there
            old = os.umask(0o177)
            try:
                self._server = await asyncio.start_unix_server(self._serve, path=where, limit=wire.MAX_LINE)
            finally:
                os.umask(old)
            os.chmod(self.path, 0o600)
            self._inode = self.path.stat().st_ino
        finally:
            os.close(dir_fd)

    async def close(self) -> None:
        """Stop listening, remove the socket (when it is still ours), end the client handlers."""
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1.0)
        with contextlib.suppress(OSError):
            if self._inode is not None and self.path.stat().st_ino == self._inode:
                self.path.unlink()
        for task in list(self._handlers):
            task.cancel()
        if self._handlers:
            await asyncio.wait(list(self._handlers), timeout=1.0)

    async def __aenter__(self) -> HolderServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- what the holder says about itself --
    def hello(self) -> dict[str, Any]:
        live = self.live
        spec = live.spec
        client = live.client
        seq_out = seq_in = 0
        if client is not None:
            with contextlib.suppress(Exception):
                seq_out, seq_in = client.session.next_sender_seq, client.session.next_target_seq
        since = live.connected_since
        return {
            "type": "hello", "v": wire.VERSION, "pid": os.getpid(), "command": self.command,
            "profile": spec.profile, "host": spec.host, "port": spec.port,
            "sender": spec.sender_comp_id, "target": spec.target_comp_id,
            "derivatives": spec.derivatives, "connected": live.is_logged_on,
            "connected_since": format_utc_timestamp(since) if since is not None else None,
            "conn": wire.conn_json(live.conn), "seq_out": seq_out, "seq_in": seq_in,
            "heartbeat": client.session.heartbeat_interval if client is not None else spec.heartbeat,
            "reconnects": live.reconnects, "clients": self.clients,
        }  # fmt: skip

    def status(self) -> dict[str, Any]:
        out = self.hello()
        out["type"] = "status"
        try:
            orders = [o for o in self.live.ledger.open_orders() if o.placed_by == self.live.conn]
        except Exception as exc:  # a status must answer whatever the journal holds
            orders = []
            out["journal_error"] = str(exc)
        out["open_orders"] = [_order_json(o) for o in orders]
        return out

    # -- one client --
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self.clients += 1
        sub = None
        pump: asyncio.Task[None] | None = None
        # Bounded: a slow reader holds up its own pump, whose subscription then overflows and
        # is closed; the holder's memory stays bounded whoever connects.
        out: asyncio.Queue[bytes | None] = asyncio.Queue(OUT_QUEUE)
        flusher = asyncio.create_task(_flush(writer, out))
        try:
            sock = writer.get_extra_info("socket")
            uid = peer_uid(sock) if sock is not None else None
            if uid is not None and uid != os.getuid():
                await out.put(wire.encode({"type": "error", "text": "refused: another user's process"}))
                return
            while True:
                try:
                    line = await reader.readline()
                except (ValueError, asyncio.LimitOverrunError):
                    await out.put(wire.encode({"type": "error", "text": f"line longer than {wire.MAX_LINE} bytes"}))
                    return
                if not line:
                    return
                try:
                    req = wire.decode(line)
                except wire.ProtocolError as exc:
                    await out.put(wire.encode({"type": "error", "text": str(exc)}))
                    continue
                op = req.get("op")
                rid = req.get("id")
                if op == "hello":
                    await out.put(wire.encode({**self.hello(), "id": rid}))
                elif op == "status":
                    await out.put(wire.encode({**self.status(), "id": rid}))
                elif op == "subscribe":
                    if sub is None:
                        sub = self.live.subscribe(CLIENT_QUEUE)
                        pump = asyncio.create_task(_push(sub, out))
                    await out.put(wire.encode({"type": "subscribed", "id": rid}))
                elif op == "send":
                    await out.put(wire.encode(await self._send(rid, req.get("fields"), req.get("fresh") is True)))
                elif op == "resend":
                    await out.put(wire.encode(await self._resend(rid, req.get("begin"), req.get("end", 0))))
                elif op == "stop" and not self.stoppable:
                    await out.put(wire.encode({"type": "error", "id": rid, "text": (
                        f"the session is held by {self.command} (PID {os.getpid()}); end it where it runs "
                        "(Ctrl-C or `quit`)")}))
                elif op == "stop":
                    await out.put(wire.encode({"type": "stopping", "id": rid, "pid": os.getpid()}))
                    self.stop_requested.set()
                else:
                    await out.put(wire.encode({"type": "error", "id": rid, "text": f"unknown op {op!r}"}))
        except (ConnectionError, OSError):
            return
        finally:
            self.clients -= 1
            if sub is not None:
                sub.close("the client went away")
            if pump is not None:
                pump.cancel()
            with contextlib.suppress(asyncio.QueueFull):
                out.put_nowait(None)
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(flusher, 1.0)
            writer.close()
            self._handlers.discard(task)

    async def _send(self, rid: object, fields: object, fresh: bool) -> dict[str, Any]:
        try:
            msg = wire.message_from(fields)
        except wire.ProtocolError as exc:
            return {"type": "error", "id": rid, "text": f"not sent: {exc}"}
        if msg.msg_type in wire.SESSION_TYPES:
            return {"type": "error", "id": rid,
                    "text": f"not sent: MsgType(35)={msg.msg_type} is the session's own; the holder sends those"}
        bad = sorted({t for t, _ in msg.fields} & wire.REFUSED_TAGS)
        if bad:
            return {"type": "error", "id": rid, "text": f"not sent: tag(s) {bad} are the engine's or secret"}
        try:
            sent = await self.live.send(msg, fresh_clordid=fresh)
        except SessionDown as exc:
            return {"type": "error", "id": rid, "text": exc.detail}
        except OSError as exc:  # the store (or journal) could not take it: nothing went out
            return {"type": "error", "id": rid, "text": f"not sent: {exc.strerror or exc}"}
        reply: dict[str, Any] = {"type": "sent", "id": rid, "seq": sent.seq, "clordid": sent.message.get(11),
                                 "conn": wire.conn_json(self.live.conn)}
        client = self.live.client
        with contextlib.suppress(Exception):  # the frame is for the client's screen only
            stored = client.session.store.get(sent.seq, sent.seq) if client is not None else []
            if stored:
                reply["frame"] = redact_frame(stored[0][1]).decode("latin-1")
        return reply

    async def _resend(self, rid: object, begin: object, end: object) -> dict[str, Any]:
        if not isinstance(begin, int) or not isinstance(end, int) or begin < 1 or end < 0:
            return {"type": "error", "id": rid, "text": "resend needs integer begin >= 1 and end >= 0"}
        try:
            await self.live.request_resend(begin, end)
        except SessionDown as exc:
            return {"type": "error", "id": rid, "text": exc.detail}
        return {"type": "resent", "id": rid}


def _order_json(o: KnownOrder) -> dict[str, Any]:
    return {"clordid": o.clordid, "latest_clordid": o.latest_clordid, "order_id": o.order_id,
            "symbol": o.symbol, "side": o.side, "state": o.state}


def item_json(item: Item) -> dict[str, Any]:
    """A subscription item as the protocol pushes it."""
    if isinstance(item, Received):
        return {"type": "in", "fields": wire.message_fields(item.message), "possdup": item.poss_dup,
                "dup": item.duplicate, "when": item.when}
    if isinstance(item, GapClosed):
        return {"type": "gap", "through": item.through}
    if isinstance(item, Lost):
        return {"type": "down", "reason": item.reason, "final": item.final}
    assert isinstance(item, Restored)
    return {"type": "up", "conn": wire.conn_json(item.conn), "reset": item.reset}


async def _push(sub: Any, out: asyncio.Queue[bytes | None]) -> None:
    """Forward a subscription to the client until it closes (a final ``down`` says why)."""
    while True:
        item = await sub.next_item()
        if item is None:
            await out.put(wire.encode({"type": "down", "reason": sub.close_reason or "closed", "final": True}))
            return
        await out.put(wire.encode(item_json(item)))


async def _flush(writer: asyncio.StreamWriter, out: asyncio.Queue[bytes | None]) -> None:
    """Write queued lines in order; stops at None or when the peer is gone."""
    while True:
        data = await out.get()
        if data is None:
            return
        try:
            writer.write(data)
            await writer.drain()
        except (ConnectionError, OSError):
            return


async def _answering_pid(where: str) -> int | None:
    """The PID of a holder answering at ``where``, or None when nobody does (a stale socket)."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(where, limit=wire.MAX_LINE), 2.0)
    except (OSError, TimeoutError):
        return None
    try:
        writer.write(wire.encode({"op": "hello"}))
        line = await asyncio.wait_for(reader.readline(), 2.0)
        pid = wire.decode(line).get("pid") if line else None
        return pid if isinstance(pid, int) else -1
    except (OSError, TimeoutError, wire.ProtocolError):
        return -1  # something answers there: do not steal its socket
    finally:
        writer.close()


@contextlib.asynccontextmanager
async def holding(live: LiveSession, command: str, *, stoppable: bool = False,
                  beside: Beside | None = None) -> AsyncIterator[HolderServer | None]:
    """Serve ``live`` to the user's other commands while the block runs (None: nothing to share,
    an in-memory ``--sim`` session), with ``beside`` running as long. HolderBusy when another
    process already holds it."""
    path = wire.socket_path(live.spec)
    if path is None:
        yield None
        return
    server = HolderServer(live, path, command, stoppable=stoppable)
    await server.start()
    try:
        with beside(live.spec.state_dir) if beside is not None else contextlib.nullcontext():
            yield server
    finally:
        await server.close()


async def hold_session(spec: ClientSpec, reporter: Reporter, ledger: Ledger, stop: asyncio.Event, *,
                       timeout: float = 10.0, command: str = "krakenfix session",
                       backoff: Backoff | None = None, beside: Beside | None = None) -> str:
    """``krakenfix session start``: log on, serve the session, reconnect through drops, until stopped.

    Returns why it ended. The first logon's failure is raised (ConnectFailed /
    LogonRefusedError), and so is HolderBusy, before anything is sent, when another process
    already serves the session.
    """
    path = wire.socket_path(spec)
    if path is None:
        raise ValueError("a session holder needs a state directory (an in-memory --sim session cannot be shared)")
    from krakenfix_cli.ops import holder_client

    hello = await holder_client.ask(spec, "hello")
    if hello is not None:  # before logging on: a second logon of the pair would end the first's
        pid = hello.get("pid")
        raise HolderBusy(pid if isinstance(pid, int) else None, path)
    live = LiveSession(spec, reporter, ledger=ledger, reconnect=True, backoff=backoff, connect_timeout=timeout)
    try:
        facts = await live.start()
        async with holding(live, command, stoppable=True, beside=beside) as server:
            assert server is not None
            how = "141=Y, sequence numbers reset" if facts.reset else "141=N, continuing sequence numbers"
            reporter.note(f"holding {spec.sender_comp_id}→{spec.target_comp_id} at {spec.host}:{spec.port} ({how}; "
                          f"PID {os.getpid()}); commands of this profile go through {path}")
            waits: list[asyncio.Future[Any]] = [asyncio.ensure_future(e.wait()) for e in (stop, server.stop_requested)]
            waits.append(asyncio.ensure_future(live.wait_done()))
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for w in waits:
                    w.cancel()
            if live.failure is not None:
                raise live.failure
            if live.done:
                return live.close_reason or "the session ended"
            return "stopped by `krakenfix session stop`" if server.stop_requested.is_set() else "interrupted"
    finally:
        await live.close(min(timeout, 5.0))

