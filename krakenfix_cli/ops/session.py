"""Open a logged-on live session for a ClientSpec (or for an embedded simulator), and close both.

Every trading command starts here: ``async with open_session(spec, ...) as live`` gives a
logged-on :class:`Live` (client, logon facts, this connection's identity for the order
journal) and logs out on the way out. ``--sim`` first starts a simulator in this process
(``sim.runner``) on a free loopback port and points the spec at it with the simulator's
generated credentials.

The wire is shown through the client's watchers: an inbound message once the engine has
accepted it, an outbound one once the transport wrote it, so a user sees the Logon
exchange as well as the orders. Rendering redacts Password(554).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from krakenfix_cli.client_types import ClientSpec, LogonFacts, Watcher
from krakenfix_cli.fix.message import Message
from krakenfix_cli.ops.live import Channel, LiveSession
from krakenfix_cli.ops.outcomes import ConnRef, Ledger
from krakenfix_cli.ops.report import Reporter

if TYPE_CHECKING:
    from krakenfix_cli.sim.runner import RunningSimulator

#: Which messages a command shows: (message, "in"/"out") -> show it?
Show = Callable[[Message, str], bool]

HEARTBEATS = frozenset({"0", "1"})


def show_all_but_heartbeats(msg: Message, direction: str) -> bool:
    """The default filter: everything except Heartbeat(0) and TestRequest(1)."""
    return msg.msg_type not in HEARTBEATS


def show_nothing(msg: Message, direction: str) -> bool:
    """For commands that report their own way (mass cancel of thousands of orders)."""
    return False


def watcher(reporter: Reporter, show: Show) -> Watcher:
    """Show the messages ``show`` lets through (inbound once accepted, outbound once written)."""

    def watch(msg: Message, direction: str, now: float) -> None:
        if show(msg, direction):
            reporter.message(msg, direction, now)

    return watch


@dataclass
class Live:
    """A logged-on session and what the commands need to know about it."""

    channel: Channel
    "What the command sends through and reads from."
    spec: ClientSpec
    facts: LogonFacts
    sim: RunningSimulator | None = None
    session: LiveSession | None = None
    "The session this process holds (None when a holder in another process does)."

    @property
    def conn(self) -> ConnRef:
        """The connection messages go out on now (its identity in the order journal)."""
        return self.channel.conn


# -- the embedded simulator -----------------------------------------------------------------------
async def start_embedded_simulator(tls: bool = True, state_dir: Path | None = None) -> RunningSimulator:
    """A simulator on a free 127.0.0.1 port, in this process (``--sim``).

    With a state dir it serves with the simulator's lasting CA and demo credentials (the
    same as ``krakenfix sim``'s), so a run leaves no file behind."""
    from krakenfix_cli.sim.identity import identity_dir
    from krakenfix_cli.sim.runner import start_simulator

    identity = identity_dir(state_dir) if state_dir is not None else None
    return await start_simulator(host="127.0.0.1", port=0, tls=tls, identity_dir=identity)


def spec_for_simulator(sim: RunningSimulator, base: ClientSpec | None = None) -> ClientSpec:
    """``base`` (for its options: heartbeat, state dir, market data, derivatives) aimed at ``sim``.

    Host, port, TLS, CompIDs and credentials come from the simulator; a market-data spec
    carries no key (SPEC §3.1).
    """
    creds = sim.credentials
    derivatives = bool(base and base.derivatives)
    market_data = bool(base and base.market_data)
    sender = creds.derivatives_sender_comp_id if derivatives else creds.sender_comp_id
    from krakenfix_cli.kraken.profiles import target_comp_id

    target = target_comp_id(derivatives=derivatives, market_data=market_data)
    fields: dict[str, Any] = {
        "host": sim.host,
        "port": sim.port,
        "tls": sim.tls,
        "insecure": False,
        "cafile": str(sim.ca_file) if sim.tls and sim.ca_file else None,
        "server_hostname": None,
        "sender_comp_id": sender,
        "target_comp_id": target,
        "api_key": None if market_data else creds.api_key,
        "secret": None if market_data else creds.api_secret,
        "profile": "sim-embedded",
        "memory_store": True,  # the simulator is in this process: its sessions end with it
        "production": False,
        "derivatives": derivatives,
        "market_data": market_data,
    }
    if base is None:
        return ClientSpec(**fields)
    return dataclasses.replace(base, **fields)


@contextlib.asynccontextmanager
async def maybe_embedded(spec: ClientSpec, reporter: Reporter, enabled: bool) -> AsyncIterator[
        tuple[ClientSpec, RunningSimulator | None]]:
    """``--sim``: a simulator for the duration, and ``spec`` aimed at it; otherwise ``spec`` as is."""
    if not enabled:
        yield spec, None
        return
    sim = await start_embedded_simulator(state_dir=spec.state_dir)
    try:
        spec = spec_for_simulator(sim, spec)
        reporter.note(f"embedded simulator on {sim.host}:{sim.port} ({spec.sender_comp_id}→{spec.target_comp_id})")
        yield spec, sim
    finally:
        with contextlib.suppress(Exception):
            await sim.close()


# -- opening and closing --------------------------------------------------------------------------
@contextlib.asynccontextmanager
async def open_session(
    spec: ClientSpec,
    reporter: Reporter,
    *,
    timeout: float,
    show: Show = show_all_but_heartbeats,
    embedded_sim: bool = False,
    logout_timeout: float = 5.0,
    ledger: Ledger | None = None,
) -> AsyncIterator[Live]:
    """Go through the session's holder when one runs; else connect and log on (raises
    ``ConnectFailed`` / ``LogonRefusedError``) and log out after."""
    async with maybe_embedded(spec, reporter, embedded_sim) as (spec, sim):
        if sim is None:
            from krakenfix_cli.ops import holder_client

            remote = await holder_client.connect(spec, watcher(reporter, show),
                                                 generated=ledger.generated if ledger is not None else None)
            if remote is not None:
                reporter.note(f"through the session holder ({remote.info.describe()})")
                try:
                    yield Live(remote, spec, remote.info.facts())
                finally:
                    await remote.close()
                return
        live = LiveSession(spec, reporter, ledger=ledger, watch=watcher(reporter, show), connect_timeout=timeout)
        channel = live.subscribe()
        facts = await live.start()
        try:
            yield Live(channel, spec, facts, sim, live)
        finally:
            await live.close(logout_timeout)
