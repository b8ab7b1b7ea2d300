"""The warm server: an interpreter with the CLI loaded, that forks into the user's commands.

A session holder (``session start``, ``tail``, the REPL, ``logon --hold``) runs one beside
it for as long as it holds the session (:func:`serving`). It imports what a command needs
(Typer and Click with the command tree built, asyncio, the engine, rich), then waits on
``<state dir>/warm/<holder pid>.sock`` (0600 in a 0700 directory; a peer of another uid is
refused). For each ``run`` request (``cli/warm.py`` is the client and holds the protocol's
constants) it checks that the client would run the same code with the same interpreter,
forks, and the child takes on the client's descriptors 0-2, environment, working
directory, umask and argv and runs :func:`krakenfix_cli.cli.app.run` as a cold start
would. The server passes the client's signals on and reports the child's exit status.

It serves only while its holder lives: EOF on its stdin (a pipe whose other end the holder
keeps, closed by the kernel however the holder ends) makes it stop listening and exit
once its last command has ended. Changed code on disk makes it refuse (the client starts
cold) and stop, so a server never runs an older version than the user installed.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from krakenfix_cli.cli import warm

#: Modules a command imports lazily, loaded here once so that no child pays for them.
PRELOAD = (
    "asyncio", "uvloop", "ssl", "decimal", "ctypes", "encodings.idna", "typer._click.decorators",
    "krakenfix_cli.cli.pipe", "krakenfix_cli.session.filestore", "uuid", "rich.console", "rich.text", "rich.table",
    "krakenfix_cli.cli.common", "krakenfix_cli.cli.precheck", "krakenfix_cli.cli.holder_process",
    "krakenfix_cli.client", "krakenfix_cli.ops.session", "krakenfix_cli.ops.send", "krakenfix_cli.ops.live",
    "krakenfix_cli.ops.holder_client", "krakenfix_cli.ops.cancel", "krakenfix_cli.ops.amend",
    "krakenfix_cli.ops.status", "krakenfix_cli.ops.mass_cancel", "krakenfix_cli.ops.replay",
    "krakenfix_cli.ops.logon", "krakenfix_cli.ops.instruments", "krakenfix_cli.ops.precheck",
    "krakenfix_cli.ops.continuity", "krakenfix_cli.kraken.rejects", "krakenfix_cli.render.console",
    "krakenfix_cli.render.compact", "krakenfix_cli.render.pretty", "krakenfix_cli.render.jsonl",
    "krakenfix_cli.settings.config", "krakenfix_cli.settings.credentials", "krakenfix_cli.settings.journal",
    "krakenfix_cli.settings.sim_endpoint", "krakenfix_cli.sim.identity",
)


def _python_env(env: dict[str, str] | os._Environ[str]) -> dict[str, str]:
    """The variables that shape the interpreter at start-up: a fork cannot take on others'."""
    return {k: v for k, v in env.items() if k.startswith("PYTHON") and k != "PYTHONIOENCODING"}


