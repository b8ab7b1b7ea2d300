"""The REPL: one live FIX session under a prompt, every message decoded as it arrives.

``run_repl(options)`` logs on (starting an embedded simulator for ``--sim``), then runs a
prompt_toolkit ``PromptSession`` under ``patch_stdout`` so inbound messages print above
the prompt without tearing what is being typed. On one event loop:

- the prompt, whose lines go through ``commands.parse`` and then ``repl.actions`` (the same
  builders and ops functions the subcommands use);
- the live session (``ops.live``): it reconnects through drops (141=N) and rollovers (141=Y,
  then asks the open orders' status), dedupes by ExecID and journals; the REPL holds it for
  the user's other commands while it runs (``ops.holder``), or, when another process already
  holds the session, goes through that holder;
- a pump over the session's items: it folds ExecutionReports into the orders table and
  shows what happened to the line. What we send and the session's admin traffic are shown
  by the client's watcher, an inbound message only once the engine accepted it.
"""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from krakenfix_cli.client_types import ClientSpec, ConnectFailed, LogonRefusedError
from krakenfix_cli.fix.message import Message
from krakenfix_cli.fix.tags import ADMIN_MSG_TYPES
from krakenfix_cli.ops.live import Channel, GapClosed, LiveSession, Lost, Received, Restored, Subscription
from krakenfix_cli.ops.outcomes import Ledger
from krakenfix_cli.render.env import Env
from krakenfix_cli.repl import commands as c
from krakenfix_cli.repl.screen import Screen
from krakenfix_cli.repl.state import ORD_STATUS_STATES, ReplState
from krakenfix_cli.transport import clock

if TYPE_CHECKING:
    from prompt_toolkit import PromptSession
    from prompt_toolkit.key_binding import KeyBindings

    from krakenfix_cli.ops.holder import Beside
    from krakenfix_cli.ops.holder_client import RemoteChannel
    from krakenfix_cli.sim.runner import RunningSimulator


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
    beside: Beside | None = None
    "What runs beside the session while the REPL holds it (the CLI's warm server)."


