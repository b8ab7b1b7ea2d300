"""The one list of secret tags, and the redaction every writer goes through.

Password(554) carries the HMAC signature and RawData(96) may carry signatures or
keys; neither is ever shown or logged in clear.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from krakenfix_cli.fix.message import Field

SECRET_TAGS: frozenset[int] = frozenset({554, 96, 925})
MASK = "***"


_SECRET_IN_TEXT = re.compile(
    r"(?<![0-9])(" + "|".join(str(t) for t in sorted(SECRET_TAGS)) + r")=[^|\x01\s'\",\]]*"
)


def redact_text(text: str) -> str:
    """Free text (a command line, a traceback) with every ``554=…``/``96=…`` value masked.

    For text that is not a frame: crash logs, the command line of a lock holder.
    """
    return _SECRET_IN_TEXT.sub(lambda m: f"{m.group(1)}={MASK}", text)


def redact_fields(fields: Iterable[Field]) -> list[Field]:
    """Fields with every secret value replaced by ``***``."""
    return [(t, MASK) if t in SECRET_TAGS else (t, v) for t, v in fields]


def redact_frame(frame: bytes) -> bytes:
    """A wire frame with secret values masked, re-framed so BodyLength(9)/CheckSum(10) stay right.

    Used for the message log and the session store: a logged or stored Logon(A) must
    still decode (``krakenfix decode``, ``tail --file``) and must never hold Password(554).
    """
    if b"\x01554=" not in frame and b"\x0196=" not in frame and b"\x01925=" not in frame:
        return frame
    from krakenfix_cli.fix.errors import MessageError
    from krakenfix_cli.fix.message import parse_fields

    try:
        fields = parse_fields(frame.decode("latin-1"))
    except MessageError:
        fields = None
    if fields is not None:
        from krakenfix_cli.fix.encode import encode_fields
        from krakenfix_cli.fix.tags import DATA_LENGTH_TAGS

        masked = {DATA_LENGTH_TAGS.get(t) for t, _ in fields} & SECRET_TAGS
        # A masked data field's length tag (RawDataLength(95) for 96) must match the mask.
        lengths = {n for n, d in DATA_LENGTH_TAGS.items() if d in masked}
        kept = [(t, str(len(MASK))) if t in lengths else f
                for f in redact_fields(fields) if (t := f[0]) not in (8, 9, 10)]
        begin = next((v for t, v in fields if t == 8), "FIX.4.4")
        return encode_fields(kept, begin)
    out = []
    for part in frame.split(b"\x01"):
        tag, eq, _ = part.partition(b"=")
        if eq and tag.isdigit() and int(tag) in SECRET_TAGS:
            out.append(tag + b"=" + MASK.encode())
        else:
            out.append(part)
    return b"\x01".join(out)
