"""Client: connect, log on, send, await replies, log out — over the engine and the transport.

This is the one high-level door every ops function and the REPL go through. It owns a
Session (sans-IO engine), the socket (through transport.connection), and Kraken's Logon
signature (kraken.auth, passed to the engine as a logon hook).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
from pathlib import Path

from krakenfix_cli.client_types import (
    ClientSpec,
    ConnectFailed,
    LogonFacts,
    LogonRefusedError,
    Watcher,
    session_directory,
)
from krakenfix_cli.fix.message import Message, decode
from krakenfix_cli.fix.values import parse_utc_timestamp
from krakenfix_cli.session.config import Role, SessionConfig
from krakenfix_cli.session.engine import Session
from krakenfix_cli.session.events import (
    Disconnect,
    Event,
    LogonAccepted,
    LogonRefused,
    LogoutReceived,
    MessageReceived,
)
from krakenfix_cli.session.log import SessionLog
from krakenfix_cli.session.store import MemoryStore, MessageStore
from krakenfix_cli.session.texts import SEQ_TOO_LOW, parse_seq_too_low
from krakenfix_cli.transport.clock import SYSTEM, Clock
from krakenfix_cli.transport.connection import Connection
from krakenfix_cli.transport.tls import client_context, describe_peer

__all__ = ["Client", "ClientSpec", "ConnectFailed", "LogonFacts", "LogonRefusedError", "Watcher", "diagnose",
           "session_directory"]


def diagnose(reason: str) -> str:
    """Which part of the Logon failed, from the gateway's Logout(5) Text(58)."""
    low = reason.lower()
    if SEQ_TOO_LOW.lower() in low or "msgseqnum" in low or "sequence number" in low:
        # The gateway's words: ``SEQ_MISMATCH`` alone means our own engine logged out (connect()).
        numbers = parse_seq_too_low(reason)
        if numbers is None:
            return f"{SEQ_MISMATCH}: the gateway wants them reset"
        expected, ours = numbers
        return f"{SEQ_MISMATCH}: the gateway expected MsgSeqNum(34) {expected}" + (
            f", ours was {ours}" if ours is not None else "")
    if "nonce" in low:
        return "nonce outside the window (check the local clock: NTP)"
    if "signature" in low or "password" in low:
        return "bad signature (wrong API secret for this key)"
    if "api key" in low or "username" in low or "key" in low:
        return "bad API key"
    if "compid" in low or "sendercompid" in low or "targetcompid" in low:
        return "CompID not recognised"
    if "rollover" in low:
        return "daily rollover in progress (retry in about 30 s)"
    return "logon refused"


SILENT_CLOSE = "silent close: IP not whitelisted, unknown CompID, or TLS required"
SEQ_MISMATCH = "sequence numbers disagree with the gateway's"


