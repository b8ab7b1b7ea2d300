"""Start the simulator: one listening port, every session routed by the Logon's TargetCompID(56).

``start_simulator()`` is what ``krakenfix sim``, ``--sim`` and the tests call. Routing
(SPEC §2.3, §12): ``KRAKEN-TRD``/``KRAKEN-MD`` serve Spot SenderCompIDs, and also
Derivatives (``…_DRV``) ones, the [U] spelling; ``KRAKEN-DRV-TRD``/``KRAKEN-DRV-MD`` serve
Derivatives SenderCompIDs only; with ``conformance=True`` the QuickFIX conformance session
(``ISLD`` ← ``TW44``) answers on the same port. An unknown SenderCompID or TargetCompID is
closed silently; a Logon whose key or signature fails is answered (Logout with 58) on a
throwaway session of its own, so it never occupies the real session's slot; a second
authenticated Logon for a session that is already logged on is dropped and the first
connection stays up.

Each logical session (SenderCompID + TargetCompID) keeps one engine and one store across
connections (``MemoryStore``, or ``FileStore`` under ``state_dir``), so a reconnect with
141=N continues the sequence and a ResendRequest(2) from any number of the current day
gets the original messages back (43=Y, 122).

Timers (the only clock reads go through ``transport.clock``): the synthetic market ticks
every ``flow_interval`` seconds; the rollover fires on its schedule (sim/rollover.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from krakenfix_cli.fix.message import Message
from krakenfix_cli.session.config import Role, SessionConfig
from krakenfix_cli.session.engine import Session
from krakenfix_cli.session.events import Event, LogonAccepted
from krakenfix_cli.session.state import Status
from krakenfix_cli.session.store import MemoryStore, MessageStore
from krakenfix_cli.sim.accounts import Accounts, CompId, Credentials
from krakenfix_cli.sim.gateway import Gateway, MarketDataHandler, TradingHandler, make_validator
from krakenfix_cli.sim.rollover import (
    DEFAULT_WINDOW,
    LOGOUT_TEXT,
    REFUSAL_TEXT,
    RESET_TEXT,
    RolloverSchedule,
    RolloverState,
)
from krakenfix_cli.transport import clock
from krakenfix_cli.transport.connection import Connection
from krakenfix_cli.transport.server import Accepted, serve

log = logging.getLogger(__name__)

#: TargetCompID(56) → (trading?, derivatives-only spelling?)
ROUTES: dict[str, tuple[bool, bool]] = {
    "KRAKEN-TRD": (True, False),
    "KRAKEN-MD": (False, False),
    "KRAKEN-DRV-TRD": (True, True),
    "KRAKEN-DRV-MD": (False, True),
}


class SimStateError(OSError):
    """The simulator's own files (its identity directory) cannot be read or written."""

    def __init__(self, path: Path, cause: OSError) -> None:
        super().__init__(cause.errno, cause.strerror or str(cause), str(cause.filename or path))
        self.path = Path(cause.filename) if cause.filename else path


class ListenError(OSError):
    """The listening socket cannot be opened (port busy, address not available, privileged port)."""


@dataclass
class _Entry:
    """One logical session: its engine, application handler and current connection."""

    session: Session
    handler: TradingHandler | MarketDataHandler
    trading: bool
    conn: Connection | None = None
    needs_reset: bool = False
    "Set at a rollover: the next Logon must reset sequence numbers (141=Y or 34=1)."


