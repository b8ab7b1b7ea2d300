"""``krakenfix sim``: run the local Kraken FIX gateway simulator in the foreground.

Prints the endpoint, the session TargetCompIDs and the *demo* credentials (the simulator's
own throwaway key and secret, kept with its CA in ``<state dir>/sim`` across restarts), then
serves until Ctrl-C or SIGTERM (exit 0). A closed stdout (``krakenfix sim | head -1``) only
silences it: the simulator keeps serving its sessions until it is stopped.
"""

from __future__ import annotations

import errno
import os
import shlex
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from krakenfix_cli.cli.options import StateDir

HostOpt = Annotated[str, typer.Option("--host", help="Address to listen on (loopback by default).")]
PortOpt = Annotated[int, typer.Option("--port", min=0, max=65535, help="TCP port; 0 picks a free one.")]
PortFile = Annotated[Path | None, typer.Option(
    "--port-file", dir_okay=False, help="Write the bound port number to this file once listening.")]
TlsOpt = Annotated[bool, typer.Option(
    "--tls/--no-tls", help="TLS 1.2+ with a generated certificate (Kraken accepts TLS only).")]
RolloverAt = Annotated[str | None, typer.Option(
    "--rollover-at", metavar="HH:MM", help="Daily session rollover time, UTC (default 22:00).")]
RolloverEvery = Annotated[float | None, typer.Option(
    "--rollover-every", metavar="SECONDS", min=0.001, help="Roll the sessions over every N seconds instead.")]
RefusalWindow = Annotated[float, typer.Option(
    "--refusal-window", metavar="SECONDS", min=0.0, help="How long logons are refused after a rollover.")]
Conformance = Annotated[bool, typer.Option(
    "--conformance", help="Also serve the QuickFIX conformance session (ISLD <- TW44) on the same port.")]
Seed = Annotated[int, typer.Option("--seed", help="Seed of the synthetic market.")]


class RateLimitTier(StrEnum):
    """Kraken's Spot account tiers (SPEC §9), or no limits (bulk tests, benchmarks)."""

    STARTER = "starter"
    INTERMEDIATE = "intermediate"
    PRO = "pro"
    OFF = "off"


RateLimit = Annotated[RateLimitTier, typer.Option(
    "--rate-limit", case_sensitive=False,
    help="Spot trading limits per pair as Kraken's tier has them: the decaying rate counter "
         "('EOrder:Rate limit exceeded') and the open-order cap ('EOrder:Orders limit exceeded').")]


class CancelScope(StrEnum):
    """Who OrderCancelRequest(F) reaches (SPEC §6.5, §11 #21)."""

    SESSION = "session"
    ACCOUNT = "account"


CancelScopeOpt = Annotated[CancelScope, typer.Option(
    "--cancel-scope", case_sensitive=False,
    help="Who OrderCancelRequest(F) reaches: 'session' (orders placed on this connection, Kraken's "
         "documented rule) or 'account' (any open order of the account, the other reading of Kraken's docs).")]

DEFAULT_PORT = 14001


def sim(
    host: HostOpt = "127.0.0.1",
    port: PortOpt = DEFAULT_PORT,
    port_file: PortFile = None,
    tls: TlsOpt = True,
    rollover_at: RolloverAt = None,
    rollover_every: RolloverEvery = None,
    refusal_window: RefusalWindow = 30.0,
    state_dir: StateDir = None,
    conformance: Conformance = False,
    seed: Seed = 1,
    rate_limit: RateLimit = RateLimitTier.INTERMEDIATE,
    cancel_scope: CancelScopeOpt = CancelScope.SESSION,
) -> None:
    """Run the Kraken FIX gateway simulator (Spot + Derivatives, trading + market data) until Ctrl-C."""
    import asyncio
    import contextlib
    import signal

    from krakenfix_cli.transport import loop

    if rollover_at is not None and rollover_every is not None:
        raise typer.BadParameter("give --rollover-at or --rollover-every, not both")
    if rollover_at is not None:
        from krakenfix_cli.sim.rollover import parse_hhmm

        try:
            parse_hhmm(rollover_at)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--rollover-at") from None

    from krakenfix_cli.settings import paths, sim_endpoint

    endpoint_dir = paths.state_dir(state_dir)
    out = _Stdout()

    async def main() -> None:
        from krakenfix_cli.sim.runner import start_simulator

        running = await start_simulator(
            host, port, tls=tls, state_dir=state_dir, rollover_every=rollover_every, rollover_at=rollover_at,
            refusal_window=refusal_window, seed=seed, conformance=conformance,
            rate_limit=RateLimitTier(rate_limit).value, cancel_scope=CancelScope(cancel_scope).value,
            identity_dir=sim_endpoint.identity_dir(endpoint_dir),
        )  # fmt: skip
        try:
            c = running.credentials
            owner = sim_endpoint.write(endpoint_dir, {
                "host": running.host, "port": running.port, "tls": running.tls,
                "ca_file": str(running.ca_file) if running.ca_file else None,
                "api_key": c.api_key, "api_secret": c.api_secret.reveal(),
                "sender": c.sender_comp_id, "derivatives_sender": c.derivatives_sender_comp_id,
            })  # fmt: skip
            if port_file is not None:
                port_file.write_text(f"{running.port}\n")
            for line in banner(running, rollover_at, rollover_every, sim_endpoint.path(endpoint_dir), owner):
                out.say(line)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.add_signal_handler(sig, stop.set)  # Ctrl-C and SIGTERM: stop cleanly, exit 0
            await stop.wait()
            out.say("simulator stopped")
        finally:
            with contextlib.suppress(OSError):
                sim_endpoint.remove(endpoint_dir)
            await running.close()

    from krakenfix_cli.cli.exit import ExitStatus
    from krakenfix_cli.sim.runner import ListenError

    try:
        loop.run(main())
    except KeyboardInterrupt:
        out.say("simulator stopped")
    except ListenError as exc:
        typer.echo(f"krakenfix: error: cannot listen on {host}:{port}: {exc.strerror or exc}; "
                   "choose another --port (0 picks a free one)", err=True)
        raise typer.Exit(ExitStatus.CONNECT_FAILED) from None
    except OSError as exc:  # the state dir, the port file: the path and the errno, not the port
        where = exc.filename or endpoint_dir
        code = errno.errorcode.get(exc.errno or 0, str(exc.errno))
        typer.echo(f"krakenfix: error: cannot write {where}: {exc.strerror or exc} ({code}); "
                   "check its permissions and free space, or choose another --state-dir", err=True)
        raise typer.Exit(ExitStatus.IO_ERROR) from None


