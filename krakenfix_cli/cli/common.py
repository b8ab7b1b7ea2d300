"""What the trading commands (logon, send, cancel, mass-cancel, replay, tail) share in cli/.

Settings → ``ClientSpec``; the order-journal adapter ops use; the production banner and
the confirmation rule for commands that change orders (STYLE.md rule 11: no TTY and no
``--yes`` → refuse with exit 2, never proceed); running a coroutine with Ctrl-C turned
into a graceful stop where a command wants one; the Reporter that keeps ``--output json``
pure JSON lines. Imported only inside command functions (it pulls in asyncio and ops).
"""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from krakenfix_cli.cli.errors import CliError, register_error
from krakenfix_cli.cli.exit import ExitStatus
from krakenfix_cli.client_types import ClientSpec, ConnectFailed, LogonRefusedError
from krakenfix_cli.fix.message import Message
from krakenfix_cli.ops.continuity import Decision
from krakenfix_cli.ops.outcomes import DETAIL_NAMES, ConnRef, KnownOrder
from krakenfix_cli.render import MessageWriter, Mode
from krakenfix_cli.render.console import TerminalReporter
from krakenfix_cli.render.env import Env
from krakenfix_cli.render.escape import escape_text
from krakenfix_cli.settings.config import ConfigError, ConnectionFlags, ConnectionSpec, resolve
from krakenfix_cli.settings.credentials import CredentialsError, missing_secret_message
from krakenfix_cli.settings.journal import OrderJournal, SessionRef, state_from_ord_status
from krakenfix_cli.transport import loop

T = TypeVar("T")


def _connect_failed(exc: BaseException) -> str:
    assert isinstance(exc, ConnectFailed)
    if exc.stage == "holder":  # the detail says what happened and what to check
        return exc.detail
    if exc.stage == "down":
        return f"{exc.detail}; check `krakenfix session status`, and try again once it is logged on"
    todo = {
        "tcp": "check --host/--port and that the gateway (or `krakenfix sim`) is running, or try --sim",
        "tls": "check --tls/--no-tls against the port, trust the CA with --ca-file PATH, or --insecure for a "
               "self-signed UAT certificate",
    }.get(exc.stage, "check the network, or raise --timeout")
    what = {"tcp": "cannot connect", "tls": "TLS handshake failed", "timeout": "timed out"}.get(exc.stage, exc.stage)
    return f"{what}: {exc.detail}; {todo}"


def _logon_refused(exc: BaseException) -> str:
    assert isinstance(exc, LogonRefusedError)
    return logon_refused_line(exc.reason, exc.diagnosis)


def logon_refused_line(reason: str, diagnosis: str) -> str:
    """``logon refused: <what failed> (<who> said: <text>); <what to do>``, for every command.

    A sequence mismatch names both numbers when the text gives them, and the fix.
    """
    from krakenfix_cli.client import SEQ_MISMATCH
    from krakenfix_cli.ops.logon import advice_for

    who = "gateway"
    if diagnosis == SEQ_MISMATCH:
        # Our own engine logged out: the gateway's Logon(A) carried a lower MsgSeqNum(34) than the
        # store expects, so the gateway restarted its numbers (client.connect).
        from krakenfix_cli.session.texts import parse_seq_too_low

        who = "session"
        numbers = parse_seq_too_low(reason)
        if numbers is not None and numbers[1] is not None:
            diagnosis = (f"{SEQ_MISMATCH}: its Logon(A) came with MsgSeqNum(34) {numbers[1]}, our store "
                         f"expected {numbers[0]}, so the gateway restarted its numbers")
    said = f" ({who} said: {reason})" if reason and reason not in diagnosis else ""
    return f"logon refused: {diagnosis}{said}; {advice_for(diagnosis)}"


register_error(ConnectFailed, ExitStatus.CONNECT_FAILED, _connect_failed)
register_error(LogonRefusedError, ExitStatus.LOGON_REFUSED, _logon_refused)
register_error(ConfigError, ExitStatus.USAGE)
register_error("krakenfix_cli.ops.holder.HolderBusy", ExitStatus.STATE_IN_USE,
               lambda e: f"{e}; stop it with `krakenfix session stop`, or let your command go through it")
