"""``krakenfix repl``: the interactive mode (also what bare ``krakenfix`` starts on a TTY).

Resolves the connection like every trading command (``cli.common.resolve_target``), then
hands the spec, the order journal and the Env to ``repl.app.run_repl``. prompt_toolkit
is imported only inside the command, so ``krakenfix --help`` stays fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from krakenfix_cli.cli.options import (
    DEFAULT_TIMEOUT,
    ApiKey,
    CaFile,
    Host,
    Insecure,
    Output,
    Port,
    Profile,
    SenderCompId,
    Sim,
    StateDir,
    TargetCompId,
    Timeout,
    Tls,
)
from krakenfix_cli.render import Mode

HELP = """Open an interactive session: one live FIX session, every message decoded.

Orders in a short form (`buy 0.01 BTC/USD @ 50000 post-only`, `sell 1 ETH/USD market ioc`)
or with options (`order --side buy --qty 0.01 --symbol BTC/USD --price 50000`); `cancel 1`
cancels by the index `orders` shows; `raw 35=H|...` sends any message. Tab completes
commands, tag names, enum values, symbols and ClOrdIDs. The toolbar shows the session
state, sequence numbers, the last inbound message and the countdown to the 22:00 UTC
rollover; the REPL reconnects through rollovers and dropped sockets on its own.
`help` inside lists every command.
"""

SIM_PANEL = "Embedded simulator"


def repl(
    profile: Profile = None,
    host: Host = None,
    port: Port = None,
    tls: Tls = None,
    insecure: Insecure = False,
    ca_file: CaFile = None,
    sender_comp_id: SenderCompId = None,
    target_comp_id: TargetCompId = None,
    api_key: ApiKey = None,
    state_dir: StateDir = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
    sim: Sim = False,
    sim_rollover_every: Annotated[float | None, typer.Option(
        "--sim-rollover-every", metavar="SECONDS", min=0.001, rich_help_panel=SIM_PANEL, show_default=False,
        help="With --sim: roll the simulator's sessions over every N seconds (to watch a reconnect).")] = None,
    sim_refusal_window: Annotated[float | None, typer.Option(
        "--sim-refusal-window", metavar="SECONDS", min=0.0, rich_help_panel=SIM_PANEL, show_default=False,
        help="With --sim: how long logons are refused after a rollover (default 30, or 1 with "
             "--sim-rollover-every).")] = None,
    output: Output = Mode.PRETTY,
    history: Annotated[bool, typer.Option(
        "--history/--no-history", help="Keep the (redacted) command history under the state dir.")] = True,
) -> None:
    """Interactive REPL on one live FIX session."""
    from krakenfix_cli.cli import common
    from krakenfix_cli.cli.errors import CliError
    from krakenfix_cli.cli.options import get_env
    from krakenfix_cli.cli.warm_server import serving
    from krakenfix_cli.kraken.profiles import MD_SUFFIX
    from krakenfix_cli.repl.app import ReplOptions, run_repl
    from krakenfix_cli.settings import paths
    from krakenfix_cli.transport import loop

    env = get_env()
    if not (env.stdin_isatty and env.stdout_isatty):
        raise CliError("the REPL needs a terminal (stdin and stdout)",
                       "use `krakenfix send`, `cancel` or `tail` in scripts")
    if (sim_rollover_every is not None or sim_refusal_window is not None) and not sim:
        raise CliError("--sim-rollover-every/--sim-refusal-window apply only with --sim", "add --sim")
    target = common.resolve_target(common.flags_from(
        profile=profile, host=host, port=port, tls=tls, insecure=insecure, sender_comp_id=sender_comp_id,
        target_comp_id=target_comp_id, api_key=api_key, state_dir=state_dir, ca_file=ca_file), sim=sim)
    target = common.with_continuity(target, False)
    common.production_banner(env, target)
    instruments_from = None
    if target.settings is not None and not target.embedded_sim and not target.spec.market_data:
        # The profile's market-data twin lists the instruments (same host and SenderCompID).
        import contextlib

        from krakenfix_cli.ops.instruments import market_data_twin

        with contextlib.suppress(Exception):  # no twin (a custom profile): the built-in list
            twin = common.resolve_target(common.flags_from(
                profile=target.settings.profile + MD_SUFFIX, host=host, port=None, tls=tls, insecure=insecure,
                sender_comp_id=sender_comp_id, target_comp_id=None, api_key=None, state_dir=state_dir,
                ca_file=ca_file),
                sim=False, need_credentials=False)
            instruments_from = market_data_twin(twin.spec)
    window = sim_refusal_window
    if window is None and sim_rollover_every is not None:
        window = min(1.0, sim_rollover_every / 2)
    options = ReplOptions(
        spec=target.spec,
        ledger=common.ledger_for(target),
        env=env,
        output=Mode(output).value,
        timeout=timeout,
        embedded_sim=target.embedded_sim,
        sim_rollover_every=sim_rollover_every,
        sim_refusal_window=window,
        sim_tls=True if tls is None else tls,
        history_path=paths.history_file(target.state_dir) if history else None,
        instruments_from=instruments_from,
        beside=serving,
    )
    status = loop.run(run_repl(options))
    raise typer.Exit(status)


def register(app: typer.Typer) -> None:
    """Add ``repl`` to the app."""
    app.command("repl", help=HELP)(repl)


if __name__ == "__main__":  # `python -m krakenfix_cli.cli.repl` before `repl` is in cli.app.COMMANDS
    import sys

    from krakenfix_cli.cli import app as cli_app

    if "repl" not in cli_app.COMMANDS:
        cli_app.COMMANDS = (*cli_app.COMMANDS, "repl")
    sys.exit(cli_app.run(["repl", *sys.argv[1:]]))
