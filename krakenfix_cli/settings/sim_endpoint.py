"""Where a running ``krakenfix sim`` can be reached, so ``--profile sim`` needs no setup.

``krakenfix sim`` writes ``<state dir>/sim-endpoint.json`` (mode 0600) with its port, TLS
CA file and the demo credentials it generated, and removes it when it stops; the ``sim``
profiles read it. The secret in it is the simulator's own throw-away demo secret, never
a Kraken one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

FILE_NAME = "sim-endpoint.json"


def path(state_dir: Path) -> Path:
    """The endpoint file under ``state_dir``."""
    return state_dir / FILE_NAME


def write(state_dir: Path, info: dict[str, Any]) -> Path:
    """Record a running simulator (0600, replaced atomically)."""
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = path(state_dir)
    tmp = target.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(info, fh)
    os.replace(tmp, target)
    return target


def read(state_dir: Path) -> dict[str, Any] | None:
    """The running simulator's endpoint, or None when no simulator has written one."""
    try:
        data = json.loads(path(state_dir).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def remove(state_dir: Path, port: int) -> None:
    """Forget the endpoint, unless another simulator has replaced it meanwhile."""
    info = read(state_dir)
    if info is not None and info.get("port") == port:
        path(state_dir).unlink(missing_ok=True)