register_error("krakenfix_cli.settings.journal.ClOrdIdExhaustedError", ExitStatus.USAGE)
register_error(CredentialsError, ExitStatus.USAGE)
register_error("krakenfix_cli.kraken.profiles.UnknownProfileError", ExitStatus.USAGE)
register_error("krakenfix_cli.kraken.builders.OrderArgumentError", ExitStatus.USAGE,
               lambda e: f"{e}; see `krakenfix send --help`" if ";" not in str(e) else str(e))


# -- settings → ClientSpec ------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """A resolved connection: the ClientSpec, the settings it came from, and ``--sim``."""

    spec: ClientSpec
    settings: ConnectionSpec | None
    embedded_sim: bool
    continuity: Decision | None = None
    "Why the Logon resets or continues the sequence numbers (:func:`with_continuity`); None: not decided."
    home: Path | None = None
    "The state dir when the session itself keeps nothing there (a market-data twin: a memory store)."

    @property
    def production(self) -> bool:
        return self.spec.production and not self.embedded_sim

    @property
    def state_dir(self) -> Path:
        """Where this target's files live (journal, caches), even for a session that stores nothing."""
        found = self.spec.state_dir or self.home
        assert found is not None
        return found

    def describe(self) -> str:
        if self.embedded_sim:
            return "an embedded simulator (--sim)"
        s = self.spec
        return f"profile {s.profile} ({s.host}:{s.port}, {s.sender_comp_id}→{s.target_comp_id})"


def client_spec(conn: ConnectionSpec) -> ClientSpec:
    """The client's view of resolved settings."""
    return ClientSpec(
        host=conn.host,
        port=conn.port,
        sender_comp_id=conn.sender,
        target_comp_id=conn.target,
        tls=conn.tls,
        insecure=conn.insecure,
        api_key=conn.api_key,
        secret=conn.secret,
        heartbeat=conn.heartbeat,
        cancel_on_disconnect=conn.cancel_on_disconnect,
        state_dir=conn.state_dir,
        profile=conn.profile,
        production=conn.production,
        derivatives=conn.derivatives,
        market_data=conn.market_data,
        cafile=str(conn.ca_file) if conn.ca_file is not None else None,
    )


def resolve_target(flags: ConnectionFlags, *, sim: bool, need_credentials: bool = True) -> Target:
    """Flags > env > config > profile → a Target; ``--sim`` needs no profile or credentials."""
    if sim:
        from krakenfix_cli.settings import paths
        from krakenfix_cli.settings.config import check_flag_values

        check_flag_values(flags)  # a bad typed value is refused even where the profile is not needed
        try:
            conn = resolve(flags, keyring=None)
            spec = client_spec(conn)
        except (ConfigError, CredentialsError, KeyError):
            conn = None
            spec = ClientSpec(host="127.0.0.1", port=1, sender_comp_id="KFXDEMO", target_comp_id="KRAKEN-TRD",
                              tls=False, state_dir=paths.state_dir(flags.state_dir))
        return Target(spec, conn, True)
    conn = resolve(flags)
    cafile: str | None = None
    if conn.profile.startswith("sim") and not conn.production:
        conn, cafile = _with_running_simulator(conn, flags)
    if need_credentials and conn.needs_credentials and (conn.api_key is None or conn.secret is None):
        from krakenfix_cli.settings import paths

        raise CliError(missing_secret_message(conn.api_key, paths.secrets_file()),
                       "or use --sim for a local simulator")
    spec = client_spec(conn)
    if cafile is not None and conn.ca_file is None:  # an explicit --ca-file wins
        import dataclasses

        spec = dataclasses.replace(spec, cafile=cafile)
    return Target(spec, conn, False)


_WARNED_ENDPOINTS: set[str] = set()
"Endpoint files already reported as corrupt by this process: one warning each."