@dataclass
class RunningSimulator:
    """A simulator serving on ``host:port``; ``await close()`` stops it."""

    host: str
    port: int
    tls: bool
    ca_file: Path | None
    credentials: Credentials
    accounts: Accounts
    gateway: Gateway
    server: asyncio.Server
    conformance: bool
    _core: _Core = field(repr=False)

    def force_rollover(self) -> None:
        """Run the session rollover now (tests; the schedule keeps running)."""
        self._core.rollover()

    def drop_connections(self) -> None:
        """Abort every live socket without a Logout (cancel-on-disconnect tests)."""
        self._core.drop_all()

    @property
    def refusing_logons(self) -> bool:
        """True inside a rollover's refusal window."""
        return self._core.state.refusing(clock.now())

    async def wait_rollover_done(self) -> None:
        """Until the current rollover's refusal window has ended and sequences were reset."""
        while self._core.state.refusing(clock.now()) or self._core.reset_pending:
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        """Stop listening, drop every connection, cancel the timers."""
        self._core.stop()
        self.server.close()
        self._core.drop_all()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.server.wait_closed(), 2.0)
        self._core.close_stores()
        self._core.run_on_close()

    async def __aenter__(self) -> RunningSimulator:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class _Core:
    """The routing, timers and rollover behind a :class:`RunningSimulator`."""

    def __init__(
        self,
        gateway: Gateway,
        accounts: Accounts,
        schedule: RolloverSchedule,
        refusal_window: float,
        state_dir: Path | None,
        flow_interval: float | None,
        conformance: object | None,
    ) -> None:
        self.gw = gateway
        self.accounts = accounts
        self.schedule = schedule
        self.window = refusal_window
        self.state_dir = state_dir
        self.flow_interval = flow_interval
        self.conformance = conformance
        self.state = RolloverState()
        self.entries: dict[tuple[str, str], _Entry] = {}
        self.reset_pending = False
        self._loop = asyncio.get_running_loop()
        self._timers: list[tuple[float, asyncio.Handle]] = []
        "(deadline on the loop's clock, handle): uvloop's short-delay handles have no ``when()``."
        self._stopped = False
        #: What ``close()`` undoes last (this run's temporary CA file).
        self.on_close: list[Callable[[], None]] = []
        gateway.wake_at = self._wake_at

    def run_on_close(self) -> None:
        """Run (once) what must be undone when the simulator stops."""
        while self.on_close:
            with contextlib.suppress(Exception):
                self.on_close.pop()()

    # -- timers -------------------------------------------------------------------------------------
    def start(self) -> None:
        """Arm the market and rollover timers."""
        if self.flow_interval:
            self._later(self.flow_interval, self._flow)
        self._arm_rollover()

    def _later(self, delay: float, fn: Callable[[], None]) -> None:
        """Arm ``fn`` after ``delay`` s. We keep each deadline ourselves: uvloop returns a plain
        ``Handle`` (no ``when()``) for very short delays, and one AttributeError here once killed
        every later timer (rollovers then never ended)."""
        now = self._loop.time()  # forget fired and cancelled timers: the list stays short
        self._timers = [(when, t) for when, t in self._timers if when > now and not t.cancelled()]
        delay = max(0.0, delay)
        self._timers.append((now + delay, self._loop.call_later(delay, self._guarded, fn)))

    def _guarded(self, fn: Callable[[], None]) -> None:
        """Run one timer's work; a failure is logged and the other timers keep their schedule."""
        try:
            fn()
        except Exception as exc:  # a timer must never take the schedule down with it
            log.error("simulator: timer %s failed: %s: %s", getattr(fn, "__name__", fn), type(exc).__name__, exc)

    def _wake_at(self, when: float) -> None:
        """A timer for an order's EffectiveTime(168) (the gateway asks; one per order)."""
        self._later(when - clock.now(), self._activate)

    def _activate(self) -> None:
        if self._stopped:
            return
        self.gw.activate_due(clock.now())
        if self.gw.scheduled:  # the loop's clock can fire a hair early: come back for the rest
            self._later(max(0.001, self.gw.scheduled[0][0] - clock.now()), self._activate)

    def _flow(self) -> None:
        if self._stopped:
            return
        self.gw.tick(clock.now())
        assert self.flow_interval
        self._later(self.flow_interval, self._flow)

    def _arm_rollover(self) -> None:
        now = clock.now()
        self._later(self.schedule.next_after(now) - now, self._scheduled_rollover)

    def _scheduled_rollover(self) -> None:
        if self._stopped:
            return
        try:
            self.rollover()
        finally:  # the next rollover is armed whatever this one met
            self._arm_rollover()

    def stop(self) -> None:
        """Cancel every timer."""
        self._stopped = True
        for _, t in self._timers:
            t.cancel()
        self._timers.clear()

    # -- rollover -----------------------------------------------------------------------------------
    def rollover(self) -> None:
        """Logout 'session rollover' to everyone, refuse logons for the window, then reset."""
        now = clock.now()
        self.state.begin(now, self.window)
        self.reset_pending = True
        for entry in self.entries.values():
            if isinstance(entry.handler, TradingHandler):
                entry.handler.orderly = True
            conn = entry.conn
            if conn is not None and not conn.closed:
                if entry.session.is_logged_on:
                    conn.logout(LOGOUT_TEXT)
                else:
                    conn.abort("rollover")
        self._later(self.window, self._end_window)

    def _end_window(self) -> None:
        if self._stopped:
            return
        if self.state.refusing(clock.now()):
            self._later(self.state.refusing_until - clock.now(), self._end_window)
            return
        now = clock.now()
        for entry in self.entries.values():
            if entry.conn is not None and not entry.conn.closed:
                entry.conn.abort("rollover: no Logout answer")
            entry.session.reset_sequence(now)
            entry.needs_reset = True
        self.reset_pending = False

    def drop_all(self) -> None:
        """Abort every live connection (no Logout)."""
        for entry in list(self.entries.values()):
            conn = entry.conn
            if conn is not None and not conn.closed:
                conn.abort("dropped by the simulator")
        conf_conn = getattr(self.conformance, "conn", None)
        if isinstance(conf_conn, Connection) and not conf_conn.closed:
            conf_conn.abort("dropped by the simulator")

    def close_stores(self) -> None:
        """Release FileStores."""
        for entry in self.entries.values():
            with contextlib.suppress(Exception):
                entry.session.store.close()

    # -- routing ------------------------------------------------------------------------------------
    def pick(self, first: Message, peer: tuple[str, int]) -> Accepted | None:
        """Choose the session for a new connection from its first message (a Logon)."""
        target = first.get(56) or ""
        sender = first.get(49) or ""
        if self.conformance is not None and target == "ISLD":
            pick = getattr(self.conformance, "pick")  # noqa: B009
            result: Accepted | None = pick(first, peer)
            return result
        route = ROUTES.get(target)
        comp = self.accounts.comp_id(sender)
        if route is None or comp is None or first.get(35) != "A":
            return None  # silent close: unknown CompIDs tell a scanner nothing
        trading, drv_only = route
        if drv_only and not comp.derivatives:
            return None
        why = self.accounts.authenticate(first, market_data=not trading)
        if why is not None:  # refused on a session of its own: it never takes the real one's slot
            return self._refusal(comp, target, why)
        entry = self.entries.get((sender, target))
        if entry is None:
            entry = self._create(comp, target, trading)
        if entry.session.status is not Status.DISCONNECTED:
            return None  # duplicate logon: keep the first connection
        if trading and sender in self.gw.live:
            return None  # logged on under the other TargetCompID spelling
        handler = entry.handler

        def attach(conn: Connection) -> None:
            entry.conn = conn
            handler.attach(conn)

        def on_event(ev: Event) -> None:
            if isinstance(ev, LogonAccepted):
                entry.needs_reset = False
            try:
                handler.on_event(ev)
            except Exception as exc:  # the handlers answer their own errors; this is the last net
                log.error("simulator: %s event failed: %s: %s", type(ev).__name__, type(exc).__name__, exc)

        def closed(conn: Connection, reason: str) -> None:
            if entry.conn is conn:
                entry.conn = None
            handler.closed(conn, reason)

        return Accepted(entry.session, on_event, on_connection=attach, on_closed=closed)

    def _refusal(self, comp: CompId, target: str, why: str) -> Accepted:
        """A throwaway acceptor session that answers the Logon with Logout(58=why) and closes."""
        config = SessionConfig(role=Role.ACCEPTOR, sender_comp_id=target, target_comp_id=comp.sender,
                               check_logon=lambda msg, now: why)
        return Accepted(Session(config, MemoryStore()), lambda ev: None)

    def _store(self, sender: str, target: str) -> MessageStore:
        if self.state_dir is None:
            return MemoryStore()
        from krakenfix_cli.session.filestore import FileStore

        return FileStore.for_session(self.state_dir / "sim-sessions", target, sender, "sim", sync=False)

    def _create(self, comp: CompId, target: str, trading: bool) -> _Entry:
        md = not trading
        holder: list[_Entry] = []

        def check_logon(msg: Message, now: float) -> str | None:
            if self.state.refusing(now) or self.reset_pending:
                return REFUSAL_TEXT
            why = self.accounts.check_logon(msg, now, market_data=md)
            if why:
                return why
            if holder and holder[0].needs_reset and msg.get(141) != "Y" and msg.get(34) != "1":
                return RESET_TEXT
            return None

        config = SessionConfig(
            role=Role.ACCEPTOR,
            sender_comp_id=target,
            target_comp_id=comp.sender,
            validate=make_validator(comp.derivatives, self.gw.dictionary_validation) if trading else None,
            check_logon=check_logon,
            resend_app_messages=True,
            extra={"derivatives": comp.derivatives, "trading": trading},
        )
        session = Session(config, self._store(comp.sender, target))
        handler: TradingHandler | MarketDataHandler = (
            TradingHandler(self.gw, session, comp) if trading else MarketDataHandler(self.gw, session, comp)
        )
        entry = _Entry(session, handler, trading)
        holder.append(entry)
        self.entries[(comp.sender, target)] = entry
        return entry


