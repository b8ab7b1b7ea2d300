"""``krakenfix logon``: log on, show each step with its timing, log out (or ``--hold``)."""

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
    ResetClOrdId,
    SenderCompId,
    Sim,
    StateDir,
    TargetCompId,
    Timeout,
    Tls,
    seconds,
)
from krakenfix_cli.render import Mode

HELP = """Connect, log on and report each step: TCP, TLS (version, certificate), the Logon round
trip, the agreed heartbeat, and the local clock's skew against Kraken's ±5 s nonce window.

On refusal it says which part failed (bad API key, bad signature, nonce outside the window,
CompID, or a silent close: IP whitelisting). --hold keeps the session up with heartbeats
until Ctrl-C. Exits 0 logged on; 3 logon refused; 4 cannot connect, TLS failure or time-out.
"""


def logon(
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
    output: Output = Mode.PRETTY,
    reset: Reset = False,
    reset_clordid: ResetClOrdId = False,
    hold: Annotated[bool, typer.Option("--hold", help="Stay logged on (heartbeats) until Ctrl-C.")] = False,
    duration: Annotated[float | None, typer.Option(
        "--duration", parser=seconds("--duration"), show_default=False,
        help="With --hold: log out after this many seconds.")] = None,
) -> None:
    """Log on and report each step."""
    from krakenfix_cli.cli.common import flags_from, resolve_target, run_stoppable
    from krakenfix_cli.cli.exit import ExitStatus
    from krakenfix_cli.cli.options import get_env
    from krakenfix_cli.ops.logon import logon as do_logon

    env = get_env()
    flags = flags_from(profile=profile, host=host, port=port, tls=tls, insecure=insecure,
                       sender_comp_id=sender_comp_id, target_comp_id=target_comp_id, api_key=api_key,
                       state_dir=state_dir, ca_file=ca_file)
    target = resolve_target(flags, sim=sim)
    from krakenfix_cli.cli.common import make_reporter, production_banner, with_clordid_reset, with_continuity

    target = with_continuity(with_clordid_reset(target, reset_clordid), reset)

    production_banner(env, target)
    reporter = make_reporter(env, output)
    if target.continuity is not None:  # the diagnostic command says why it resets or continues
        reporter.note(f"sequence numbers: {'141=Y' if target.continuity.reset else '141=N'}, "
                      f"{target.continuity.reason}")
    result = run_stoppable(lambda stop: do_logon(
        target.spec, reporter, timeout=timeout, hold=hold or duration is not None, hold_for=duration, stop=stop,
        embedded_sim=target.embedded_sim))
    reporter.writer.flush()
    _print_result(env, Mode(output), result, hold)
    if result.ok:
        raise typer.Exit(ExitStatus.OK)
    from krakenfix_cli.render.console import write_error

    if result.stage == "logon":
        from krakenfix_cli.cli.common import logon_refused_line

        write_error(env, logon_refused_line(result.reason, result.diagnosis))
        raise typer.Exit(ExitStatus.LOGON_REFUSED)
    write_error(env, f"{result.diagnosis}: {result.reason}; {result.advice}")
    raise typer.Exit(ExitStatus.CONNECT_FAILED)


def _print_result(env: object, mode: Mode, result: object, hold: bool) -> None:
    from krakenfix_cli.cli.common import emit_json, emit_line
    from krakenfix_cli.ops.outcomes import LogonResult
    from krakenfix_cli.render.env import Env

    assert isinstance(env, Env) and isinstance(result, LogonResult)
    if mode is Mode.JSON:
        emit_json(env, {
            "event": "logon",
            "ok": result.ok,
            "stage": result.stage or None,
            "diagnosis": result.diagnosis or None,
            "reason": result.reason or None,
            "clock_skew_ms": None if result.clock_skew_ms is None else round(result.clock_skew_ms, 1),
            "nonce_window_ms": result.nonce_window_ms,
            "heartbeat": result.heartbeat,
            "steps": [{"step": s.name, "ok": s.ok, "detail": s.detail,
                       "ms": None if s.ms is None else round(s.ms, 2)} for s in result.steps],
        })
        return
    if hold and result.ok and not result.via_holder:
        emit_line(env, f"held for {result.held_for:.1f} s; logged out", "dim")
        return
    width = max((len(s.name) for s in result.steps), default=0)
    for s in result.steps:
        mark = "ok  " if s.ok else "FAIL"
        ms = f"  {s.ms:.1f} ms" if s.ms is not None else ""
        emit_line(env, f"{mark} {s.name.ljust(width)}  {s.detail}{ms}", "ok" if s.ok else "bad")
    if result.ok:
        emit_line(env, "logged on (the session holder stays logged on)" if result.via_holder
                  else "logged on; logged out", "ok")


def register(app: typer.Typer) -> None:
    """Add ``logon`` to ``app``."""
    app.command("logon", help=HELP)(logon)