def _with_running_simulator(conn: ConnectionSpec, flags: ConnectionFlags) -> tuple[ConnectionSpec, str | None]:
    """A ``sim`` profile points at the ``krakenfix sim`` that is running, with its demo credentials.

    Explicit flags still win: only what the user did not give is taken from the endpoint file.
    The demo credentials win over ``KRAKENFIX_API_KEY``/``KRAKENFIX_API_SECRET`` and the config:
    those are for the user's real profiles, and no Kraken key logs on to the simulator. A
    corrupt endpoint file is one warning and "no simulator found", never a crash.
    """
    import dataclasses

    from krakenfix_cli.kraken.auth import ApiSecret
    from krakenfix_cli.settings import sim_endpoint

    if conn.state_dir is None:
        return conn, None
    try:
        info = sim_endpoint.load(conn.state_dir)
    except sim_endpoint.CorruptEndpoint as exc:
        from krakenfix_cli.cli.options import get_env
        from krakenfix_cli.render.console import write_warning

        if str(exc.path) not in _WARNED_ENDPOINTS:  # a command may resolve a profile and its twin
            _WARNED_ENDPOINTS.add(str(exc.path))
            write_warning(get_env(), f"ignoring {exc.path} ({exc.why}): no running simulator found there; "
                                     "start `krakenfix sim` again to rewrite it")
        return conn, None
    if info is None:
        return conn, None
    # Take from the endpoint only what still has the built-in profile's default value, so a
    # flag, an environment variable or the config file keeps precedence.
    from krakenfix_cli.kraken.profiles import BUILTIN_PROFILES

    default = BUILTIN_PROFILES.get(conn.profile)
    changes: dict[str, object] = {}
    if default is not None and flags.port is None and conn.port == default.port:
        changes["port"] = info.port
    if default is not None and flags.tls is None and conn.tls == default.tls:
        changes["tls"] = info.tls
    if default is not None and flags.sender is None and conn.sender == default.sender:
        changes["sender"] = info.derivatives_sender if conn.derivatives else info.sender
    import os

    # --api-key reads KRAKENFIX_API_KEY too: only a key typed on the command line is the user's choice.
    typed_key = flags.api_key is not None and flags.api_key != os.environ.get("KRAKENFIX_API_KEY")
    if not typed_key:
        changes["api_key"] = info.api_key
        changes["secret"] = ApiSecret(info.api_secret)
    cafile = info.ca_file if changes.get("tls", conn.tls) else None
    return dataclasses.replace(conn, **changes), cafile  # type: ignore[arg-type]


def held_connection(target: Target) -> ConnRef | None:
    """The connection a running session holder has for ``target`` (what F would go out on), or None."""
    if target.embedded_sim:
        return None
    from krakenfix_cli.ops import holder_client
    from krakenfix_cli.ops.holder_wire import conn_from

    hello = loop.run(holder_client.ask(target.spec, "hello"))
    if hello is None or not hello.get("connected"):
        return None
    return conn_from(hello.get("conn"))


