"""The session holder as a process: start it detached, find the running ones, stop one.

``session start`` re-runs itself with ``--foreground`` in a new session (no terminal),
its output in ``holder.log`` beside the socket, and returns once the holder answers on
its socket, or with the child's own exit status and last line when it could not log on.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from krakenfix_cli.cli.exit import ExitStatus
from krakenfix_cli.client_types import ClientSpec
from krakenfix_cli.ops import holder_client
from krakenfix_cli.ops.holder_wire import SOCKET_NAME, conn_from, socket_path
from krakenfix_cli.ops.outcomes import ConnRef
from krakenfix_cli.render.console import write_error, write_note
from krakenfix_cli.render.env import Env
from krakenfix_cli.render.escape import escape_text
from krakenfix_cli.transport import clock, loop

LOG_NAME = "holder.log"


def _ask(path: Path, op: str, timeout: float = 2.0) -> dict[str, Any] | None:
    return loop.run(holder_client.ask_socket(path, op, timeout))


def detach(env: Env, spec: ClientSpec, timeout: float) -> int:
    """Start ``krakenfix session start --foreground`` in the background; its exit status or 0 once it holds."""
    path = socket_path(spec)
    assert path is not None
    hello = _ask(path, "hello")
    if hello is not None:
        write_note(env, f"already held by PID {hello.get('pid')} ({hello.get('command')}); nothing to do")
        return int(ExitStatus.OK)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    log_path = path.parent / LOG_NAME
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    argv = [a for a in sys.argv[1:] if a != "--foreground"]
    cmd = [sys.executable, "-m", "krakenfix_cli.cli.entry", *argv, "--foreground"]
    try:
        child = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=fd, stderr=fd, start_new_session=True,
                                 env={**os.environ, "NO_COLOR": "1"}, close_fds=True)
    finally:
        os.close(fd)
    deadline = clock.monotonic() + timeout + 5.0
    while clock.monotonic() < deadline:
        code = child.poll()
        if code is not None:
            write_error(env, f"the session holder did not start: {_last_line(log_path)} (log: {log_path})")
            return code or int(ExitStatus.INTERNAL_ERROR)
        hello = _ask(path, "hello", 0.5)
        if hello is not None:
            write_note(env, f"holding {hello.get('sender')}→{hello.get('target')} at {hello.get('host')}:"
                            f"{hello.get('port')} in PID {hello.get('pid')} (log: {log_path}); "
                            "`krakenfix session stop` ends it")
            return int(ExitStatus.OK)
        time.sleep(0.05)
    write_error(env, f"the session holder (PID {child.pid}) did not answer within {timeout + 5:g} s; "
                     f"see {log_path}")
    return int(ExitStatus.CONNECT_FAILED)


def _last_line(path: Path) -> str:
    try:
        lines = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return "no log"
    return escape_text(lines[-1][-500:]) if lines else "no output"


def held_sessions(state_dir: Path) -> list[dict[str, Any]]:
    """The status of every holder answering under ``state_dir`` (stale sockets skipped)."""
    out = []
    for path in sorted((state_dir / "sessions").glob(f"*/{SOCKET_NAME}")):
        status = _ask(path, "status")
        if status is not None and status.get("type") == "status":
            out.append(status)
    return out


def held_connections(state_dir: Path) -> list[ConnRef]:
    """The live connections of every logged-on holder under ``state_dir`` (what an F goes out on)."""
    return [conn_from(s.get("conn")) for s in held_sessions(state_dir) if s.get("connected")]


class StopRefused(Exception):
    """The holder will not stop on request (a running tail or REPL); the text says where to end it."""


def stop_path(path: Path, timeout: float) -> int | None:
    """Ask the holder at ``path`` to stop and wait until its socket is gone; its PID, or None."""
    answer = _ask(path, "stop")
    if answer is not None and answer.get("type") == "error":
        raise StopRefused(str(answer.get("text") or "the holder refused to stop"))
    if answer is None or answer.get("type") != "stopping":
        return None
    deadline = clock.monotonic() + timeout
    while path.exists() and clock.monotonic() < deadline:
        time.sleep(0.05)
    pid = answer.get("pid")
    return pid if isinstance(pid, int) else 0


def stop_holder(spec: ClientSpec, timeout: float) -> int | None:
    """Stop ``spec``'s holder; its PID, or None when none serves the session."""
    path = socket_path(spec)
    return None if path is None else stop_path(path, timeout)