def package_fingerprint() -> str:
    """The installed code as it is on disk now (every module's path, size and mtime)."""
    root = Path(warm.__file__).resolve().parent.parent
    digest = hashlib.blake2b(digest_size=16)
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith((".py", ".json")):
                st = os.stat(os.path.join(directory, name))
                digest.update(f"{directory}/{name}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


@contextlib.contextmanager
def serving(state_dir: Path | None) -> Iterator[None]:
    """Keep a warm server beside this process's session holder while the block runs."""
    usable = hasattr(os, "pidfd_open") and hasattr(socket, "send_fds")
    if state_dir is None or os.environ.get(warm.ENV_SWITCH, "") == "0" or not usable:
        yield
        return
    path = state_dir / warm.DIRECTORY / f"{os.getpid()}.sock"
    read_end, write_end = os.pipe()
    try:
        subprocess.Popen([sys.executable, "-m", "krakenfix_cli.cli.warm_server", str(path)], stdin=read_end,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    except OSError:
        os.close(write_end)
        write_end = -1
    finally:
        os.close(read_end)
    try:
        yield
    finally:
        if write_end >= 0:
            os.close(write_end)  # EOF: it stops taking commands and exits after its last one


@dataclass(frozen=True)
class Stream:
    """How the client's interpreter set up one of its standard streams."""

    encoding: str
    errors: str
    line_buffering: bool
    write_through: bool

    @classmethod
    def parse(cls, obj: object) -> Stream | None:
        if not isinstance(obj, dict):
            return None
        enc, err, line, through = (obj.get(k) for k in ("encoding", "errors", "line_buffering", "write_through"))
        if not (isinstance(enc, str) and isinstance(err, str) and isinstance(line, bool) and isinstance(through, bool)):
            return None
        try:
            import codecs

            codecs.lookup(enc)
            codecs.lookup_error(err)
        except LookupError:
            return None
        return cls(enc, err, line, through)

    def open(self, fd: int, mode: str) -> io.TextIOWrapper:
        """A text stream on ``fd`` as Python's start-up would have made it for this client."""
        raw = io.FileIO(fd, mode, closefd=False)
        buffered: Any = raw if self.write_through and mode == "w" else (
            io.BufferedWriter(raw) if mode == "w" else io.BufferedReader(raw))
        return io.TextIOWrapper(buffered, encoding=self.encoding, errors=self.errors,
                                line_buffering=self.line_buffering, write_through=self.write_through)


@dataclass
class Request:
    """What a client asked: the command, and what the child must take on to be it."""

    argv0: str
    args: list[str]
    cwd: str
    env: dict[str, str]
    umask: int
    streams: list[Stream]
    fds: list[int]


@dataclass
class _Job:
    conn: socket.socket
    buf: bytes = b""
    fds: list[int] = field(default_factory=list)
    pid: int | None = None
    pidfd: int | None = None


def _peer_uid(sock: socket.socket) -> int | None:
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return int(struct.unpack("3i", raw)[1])


def _reply(conn: socket.socket, obj: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):
        conn.sendall(json.dumps(obj, separators=(",", ":")).encode() + b"\n")


def _parse(line: bytes, fds: list[int], python_env: dict[str, str]) -> Request | str:
    """The request, or why it is refused."""
    try:
        obj = json.loads(line.decode("utf-8", "surrogateescape"))
    except ValueError:
        return "not a JSON request"
    if not isinstance(obj, dict) or obj.get("op") != "run" or obj.get("v") != warm.PROTOCOL:
        return "not a run request of this protocol"
    if len(fds) != 3:
        return "a request must carry stdin, stdout and stderr"
    if obj.get("code") != list(warm.fingerprint_inputs()):
        return "another interpreter, version or installation"
    env, args = obj.get("env"), obj.get("args")
    if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
        return "env must map names to strings"
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        return "args must be strings"
    if _python_env(env) != python_env:
        return "another interpreter configuration (PYTHON* variables)"
    streams = [Stream.parse(s) for s in obj.get("streams") or []]
    if len(streams) != 3 or None in streams:
        return "streams must describe stdin, stdout and stderr"
    umask, cwd = obj.get("umask"), obj.get("cwd")
    if not isinstance(umask, int) or not isinstance(cwd, str):
        return "umask and cwd are required"
    return Request(argv0=str(obj.get("argv0") or "krakenfix"), args=args, cwd=cwd, env=env, umask=umask & 0o777,
                   streams=[s for s in streams if s is not None], fds=fds)


class Server:
    """The listening loop (single-threaded, so that it may fork)."""

    def __init__(self, path: Path, parent_fd: int = 0) -> None:
        self.path = path
        self.parent_fd = parent_fd
        "Readable at EOF once the holder is gone (the read end of its pipe; stdin as started)."
        self.pid = os.getpid()
        self.fingerprint = package_fingerprint()
        self.python_env = _python_env(os.environ)
        self.sel = selectors.DefaultSelector()
        self.listener: socket.socket | None = None
        self.jobs: dict[int, _Job] = {}
        "By the connection's file descriptor."
        self.by_pidfd: dict[int, _Job] = {}
        self.closing = False

    def bind(self) -> None:
        directory = self.path.parent
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(directory, 0o700)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # ours by name: the PID of the holder that started this server
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            listener.bind(str(self.path) if len(os.fsencode(self.path)) < 100 else self._short())
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)
        listener.listen(64)
        listener.setblocking(False)
        self.listener = listener
        self.sel.register(listener, selectors.EVENT_READ, "accept")
        self.sel.register(self.parent_fd, selectors.EVENT_READ, "parent")

    def _short(self) -> str:
        fd = os.open(self.path.parent, os.O_RDONLY)
        return f"/proc/self/fd/{fd}/{self.path.name}"

    def stop_listening(self) -> None:
        """Take no more commands; whoever connected and was not started is told so (and starts cold)."""
        self.closing = True
        if self.listener is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()
            self.sel.unregister(self.listener)
            while True:  # the backlog too: a reset would leave a client unsure whether its command ran
                try:
                    conn, _ = self.listener.accept()
                except OSError:
                    break
                _reply(conn, {"type": "refused", "why": "shutting down"})
                conn.close()
            self.listener.close()
            self.listener = None
        for job in [j for j in self.jobs.values() if j.pid is None]:
            _reply(job.conn, {"type": "refused", "why": "shutting down"})
            self._drop(job)

    def serve(self) -> Request | None:
        """Serve until the holder is gone and the last command ended (None), or, in a child, its request."""
        while not (self.closing and not self.by_pidfd):
            for key, _ in self.sel.select():
                what = key.data
                if what == "accept":
                    self._accept()
                elif what == "parent":
                    if not os.read(self.parent_fd, 4096):
                        self.sel.unregister(self.parent_fd)
                        self.stop_listening()
                elif isinstance(what, tuple) and what[0] == "child":
                    self._reap(what[1])
                elif isinstance(what, _Job):
                    request = self._readable(what)
                    if request is not None:
                        return request  # in the child
        return None

    def _accept(self) -> None:
        assert self.listener is not None
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        if _peer_uid(conn) != os.getuid():
            conn.close()
            return
        conn.setblocking(False)
        job = _Job(conn)
        self.jobs[conn.fileno()] = job
        self.sel.register(conn, selectors.EVENT_READ, job)

    def _drop(self, job: _Job) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self.sel.unregister(job.conn)
        self.jobs.pop(job.conn.fileno(), None)
        for fd in job.fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        job.fds = []
        job.conn.close()

    def _readable(self, job: _Job) -> Request | None:
        try:
            if job.pid is None:
                data, fds, _flags, _addr = socket.recv_fds(job.conn, 65536, 3)
                job.fds.extend(fds)
            else:
                data = job.conn.recv(4096)
        except BlockingIOError:
            return None
        except OSError:
            data = b""
        if not data:
            if job.pid is not None:  # the client is gone (killed): so is what it asked for
                with contextlib.suppress(OSError):
                    os.kill(job.pid, signal.SIGTERM)
                with contextlib.suppress(KeyError, ValueError):
                    self.sel.unregister(job.conn)
            else:
                self._drop(job)
            return None
        job.buf += data
        if job.pid is None:
            if b"\n" not in job.buf:
                if len(job.buf) > warm.MAX_LINE:
                    _reply(job.conn, {"type": "refused", "why": "request too long"})
                    self._drop(job)
                return None
            line, _, job.buf = job.buf.partition(b"\n")
            return self._start(job, line)
        while b"\n" in job.buf:
            line, _, job.buf = job.buf.partition(b"\n")
            self._relay(job, line)
        if len(job.buf) > warm.MAX_LINE:
            job.buf = b""
        return None

    def _relay(self, job: _Job, line: bytes) -> None:
        try:
            obj = json.loads(line)
            signum = obj.get("signal") if isinstance(obj, dict) else None
        except ValueError:
            return
        if job.pid is not None and signum in {int(s) for s in warm.RELAYED}:
            with contextlib.suppress(OSError):
                os.kill(job.pid, signum)

    def _start(self, job: _Job, line: bytes) -> Request | None:
        why: str | None = None
        stale = False
        if self.closing:
            why = "shutting down"
        elif package_fingerprint() != self.fingerprint:
            why, stale = "the code on disk changed since this server started", True
        parsed = _parse(line, job.fds, self.python_env) if why is None else why
        if isinstance(parsed, str):
            _reply(job.conn, {"type": "refused", "why": parsed})
            self._drop(job)
            if stale:
                self.stop_listening()
            return None
        pid = os.fork()
        if pid == 0:
            self._become_child(job)
            return parsed
        for fd in job.fds:
            os.close(fd)
        job.fds = []
        job.pid = pid
        job.pidfd = os.pidfd_open(pid)
        self.by_pidfd[job.pidfd] = job
        self.sel.register(job.pidfd, selectors.EVENT_READ, ("child", job.pidfd))
        _reply(job.conn, {"type": "started", "pid": pid})
        while b"\n" in job.buf:  # a Ctrl-C the client sent right behind its request
            rest, _, job.buf = job.buf.partition(b"\n")
            self._relay(job, rest)
        return None

    def _reap(self, pidfd: int) -> None:
        job = self.by_pidfd.pop(pidfd)
        with contextlib.suppress(KeyError, ValueError):
            self.sel.unregister(pidfd)
        os.close(pidfd)
        assert job.pid is not None
        _, status = os.waitpid(job.pid, 0)
        code = os.waitstatus_to_exitcode(status)
        _reply(job.conn, {"type": "exit", "status": code if code >= 0 else 128 - code})
        self._drop(job)

    def _become_child(self, job: _Job) -> None:
        """In the child: end with the server, and let go of everything of its but this request's descriptors.

        A command whose server is killed is stopped with it (SIGTERM), as a one-shot command
        is when its own process is: its client has already said so and exited 4.
        """
        _end_with_parent(self.pid)
        for other in list(self.jobs.values()):
            if other is not job:
                other.conn.close()
                for fd in other.fds:
                    with contextlib.suppress(OSError):
                        os.close(fd)
        for pidfd in self.by_pidfd:
            with contextlib.suppress(OSError):
                os.close(pidfd)
        if self.listener is not None:
            self.listener.close()
        self.sel.close()
        job.conn.close()


def _end_with_parent(parent: int) -> None:
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    if os.getppid() != parent:  # it died before that took hold
        os._exit(128 + int(signal.SIGTERM))


_PR_SET_PDEATHSIG = 1


def become(req: Request) -> None:
    """Take on the client's descriptors, environment, directory, umask, argv and signals."""
    for target, fd in enumerate(req.fds):
        os.dup2(fd, target)
    for fd in req.fds:
        if fd > 2:
            os.close(fd)
    with contextlib.suppress(OSError):
        os.chdir(req.cwd)
    os.environ.clear()
    os.environ.update(req.env)
    os.umask(req.umask)
    sys.argv = [req.argv0, *req.args]
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGCHLD):
        signal.signal(sig, signal.SIG_DFL)
    _KEEP.extend((sys.stdin, sys.stdout, sys.stderr))  # theirs would close 0-2 when collected
    stdin, stdout, stderr = req.streams
    for name, stream, fd, mode in (("stdin", stdin, 0, "r"), ("stdout", stdout, 1, "w"), ("stderr", stderr, 2, "w")):
        made = stream.open(fd, mode)
        setattr(sys, name, made)
        setattr(sys, f"__{name}__", made)


_KEEP: list[object] = []


def _preload() -> None:
    import importlib

    from krakenfix_cli.cli import app

    app.prebuild([name.replace("-", "_") for name in warm.COMMANDS])
    for name in PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    from krakenfix_cli import render

    render.default_dictionary()  # the FIX 4.4 + Kraken tables, cached for every child
    import gc

    gc.collect()
    gc.freeze()  # what is loaded stays out of the children's collections: they neither scan nor copy it


def main(argv: list[str]) -> int:
    """``python -m krakenfix_cli.cli.warm_server SOCKET``: what :func:`serving` starts."""
    if len(argv) != 1:
        return 2
    try:
        _preload()
        server = Server(Path(argv[0]))
        server.bind()
    except Exception:  # a server that cannot start leaves its holder's commands to start cold
        return 1
    request = server.serve()
    if request is None:
        return 0
    become(request)
    from krakenfix_cli.cli.app import run

    return run(request.args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