class Client:
    """One initiator session over TCP/TLS with Kraken authentication."""

    def __init__(
        self,
        spec: ClientSpec,
        config: SessionConfig,
        store: MessageStore,
        log: SessionLog | None = None,
        clock: Clock = SYSTEM,
    ) -> None:
        self.spec = spec
        self.clock = clock
        #: Who sees the traffic (a screen, a test); empty means nothing is decoded for them.
        self.watchers: list[Watcher] = []
        self.session = Session(config, store, log)
        self.inbound: asyncio.Queue[Event] = asyncio.Queue()
        self._messages: asyncio.Queue[Message | None] = asyncio.Queue()  # None: the connection is gone
        self._conn: Connection | None = None
        self._task: asyncio.Task[str] | None = None
        self._logon_waiter: asyncio.Future[Event] | None = None
        self.facts = LogonFacts()
        self.connection_id = ""
        self.close_reason = ""
        #: A local exception that ended the connection (e.g. OSError ENOSPC from the store).
        self.failure: BaseException | None = None
        self._checkpoint_path: Path | None = None
        self._checkpoint = 0
        directory = session_directory(spec)
        if directory is not None:
            self._checkpoint_path = directory / "processed"
            with contextlib.suppress(OSError, ValueError):
                self._checkpoint = int(self._checkpoint_path.read_text().strip() or 0)

    # -- construction -------------------------------------------------------------------------------
    @classmethod
    def from_spec(cls, spec: ClientSpec, clock: Clock = SYSTEM) -> Client:
        """Build the engine config (with Kraken's Logon hook), the store and the log for ``spec``."""
        logon_fields = None
        if spec.api_key and spec.secret is not None and not spec.market_data:
            logon_fields = _kraken_logon_hook(spec)
        elif spec.cancel_on_disconnect is not None and not spec.market_data:
            flag = "0" if spec.cancel_on_disconnect else "1"

            def cod_only(seq: int, now: float) -> list[tuple[int, str]]:
                return [(8674, flag)]

            logon_fields = cod_only
        config = SessionConfig(
            role=Role.INITIATOR,
            sender_comp_id=spec.sender_comp_id,
            target_comp_id=spec.target_comp_id,
            heartbeat_interval=spec.heartbeat,
            reset_on_logon=spec.reset_on_logon,
            logon_fields=logon_fields,
            deliver_duplicates=True,
            resend_app_messages=False,
        )
        store, log = _store_and_log(spec)
        return cls(spec, config, store, log, clock)

    # -- lifecycle ----------------------------------------------------------------------------------
    async def connect(self, timeout: float = 10.0) -> LogonFacts:
        """TCP (+TLS), then Logon(A); returns the facts or raises ConnectFailed/LogonRefusedError."""
        spec = self.spec
        mono = self.clock.monotonic
        t0 = mono()
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(spec.host, spec.port), timeout)
        except TimeoutError:
            raise ConnectFailed("timeout", f"no TCP connection to {spec.host}:{spec.port} in {timeout:g} s") from None
        except OSError as exc:
            raise ConnectFailed("tcp", f"{spec.host}:{spec.port}: {exc.strerror or exc}") from None
        t1 = mono()
        self.facts.tcp_ms = (t1 - t0) * 1000
        if spec.tls:
            ctx = client_context(spec.insecure, spec.cafile)
            try:
                await asyncio.wait_for(
                    writer.start_tls(ctx, server_hostname=spec.server_hostname or spec.host), timeout
                )
            except TimeoutError:
                writer.close()
                raise ConnectFailed("timeout", f"TLS handshake with {spec.host}:{spec.port} timed out") from None
            except (ssl.SSLError, OSError) as exc:
                writer.close()
                why = getattr(exc, "reason", None) or getattr(exc, "verify_message", None) or str(exc) or repr(exc)
                raise ConnectFailed("tls", f"TLS handshake with {spec.host}:{spec.port} failed: {why}") from None
            sslobj = writer.get_extra_info("ssl_object")
            self.facts.tls_version, self.facts.tls_cipher, self.facts.peer_cert_subject = describe_peer(sslobj)
            self.facts.tls_ms = (mono() - t1) * 1000
        loop = asyncio.get_running_loop()
        self._logon_waiter = loop.create_future()
        self._conn = Connection(self.session, reader, writer, self._on_event, self.clock, self._on_written)
        sent_at = mono()
        self._task = asyncio.create_task(self._conn.run())
        self._task.add_done_callback(self._on_closed)
        try:
            ev = await asyncio.wait_for(asyncio.shield(self._logon_waiter), timeout)
        except TimeoutError:
            await self.close()
            raise ConnectFailed("timeout", f"no Logon answer from {spec.host}:{spec.port} in {timeout:g} s") from None
        if isinstance(ev, LogonAccepted):
            rtt = mono() - sent_at
            self.facts.logon_rtt_ms = rtt * 1000
            self.facts.logon = ev.message
            self.facts.reset = ev.reset
            self.facts.heartbeat_interval = self.session.heartbeat_interval
            self.facts.seq_out = self.session.next_sender_seq
            self.facts.seq_in = self.session.next_target_seq
            with contextlib.suppress(Exception):
                theirs = parse_utc_timestamp(ev.message.get(52) or "")
                self.facts.clock_skew_ms = (self.clock.now() - rtt / 2 - theirs) * 1000
            self.connection_id = f"{spec.sender_comp_id}>{spec.target_comp_id}@{ev.message.get(52) or ''}"
            await self._replay_unprocessed(ev.reset)
            return self.facts
        await self._wait_task()
        if self.failure is not None:
            raise self.failure
        if isinstance(ev, LogonRefused):
            raise LogonRefusedError(ev.reason, diagnose(ev.reason), self.facts)
        if SEQ_TOO_LOW in self.close_reason:
            # Our own engine logged out: the gateway's Logon(A) came with a lower MsgSeqNum(34)
            # than the store expects (it restarted its numbers). Not a refusal, not a silent close.
            raise LogonRefusedError(self.close_reason, SEQ_MISMATCH, self.facts)
        raise LogonRefusedError(self.close_reason or "connection closed", SILENT_CLOSE, self.facts)

    async def _replay_unprocessed(self, reset: bool) -> None:
        """After a crash, ask again for what arrived but was never marked processed.

        The engine records the inbound MsgSeqNum(34) as soon as a message is parsed, before
        the application has acted on it; a kill -9 in between would lose that message. The
        application's own checkpoint (:meth:`processed`) closes the gap: everything after it
        is requested again and arrives as PossDup, to be deduplicated by ExecID(17).
        """
        if not self.spec.checkpoint:
            return
        if reset:
            self._write_checkpoint(0)
            return
        expected = self.session.next_target_seq
        if 0 < self._checkpoint + 1 < expected:
            # Only the part the engine will not ask for itself: it already requests a
            # resend from ``expected`` when the gateway's numbers ran ahead.
            await self.request_resend(self._checkpoint + 1, expected - 1)

    def processed(self, msg: Message) -> None:
        """The application is done with ``msg``: checkpoint its MsgSeqNum(34) (with a state dir)."""
        seq = msg.get_int(34)
        if seq is not None and seq > self._checkpoint:
            self._write_checkpoint(seq)

    def _write_checkpoint(self, seq: int) -> None:
        self._checkpoint = seq
        path = self._checkpoint_path
        if path is not None:
            # Write aside, then rename: a kill -9 leaves the old mark or the new one, never none.
            tmp = path.with_name(path.name + ".tmp")
            with contextlib.suppress(OSError):
                tmp.write_text(str(seq))
                os.replace(tmp, path)

    def _on_written(self, frame: bytes, now: float) -> None:
        """The transport wrote ``frame``: show it to the watchers (decoded only when someone watches)."""
        if not self.watchers:
            return
        try:
            msg = decode(frame)
        except ValueError:
            return  # our own engine encoded it; nothing a screen could show
        self._tell(msg, "out", now)

    def _tell(self, msg: Message, direction: str, now: float) -> None:
        for watcher in list(self.watchers):
            watcher(msg, direction, now)

    def _on_event(self, ev: Event) -> None:
        if self.watchers:
            shown = ev.message if isinstance(ev, LogonAccepted | LogonRefused | MessageReceived | LogoutReceived) \
                else None
            if shown is not None:
                self._tell(shown, "in", self.clock.now())
        waiter = self._logon_waiter
        if waiter is not None and not waiter.done() and isinstance(ev, LogonAccepted | LogonRefused | Disconnect):
            waiter.set_result(ev)
        if isinstance(ev, Disconnect):
            self.close_reason = self.close_reason or ev.reason
        if isinstance(ev, MessageReceived):
            self._messages.put_nowait(ev.message)
        self.inbound.put_nowait(ev)

    def _on_closed(self, task: asyncio.Task[str]) -> None:
        """The socket is gone: wake a pending logon and tell subscribers."""
        failure = None if task.cancelled() else task.exception()
        if failure is not None:
            # Not the network: our own side failed (a full disk under the store, ...).
            self.failure = failure
        reason = "" if task.cancelled() or failure is not None else task.result()
        self.close_reason = self.close_reason or reason or (
            f"stopped by a local error: {failure}" if failure is not None else "connection closed")
        waiter = self._logon_waiter
        ev = Disconnect(self.close_reason)
        if waiter is not None and not waiter.done():
            waiter.set_result(ev)
        self.inbound.put_nowait(ev)
        self._messages.put_nowait(None)  # wake a next_message() waiter now, not at its time-out

    async def _wait_task(self) -> None:
        if self._task is not None:
            with contextlib.suppress(Exception):
                reason = await asyncio.wait_for(asyncio.shield(self._task), 5.0)
                self.close_reason = self.close_reason or reason

    @property
    def is_logged_on(self) -> bool:
        """True while the session is logged on."""
        return self.session.is_logged_on and self._conn is not None and not self._conn.closed

    @property
    def closed(self) -> bool:
        """True once the connection is gone."""
        return self._conn is None or self._conn.closed

    async def wait_closed(self) -> str:
        """Until the connection ends; returns why."""
        if self._task is not None:
            reason = await asyncio.shield(self._task)
            self.close_reason = self.close_reason or reason
        return self.close_reason

    # -- traffic ------------------------------------------------------------------------------------
    async def send(self, msg: Message) -> int:
        """Send an application message; returns its MsgSeqNum(34)."""
        if self._conn is None:
            raise ConnectFailed("tcp", "not connected")
        return self._conn.send(msg)

    async def next_message(self, timeout: float | None = None) -> Message | None:
        """The next inbound application message (or Reject), or None on time-out/close.

        Messages that arrived before a close are still handed out first; then None at once.
        """
        if self._messages.empty() and self._task is not None and self._task.done():
            return None
        try:
            if timeout is None:
                return await self._messages.get()
            return await asyncio.wait_for(self._messages.get(), timeout)
        except TimeoutError:
            return None

    async def request_resend(self, begin: int, end: int = 0) -> None:
        """ResendRequest(2) for [begin, end]; replays arrive as PossDup messages."""
        if self._conn is None:
            raise ConnectFailed("tcp", "not connected")
        self._conn.request_resend(begin, end)

    async def logout(self, timeout: float = 5.0, text: str = "") -> None:
        """Orderly Logout(5); waits for the answer (or the time-out) and the close."""
        if self._conn is None or self._conn.closed:
            return
        self._conn.logout(text)
        if self._task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._task), timeout)
        await self.close()

    async def close(self) -> None:
        """Drop the connection now (no Logout if one was not exchanged)."""
        if self._conn is not None and not self._conn.closed:
            self._conn.abort("closed by the client")
        await self._wait_task()
        store = self.session.store
        with contextlib.suppress(Exception):
            store.close()
        log = self.session.log
        if log is not None:
            with contextlib.suppress(Exception):
                log.close()

    def drop(self) -> None:
        """Abort the socket without Logout(5) (tests: a dead line)."""
        if self._conn is not None:
            self._conn.abort("dropped")


