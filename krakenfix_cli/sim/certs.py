"""The simulator's TLS: a server certificate issued at every start by its lasting CA.

Kraken accepts TLS 1.2+ only (SPEC §2.2); the simulator does the same with a server
certificate for ``127.0.0.1`` and ``localhost``, issued by the CA of its identity
(sim/identity.py), whose PEM a client (``--ca-file``, ``--sim``) trusts instead of switching
verification off. Without an identity directory (tests) the CA is made in memory and its PEM
goes to a private temporary directory that :meth:`SimTls.cleanup` removes.
"""

from __future__ import annotations

import os
import shutil
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class SimTls:
    """The server-side SSLContext, where the CA PEM is, and what to remove on close."""

    context: ssl.SSLContext
    ca_file: Path
    scratch: Path | None = None
    "A temporary directory of this run only (no identity directory): removed by cleanup()."

    def cleanup(self) -> None:
        """Remove this run's temporary CA file, if it made one."""
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)


def make_tls(ca: trustme.CA | None = None, ca_file: Path | None = None) -> SimTls:
    """A server certificate from ``ca`` (whose PEM is at ``ca_file``), or from a new CA."""
    scratch: Path | None = None
    if ca is None or ca_file is None:
        ca = trustme.CA()
        scratch = Path(tempfile.mkdtemp(prefix="krakenfix-sim-"))
        ca_file = scratch / "ca.pem"
        ca.cert_pem.write_to_path(str(ca_file))
    server = ca.issue_cert("127.0.0.1", "localhost", "::1")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    server.configure_cert(ctx)
    return SimTls(ctx, ca_file, scratch)


def client_context(ca_file: str | os.PathLike[str]) -> ssl.SSLContext:
    """A client SSLContext that trusts only the simulator's CA (tests, bench)."""
    ctx = ssl.create_default_context(cafile=str(ca_file))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx
