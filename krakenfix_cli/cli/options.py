"""Shared option types, so every command spells ``--profile``, ``--output``, ... the same way.

Use them as parameter annotations::

    def send(profile: Profile = None, output: Output = Mode.PRETTY, yes: Yes = False) -> None: ...

Only cheap imports here (typer, pathlib, render.Mode): this module is imported by
``--help``. ``get_env()`` returns the :class:`Env` the app callback built.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from krakenfix_cli.render import Mode
from krakenfix_cli.render.env import Env

CONNECTION = "Connection"
OUTPUT = "Output"

Profile = Annotated[str | None, typer.Option(
    "--profile", "-p", envvar="KRAKENFIX_PROFILE", show_default=False, rich_help_panel=CONNECTION,
    help="Profile from the config file or built in: sim, uat-spot, uat-derivatives, prod-spot, "
         "prod-derivatives (each with a -md market-data twin).")]
Host = Annotated[str | None, typer.Option(
    "--host", show_default=False, rich_help_panel=CONNECTION, help="Gateway host (overrides the profile).")]
Port = Annotated[int | None, typer.Option(
    "--port", min=1, max=65535, show_default=False, rich_help_panel=CONNECTION,
    help="Gateway TCP port (overrides the profile).")]
Tls = Annotated[bool | None, typer.Option(
    "--tls/--no-tls", show_default=False, rich_help_panel=CONNECTION,
    help="Use TLS (the profile decides when not given).")]
Insecure = Annotated[bool, typer.Option(
    "--insecure", rich_help_panel=CONNECTION,
    help="Skip TLS certificate verification (UAT profiles only).")]
CaFile = Annotated[Path | None, typer.Option(
    "--ca-file", envvar="KRAKENFIX_CA_FILE", dir_okay=False, show_default=False, rich_help_panel=CONNECTION,
    help="Trust this CA bundle (PEM) for TLS: the simulator's CA, or a corporate proxy's.")]
SenderCompId = Annotated[str | None, typer.Option(
    "--sender-comp-id", show_default=False, rich_help_panel=CONNECTION, help="SenderCompID(49).")]
TargetCompId = Annotated[str | None, typer.Option(
    "--target-comp-id", show_default=False, rich_help_panel=CONNECTION, help="TargetCompID(56).")]
ApiKey = Annotated[str | None, typer.Option(
    "--api-key", envvar="KRAKENFIX_API_KEY", show_default=False, rich_help_panel=CONNECTION,
    help="API key (the secret comes only from KRAKENFIX_API_SECRET, the keyring or a 0600 config file).")]
StateDir = Annotated[Path | None, typer.Option(
    "--state-dir", envvar="KRAKENFIX_STATE_DIR", show_default=False, file_okay=False,
    help="Where sequence numbers, sent messages, the order journal and message logs live.")]


def seconds(option: str, minimum: float = 0.0) -> Callable[[str], float]:
    """A ``parser=`` for the duration ``option``: a finite number of seconds at least ``minimum``.

    Click's float range lets nan and inf through (every comparison with nan is false);
    they are usage errors (exit 2) naming the option, not a crash or a wait forever.
    """
    def parse(text: str | float) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < minimum:
            raise typer.BadParameter(f"{str(text)!r} is not a finite number of seconds >= {minimum:g}",
                                     param_hint=f"'{option}'")
        return value

    parse.__name__ = "seconds"
    return parse


Timeout = Annotated[float, typer.Option(
    "--timeout", parser=seconds("--timeout"), metavar="SECONDS", rich_help_panel=CONNECTION,
    help="Seconds to wait for the gateway.")]
Sim = Annotated[bool, typer.Option(
    "--sim", rich_help_panel=CONNECTION,
    help="Start an embedded simulator on a free loopback port and point the command at it.")]
def _output_mode(ctx: typer.Context, param: typer.CallbackParam, value: Mode) -> Mode:
    """``pretty`` is the terminal's default; to a pipe or a file the default is ``compact`` (one
    line per message, what grep and a log want). A mode given with ``-o`` is kept as given."""
    source = ctx.get_parameter_source(param.name or "")
    if value is Mode.PRETTY and source is not None and source.name == "DEFAULT" and not get_env().stdout_isatty:
        return Mode.COMPACT
    return value


Output = Annotated[Mode, typer.Option(
    "--output", "-o", metavar="[pretty|compact|raw|json]", case_sensitive=False, rich_help_panel=OUTPUT,
    callback=_output_mode,
    help="pretty: a panel per message (the default on a terminal); compact: one line per message (the "
         "default to a pipe or a file); raw: tag=value|...; json: JSON Lines, one object per line.")]
Reset = Annotated[bool, typer.Option(
    "--reset", rich_help_panel=CONNECTION,
    help="Log on with ResetSeqNumFlag(141)=Y: both sequence numbers restart at 1 and the gateway can no "
         "longer resend earlier messages. Without it a command continues the stored numbers (141=N) "
         "within the day's rollover period and resets on its first logon after 22:00 UTC.")]
ResetClOrdId = Annotated[bool, typer.Option(
    "--reset-clordid", rich_help_panel=CONNECTION,
    help="Logon with ForceResetClOrdID(5030)=Y: Kraken forgets this session's ClOrdID sequence, and the "
         "generated ClOrdIDs start afresh (emergency only: after a too-high --clordid).")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Print the message that would be sent; send nothing.")]

DEFAULT_TIMEOUT = 10.0

_ENV: Env | None = None


def set_env(env: Env) -> None:
    """Record the process Env (called once by the app callback)."""
    global _ENV
    _ENV = env


def get_env() -> Env:
    """The Env built at start-up (or one built now from the real streams)."""
    global _ENV
    if _ENV is None:
        _ENV = Env.from_system()
    return _ENV
NoCheck = Annotated[bool, typer.Option(
    "--no-check", help="Skip the pre-send check against the cached InstrumentList (tick size, minimum, "
                       "increment, pair status) and send as given.")]
