"""Where a running ``krakenfix sim`` can be reached, so ``--profile sim`` needs no setup.

``krakenfix sim`` writes ``<state dir>/sim-endpoint.json`` (mode 0600) with its PID, port,
TLS CA file and demo credentials once it listens, and removes it when it stops; the ``sim``
profiles read it. The file belongs to the simulator whose PID it names: a second simulator
neither replaces it while that process lives nor removes it. The secret in it is the
simulator's own throw-away demo secret, never a Kraken one. The simulator's lasting identity
(CA, demo credentials) lives in :func:`identity_dir`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from krakenfix_cli.sim.identity import identity_dir, pid_alive

__all__ = ["CorruptEndpoint", "Endpoint", "identity_dir", "load", "owner_pid", "path", "remove", "write"]

FILE_NAME = "sim-endpoint.json"


class CorruptEndpoint(Exception):
    """The endpoint file exists but is not one a simulator wrote (its path and what is wrong)."""

    def __init__(self, path: Path, why: str) -> None:
        super().__init__(f"{path}: {why}")
        self.path = path
        self.why = why


@dataclass(frozen=True)
class Endpoint:
    """A running simulator as its endpoint file describes it."""

    pid: int | None
    host: str
    port: int
    tls: bool
    ca_file: str | None
    api_key: str
    api_secret: str
    sender: str
    derivatives_sender: str


def path(state_dir: Path) -> Path:
    """The endpoint file under ``state_dir``."""
    return state_dir / FILE_NAME


def write(state_dir: Path, info: dict[str, Any]) -> Path | int:
    """Record this process's simulator (0600, replaced atomically); returns the file.

    When another live simulator owns the file, nothing is written and its PID is returned.
    """
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = path(state_dir)
    owner = owner_pid(state_dir)
    if owner is not None and owner != os.getpid() and pid_alive(owner):
        return owner
    tmp = target.with_name(f".{FILE_NAME}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({**info, "pid": os.getpid()}, fh)
    os.replace(tmp, target)
    return target


def owner_pid(state_dir: Path) -> int | None:
    """The PID recorded in the endpoint file, or None (no file, or unreadable)."""
    try:
        data = json.loads(path(state_dir).read_bytes())
    except (OSError, ValueError):
        return None
    pid = data.get("pid") if isinstance(data, dict) else None
    return pid if isinstance(pid, int) and not isinstance(pid, bool) and pid > 0 else None


def load(state_dir: Path) -> Endpoint | None:
    """The running simulator's endpoint; None when there is no file (or its process is gone).

    Raises :class:`CorruptEndpoint` when the file is there but is not one a simulator wrote.
    """
    target = path(state_dir)
    try:
        raw = target.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CorruptEndpoint(target, exc.strerror or str(exc)) from None
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise CorruptEndpoint(target, "not JSON") from None
    if not isinstance(data, dict):
        raise CorruptEndpoint(target, "not a JSON object")
    for key in ("host", "api_key", "api_secret", "sender", "derivatives_sender"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise CorruptEndpoint(target, f"{key!r} missing or not a string")
    port = data.get("port")
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise CorruptEndpoint(target, "'port' is not a port number")
    if not isinstance(data.get("tls"), bool):
        raise CorruptEndpoint(target, "'tls' is not true or false")
    ca_file = data.get("ca_file")
    if ca_file is not None and not isinstance(ca_file, str):
        raise CorruptEndpoint(target, "'ca_file' is not a path")
    pid = owner_pid(state_dir)
    if pid is not None and not pid_alive(pid):
        return None  # a simulator that died without cleaning up: nothing is running
    return Endpoint(pid, data["host"], port, data["tls"], ca_file, data["api_key"], data["api_secret"],
                    data["sender"], data["derivatives_sender"])


def remove(state_dir: Path) -> None:
    """Forget the endpoint, only if this process's simulator still owns it."""
    if owner_pid(state_dir) == os.getpid():
        path(state_dir).unlink(missing_ok=True)
