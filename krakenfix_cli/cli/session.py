"""``krakenfix session start|status|stop``: hold one live session that every other command uses."""

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
    Reset,
    SenderCompId,
    StateDir,
    TargetCompId,
    Timeout,
    Tls,
)
from krakenfix_cli.render import Mode

HELP = """Hold one live FIX session that every other command goes through.

Kraken takes one logon per CompID pair, and OrderCancelRequest(F), mass cancel 530=1/530=6,
cancel-on-disconnect and resends reach only the live session. A holder logs on once,
reconnects through drops (141=N) and the daily rollover (141=Y), and serves the session on
a Unix socket in its state directory (0700; the socket 0600; other users refused). While
one runs, `send`, `cancel`, `amend`, `status`, `mass-cancel`, `replay`, `logon` and
`orders --refresh` of that profile go through it (one stderr line says so); `tail` and the
REPL hold their session the same way while they run.

\b
  krakenfix session start --profile uat     # detaches; --foreground stays in the terminal
  krakenfix session status                  # every held session: PID, CompIDs, seqs, open orders
  krakenfix session stop --profile uat      # logs out and ends the holder
"""

app = typer.Typer(help=HELP, no_args_is_help=True, rich_markup_mode=None)


@app.command("start", help="Log on and hold the session (detached unless --foreground).")
def start(
    foreground: Annotated[bool, typer.Option(
        "--foreground", help="Stay in the terminal (Ctrl-C logs out) instead of detaching.")] = False,
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
    reset: Reset = False,
) -> None:
    """Hold the session."""
    from krakenfix_cli.cli import common
    from krakenfix_cli.cli.options import get_env

    env = get_env()
    target = common.resolve_target(common.flags_from(
        profile=profile, host=host, port=port, tls=tls, insecure=insecure, sender_comp_id=sender_comp_id,
        target_comp_id=target_comp_id, api_key=api_key, state_dir=state_dir, ca_file=ca_file), sim=False)
    common.production_banner(env, target)
    if not foreground:  # the holder decides 141 itself, from its store, once it runs
        from krakenfix_cli.cli.holder_process import detach

        raise typer.Exit(detach(env, target.spec, timeout))
    from krakenfix_cli.ops.holder import hold_session
    from krakenfix_cli.render.console import write_note

    target = common.with_continuity(target, reset)
    reporter = common.make_reporter(env, Mode.COMPACT)
    ledger = common.ledger_for(target)
    from krakenfix_cli.cli.warm_server import serving

    why = common.run_stoppable(lambda stop: hold_session(target.spec, reporter, ledger, stop, timeout=timeout,
                                                         beside=serving))
    reporter.writer.flush()
    write_note(env, f"session holder ended: {why}")


@app.command("status", help="Every held session under the state dir: PID, CompIDs, connection, seqs, open orders.")
def status(state_dir: StateDir = None, output: Output = Mode.PRETTY) -> None:
    """List the holders."""
    from krakenfix_cli.cli import common
    from krakenfix_cli.cli.holder_process import held_sessions
    from krakenfix_cli.cli.options import get_env
    from krakenfix_cli.kraken.builders import side_word
    from krakenfix_cli.settings import paths

    env = get_env()
    found = held_sessions(paths.state_dir(state_dir))
    if Mode(output) is Mode.JSON:
        for obj in found:
            common.emit_json(env, obj)
        return
    if not found:
        common.emit_line(env, "no session is held; `krakenfix session start` holds one")
        return
    for obj in found:
        orders = obj.get("open_orders") or []
        state = f"logged on since {obj.get('connected_since')}" if obj.get("connected") else "reconnecting"
        common.emit_line(env, f"PID {obj.get('pid')}  {obj.get('command')}  profile {obj.get('profile') or '-'}  "
                              f"{obj.get('sender')}→{obj.get('target')} at {obj.get('host')}:{obj.get('port')}  "
                              f"{state}  seq out {obj.get('seq_out')} in {obj.get('seq_in')}  "
                              f"{len(orders)} open order(s) on this connection", "ok")
        for o in orders:
            common.emit_line(env, f"    {o.get('latest_clordid')}  {o.get('order_id') or '-'}  {o.get('symbol')}  "
                                  f"{side_word(str(o.get('side') or ''))}  {o.get('state')}")


@app.command("stop", help="Log out and end the holder of a session (or --all).")
def stop(
    all_: Annotated[bool, typer.Option("--all", help="Stop every holder under the state dir.")] = False,
    profile: Profile = None,
    host: Host = None,
    port: Port = None,
    sender_comp_id: SenderCompId = None,
    target_comp_id: TargetCompId = None,
    state_dir: StateDir = None,
    timeout: Timeout = DEFAULT_TIMEOUT,
) -> None:
    """Stop a holder."""
    from krakenfix_cli.cli import common
    from krakenfix_cli.cli.errors import CliError
    from krakenfix_cli.cli.exit import ExitStatus
    from krakenfix_cli.cli.holder_process import StopRefused, stop_holder, stop_path
    from krakenfix_cli.cli.options import get_env
    from krakenfix_cli.ops.holder_wire import socket_path
    from krakenfix_cli.settings import paths

    env = get_env()
    if all_:
        sessions = sorted((paths.state_dir(state_dir) / "sessions").glob("*/holder.sock"))
        stopped, refused = 0, []
        for p in sessions:
            try:
                stopped += stop_path(p, timeout) is not None
            except StopRefused as exc:
                refused.append(str(exc))
        common.emit_line(env, f"stopped {stopped} session holder(s)", "ok")
        for text in refused:
            common.emit_line(env, f"not stopped: {text}", "warn")
        return
    target = common.resolve_target(common.flags_from(
        profile=profile, host=host, port=port, tls=None, insecure=False, sender_comp_id=sender_comp_id,
        target_comp_id=target_comp_id, api_key=None, state_dir=state_dir, ca_file=None), sim=False,
        need_credentials=False)
    path = socket_path(target.spec)
    try:
        pid = stop_holder(target.spec, timeout) if path is not None else None
    except StopRefused as exc:
        raise CliError(str(exc), "a `krakenfix session` holder is the one `session stop` ends",
                       ExitStatus.REJECTED) from None
    if pid is None:
        common.emit_line(env, f"no holder serves {target.describe()}", "warn")
        raise typer.Exit(ExitStatus.REJECTED)
    common.emit_line(env, f"stopped the session holder (PID {pid}) of {target.describe()}", "ok")


def register(parent: typer.Typer) -> None:
    """Add ``session`` to ``parent``."""
    parent.add_typer(app, name="session", help=HELP)