def _kraken_logon_hook(spec: ClientSpec):  # type: ignore[no-untyped-def]
    """Kraken's Logon(A) auth fields (553/554/5025, 8674) signed over the exact 34/49/56/553 sent."""
    from krakenfix_cli.kraken.auth import NonceSource, logon_auth_fields

    nonces = NonceSource()
    api_key = spec.api_key or ""
    secret = spec.secret
    assert secret is not None

    def hook(seq: int, now: float) -> list[tuple[int, str]]:
        nonce = nonces.next(int(now * 1000))
        return list(
            logon_auth_fields(
                api_key, secret, spec.sender_comp_id, spec.target_comp_id, seq, nonce,
                cancel_on_disconnect=spec.cancel_on_disconnect, force_reset_clordid=spec.force_reset_clordid,
            )
        )

    return hook


def _store_and_log(spec: ClientSpec) -> tuple[MessageStore, SessionLog | None]:
    """A FileStore and message log under the state dir, or memory when none is given."""
    if spec.state_dir is None:
        return MemoryStore(), None
    from krakenfix_cli.session.msglog import MessageLog

    log = MessageLog(spec.state_dir / "logs", spec.sender_comp_id, spec.target_comp_id)
    directory = session_directory(spec)
    if directory is None:
        return MemoryStore(), log
    from krakenfix_cli.session.filestore import FileStore

    # sync_target=False: the inbound number is written on every message but not fsynced; a
    # kill -9 keeps it (page cache), a power cut only costs PossDup replays (deduped by ExecID).
    return FileStore(directory, sync_target=False), log