class Repl:
    """One REPL run: the state, the live session (or the holder it goes through), the prompt."""

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
        self.screen = Screen(options.env, self.state)
        self.live: LiveSession | None = None
        self.remote: RemoteChannel | None = None
        "The pump's channel when another process holds the session."
        self.sim: RunningSimulator | None = None
        self.session: PromptSession[str] | None = None
        self.keys: KeyBindings | None = None
        self.asked: set[str] = set()
        "ClOrdIDs of requests in flight: their answers are reported by the request, not the pump."
        self._tasks: set[asyncio.Task[Any]] = set()
        self._pump_task: asyncio.Task[None] | None = None
        self._stack = AsyncExitStack()
        self._closing = False
        self.quitting = False

    def note(self, text: str) -> None:
        self.screen.note(text)

    def line(self, text: str, style: str = "") -> None:
        self.screen.line(text, style)

    def _show(self, msg: Message, direction: str) -> bool:
        """The watcher shows what we send and the session's admin traffic as it happens.

        Inbound application messages are shown by the pump instead, once, in sequence order.
        """
        if direction == "in" and msg.msg_type not in ADMIN_MSG_TYPES:
            return False
        return self.state.filter.accepts(msg, direction)

    def _sync(self, state: ReplState) -> None:
        """The toolbar's numbers, from the live session."""
        client = self.live.client if self.live is not None else None
        if client is None:
            return
        s = client.session
        with contextlib.suppress(Exception):  # a closed store between two connections
            state.seq_out, state.seq_in = s.next_sender_seq, s.next_target_seq
        state.last_received = s.last_received
        state.heartbeat_interval = s.heartbeat_interval

    def spawn(self, coro: Any) -> None:
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

    # -- the session ------------------------------------------------------------------------------
    async def start(self) -> None:
        """Start the embedded simulator (``--sim``), then log on (or join the session's holder)."""
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
        if self.sim is None and await self._join_holder():
            return
        await self.logon(first=True)
        if not self.spec.market_data:
            from krakenfix_cli.ops.instruments import market_data_twin

            source = market_data_twin(self.spec) if self.sim is not None else self.opts.instruments_from
            if source is not None:
                self.spawn(self._learn_instruments(source))

    async def _learn_instruments(self, source: ClientSpec) -> None:
        """Complete symbols from the gateway's InstrumentList, asked of its market-data session; keep
        it in the instrument cache too, so the order forms' pre-send check has it (``repl.actions``)."""
        from krakenfix_cli.ops import instruments_cache
        from krakenfix_cli.ops.instruments import fetch_instruments
        from krakenfix_cli.repl import actions

        try:
            listed = await fetch_instruments(source, min(self.opts.timeout, 5.0))
        except Exception as exc:  # completion is a convenience: the built-in list stays
            self.note(f"no InstrumentList from the market-data session ({_describe(exc)}); "
                      "symbols complete from the built-in list")
            return
        found = actions.instrument_cache(self)
        if found is not None and self.spec.state_dir is not None:
            with contextlib.suppress(OSError):  # a cache that cannot be written: the check says so later
                instruments_cache.save(self.spec.state_dir, found[0], listed, clock.now())
        self.state.learn_symbols(i.symbol for i in listed)
        self.note(f"{len(self.state.symbols)} instruments from InstrumentList(y) ready for completion")

    async def _join_holder(self) -> bool:
        """Another process holds the session: go through it (Kraken takes one logon per CompID pair)."""
        from krakenfix_cli.ops import holder_client

        remote = await holder_client.connect(self.spec, None)
        if remote is None:
            return False
        self.remote = remote
        self.state.status = "logged on"
        self.state.connection = remote.conn.connection_id
        self.line(f"logged on: through the session holder ({remote.info.describe()}); seq out "
                  f"{remote.info.seq_out} in {remote.info.seq_in}", "ok")
        self._pump_task = asyncio.ensure_future(self._pump(remote))
        return True

    async def logon(self, *, first: bool = False) -> bool:
        """Start a live session (it reconnects by itself from then on); True when logged on."""
        from krakenfix_cli.ops.holder import holding
        from krakenfix_cli.ops.session import watcher
        from krakenfix_cli.transport.reconnect import Backoff

        if self.remote is not None or (self.live is not None and not self.live.done):
            self.note("already logged on; `reconnect` drops the connection and logs on again")
            return True
        live = LiveSession(self.spec, self.screen, ledger=self.ledger, reconnect=True,
                           backoff=Backoff(base=0.3, cap=10.0, seed=7), watch=watcher(self.screen, self._show),
                           connect_timeout=self.opts.timeout)
        sub = live.subscribe()
        self.state.status = "connecting"
        try:
            facts = await live.start()
        except (ConnectFailed, LogonRefusedError) as exc:
            self.state.status = "disconnected"
            self.line(f"error: {_describe(exc)}", "bad")
            if first:
                self.note("the REPL stays open: `logon` tries again, `quit` leaves")
            return False
        self.live, self._closing = live, False
        await self._stack.enter_async_context(holding(live, "krakenfix repl", beside=self.opts.beside))
        self._connected(live.conn.connection_id)
        self.line(
            f"logged on: {self.spec.sender_comp_id}→{self.spec.target_comp_id} at {self.spec.host}:{self.spec.port}"
            f" in {facts.logon_rtt_ms:.0f} ms, heartbeat {facts.heartbeat_interval:g} s, seq out {facts.seq_out} in "
            f"{facts.seq_in}{' (sequence numbers reset, 141=Y)' if facts.reset else ''}", "ok")
        self._pump_task = asyncio.ensure_future(self._pump(sub))
        return True

    def _connected(self, connection_id: str) -> None:
        self.state.connection = connection_id
        self.state.status = "logged on"
        self.state.notice = ""
        if self.spec.market_data:
            from krakenfix_cli.kraken import builders

            self.spawn(self._raw_send(builders.instrument_list_request(f"repl-{int(clock.now() * 1000)}")))

    async def _raw_send(self, msg: Message) -> None:
        channel = await self.request_channel()
        try:
            await channel.send(msg)
        finally:
            await self.release_channel(channel)

    async def end(self) -> None:
        """Log out and stop holding the session."""
        self._closing = True
        await self._stack.aclose()
        if self.live is not None:
            await self.live.close(min(self.opts.timeout, 5.0))
        if self.remote is not None:
            await self.remote.close()
            self.remote = None

    async def _pump(self, channel: Channel) -> None:
        """The session's items until it ends: reports into the table, the line's news on screen."""
        while True:
            item = await channel.next_item()
            if isinstance(item, Received):
                if not item.duplicate:  # a PossDup resend of a report already shown and applied
                    self._on_message(item.message)
            elif isinstance(item, Restored):
                self._connected(item.conn.connection_id)
                self.line("reconnected" + (" after the rollover" if item.reset else "; any gap is filled by a "
                                           "resend"), "ok")
            elif isinstance(item, Lost) and not item.final:
                self.state.status = "reconnecting"
                self.line(f"connection lost: {item.reason}; reconnecting (the prompt stays usable)", "warn")
            elif isinstance(item, GapClosed):
                continue
            else:
                self.state.status = "disconnected"
                if not (self._closing or self.quitting):
                    self.note(f"disconnected ({channel.close_reason or 'the session ended'}); `logon` logs on again")
                return

    def _on_message(self, msg: Message) -> None:
        if self.state.filter.accepts(msg):
            self.screen.message(msg, "in")
        row = self.state.apply_report(msg)
        if msg.msg_type == "8" and msg.get(150) == "I" and not ({msg.get(11), msg.get(41)} & self.asked):
            # An answer nobody here waits for: the session asked after a rollover.
            state = ORD_STATUS_STATES.get(msg.get(39) or "", "answered")
            self.line(f"status {f'#{row.index}' if row is not None else msg.get(11)}: {state}", "info")
        if msg.msg_type == "y":
            self.state.learn_symbols(msg.get_all(55))
            self.note(f"{len(self.state.symbols)} instruments from InstrumentList(y) ready for completion")

    def require_live(self) -> None:
        """A command that sends needs a logged-on session."""
        if self.remote is None and (self.live is None or not self.live.is_logged_on):
            raise c.CommandError(f"not logged on ({self.state.status}); `logon` first")

    async def request_channel(self) -> Channel:
        """A channel of its own for one request (it sees every answer from now on)."""
        if self.live is not None and not self.live.done:
            return self.live.subscribe()
        from krakenfix_cli.ops import holder_client

        channel = await holder_client.connect(self.spec, None, generated=self.ledger.generated)
        if channel is None:
            raise c.CommandError("the session holder went away; `quit` and start the REPL again")
        return channel

    async def release_channel(self, channel: Channel) -> None:
        if isinstance(channel, Subscription):
            channel.close("the request is done")
        else:
            await cast("RemoteChannel", channel).close()

    async def run(self) -> int:
        """Build the prompt, log on, read lines until ``quit``; returns the exit status (``repl.prompt``)."""
        from krakenfix_cli.repl.prompt import run_prompt

        return await run_prompt(self)

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
        self.quitting = True
        if self.live is not None and self.live.is_logged_on:
            self.note("logging out")
        await self.end()
        tasks = [*self._tasks, *([self._pump_task] if self._pump_task else [])]
        for task in tasks:
            task.cancel()
        if tasks:  # let them end now, bounded, rather than at the loop's close
            await asyncio.wait(tasks, timeout=2.0)
        if self.sim is not None:
            with contextlib.suppress(Exception):
                await self.sim.close()

    async def dispatch(self, cmd: c.Command) -> None:
        """Run one parsed command (``repl.dispatch``)."""
        from krakenfix_cli.repl.dispatch import dispatch

        await dispatch(self, cmd)

    async def confirm(self, what: str) -> bool:
        """Ask before a destructive command (``repl.prompt``)."""
        from krakenfix_cli.repl.prompt import confirm

        return await confirm(self, what)


def _describe(exc: BaseException) -> str:
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
