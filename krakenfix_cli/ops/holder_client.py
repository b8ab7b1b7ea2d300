"""A command's side of the session holder: find it, and talk to it as a :class:`~ops.live.Channel`.

When a holder serves the session (``ops.holder``), a command sends through it instead of
logging on itself: Kraken would refuse a second logon of the CompID pair, and F, 530=1/6
reach only the holder's connection anyway. Output is the same as a command's own
connection would give: it shows what it sent (with the MsgSeqNum the holder gave it) and
the inbound messages that answer its requests, through the command's ``show`` filter.

A holder that goes away mid-request is not retried: the request may have reached the
gateway, so the command ends (exit 4) and says how to find out.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from krakenfix_cli.client_types import ClientSpec, ConnectFailed, LogonFacts, Watcher
from krakenfix_cli.fix.message import Message
from krakenfix_cli.fix.message import decode as decode_frame
from krakenfix_cli.ops import holder_wire as wire
from krakenfix_cli.ops.live import (
    HOLDER_GONE,
    GapClosed,
    Item,
    ItemQueue,
    Lost,
    Received,
    Restored,
    Sent,
    SessionDown,
    sending_time,
)
from krakenfix_cli.ops.outcomes import ConnRef
from krakenfix_cli.ops.send import Correlator
from krakenfix_cli.transport import clock


class HolderGone(ConnectFailed):
    """The holder closed the socket with a request unanswered (exit 4; never resent)."""

    def __init__(self, detail: str) -> None:
        super().__init__("holder", detail)


@dataclass(frozen=True)
class HolderInfo:
    """What a holder's hello says."""

    pid: int
    command: str
    profile: str
    sender: str
    target: str
    derivatives: bool
    connected: bool
    connected_since: str | None
    conn: ConnRef
    seq_out: int
    seq_in: int
    heartbeat: float
    raw: dict[str, Any]

    @classmethod
    def parse(cls, obj: dict[str, Any]) -> HolderInfo:
        def num(key: str) -> int:
            v = obj.get(key)
            return v if isinstance(v, int) and not isinstance(v, bool) else 0

        hb = obj.get("heartbeat")
        return cls(
            pid=num("pid"), command=str(obj.get("command", "")), profile=str(obj.get("profile", "")),
            sender=str(obj.get("sender", "")), target=str(obj.get("target", "")),
            derivatives=bool(obj.get("derivatives")), connected=bool(obj.get("connected")),
            connected_since=obj.get("connected_since") if isinstance(obj.get("connected_since"), str) else None,
            conn=wire.conn_from(obj.get("conn")), seq_out=num("seq_out"), seq_in=num("seq_in"),
            heartbeat=float(hb) if isinstance(hb, int | float) and not isinstance(hb, bool) else 0.0, raw=obj,
        )  # fmt: skip

    def describe(self) -> str:
        """``PID 123, krakenfix tail, logged on since ...``."""
        state = f"logged on since {self.connected_since}" if self.connected else "reconnecting"
        return f"PID {self.pid}, {self.command or 'krakenfix'}, {state}"

    def facts(self) -> LogonFacts:
        """The logon facts a command reports, as far as the holder knows them."""
        return LogonFacts(heartbeat_interval=self.heartbeat, seq_out=self.seq_out, seq_in=self.seq_in)


async def _open(path: str, timeout: float) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
    try:
        return await asyncio.wait_for(asyncio.open_unix_connection(path, limit=wire.MAX_LINE), timeout)
    except (OSError, TimeoutError):
        return None


async def _connect_path(spec: ClientSpec, timeout: float) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
    path = wire.socket_path(spec)
    return None if path is None else await _connect_socket(path, timeout)


async def _connect_socket(path: Path, timeout: float) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
    if not path.exists():
        return None
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return None
    try:
        return await _open(wire.short_path(path, dir_fd), timeout)
    finally:
        os.close(dir_fd)


async def ask(spec: ClientSpec, op: str, timeout: float = 2.0) -> dict[str, Any] | None:
    """One request to ``spec``'s holder (hello, status, stop) and its answer; None without a holder."""
    path = wire.socket_path(spec)
    return None if path is None else await ask_socket(path, op, timeout)


async def ask_socket(path: Path, op: str, timeout: float = 2.0) -> dict[str, Any] | None:
    """One request to the holder listening at ``path``, and its answer; None when nobody answers."""
    pair = await _connect_socket(path, timeout)
    if pair is None:
        return None
    reader, writer = pair
    try:
        writer.write(wire.encode({"op": op}))
        line = await asyncio.wait_for(reader.readline(), timeout)
        return wire.decode(line) if line else None
    except (OSError, TimeoutError, ValueError):
        return None
    finally:
        writer.close()


class RemoteChannel(ItemQueue):
    """A :class:`~ops.live.Channel` over a holder's socket."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, info: HolderInfo,
                 watch: Watcher | None, generated: set[str] | None = None) -> None:
        super().__init__()
        self.info = info
        self._generated = generated if generated is not None else set()
        self._reader = reader
        self._writer = writer
        self._watch = watch
        self._conn = info.conn
        self._replies: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._next_id = 0
        self._mine: list[Correlator] = []
        self._mass_cancel = False
        self._task = asyncio.create_task(self._read())

    # -- Channel --
    @property
    def conn(self) -> ConnRef:
        return self._conn

    @property
    def derivatives(self) -> bool:
        return self.info.derivatives

    async def send(self, msg: Message) -> Sent:
        # An ID this process generated gets a fresh one from the holder as it sends: processes
        # that generated theirs in one order may reach the holder in another (Spot's must increase).
        fresh = (msg.get(11) or "") in self._generated
        self._mass_cancel = self._mass_cancel or msg.msg_type == "q"
        reply = await self._request({"op": "send", "fresh": fresh, "fields": wire.message_fields(msg)})
        if reply.get("type") != "sent":
            raise SessionDown(str(reply.get("text") or "the holder did not send it"))
        clordid = reply.get("clordid")
        if isinstance(clordid, str) and clordid and clordid != msg.get(11):
            msg = msg.replace(11, clordid)
        seq = reply.get("seq")
        corr = Correlator.for_request(msg, seq if isinstance(seq, int) else 0)
        self._mine.append(corr)
        self._conn = wire.conn_from(reply.get("conn")) if reply.get("conn") else self._conn
        if self._watch is not None:
            shown = _as_sent(reply.get("frame"), msg, corr.seq, self._conn)
            self._watch(shown, "out", sending_time(shown) or clock.now())  # when it went out, not now
        return Sent(corr.seq, msg)

    async def request_resend(self, begin: int, end: int = 0) -> None:
        reply = await self._request({"op": "resend", "begin": begin, "end": end})
        if reply.get("type") != "resent":
            raise SessionDown(str(reply.get("text") or "the holder did not ask for the resend"))

    async def close(self) -> None:
        """Leave the holder (it stays logged on for the others)."""
        self._task.cancel()
        with contextlib.suppress(BaseException):
            await self._task
        self._writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._writer.wait_closed(), 1.0)

    # -- inside --
    def _take(self, item: Item) -> Item:
        """Show an inbound message that answers this command (as its own connection would)."""
        watch = self._watch
        if watch is not None and isinstance(item, Received) and not item.duplicate and self._concerns(item.message):
            watch(item.message, "in", item.when or clock.now())
        if isinstance(item, Restored):
            self._conn = item.conn
        return item

    def _concerns(self, msg: Message) -> bool:
        if self._mass_cancel and msg.msg_type == "8" and msg.get(150) in ("4", "6"):
            return True
        return any(c.clordid is not None and c.concerns(msg) for c in self._mine) or any(
            c.clordid is None and msg.msg_type in ("3", "j") and c.concerns(msg) for c in self._mine)

    async def _request(self, obj: dict[str, Any]) -> dict[str, Any]:
        if self._closed.is_set():
            raise SessionDown(self._reason or "the session holder connection is closed")
        self._next_id += 1
        rid = self._next_id
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._replies[rid] = fut
        try:
            self._writer.write(wire.encode({**obj, "id": rid}))
            await self._writer.drain()
        except (ConnectionError, OSError):
            self._replies.pop(rid, None)
            raise SessionDown(f"the session holder (PID {self.info.pid}) is not answering; nothing was sent") \
                from None
        closed: asyncio.Future[Any] = asyncio.ensure_future(self._closed.wait())
        waiting: set[asyncio.Future[Any]] = {fut, closed}
        done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        closed.cancel()
        self._replies.pop(rid, None)
        if fut in done:
            return fut.result()
        fut.cancel()
        raise HolderGone(gone_text(self.info.pid))

    async def _read(self) -> None:
        try:
            while True:
                try:
                    line = await self._reader.readline()
                except (ValueError, asyncio.LimitOverrunError, OSError):
                    break
                if not line:
                    break
                try:
                    obj = wire.decode(line)
                except wire.ProtocolError:
                    continue
                kind = obj.get("type")
                rid = obj.get("id")
                if isinstance(rid, int) and rid in self._replies and kind in ("sent", "resent", "error",
                                                                               "subscribed", "stopping"):
                    fut = self._replies[rid]
                    if not fut.done():
                        fut.set_result(obj)
                    continue
                item = _item(obj)
                if item is not None:
                    self._queue.put_nowait(item)
                    if isinstance(item, Lost) and item.final:
                        self._reason = item.reason
                        break
        finally:
            self._reason = self._reason or gone_text(self.info.pid)
            self._closed.set()


def _as_sent(frame: object, msg: Message, seq: int, conn: ConnRef) -> Message:
    """The message as the holder's engine framed it (its stored frame), or rebuilt when it sent none."""
    if isinstance(frame, str):
        with contextlib.suppress(ValueError):
            return decode_frame(frame.encode("latin-1"))
    head = [msg.fields[0], (49, conn.sender), (56, conn.target), (34, str(seq))]
    return Message([*head, *msg.fields[1:]])


def gone_text(pid: int) -> str:
    """What a command says when its holder vanished with a request in flight."""
    return (f"{HOLDER_GONE} (PID {pid}) went away mid-request; the order may have reached the gateway: "
            "check `krakenfix orders --refresh` before sending again")


def _item(obj: dict[str, Any]) -> Item | None:
    kind = obj.get("type")
    if kind == "in":
        try:
            msg = wire.message_from(obj.get("fields"))
        except wire.ProtocolError:
            return None
        when = obj.get("when")
        return Received(msg, bool(obj.get("possdup")), bool(obj.get("dup")),
                        float(when) if isinstance(when, int | float) else None)
    if kind == "gap":
        through = obj.get("through")
        return GapClosed(through if isinstance(through, int) else 0)
    if kind == "down":
        return Lost(str(obj.get("reason") or "connection lost"), bool(obj.get("final")))
    if kind == "up":
        return Restored(wire.conn_from(obj.get("conn")), bool(obj.get("reset")))
    return None


async def connect(spec: ClientSpec, watch: Watcher | None, timeout: float = 2.0,
                  generated: set[str] | None = None) -> RemoteChannel | None:
    """A subscribed channel through ``spec``'s running holder, or None when none serves it."""
    pair = await _connect_path(spec, timeout)
    if pair is None:
        return None
    reader, writer = pair
    try:
        writer.write(wire.encode({"op": "hello"}))
        writer.write(wire.encode({"op": "subscribe", "id": 0}))
        await writer.drain()
        hello = wire.decode(await asyncio.wait_for(reader.readline(), timeout))
        if hello.get("type") != "hello":
            raise wire.ProtocolError(str(hello.get("text") or "no hello"))
        subscribed = wire.decode(await asyncio.wait_for(reader.readline(), timeout))
        if subscribed.get("type") != "subscribed":
            raise wire.ProtocolError(str(subscribed.get("text") or "not subscribed"))
    except (OSError, TimeoutError, ValueError):
        writer.close()
        return None
    return RemoteChannel(reader, writer, HolderInfo.parse(hello), watch, generated)
