"""The one list of secret tags, and the redaction every writer goes through.

Password(554) carries the HMAC signature and RawData(96) may carry signatures or
keys; neither is ever shown or logged in clear.
"""

from __future__ import annotations

from collections.abc import Iterable

from krakenfix_cli.fix.message import Field

SECRET_TAGS: frozenset[int] = frozenset({554, 96, 925})
MASK = "***"


def redact_fields(fields: Iterable[Field]) -> list[Field]:
    """Fields with every secret value replaced by ``***``."""
    return [(t, MASK) if t in SECRET_TAGS else (t, v) for t, v in fields]


def redact_frame(frame: bytes) -> bytes:
    """A wire frame with secret values masked (for logs); 9/10 are left as they were."""
    if b"\x01554=" not in frame and b"\x0196=" not in frame and b"\x01925=" not in frame:
        return frame
    from krakenfix_cli.fix.errors import MessageError
    from krakenfix_cli.fix.message import parse_fields

    try:
        fields = parse_fields(frame.decode("latin-1"))
    except MessageError:
        fields = None
    if fields is not None:
        return "".join(f"{t}={v}\x01" for t, v in redact_fields(fields)).encode("latin-1")
    out = []
    for part in frame.split(b"\x01"):
        tag, eq, _ = part.partition(b"=")
        if eq and tag.isdigit() and int(tag) in SECRET_TAGS:
            out.append(tag + b"=" + MASK.encode())
        else:
            out.append(part)
    return b"\x01".join(out)
