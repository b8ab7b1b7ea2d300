"""Warm start: run a one-shot command in a fork of an interpreter that has already loaded it.

A command through a session holder spends most of its time starting up: the interpreter,
then Typer and Click, asyncio and the engine's modules (about 110 ms here) before the
holder's own few milliseconds. So while a holder runs, it keeps a *warm server* beside it
(``cli/warm_server.py``: a process that has imported all of that and waits on a Unix
socket at ``<state dir>/warm/<pid>.sock``). This module is the other end, and all that a
warm command loads: it hands the server its argv, environment, working directory, umask
and its own stdin, stdout and stderr (the descriptors themselves, SCM_RIGHTS), the
server forks a child that becomes this command and runs it exactly as a cold start would,
and this process relays signals and exits with the child's status. The shape is
Mercurial's chg (a client that passes its file descriptors to a forking command server).

Nothing here may import beyond the standard library and ``settings.paths``: a warm
command's start-up is this module. A server that is gone, stale (other code, another
interpreter) or refuses makes the command start cold, which is always correct; once a
server has said ``started`` the command is the child's, and is never run a second time.
``KRAKENFIX_WARM=0`` turns warm starts off.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
from pathlib import Path

TYPE_CHECKING = False  # not typing's: importing typing costs this module a quarter of its start-up
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import FrameType
    from typing import Any

    _Handler = Callable[[int, FrameType | None], Any] | int | None

#: Commands that may start warm: the short ones that talk to the gateway (through a holder
#: when one serves their session). Long-running and terminal-owning ones (tail, book, the
#: REPL, session) start cold: they want job control and the terminal to themselves.
COMMANDS = frozenset({"logon", "send", "cancel", "amend", "status", "orders", "mass-cancel", "replay", "instruments"})
ENV_SWITCH = "KRAKENFIX_WARM"
DIRECTORY = "warm"
#: The longest protocol line either side accepts (a request carries the whole environment).
MAX_LINE = 1 << 20
#: Signals the client passes on to the command (it is what the terminal and the shell signal).
RELAYED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
#: The exit status when the server vanished after it started the command (as a holder gone mid-request).
LOST = 4
PROTOCOL = 1


def fingerprint_inputs() -> tuple[str, str, str]:
    """What a server and its clients must share: the interpreter, the version and the installed package."""
    import krakenfix_cli

    return sys.executable, krakenfix_cli.__version__, os.path.dirname(krakenfix_cli.__file__ or "")


def _command(args: list[str]) -> str | None:
    for arg in args:
        if arg == "--debug":
            continue
        return arg if arg in COMMANDS else None
    return None


def _request(args: list[str]) -> bytes:
    streams = []
    for stream in (sys.stdin, sys.stdout, sys.stderr):  # as this interpreter set them up (-u, PYTHONUNBUFFERED)
        streams.append({"encoding": getattr(stream, "encoding", None) or "utf-8",
                        "errors": getattr(stream, "errors", None) or "strict",
                        "line_buffering": bool(getattr(stream, "line_buffering", False)),
                        "write_through": bool(getattr(stream, "write_through", False))})
    umask = os.umask(0o077)
    os.umask(umask)
    obj = {"op": "run", "v": PROTOCOL, "argv0": sys.argv[0] if sys.argv else "krakenfix", "args": args,
           "cwd": os.getcwd(), "env": dict(os.environ), "umask": umask, "streams": streams,
           "code": list(fingerprint_inputs())}
    return json.dumps(obj, separators=(",", ":")).encode("utf-8", "surrogateescape") + b"\n"


class _Lines:
    """Newline-delimited JSON objects from a socket, bounded."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""

    def next(self) -> dict[str, object] | None:
        while b"\n" not in self.buf:
            try:
                chunk = self.sock.recv(65536)
            except OSError:  # a reset: the server is gone
                return None
            if not chunk or len(self.buf) > MAX_LINE:
                return None
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        try:
            obj = json.loads(line)
        except ValueError:
            return None
        return obj if isinstance(obj, dict) else None


def _servers(state: Path) -> list[Path]:
    try:
        names = sorted(os.listdir(state / DIRECTORY))
    except OSError:
        return []
    return [state / DIRECTORY / n for n in names if n.endswith(".sock")]


def _connect(path: Path) -> socket.socket | None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(1.0)
        sock.connect(str(path) if len(os.fsencode(path)) < 100 else _short(path))
        sock.settimeout(None)
        return sock
    except OSError:
        sock.close()
        return None


def _short(path: Path) -> str:
    fd = os.open(path.parent, os.O_RDONLY)  # kept open for the connect only; closed with the process
    return f"/proc/self/fd/{fd}/{path.name}"


def run(args: list[str]) -> int | None:
    """Run ``args`` in a warm server's fork and return its exit status; None: start cold."""
    if os.environ.get(ENV_SWITCH, "") == "0" or "_KRAKENFIX_COMPLETE" in os.environ or _command(args) is None:
        return None
    from krakenfix_cli.settings import paths

    try:
        candidates = _servers(paths.state_dir_from_args(args))
    except (OSError, ValueError):
        return None
    if not candidates:
        return None
    try:
        request = _request(args)
    except (OSError, ValueError):  # a working directory that is gone, an environment JSON cannot carry
        return None
    for path in candidates:
        sock = _connect(path)
        if sock is None:
            continue
        # From the request on, a Ctrl-C is the command's (the server passes it on once it runs).
        previous = {sig: signal.signal(sig, _relay_to(sock)) for sig in RELAYED}
        try:
            socket.send_fds(sock, [request], [0, 1, 2])
        except OSError:
            _restore(previous)
            sock.close()
            continue
        lines = _Lines(sock)
        first = lines.next()
        if first is None:  # it may have forked before it went away: the command is not run twice
            return _lost("the warm start server closed the connection before it said whether the command runs")
        if first.get("type") != "started":
            _restore(previous)
            sock.close()
            continue  # refused (stale code, another interpreter, shutting down): the next, or cold
        return _follow(lines)
    return None


def _relay_to(sock: socket.socket) -> Callable[[int, FrameType | None], None]:
    def relay(signum: int, _frame: FrameType | None) -> None:
        try:
            sock.sendall(json.dumps({"op": "signal", "signal": signum}).encode() + b"\n")
        except OSError:
            pass

    return relay


def _restore(previous: dict[signal.Signals, _Handler]) -> None:
    for sig, handler in previous.items():
        if handler is not None:
            signal.signal(sig, handler)


def _follow(lines: _Lines) -> int:
    """Wait (relaying signals to the child) until the server reports how the command ended."""
    done = lines.next()
    if done is None or done.get("type") != "exit" or not isinstance(done.get("status"), int):
        return _lost("the warm start server went away while the command ran, and the command with it")
    status = done["status"]
    assert isinstance(status, int)
    return status


def _lost(text: str) -> int:
    try:
        sys.stderr.write(f"krakenfix: error: {text}; check `krakenfix orders --refresh` before sending again\n")
        sys.stderr.flush()
    except OSError:
        pass
    return LOST