# -- the order journal, for ops -------------------------------------------------------------------
class JournalLedger:
    """``ops.outcomes.Ledger`` over ``settings.journal.OrderJournal``.

    Only :meth:`placed` may fail a command: it runs before the order is sent. An update
    that cannot be written (a full disk) comes after the gateway answered, and the answer
    is what the user must see: one warning line, and the command goes on.
    """

    def __init__(self, journal: OrderJournal, profile: str | None = None,
                 warn: Callable[[str], None] | None = None) -> None:
        self.journal = journal
        self.profile = profile
        self._warn = warn
        self._update_failed = False
        self.generated: set[str] = set()

    def next_clordid(self, now: float, *, derivatives: bool = False) -> str:
        clordid = self.journal.next_clordid(now, derivatives=derivatives)
        self.generated.add(clordid)
        return clordid

    def remember_clordid(self, clordid: str, *, derivatives: bool = False) -> None:
        # Bookkeeping for later generated IDs, not for this send: its failure is a warning.
        try:
            self.journal.remember_clordid(clordid, derivatives=derivatives)
        except OSError as exc:
            if self._warn is not None:
                self._warn(f"could not record ClOrdID {clordid} in the ClOrdID watermark ({exc.strerror or exc}); "
                           "a ClOrdID generated later may be refused as not increasing: free some space")

    def reset_clordid(self, *, derivatives: bool = False) -> None:
        self.journal.reset_clordid(derivatives=derivatives)

    def placed(self, clordid: str, conn: ConnRef, now: float, *, symbol: str | None, side: str | None,
               details: Mapping[str, str] | None = None) -> None:
        ref = SessionRef(conn.sender, conn.target, conn.connection_id)
        self.journal.record_placed(clordid, ref, now, symbol=symbol, side=side, profile=self.profile,
                                   details=details)

    def updated(self, clordid: str, now: float, *, order_id: str | None = None, ord_status: str | None = None,
                new_clordid: str | None = None, details: Mapping[str, str] | None = None) -> None:
        state = state_from_ord_status(ord_status) if ord_status else None
        try:
            self.journal.record_update(clordid, now, order_id=order_id, state=state, new_clordid=new_clordid,
                                       details=details)
        except OSError as exc:
            if not self._update_failed and self._warn is not None:
                self._warn(f"could not write the order journal {self.journal.path} ({exc.strerror or exc}); "
                           "the gateway's answer above stands but the journal keeps the order's earlier "
                           "state: do not resend it, check it with `krakenfix status` or `krakenfix tail`")
            self._update_failed = True

    def find(self, *, clordid: str | None = None, order_id: str | None = None) -> KnownOrder | None:
        rec = self.journal.find(clordid=clordid, order_id=order_id)
        return None if rec is None else _known(rec)

    def open_orders(self) -> list[KnownOrder]:
        return [_known(r) for r in self.journal.open_orders()]

    def all_orders(self) -> list[KnownOrder]:
        """Every journalled order, oldest first (``krakenfix orders``)."""
        return [_known(r) for r in sorted(self.journal.orders().values(), key=lambda r: r.placed)]


def _known(rec: Any) -> KnownOrder:
    s = rec.session
    details = {name: rec.details[name] for name in DETAIL_NAMES if name in rec.details}
    return KnownOrder(
        clordid=rec.clordid,
        latest_clordid=rec.latest_clordid,
        placed_by=ConnRef(s.sender, s.target, s.connection_id),
        state=rec.state,
        symbol=rec.symbol,
        side=rec.side,
        order_id=rec.order_id,
        updated=rec.updated,
        placed=rec.placed,
        **details,
    )


def with_clordid_reset(target: Target, reset: bool) -> Target:
    """``--reset-clordid``: the Logon carries 5030=Y and the journal's ClOrdID watermark starts afresh."""
    if not reset:
        return target
    import dataclasses

    ledger_for(target).reset_clordid(derivatives=target.spec.derivatives)
    return dataclasses.replace(target, spec=dataclasses.replace(target.spec, force_reset_clordid=True))


# -- sequence continuity without a session holder -------------------------------------------------
def with_continuity(target: Target, reset: bool, *, may_reset: bool = True) -> Target:
    """Set the Logon's ResetSeqNumFlag(141) from the session store (ops.continuity.decide_reset).

    The one place a command decides it, right after :func:`resolve_target`. ``reset`` is
    ``--reset``; ``may_reset=False`` (replay) continues unless ``--reset``. ``--sim``'s
    embedded simulator and a memory store have no history: they reset, as always. A store
    another process holds is left to that process (the command's own open reports it).
    When the Logon resets, the live session stamps the period on the store once the
    logon went through (``ops.live``): only an accepted logon vouches for the new numbers.
    """
    import dataclasses

    from krakenfix_cli.client_types import session_directory
    from krakenfix_cli.ops.continuity import decide_reset, store_facts
    from krakenfix_cli.session.filestore import FileStore, StoreLockedError
    from krakenfix_cli.transport import clock

    spec = target.spec
    directory = None if target.embedded_sim else session_directory(spec)
    if directory is None:
        return dataclasses.replace(target, spec=dataclasses.replace(spec, reset_on_logon=True))
    try:
        store = FileStore(directory, sync_target=False)
    except StoreLockedError:
        return target
    try:
        if store.warning:  # a corrupt store moved aside: the command's own open will not see it again
            from krakenfix_cli.cli.options import get_env
            from krakenfix_cli.render.console import write_warning

            write_warning(get_env(), store.warning)
        facts = store_facts(store)
        decision = decide_reset(facts.period, clock.now(), forced=reset, may_reset=may_reset, empty=facts.empty,
                                gateway_restarted=facts.gateway_restarted)
    finally:
        store.close()
    return dataclasses.replace(target, spec=dataclasses.replace(spec, reset_on_logon=decision.reset),
                               continuity=decision)


