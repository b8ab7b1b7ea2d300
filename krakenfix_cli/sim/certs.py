"""A throwaway TLS identity for the simulator, made with ``trustme`` at every start.

Kraken accepts TLS 1.2+ only (SPEC §2.2); the simulator does the same with a fresh CA and
a server certificate for ``127.0.0.1`` and ``localhost``. The CA certificate is written
as PEM to a file so a client (``--ca-file``, ``--sim``) can verify the server instead of
switching verification off.
"""

from __future__ import annotations

import os
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class SimTls:
    """The server-side SSLContext and where the CA PEM was written."""

    context: ssl.SSLContext
    ca_file: Path


def make_tls(state_dir: str | os.PathLike[str] | None = None) -> SimTls:
    """A new CA + server certificate; the CA PEM goes to ``state_dir/sim-ca.pem`` or a temp file."""
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost", "::1")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    server.configure_cert(ctx)
    if state_dir is not None:
        directory = Path(state_dir)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "sim-ca.pem"
    else:
        fd, name = tempfile.mkstemp(prefix="krakenfix-sim-ca-", suffix=".pem")
        os.close(fd)
        path = Path(name)
    ca.cert_pem.write_to_path(str(path))
    return SimTls(ctx, path)


def client_context(ca_file: str | os.PathLike[str]) -> ssl.SSLContext:
    """A client SSLContext that trusts only the simulator's CA (tests, bench)."""
    ctx = ssl.create_default_context(cafile=str(ca_file))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx
