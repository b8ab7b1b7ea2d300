"""The REPL: one live FIX session under a prompt, every message decoded as it arrives.

``run_repl(options)`` logs on (starting an embedded simulator for ``--sim``), then runs a
prompt_toolkit ``PromptSession`` under ``patch_stdout`` so inbound messages print above
the prompt without tearing what is being typed. Three things run side by side on one
event loop:

- the prompt (``prompt_async``), whose lines go through ``commands.parse`` and then the
  same builders and ops helpers the subcommands use (``ops.send.build_order``, ``Correlator``,
  ``kraken.builders``): nothing here writes a FIX field by hand;
- a watcher per connection that reads ``client.inbound``: it folds ExecutionReports into
  the orders table, prints notices for gaps, resets and logouts, and on an unexpected
  Disconnect starts the reconnect loop (backoff; 141=Y after a rollover, gap fill after
  a dropped socket) while the prompt stays usable;
- the wire tap (``ops.session.tap``) that renders every frame sent and received through
  the current output mode and filter.

Order sends run as background tasks, so the prompt comes back at once and the
acknowledgement is printed when it arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import sys
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

from krakenfix_cli.client import Client, ClientSpec, ConnectFailed, LogonRefusedError
from krakenfix_cli.fix.message import Message
from krakenfix_cli.fix.tags import ADMIN_MSG_TYPES
from krakenfix_cli.ops.dedupe import ExecIdSet
from krakenfix_cli.ops.outcomes import ConnRef, Ledger
from krakenfix_cli.render import MessageWriter, Mode
from krakenfix_cli.render.env import Env
from krakenfix_cli.repl import commands as c
from krakenfix_cli.repl.state import ORDER_COLUMNS, ReplState
from krakenfix_cli.session import events as ev
from krakenfix_cli.transport import clock

if TYPE_CHECKING:
    from prompt_toolkit import PromptSession

    from krakenfix_cli.sim.runner import RunningSimulator

ROLLOVER_HINTS = ("rollover", "failover", "maintenance")
RESET_HINTS = ("ResetSeqNumFlag", "141=Y", "reset")
MASS_CANCEL_QUIET = 1.0
#: What reaches an order of another connection (SPEC §6.5, §6.8): 530=1/530=6 do not.
REPL_OTHER_CONNECTION = ("cancel it from the connection that placed it, or `mass-cancel all` (530=7, every open "
                         "order on the account, from any session); `mass-cancel symbol`/`session` reach only "
                         "orders created or replaced on this connection")
"Seconds without a cancellation ExecutionReport after which a mass cancel is reported done (SPEC §10.5)."


SETTLE = 0.25
"After an acknowledgement, how long an unsolicited cancel still counts as the answer (as ``ops.send``)."


@dataclass
class _Pending:
    """A request in flight and what its answers said so far."""

    corr: Any
    "``ops.send.Correlator``: which inbound messages concern this request."
    cancel_expected: bool
    changed: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    acked_at: float | None = None
    final: bool = False
    rejected: str = ""
    ord_status: str | None = None
    order_id: str | None = None


@dataclass
class ReplOptions:
    """What ``cli/repl.py`` resolved from flags, env, config and profile."""

    spec: ClientSpec
    ledger: Ledger
    env: Env
    output: str = "pretty"
    timeout: float = 10.0
    embedded_sim: bool = False
    sim_rollover_every: float | None = None
    sim_refusal_window: float | None = None
    sim_tls: bool = True
    history_path: Path | None = None
    instruments_from: ClientSpec | None = None
    "The market-data session that lists the gateway's instruments (for a trading session's completion)."


_STYLES = {"ok": "\x1b[1;32m", "bad": "\x1b[1;31m", "warn": "\x1b[33m", "dim": "\x1b[2m", "info": "\x1b[36m"}


class Repl:
    """One REPL run: the state, the current client, and the tasks around the prompt."""

    def __init__(self, options: ReplOptions) -> None:
        self.opts = options
        self.spec = options.spec
        self.ledger = options.ledger
        self.env = options.env
        self.state = ReplState(
            profile=options.spec.profile or "custom",
            production=options.spec.production and not options.embedded_sim,
            derivatives=options.spec.derivatives,
            market_data=options.spec.market_data,
            output=options.output,
        )
        self.state.sync = self._sync
        self.client: Client | None = None
        self.conn: ConnRef | None = None
        self.sim: RunningSimulator | None = None
        self.session: PromptSession[str] | None = None
        self.out: TextIO = options.env.stdout
        self._writer: MessageWriter | None = None
        self._writer_mode = ""
        self._writer_width: int | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._watcher: asyncio.Task[None] | None = None
        self._reconnecting: asyncio.Task[None] | None = None
        self._expect_close = False
        self._rollover_hint = False
        self._reset_next = False
        self._quitting = False
        self._mass_cancel: dict[str, Any] | None = None
        self._pending: list[_Pending] = []
        self._exec_ids = ExecIdSet()

    # -- output -----------------------------------------------------------------------------------
    @property
    def color(self) -> bool:
        return self.env.color_stdout

    def line(self, text: str, style: str = "") -> None:
        """One line above the prompt (coloured on a colour TTY)."""
        if style and self.color:
            text = f"{_STYLES.get(style, '')}{text}\x1b[0m"
        self.out.write(text + "\n")
        self.out.flush()

    def writer(self) -> MessageWriter:
        """The message writer for the current output mode (rebuilt when it changes)."""
        env = self._render_env()
        if self._writer is None or self._writer_mode != self.state.output or self._writer_width != env.width:
            self._writer = MessageWriter(env, Mode(self.state.output))
            self._writer_mode = self.state.output
            self._writer_width = env.width
        return self._writer

    def _render_env(self) -> Env:
        """``env`` at the terminal's width now: a resize must reach the next panel (COLUMNS is the start's)."""
        width = self.env.width
        if self.env.stdout_isatty and sys.__stdout__ is not None:
            with contextlib.suppress(OSError, ValueError):
                width = os.get_terminal_size(sys.__stdout__.fileno()).columns
        return dataclasses.replace(self.env, stdout=self.out, width=width)

    # Reporter protocol (ops call these) -----------------------------------------------------------
    def message(self, msg: Message, direction: str | None = None, when: float | None = None) -> None:
        w = self.writer()
        w.write(msg, direction, when)
        w.flush()

    def note(self, text: str) -> None:
        self.line(text, "dim")

    def warn(self, text: str) -> None:
        self.line(f"warning: {text}", "warn")

    def progress(self, done: int, total: int | None = None, text: str = "") -> None:
        pass

    def table(self, title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        if self.state.output in ("compact", "raw", "json") or not rows:
            widths = [len(col) for col in columns]
            for r in rows:
                widths = [max(w, len(v)) for w, v in zip(widths, r, strict=False)]
            self.line(f"{title}:", "info")
            self.line("  ".join(col.ljust(w) for col, w in zip(columns, widths, strict=False)).rstrip())
            for r in rows:
                self.line("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=False)).rstrip())
            return
        from rich.table import Table

        from krakenfix_cli.render.console import make_console

        t = Table(title=title, title_justify="left")
        for col in columns:
            t.add_column(col)
        state_style = {"filled": "fill", "canceled": "cancel", "rejected": "reject", "new": "new",
                       "partially-filled": "fill", "expired": "cancel"}  # fmt: skip
        for r in rows:
            style = state_style.get(r[6], "") if len(r) > 6 else ""
            t.add_row(*r, style=style or None)
        make_console(self._render_env()).print(t)

    def _show(self, msg: Message, direction: str) -> bool:
        """The wire tap shows what we send and the session's admin traffic as it happens.

        Inbound application messages are shown when the engine delivers them instead
        (:meth:`_on_message`): one that arrives ahead of a gap waits in the engine's queue
        until the gap is filled, so the wire would show it twice, and out of order.
        """
        if direction == "in" and msg.msg_type not in ADMIN_MSG_TYPES:
            return False
        return self.state.filter.accepts(msg)

    # -- state sync (toolbar) ---------------------------------------------------------------------
    def _sync(self, state: ReplState) -> None:
        client = self.client
        if client is None:
            return
        s = client.session
        try:
            state.seq_out = s.next_sender_seq
            state.seq_in = s.next_target_seq
        except Exception:  # a closed store between two connections
            pass
        state.last_received = s.last_received
        state.heartbeat_interval = s.heartbeat_interval
        if client.is_logged_on:
            state.status = "logged on"

    # -- tasks ------------------------------------------------------------------------------------
    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run ``coro`` in the background; its errors become a line, never a crash."""

        async def guarded() -> None:
            try:
                await coro
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # shown, never fatal: the prompt must survive
                self.line(f"error: {_describe(exc)}", "bad")

        task = asyncio.ensure_future(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- connecting -------------------------------------------------------------------------------
    async def start(self) -> None:
        """Start the embedded simulator (``--sim``), then log on."""
        if self.opts.embedded_sim:
            from krakenfix_cli.ops.session import spec_for_simulator
            from krakenfix_cli.sim.runner import start_simulator

            kwargs: dict[str, Any] = {"rollover_every": self.opts.sim_rollover_every}
            if self.opts.sim_refusal_window is not None:
                kwargs["refusal_window"] = self.opts.sim_refusal_window
            self.sim = await start_simulator(host="127.0.0.1", port=0, tls=self.opts.sim_tls, **kwargs)
            self.spec = spec_for_simulator(self.sim, self.spec)
            self.state.profile = "sim (embedded)"
            if self.opts.sim_rollover_every:
                from krakenfix_cli.sim.rollover import RolloverSchedule

                schedule = RolloverSchedule.build(clock.now(), None, self.opts.sim_rollover_every)
                self.state.next_rollover = schedule.next_after
            self.note(f"embedded simulator on {self.sim.host}:{self.sim.port} "
                      f"({self.spec.sender_comp_id}→{self.spec.target_comp_id})")
        self.state.endpoint = f"{self.spec.host}:{self.spec.port}"
        await self.logon(reset=self.spec.reset_on_logon, first=True)
        if not self.spec.market_data:
            from krakenfix_cli.ops.instruments import market_data_twin

            source = market_data_twin(self.spec) if self.sim is not None else self.opts.instruments_from
            if source is not None:
                self.spawn(self._learn_instruments(source))

    async def _learn_instruments(self, source: ClientSpec) -> None:
        """Complete symbols from the gateway's InstrumentList, asked of its market-data session."""
        from krakenfix_cli.ops.instruments import fetch_symbols

        try:
            symbols = await fetch_symbols(source, min(self.opts.timeout, 5.0))
        except Exception as exc:  # completion is a convenience: the built-in list stays
            self.note(f"no InstrumentList from the market-data session ({_describe(exc)}); "
                      "symbols complete from the built-in list")
            return
        self.state.learn_symbols(symbols)
        self.note(f"{len(self.state.symbols)} instruments from InstrumentList(y) ready for completion")

    def _new_client(self, carry: Client | None = None) -> Client:
        from krakenfix_cli.ops.session import watcher

        client = Client.from_spec(self.spec)
        if carry is not None:
            client.session.store.set_next_sender_seq(self._seq_out)
            client.session.store.set_next_target_seq(self._seq_in)
        client.watchers.append(watcher(self, self._show))
        return client

    _seq_out = 1
    _seq_in = 1

    async def _retire(self, client: Client | None) -> None:
        """Remember a finished client's sequence numbers, then release its store."""
        if client is None:
            return
        with contextlib.suppress(Exception):
            self._seq_out = client.session.next_sender_seq
            self._seq_in = client.session.next_target_seq
        with contextlib.suppress(Exception):
            await client.close()

    async def logon(self, *, reset: bool, first: bool = False) -> bool:
        """Connect and log on with a fresh client; print the outcome. True when logged on."""
        if self.client is not None and self.client.is_logged_on:
            self.note("already logged on; `reconnect` drops the connection and logs on again")
            return True
        old = self.client
        await self._retire(old)
        client = self._new_client(carry=old)
        client.session.config.reset_on_logon = reset
        self.client = client
        self.state.status = "connecting"
        self._expect_close = False
        try:
            facts = await client.connect(self.opts.timeout)
        except (ConnectFailed, LogonRefusedError) as exc:
            self.state.status = "disconnected"
            self.line(f"error: {_describe(exc)}", "bad")
            await self._retire(client)
            if not first:
                return False
            self.note("the REPL stays open: `logon` tries again, `quit` leaves")
            return False
        self._logged_on(client, facts.reset, facts.heartbeat_interval, facts.logon_rtt_ms)
        return True

    def _logged_on(self, client: Client, reset: bool, hbi: float, rtt_ms: float) -> None:
        from krakenfix_cli.ops.live import conn_ref

        self.conn = conn_ref(client)
        self.state.connection = client.connection_id
        self.state.status = "logged on"
        self.state.notice = ""
        self._rollover_hint = False
        self._reset_next = False
        self._watcher = asyncio.ensure_future(self._watch(client))
        self.spawn(self._drain(client))
        self.line(
            f"logged on: {self.spec.sender_comp_id}→{self.spec.target_comp_id} at {self.spec.host}:{self.spec.port}"
            f" in {rtt_ms:.0f} ms, heartbeat {hbi:g} s, seq out {client.session.next_sender_seq} in "
            f"{client.session.next_target_seq}{' (sequence numbers reset, 141=Y)' if reset else ''}",
            "ok",
        )
        if self.spec.market_data:
            self.spawn(self._request_instruments(client))

    async def _request_instruments(self, client: Client) -> None:
        from krakenfix_cli.kraken import builders

        req_id = f"repl-{int(clock.now() * 1000)}"
        await client.send(builders.instrument_list_request(req_id))

    async def _drain(self, client: Client) -> None:
        """Empty the client's reply queue: the watcher sees every message through ``inbound``."""
        while not client.closed:
            await client.next_message(5.0)

    # -- the watcher ------------------------------------------------------------------------------
    async def _watch(self, client: Client) -> None:
        """Read ``client.inbound`` until its connection ends; then maybe reconnect."""
        while True:
            event = await client.inbound.get()
            if isinstance(event, ev.MessageReceived):
                self._on_message(event.message, event.poss_dup)
            elif isinstance(event, ev.GapDetected):
                self.line(f"gap: expected MsgSeqNum(34) {event.expected}, got {event.received}; "
                          f"ResendRequest(2) sent", "warn")
            elif isinstance(event, ev.GapFilled):
                self.line(f"gap filled through MsgSeqNum(34) {event.through}", "ok")
            elif isinstance(event, ev.SequenceReset):
                kind = "GapFill" if event.gap_fill else "Reset"
                self.note(f"SequenceReset(4) {kind}: next inbound MsgSeqNum(34) is {event.new_seq}")
            elif isinstance(event, ev.LogoutReceived):
                if any(h in event.text.lower() for h in ROLLOVER_HINTS):
                    self._rollover_hint = True
                self.line(f"gateway sent Logout(5): {event.text or 'no text'}", "warn")
            elif isinstance(event, ev.RejectSent):
                self.line(f"we sent Reject(3) for inbound MsgSeqNum(34) {event.ref_seq}: {event.text}", "warn")
            elif isinstance(event, ev.HeartbeatTimedOut):
                self.line(f"no traffic for {event.silent_for:.0f} s: the line is dead", "bad")
            elif isinstance(event, ev.FrameDropped):
                self.line(f"dropped a garbled frame: {event.error}", "warn")
            elif isinstance(event, ev.Disconnect):
                if client is not self.client:
                    return
                self._on_disconnect(event.reason)
                return

    def _on_message(self, msg: Message, poss_dup: bool) -> None:
        if msg.msg_type == "8":
            exec_id = msg.get(17)
            if exec_id and not self._exec_ids.first_time(exec_id):
                return  # a PossDup resend of a report already shown and applied
        if self.state.filter.accepts(msg):
            self.message(msg, "in")
        row = self.state.apply_report(msg)
        if row is not None and msg.msg_type == "8":
            with contextlib.suppress(Exception):
                self.ledger.updated(row.clordid, clock.now(), order_id=msg.get(37), ord_status=msg.get(39),
                                    new_clordid=row.latest_clordid if row.latest_clordid != row.clordid else None)
        self._match_pending(msg)
        if msg.msg_type == "y":
            self.state.learn_symbols(msg.get_all(55))
            self.note(f"{len(self.state.symbols)} instruments from InstrumentList(y) ready for completion")
        mc = self._mass_cancel
        if mc is not None and msg.msg_type == "8" and msg.get(150) == "4":
            mc["count"] += 1
            mc["last"] = clock.monotonic()

    def _on_disconnect(self, reason: str) -> None:
        self.state.status = "disconnected"
        if self._expect_close or self._quitting:
            self.note(f"disconnected ({reason})")
            return
        rollover = self._rollover_hint or any(h in reason.lower() for h in ROLLOVER_HINTS)
        what = "session rollover" if rollover else "connection lost"
        self.line(f"{what}: {reason}; reconnecting (the prompt stays usable)", "warn")
        if self._reconnecting is None or self._reconnecting.done():
            self._reconnecting = asyncio.ensure_future(self._reconnect(reset=rollover))

    async def _reconnect(self, *, reset: bool) -> None:
        """Log on again with backoff: 141=Y after a rollover, else keep seqs so gaps get filled."""
        from krakenfix_cli.transport.reconnect import Backoff

        backoff = Backoff(base=0.3, cap=10.0, seed=7)
        self.state.status = "reconnecting"
        while not self._quitting and not self._expect_close:
            delay = backoff.next_delay()
            self.state.notice = f"reconnect in {delay:.1f} s{' with 141=Y' if reset else ''}"
            await asyncio.sleep(delay)
            if self._quitting or self._expect_close:
                break
            old = self.client
            await self._retire(old)
            client = self._new_client(carry=old)
            client.session.config.reset_on_logon = reset
            self.client = client
            self.state.status = "reconnecting"
            try:
                facts = await client.connect(self.opts.timeout)
            except LogonRefusedError as exc:
                text = f"{exc.reason} {exc.diagnosis}"
                if any(h.lower() in text.lower() for h in RESET_HINTS) and "rollover in progress" not in text:
                    reset = True
                self.state.notice = f"logon refused: {exc.reason or exc.diagnosis}"
                continue
            except ConnectFailed as exc:
                self.state.notice = f"connect failed: {exc.detail}"
                continue
            self._logged_on(client, facts.reset, facts.heartbeat_interval, facts.logon_rtt_ms)
            self.line("reconnected" + (" after the rollover" if reset else "; any gap is filled by a resend"), "ok")
            if reset:
                self._ask_open_orders(client)
            return
        self.state.notice = ""

    def _ask_open_orders(self, client: Client) -> None:
        """After a rollover, ask OrderStatusRequest(H) for every order still open here.

        The rollover restarts both sequence streams, so a report the gateway sent just
        before it (a fill, or a cancel-on-disconnect) that never arrived cannot be asked
        for by a resend (SPEC §2.4, §5.2). Its order's current state can: each answer
        (150=I) updates the orders table. Spot only: Derivatives has no 35=H (§10.9).
        """
        if self.spec.derivatives or self.spec.market_data:
            return
        from krakenfix_cli.kraken import builders

        rows = [r for r in self.state.orders if r.is_open and r.order_id is not None]
        if not rows:
            return
        self.note(f"asking the status of {len(rows)} open order(s): reports in flight at the rollover "
                  "cannot be resent")
        for row in rows:
            assert row.order_id is not None
            msg = builders.order_status_request(row.latest_clordid, row.order_id, row.symbol, row.side)
            self.spawn(self._send(client, msg, f"status #{row.index}"))

    # -- the prompt -------------------------------------------------------------------------------
    async def run(self) -> int:
        """Build the prompt, log on, read lines until ``quit``; returns the exit status."""
        from prompt_toolkit import PromptSession
        from prompt_toolkit.patch_stdout import patch_stdout
        from prompt_toolkit.styles import Style

        from krakenfix_cli.repl.completer import build_completer
        from krakenfix_cli.repl.history import build_history
        from krakenfix_cli.repl.keys import KeyActions, build_key_bindings
        from krakenfix_cli.repl.lexer import STYLE_RULES, build_lexer
        from krakenfix_cli.repl.toolbar import build_toolbar

        actions = KeyActions(show_help=lambda: self._run_soon(c.Help()),
                             show_orders=lambda: self._run_soon(c.Orders()))
        self.keys = build_key_bindings(self.state, actions)
        completer = build_completer(self.state)
        toolbar = cast(Any, build_toolbar(self.state))
        history = build_history(self.opts.history_path) if self.opts.history_path is not None else None
        self.session = PromptSession(
            message=cast(Any, self._prompt_text),
            completer=completer,
            lexer=build_lexer(),
            bottom_toolbar=toolbar,
            key_bindings=self.keys,
            history=history,
            style=Style.from_dict(STYLE_RULES),
            complete_while_typing=False,
            refresh_interval=1.0,
            enable_history_search=False,
            include_default_pygments_style=False,
        )
        with patch_stdout(raw=True):
            self.out = cast(TextIO, sys.stdout)
            self.line("krakenfix REPL: Tab completes, F1 or `help` for help, `quit` or Ctrl-D to leave", "dim")
            await self.start()
            while not self._quitting:
                try:
                    text = await self.session.prompt_async(
                        cast(Any, self._prompt_text), completer=completer, bottom_toolbar=toolbar
                    )
                except KeyboardInterrupt:
                    continue  # Ctrl-C clears the line, as in a shell
                except EOFError:
                    break
                await self.execute(text)
            await self.shutdown()
        return 0

    def _prompt_text(self) -> list[tuple[str, str]]:
        style = "class:prompt.prod" if self.state.production else "class:prompt"
        return [(style, "fix> ")]

    def _run_soon(self, cmd: c.Command) -> None:
        """Run a command from a key binding (its output goes above the prompt)."""
        self.spawn(self.dispatch(cmd))

    async def execute(self, text: str) -> None:
        """Parse and run one line; any problem is one line, the prompt survives."""
        try:
            cmd = c.parse(text)
        except c.CommandError as exc:
            self.line(f"error: {exc}", "bad")
            return
        try:
            await self.dispatch(cmd)
        except Exception as exc:  # one line, never a traceback, never the end of the REPL
            self.line(f"error: {_describe(exc)}", "bad")

    async def shutdown(self) -> None:
        """Log out, stop the tasks, stop the simulator."""
        self._quitting = True
        if self._reconnecting is not None:
            self._reconnecting.cancel()
        client = self.client
        if client is not None and client.is_logged_on:
            self._expect_close = True
            self.note("logging out")
            with contextlib.suppress(Exception):
                await client.logout(min(self.opts.timeout, 5.0))
        await self._retire(client)
        tasks = [*self._tasks, *([self._watcher] if self._watcher else [])]
        for task in tasks:
            task.cancel()
        if tasks:  # let them end now, bounded, rather than at the loop's close
            await asyncio.wait(tasks, timeout=2.0)
        if self.sim is not None:
            with contextlib.suppress(Exception):
                await self.sim.close()

    # -- commands ---------------------------------------------------------------------------------
    def _live(self) -> Client:
        client = self.client
        if client is None or not client.is_logged_on:
            raise c.CommandError(f"not logged on ({self.state.status}); `logon` first")
        return client

    async def dispatch(self, cmd: c.Command) -> None:
        """Run one parsed command."""
        if isinstance(cmd, c.Empty):
            return
        if isinstance(cmd, c.Quit):
            self._quitting = True
            return
        if isinstance(cmd, c.Help):
            self._help(cmd.topic)
        elif isinstance(cmd, c.Output):
            if cmd.mode:
                self.state.output = cmd.mode
            self.note(f"output: {self.state.output}")
        elif isinstance(cmd, c.Filter):
            self._filter(cmd)
        elif isinstance(cmd, c.Orders):
            self._orders(cmd.open_only)
        elif isinstance(cmd, c.Seq):
            self._seq(cmd)
        elif isinstance(cmd, c.SessionAction):
            await self._session_action(cmd.action)
        elif isinstance(cmd, c.NewOrder):
            self._new_order(cmd)
        elif isinstance(cmd, c.Cancel):
            self._cancel(cmd.ref)
        elif isinstance(cmd, c.Amend):
            self._amend(cmd)
        elif isinstance(cmd, c.Status):
            self._status(cmd.ref)
        elif isinstance(cmd, c.MassCancel):
            await self._mass_cancel_cmd(cmd)
        elif isinstance(cmd, c.Raw):
            await self._raw(cmd)
        elif isinstance(cmd, c.Replay):
            await self._live().request_resend(cmd.begin, cmd.end)
            self.note(f"ResendRequest(2) {cmd.begin}..{cmd.end or 'latest'} sent; replays arrive with "
                      "PossDupFlag(43)=Y")

    def _help(self, topic: str) -> None:
        from krakenfix_cli.repl.keys import keys_help

        if topic == "keys":
            self.line(keys_help(self.keys))
            return
        self.line(c.help_text(topic))
        if not topic:
            self.line(keys_help(self.keys))

    def _filter(self, cmd: c.Filter) -> None:
        f = self.state.filter
        if cmd.action == "all":
            f.show_admin, f.muted = True, False
        elif cmd.action == "app":
            f.show_admin, f.muted = False, False
        elif cmd.action == "none":
            f.muted = True
        elif cmd.action == "type":
            f.msg_types = frozenset(cmd.values)
            f.muted = False
        elif cmd.action == "symbol":
            f.symbols = frozenset(cmd.values)
            f.muted = False
        elif cmd.action == "clear":
            self.state.filter = type(f)()
        self.note(f"filter: {self.state.filter.describe()}")

    def _orders(self, open_only: bool) -> None:
        rows = self.state.order_rows(include_closed=not open_only)
        if not rows:
            self.note("no orders from this session yet" if not open_only else "no open orders")
            return
        self.table("orders of this session", ORDER_COLUMNS, rows)

    def _seq(self, cmd: c.Seq) -> None:
        client = self.client
        if client is None:
            raise c.CommandError("no session yet; `logon` first")
        store = client.session.store
        if cmd.which == "out":
            store.set_next_sender_seq(cmd.value)
        elif cmd.which == "in":
            store.set_next_target_seq(cmd.value)
        where = f" (stored under {self.spec.state_dir})" if self.spec.state_dir else " (in memory)"
        self.note(f"next outbound MsgSeqNum(34) {store.next_sender_seq}, next inbound "
                  f"{store.next_target_seq}{where}")

    async def _session_action(self, action: str) -> None:
        client = self.client
        if action == "logon":
            await self.logon(reset=self.spec.reset_on_logon)
        elif action == "logout":
            if client is None or not client.is_logged_on:
                self.note("not logged on")
                return
            self._expect_close = True
            self.state.status = "logging out"
            await client.logout(min(self.opts.timeout, 5.0))
            self.state.status = "logged out"
            self.note("logged out; `logon` to log on again")
        elif action == "reconnect":
            if client is None or not client.is_logged_on:
                await self.logon(reset=False)
                return
            self.note("dropping the connection; logging on again without a reset (gaps get filled)")
            self._expect_close = False
            client.drop()

    def _order_id(self) -> str:
        return self.ledger.next_clordid(clock.now(), derivatives=self.spec.derivatives)

    def _new_order(self, cmd: c.NewOrder) -> None:
        from krakenfix_cli.ops.send import OrderSpec, build_order, parse_when

        client = self._live()
        now = clock.now()
        try:
            expire = parse_when(cmd.expire, now) if cmd.expire is not None else None
            start = parse_when(cmd.start, now) if cmd.start is not None else None
        except ValueError as exc:
            raise c.CommandError(str(exc)) from None
        spec = OrderSpec(symbol=cmd.symbol, side=cmd.side, qty=cmd.qty, ord_type=cmd.ord_type, price=cmd.price,
                         stop_px=cmd.stop_px, tif=cmd.tif, post_only=cmd.post_only, reduce_only=cmd.reduce_only,
                         clordid=cmd.clordid, expire_time=expire, effective_time=start)  # fmt: skip
        msg = build_order(spec, self.ledger, now, derivatives=self.spec.derivatives)
        clordid = msg.get(11) or ""
        row = self.state.add_order(clordid, cmd.symbol, msg.get(54) or "", msg.get(38) or cmd.qty,
                                   msg.get(40) or "", msg.get(44))
        row.sent = msg
        self.spawn(self._send(client, msg, f"#{row.index} {row.describe()}"))

    async def _send(self, client: Client, msg: Message, label: str, wait: str = "ack") -> _Pending | None:
        """Send ``msg`` and report its answer, correlated as ``ops.send`` does (ClOrdID, 45, 379).

        Not ``ops.send.send_message``: that reads the client's single reply queue, so two
        orders in flight would steal each other's answers. Here every pending request sees
        every inbound message (the watcher fans them out), and the prompt never waits.
        """
        from krakenfix_cli.ops.send import Correlator, fill_transact_time

        now = clock.now()
        msg = fill_transact_time(msg, now)
        clordid = msg.get(11)
        if msg.msg_type == "D" and clordid and self.conn is not None:
            # Journal first: if we crash after the send, `krakenfix cancel` still knows whose order it is.
            self.ledger.placed(clordid, self.conn, now, symbol=msg.get(55), side=msg.get(54))
        pending = _Pending(Correlator.for_request(msg), msg.msg_type in ("F", "q"))
        self._pending.append(pending)  # before the send: the answer may beat the return
        try:
            pending.corr.seq = await client.send(msg)
            if wait == "none":
                return pending
            started = clock.monotonic()
            while True:
                if pending.rejected or pending.final:
                    break
                until = pending.acked_at + SETTLE if pending.acked_at is not None else started + self.opts.timeout
                remaining = until - clock.monotonic()
                if remaining <= 0:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(pending.changed.wait(), remaining)
                pending.changed.clear()
        finally:
            self._pending.remove(pending)
        self._report(pending, label)
        return pending

    def _report(self, p: _Pending, label: str) -> None:
        from krakenfix_cli.repl.state import ORD_STATUS_STATES

        if p.rejected:
            from krakenfix_cli.kraken.rejects import advice_for

            advice = advice_for(p.rejected)
            self.line(f"{label}: {p.rejected}" + (f"; {advice}" if advice else ""), "bad")
            return
        if p.acked_at is None and not p.final:
            self.line(f"{label}: no answer within {self.opts.timeout:g} s", "warn")
            return
        word = ORD_STATUS_STATES.get(p.ord_status or "", "answered")
        if p.corr.msg_type == "F":
            word = "canceled" if p.ord_status == "4" else f"cancel answered ({word})"
        style = {"filled": "ok", "partially-filled": "ok", "canceled": "warn"}.get(word, "info")
        oid = f" OrderID {p.order_id}" if p.order_id else ""
        self.line(f"{label}: {word}{oid}", style)

    def _match_pending(self, msg: Message) -> None:
        """Hand an inbound message to every request it answers."""
        from krakenfix_cli.ops.send import rejection

        for p in self._pending:
            if not p.corr.concerns(msg) or (p.corr.clordid is None and msg.msg_type == "8"):
                continue
            why = rejection(msg, cancel_expected=p.cancel_expected)
            if why is not None:
                p.rejected = why
            elif msg.msg_type == "8":
                p.ord_status = msg.get(39) or p.ord_status
                p.order_id = msg.get(37) or p.order_id
                if p.acked_at is None:
                    p.acked_at = clock.monotonic()
                if p.ord_status in ("2", "4", "C") or p.corr.msg_type in ("H", "G"):
                    p.final = True
            elif p.corr.msg_type not in ("D", "F", "G", "H", "q"):
                p.final = True
            p.changed.set()

    def _row(self, ref: str) -> Any:
        row = self.state.find_order(ref)
        if row is not None:
            return row
        known = self.ledger.find(clordid=ref) or self.ledger.find(order_id=ref)
        if known is not None:
            raise c.CommandError(
                f"order {ref} was placed by {known.placed_by.describe()}, not this REPL session; Kraken's "
                f"OrderCancelRequest(F) only reaches orders of the same FIX connection: {REPL_OTHER_CONNECTION}"
            )
        raise c.CommandError(f"no order {ref!r} in this session; `orders` lists them")

    def _scope_check(self, row: Any) -> None:
        if row.connection and row.connection != self.state.connection:
            raise c.CommandError(
                f"order #{row.index} was placed on an earlier connection ({row.connection}); after a reconnect "
                f"Kraken's F/G no longer reach it: {REPL_OTHER_CONNECTION}"
            )

    def _cancel(self, ref: str) -> None:
        from krakenfix_cli.kraken import builders

        client = self._live()
        row = self._row(ref)
        if not row.is_open:
            raise c.CommandError(f"order #{row.index} is already {row.state}")
        self._scope_check(row)
        msg = builders.order_cancel_request(
            self._order_id(), row.symbol, row.side, transact_time=clock.now(), orig_clordid=row.latest_clordid,
            order_id=row.order_id, derivatives=self.spec.derivatives,
        )  # fmt: skip
        self.spawn(self._send(client, msg, f"cancel #{row.index}"))

    def _amend(self, cmd: c.Amend) -> None:
        from krakenfix_cli.kraken import builders

        client = self._live()
        row = self._row(cmd.ref)
        self._scope_check(row)
        if row.order_id is None:
            raise c.CommandError(f"order #{row.index} has no OrderID(37) yet; wait for its acknowledgement")
        base = row.sent or Message.new("D", (38, row.qty), (40, row.ord_type), (54, row.side), (55, row.symbol))
        try:
            msg = builders.amend_of(
                base, self._order_id(), order_id=row.order_id, orig_clordid=row.latest_clordid,
                transact_time=clock.now(), qty=cmd.qty or row.qty, price=cmd.price or row.price,
                derivatives=self.spec.derivatives,
            )  # fmt: skip
        except builders.OrderArgumentError as exc:
            raise c.CommandError(str(exc)) from None
        row.sent = msg
        self.spawn(self._send(client, msg, f"amend #{row.index}"))

    def _status(self, ref: str) -> None:
        from krakenfix_cli.kraken import builders

        client = self._live()
        row = self.state.find_order(ref)
        if row is None:
            # On Spot, H reaches any order of the account (SPEC §6.7), unlike F: ask about the
            # journal's orders of other connections too.
            known = self.ledger.find(clordid=ref) or self.ledger.find(order_id=ref)
            if known is None:
                raise c.CommandError(f"no order {ref!r} in this session or the order journal; `orders` lists them")
            if not known.order_id or not known.symbol:
                raise c.CommandError(f"the order journal has no OrderID(37) or symbol for {ref}; "
                                     "`raw 35=H|11=...|37=...|55=...` asks anyway")
            msg = builders.order_status_request(known.latest_clordid, known.order_id, known.symbol, known.side,
                                                derivatives=self.spec.derivatives)
            self.spawn(self._send(client, msg, f"status {ref}"))
            return
        if row.order_id is None:
            raise c.CommandError(f"order #{row.index} has no OrderID(37) yet")
        msg = builders.order_status_request(row.latest_clordid, row.order_id, row.symbol, row.side,
                                            derivatives=self.spec.derivatives)
        self.spawn(self._send(client, msg, f"status #{row.index}"))

    async def _confirm(self, what: str) -> bool:
        """Ask before a destructive command: the profile is named, red for production."""
        assert self.session is not None
        target = f"{self.state.profile} ({self.spec.host}:{self.spec.port}, {self.spec.sender_comp_id})"
        if self.state.production:
            self.line(f"PRODUCTION: {what} on {target}", "bad")
            word = self.spec.profile or "production"
            prompt = f"Type the profile name ({word}) to go on: "
        else:
            self.line(f"{what} on {target}", "warn")
            word, prompt = "yes", "Type yes to go on: "
        try:
            answer = await self.session.prompt_async(prompt, completer=None, bottom_toolbar=None)
        except (KeyboardInterrupt, EOFError):
            answer = ""
        return answer.strip() == word

    async def _mass_cancel_cmd(self, cmd: c.MassCancel) -> None:
        from krakenfix_cli.kraken import builders

        client = self._live()
        from krakenfix_cli.ops.mass_cancel import KINDS, describe_scope

        msg = builders.order_mass_cancel(self._order_id(), KINDS[cmd.scope], cmd.symbol, transact_time=clock.now(),
                                         derivatives=self.spec.derivatives)
        if not cmd.yes and not await self._confirm(f"mass cancel: {describe_scope(cmd.scope, cmd.symbol)}"):
            self.note("not confirmed; nothing was sent")
            return
        self.spawn(self._run_mass_cancel(client, msg, cmd.symbol if cmd.scope == "symbol" else None))

    async def _run_mass_cancel(self, client: Client, msg: Message, symbol: str | None) -> None:
        """Send q, then count per-order cancels until a quiet period (Kraken sends no report r)."""
        self._mass_cancel = mc = {"count": 0, "last": clock.monotonic()}
        try:
            await self._send(client, msg, "mass cancel", wait="none")
            self.note("OrderMassCancelRequest(q) sent; counting the cancellations (Kraken sends no report)")
            while clock.monotonic() - mc["last"] < MASS_CANCEL_QUIET:
                await asyncio.sleep(0.1)
        finally:
            self._mass_cancel = None
        n = mc["count"]
        survivors = [r for r in self.state.open_orders() if r.connection == self.state.connection
                     and (symbol is None or r.symbol == symbol)]  # in scope: this connection (and the symbol)
        tail = f"; {len(survivors)} of this session's orders in scope still open" if survivors else ""
        self.line(f"mass cancel done: {n} order{'s' if n != 1 else ''} cancelled{tail}", "warn" if tail else "ok")

    async def _raw(self, cmd: c.Raw) -> None:
        from krakenfix_cli.ops.send import fill_transact_time

        client = self._live()
        msg = fill_transact_time(Message.new(cmd.fields[0][1], *cmd.fields[1:]), clock.now())
        if msg.msg_type in ("D", "F", "G", "H", "q"):
            if msg.msg_type == "D" and msg.get(11):
                self.state.add_order(msg.get(11) or "", msg.get(55) or "", msg.get(54) or "", msg.get(38) or "",
                                     msg.get(40) or "", msg.get(44))
            self.spawn(self._send(client, msg, f"raw {msg.msg_type}"))
            return
        seq = await client.send(msg)
        self.note(f"sent MsgType(35)={msg.msg_type} as MsgSeqNum(34) {seq}")


def _describe(exc: BaseException) -> str:
    from krakenfix_cli.client import ConnectFailed, LogonRefusedError

    if isinstance(exc, ConnectFailed):
        return f"cannot connect: {exc.detail}"
    if isinstance(exc, LogonRefusedError):
        said = f" (gateway said: {exc.reason})" if exc.reason and exc.reason not in exc.diagnosis else ""
        return f"logon refused: {exc.diagnosis}{said}"
    text = str(exc) or type(exc).__name__
    return text


async def run_repl(options: ReplOptions) -> int:
    """Run the REPL until ``quit``; returns the exit status (0)."""
    return await Repl(options).run()
