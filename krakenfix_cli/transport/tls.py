"""TLS contexts: verification on by default; ``--insecure`` only where the profile allows it.

Kraken's gateway speaks TLS 1.2+ (SPEC.md §2.2); SNI is the profile's hostname.
"""

from __future__ import annotations

import ssl


def client_context(insecure: bool = False, cafile: str | None = None) -> ssl.SSLContext:
    """An SSLContext for connecting out: TLS 1.2 or newer, certificates verified unless insecure."""
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if insecure:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def describe_peer(obj: ssl.SSLObject | ssl.SSLSocket | None) -> tuple[str, str, str]:
    """(TLS version, cipher, certificate subject CN) of an established TLS connection."""
    if obj is None:
        return "", "", ""
    version = obj.version() or ""
    cipher = (obj.cipher() or ("", "", 0))[0]
    subject = ""
    cert: dict[str, object] = dict(obj.getpeercert() or {})
    for rdn in cert.get("subject", ()):  # type: ignore[attr-defined]
        for pair in rdn:
            if pair[0] == "commonName":
                subject = str(pair[1])
    if not subject:
        alt = cert.get("subjectAltName", ())
        subject = ", ".join(str(pair[1]) for pair in alt)  # type: ignore[attr-defined]
    return version, cipher, subject