class _Stdout:
    """The banner's stdout; once it fails (closed by ``| head -1``, or full), later lines are
    dropped: the simulator's sessions matter more than its console."""

    def __init__(self) -> None:
        self.closed = False

    def say(self, line: str) -> None:
        if self.closed:
            return
        try:
            typer.echo(line)
            sys.stdout.flush()
        except (OSError, ValueError):  # a closed pipe, a full /dev/full: silence, keep serving
            self.closed = True
            # Point fd 1 at /dev/null so the interpreter's own flush at exit finds no pipe to break.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)


def banner(running: object, rollover_at: str | None, rollover_every: float | None, endpoint_file: Path,
           owner: Path | int | None = None) -> list[str]:
    """What ``krakenfix sim`` prints at start: endpoint, sessions, demo credentials.

    ``owner`` is the PID of another running simulator that keeps the endpoint file."""
    from krakenfix_cli.sim.runner import RunningSimulator

    assert isinstance(running, RunningSimulator)
    c = running.credentials
    scheme = "TLS" if running.tls else "plain TCP"
    when = f"every {rollover_every:g} s" if rollover_every else f"daily at {rollover_at or '22:00'} UTC"
    lines = [
        f"krakenfix simulator listening on {running.host}:{running.port} ({scheme})",
    ]
    if running.ca_file is not None:
        lines.append(f"  CA certificate: {running.ca_file}")
        lines.append(f"    other clients trust it with: --ca-file {shlex.quote(str(running.ca_file))}")
    lines += [
        "  sessions on this port, chosen by TargetCompID(56):",
        f"    Spot        trading KRAKEN-TRD      market data KRAKEN-MD      SenderCompID {c.sender_comp_id}",
        f"    Derivatives trading KRAKEN-DRV-TRD  market data KRAKEN-DRV-MD  SenderCompID "
        f"{c.derivatives_sender_comp_id}",
    ]
    if running.conformance:
        lines.append("    QuickFIX conformance session ISLD <- TW44")
    tier = running.gateway.limits.tier
    limits = (f"{tier.name} tier: rate counter {tier.threshold:g}, decay {tier.decay_per_s:g}/s, "
              f"{tier.max_open_orders} open orders per pair" if tier is not None else "off")
    lines += [
        f"  session rollover {when}",
        f"  Spot trading limits: {limits}",
        "  OrderCancelRequest(F) reaches: " + ("any open order of the account (--cancel-scope account)"
                                              if running.gateway.cancel_scope == "account"
                                              else "orders placed on the same connection"),
        "  DEMO credentials of this simulator only (not a Kraken key; kept across restarts):",
        f"    API key:    {c.api_key}",
    ]
    if isinstance(owner, int):
        lines += [
            f"    API secret: in {endpoint_file} (mode 0600; both simulators share it)",
            f"  {endpoint_file} belongs to the simulator of PID {owner}: --profile sim reaches that one;",
            f"    reach this one with --profile sim --port {running.port}",
        ]
    else:
        lines.append(f"    API secret: in {endpoint_file} (mode 0600), where --profile sim finds it")
    lines.append("  Ctrl-C stops it.")
    return lines


def register(app: typer.Typer) -> None:
    """Add ``sim`` to the app."""
    app.command("sim", help="Run the local Kraken FIX gateway simulator until Ctrl-C.")(sim)


def _standalone() -> None:
    """``python -m krakenfix_cli.cli.sim``: the command without the rest of the app."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command()(sim)
    app()


if __name__ == "__main__":
    _standalone()
