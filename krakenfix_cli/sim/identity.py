"""The simulator's lasting identity: its CA (certificate and key) and its demo credentials.

Kept in the simulator's own directory (``<state dir>/sim``: 0700, files 0600) and reused by
every start, so a client that trusts the CA and holds the demo key (a running ``tail``)
reconnects to a restarted simulator, and no start leaves a file behind. The files are made
once, under an exclusive lock, each written whole and renamed into place; a missing or
unreadable set is made afresh (the old one could not be trusted anyway).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # trustme (and cryptography) load only when a simulator starts
    import trustme

CA_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
DEMO_FILE = "demo-credentials.json"
LOCK_FILE = ".lock"
#: Under the krakenfix state dir: the simulator's own directory.
IDENTITY_DIR = "sim"


def identity_dir(state_dir: Path) -> Path:
    """The simulator's own directory under the state dir: its CA, key and demo credentials."""
    return state_dir / IDENTITY_DIR


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (it may belong to another user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class Identity:
    """The CA and the demo API key + base64 secret the simulator serves with."""

    ca: trustme.CA
    ca_file: Path
    api_key: str
    api_secret: str

    def __repr__(self) -> str:
        return f"Identity(ca_file={str(self.ca_file)!r}, api_key={self.api_key!r}, api_secret=***)"


def new_demo_key() -> tuple[str, str]:
    """A fresh demo API key and base64 secret (the simulator's own, never a Kraken one)."""
    api_key = "KFX" + secrets.token_urlsafe(27).replace("-", "A").replace("_", "B")
    return api_key, base64.b64encode(secrets.token_bytes(64)).decode("ascii")


def load_or_create(directory: Path) -> Identity:
    """The identity kept in ``directory``, made there first if it is missing or unreadable."""
    import trustme

    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(directory, 0o700)
    with _locked(directory / LOCK_FILE):
        ca = _read_ca(directory)
        if ca is None:
            ca = trustme.CA()
            _write(directory / CA_KEY_FILE, ca.private_key_pem.bytes())
            _write(directory / CA_FILE, ca.cert_pem.bytes())
        demo = _read_demo(directory)
        if demo is None:
            demo = new_demo_key()
            _write(directory / DEMO_FILE, json.dumps({"api_key": demo[0], "api_secret": demo[1]}).encode())
    return Identity(ca, directory / CA_FILE, *demo)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _read_ca(directory: Path) -> trustme.CA | None:
    import trustme

    try:
        return trustme.CA.from_pem((directory / CA_FILE).read_bytes(), (directory / CA_KEY_FILE).read_bytes())
    except (OSError, ValueError, TypeError):
        return None


def _read_demo(directory: Path) -> tuple[str, str] | None:
    try:
        data = json.loads((directory / DEMO_FILE).read_bytes())
        key, secret = data["api_key"], data["api_secret"]
        base64.b64decode(secret, validate=True)
    except (OSError, ValueError, TypeError, KeyError):
        return None
    if not isinstance(key, str) or not isinstance(secret, str) or not key.isalnum():
        return None
    return key, secret


def _write(path: Path, data: bytes) -> None:
    """Write whole (0600) and rename into place: a reader never meets half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