async def start_simulator(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    tls: bool = True,
    state_dir: str | Path | None = None,
    rollover_every: float | None = None,
    rollover_at: str | None = None,
    refusal_window: float = DEFAULT_WINDOW,
    seed: int = 1,
    conformance: bool = False,
    flow_interval: float | None = 1.0,
    dictionary_validation: bool = False,
    nonce_window_ms: int = 5000,
    rate_limit: str | None = None,
    cancel_scope: str = "session",
    identity_dir: str | Path | None = None,
) -> RunningSimulator:
    """Start serving; the returned object carries the port, credentials and the CA file.

    ``flow_interval=None`` freezes the synthetic market (no periodic trades; resting
    liquidity stays), for tests that want nothing to move on its own. ``rate_limit`` is
    a Spot tier of SPEC §9 (``starter``, ``intermediate``, ``pro``) or ``off``; None is
    Kraken's Intermediate tier, §12's default. ``cancel_scope`` is what OrderCancelRequest(F)
    reaches: ``"session"`` (this connection, SPEC §6.5's default) or ``"account"`` (the
    contested [V2] reading, SPEC §11 #21). ``identity_dir`` keeps the CA and the demo
    credentials across starts (sim/identity.py); without it both are new and the CA file is
    removed by ``close()``.
    """
    directory = Path(state_dir) if state_dir is not None else None
    identity = None
    if identity_dir is not None:
        from krakenfix_cli.sim.identity import load_or_create

        try:
            identity = load_or_create(Path(identity_dir))
        except OSError as exc:
            raise SimStateError(Path(identity_dir), exc) from exc
    accounts = Accounts(nonce_window_ms, demo=(identity.api_key, identity.api_secret) if identity else None)
    gateway = Gateway(seed=seed, dictionary_validation=dictionary_validation, rate_limit=rate_limit,
                      cancel_scope=cancel_scope)
    schedule = RolloverSchedule.build(clock.now(), rollover_at, rollover_every)
    conf: object | None = None
    if conformance:
        from krakenfix_cli.sim.conformance import ConformanceAcceptor

        conf = ConformanceAcceptor()
    core = _Core(gateway, accounts, schedule, refusal_window, directory, flow_interval, conf)
    ssl_context = None
    ca_file: Path | None = None
    if tls:
        from krakenfix_cli.sim.certs import make_tls

        made = make_tls(identity.ca, identity.ca_file) if identity else make_tls()
        ssl_context, ca_file = made.context, made.ca_file
        core.on_close.append(made.cleanup)
    try:
        server = await serve(core.pick, host, port, ssl_context)
    except OSError as exc:
        core.stop()
        core.run_on_close()
        raise ListenError(exc.errno, exc.strerror or str(exc)) from exc
    except BaseException:
        core.stop()
        core.run_on_close()
        raise
    bound = server.sockets[0].getsockname()[1]
    core.start()
    return RunningSimulator(host, bound, tls, ca_file, accounts.demo, accounts, gateway, server, conformance, core)