def ledger_for(target: Target) -> JournalLedger:
    """The order journal under the target's state dir; its problems are warnings on stderr."""
    return ledger_at(target.state_dir, target.spec.profile or None)


def ledger_at(state_dir: Path, profile: str | None = None) -> JournalLedger:
    """The order journal under ``state_dir`` (no connection settings needed: ``orders``)."""
    from krakenfix_cli.cli.options import get_env
    from krakenfix_cli.render.console import write_warning

    env = get_env()

    def warn(text: str) -> None:
        write_warning(env, text)

    return JournalLedger(OrderJournal(state_dir, warn=warn), profile, warn)


# -- output ---------------------------------------------------------------------------------------
class CommandReporter(TerminalReporter):
    """TerminalReporter whose tables and notes stay JSON lines under ``--output json``."""

    def __init__(self, env: Env, writer: MessageWriter, mode: Mode) -> None:
        super().__init__(env, writer)
        self.mode = mode

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        if self.mode is Mode.JSON:
            emit_json(self.env, {"table": title, "columns": list(columns), "rows": [list(r) for r in rows]})
            return
        if self.mode in (Mode.COMPACT, Mode.RAW):
            self.writer.flush()
            out = self.env.stdout
            rows = [[escape_text(v) for v in r] for r in rows]
            out.write(f"# {escape_text(title)}\n")
            widths = [len(c) for c in columns]
            for r in rows:
                widths = [max(w, len(v)) for w, v in zip(widths, r, strict=False)]
            out.write("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=False)).rstrip() + "\n")
            for r in rows:
                out.write("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=False)).rstrip() + "\n")
            out.flush()
            return
        super().table(title, columns, rows)


def make_reporter(env: Env, output: Mode) -> CommandReporter:
    """Messages to stdout in ``output`` mode; notes and warnings to stderr."""
    return CommandReporter(env, MessageWriter(env, output), Mode(output))


def emit_json(env: Env, obj: dict[str, Any]) -> None:
    """One JSON object per line on stdout."""
    env.stdout.write(json.dumps(obj, separators=(",", ":"), default=str) + "\n")
    env.stdout.flush()


def emit_line(env: Env, text: str, style: str = "") -> None:
    """A result line on stdout, coloured (bold red / green / yellow) on a colour TTY only."""
    codes = {"ok": "\x1b[1;32m", "bad": "\x1b[1;31m", "warn": "\x1b[33m", "dim": "\x1b[2m"}
    text = escape_text(text)
    if style and env.color_stdout and style in codes:
        text = f"{codes[style]}{text}\x1b[0m"
    env.stdout.write(text + "\n")
    env.stdout.flush()


def show_message(env: Env, output: Mode, msg: Message) -> None:
    """A message that is not going on the wire (``--dry-run``)."""
    writer = MessageWriter(env, output)
    writer.write(msg, "out", None)
    writer.flush()


# -- production and destructive commands ----------------------------------------------------------
def production_banner(env: Env, target: Target) -> None:
    """What every connecting command says first on stderr: production, and ``--insecure``.

    A red banner when the profile points at Kraken production (also under ``--dry-run``, so
    the host a message would go to is always shown); a market-data session carries no orders,
    so its banner says what is true of it. One warning line when certificate checks are off.
    """
    if target.production:
        what = ("market data from production (this session takes no orders)" if target.spec.market_data
                else "orders here are real")
        text = f"PRODUCTION: {target.describe()}: {what}"
        if env.color_stderr:
            text = f"\x1b[1;37;41m {text} \x1b[0m"
        env.stderr.write(text + "\n")
    if target.spec.insecure and not target.embedded_sim:
        from krakenfix_cli.render.console import write_warning

        if target.spec.tls:
            write_warning(env, f"--insecure: the TLS certificate of {target.spec.host} is not verified "
                               "(anyone on the path can read and change this session)")
        else:
            write_warning(env, "--insecure has no effect: this connection does not use TLS at all")
    env.stderr.flush()


def confirm(env: Env, target: Target, action: str, *, yes: bool, always: bool) -> None:
    """Ask before an order-changing ``action``; raise CliError (exit 2) when it cannot be asked.

    ``always``: ask on every profile (mass cancel); otherwise only on production.
    """
    if yes or not (always or target.production):
        return
    if not env.stdin_isatty:
        raise CliError(f"refusing to {action} on {target.describe()} without confirmation",
                       "stdin is not a terminal: pass --yes to confirm")
    if target.production:
        word = target.spec.profile or "production"
        env.stderr.write(f"{action} on {target.describe()}.\nType the profile name ({word}) to go on: ")
    else:
        word = "yes"
        env.stderr.write(f"{action} on {target.describe()}.\nType yes to go on: ")
    env.stderr.flush()
    answer = env.stdin.readline().strip()
    if answer != word:
        raise CliError("not confirmed; nothing was sent", "", ExitStatus.USAGE)


# -- running ----------------------------------------------------------------------------------------
def run(coro: Awaitable[T]) -> T:
    """Run a one-shot operation; Ctrl-C propagates (the boundary exits 130)."""
    async def main() -> T:
        return await coro

    return loop.run(main())


class StopEvent(asyncio.Event):
    """The stop event of :func:`run_stoppable`; ``signum`` is the signal that set it, if any."""

    signum: int | None = None

    def stop_by(self, signum: int) -> None:
        self.signum = signum
        self.set()


def run_stoppable(factory: Callable[[StopEvent], Awaitable[T]]) -> T:
    """Run a long operation (tail, logon --hold) with Ctrl-C/SIGTERM setting its stop event."""
    async def main() -> T:
        stop = StopEvent()
        loop = asyncio.get_running_loop()
        installed = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.stop_by, sig)
                installed.append(sig)
            except (NotImplementedError, RuntimeError, ValueError):
                pass
        from krakenfix_cli.cli.pipe import on_reader_gone

        undo = on_reader_gone(stop.set)  # `tail | head -5`: nobody reads the stream any more
        try:
            return await factory(stop)
        finally:
            undo()
            for sig in installed:
                loop.remove_signal_handler(sig)

    return loop.run(main())


def flags_from(
    *,
    profile: str | None,
    host: str | None,
    port: int | None,
    tls: bool | None,
    insecure: bool,
    sender_comp_id: str | None,
    target_comp_id: str | None,
    api_key: str | None,
    state_dir: Path | None,
    ca_file: Path | None = None,
) -> ConnectionFlags:
    """The shared connection options as settings flags."""
    return ConnectionFlags(
        profile=profile, host=host, port=port, tls=tls, insecure=insecure or None,
        sender=sender_comp_id, target=target_comp_id, api_key=api_key, state_dir=state_dir, ca_file=ca_file,
    )


def market_data_target(flags: ConnectionFlags, *, sim: bool, base: Target | None = None) -> Target:
    """The market-data session for ``flags``: a ``-md`` profile as it is, a trading profile's
    ``<name>-md`` twin (same host and SenderCompID, SPEC §2.3), or, without one, the trading
    endpoint with the MD TargetCompID. No credentials: the SenderCompID alone logs on (§3.1).
    ``base``: the target ``flags`` already resolved to (``send``), so settings are read once."""
    import dataclasses

    from krakenfix_cli.kraken.profiles import MD_SUFFIX, UnknownProfileError
    from krakenfix_cli.ops.instruments import market_data_twin

    target = base if base is not None else resolve_target(flags, sim=sim, need_credentials=False)
    home = target.spec.state_dir
    if target.spec.market_data:
        return target
    if sim or target.settings is None:
        return dataclasses.replace(target, spec=market_data_twin(target.spec), home=home)
    try:
        twin = resolve_target(dataclasses.replace(flags, profile=target.settings.profile + MD_SUFFIX, target=None,
                                                  api_key=None), sim=False, need_credentials=False)
    except (CliError, ConfigError, KeyError, UnknownProfileError):  # a custom profile without a twin
        return dataclasses.replace(target, spec=market_data_twin(target.spec), home=home)
    return dataclasses.replace(twin, spec=market_data_twin(twin.spec), home=twin.spec.state_dir or home)
