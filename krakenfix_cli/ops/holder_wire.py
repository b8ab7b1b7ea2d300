"""The session holder's socket and protocol: where it lives, and how a line is written and read.

One JSON object per line, UTF-8, at most :data:`MAX_LINE` bytes, over a Unix socket at
``<state dir>/sessions/<session>/holder.sock`` (the directory 0700, the socket 0600, the
peer's uid checked by the holder). A FIX message crosses as ``"fields": [[tag, "value"],
...]`` (body only from a client; header included from the holder), so no separator or
encoding question arises. No secret ever crosses: the holder refuses Logon(A) and
Logout(5) and any Password(554)/RawData(96), and redacts both in what it sends.
``docs/holder-protocol.md`` is the reader's reference; this module is the code's.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from krakenfix_cli.client_types import ClientSpec, session_directory
from krakenfix_cli.fix.message import Message
from krakenfix_cli.fix.redact import redact_fields
from krakenfix_cli.ops.outcomes import ConnRef

VERSION = 1
SOCKET_NAME = "holder.sock"
#: The longest line either side accepts (a FIX message is at most about 1 MiB here too).
MAX_LINE = 1 << 20
#: Message types a client may not send through the holder: the session's own business.
SESSION_TYPES = frozenset({"A", "5", "0", "1", "2", "3", "4"})
#: Tags a client may not send through the holder (secrets, and the engine's header and trailer).
REFUSED_TAGS = frozenset({554, 96, 553, 8, 9, 10, 34, 49, 52, 56})
#: AF_UNIX paths longer than this do not fit sockaddr_un (108 bytes on Linux, less elsewhere).
MAX_SUN_PATH = 100


class ProtocolError(ValueError):
    """A line that is not a protocol object; the text says why."""


def socket_path(spec: ClientSpec) -> Path | None:
    """Where the holder of ``spec``'s session listens (None: no state dir, nothing to share)."""
    directory = session_directory(spec)
    return None if directory is None else directory / SOCKET_NAME


def short_path(path: Path, dir_fd: int) -> str:
    """``path`` as AF_UNIX can take it: through ``/proc/self/fd`` when the real path is too long."""
    if len(os.fsencode(path)) <= MAX_SUN_PATH:
        return str(path)
    return f"/proc/self/fd/{dir_fd}/{path.name}"


def encode(obj: dict[str, Any]) -> bytes:
    """One protocol line."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


def decode(line: bytes) -> dict[str, Any]:
    """One protocol line → its object; ProtocolError for anything else."""
    try:
        obj = json.loads(line)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"not a JSON line: {exc}") from None
    if not isinstance(obj, dict):
        raise ProtocolError("a line must be a JSON object")
    return obj


def message_fields(msg: Message) -> list[list[object]]:
    """A message's fields as the protocol carries them, secrets redacted."""
    return [[tag, value] for tag, value in redact_fields(msg.fields)]


def message_from(fields: object) -> Message:
    """A message from the protocol's ``fields``; ProtocolError when they are not ``[[int, str], ...]``."""
    if not isinstance(fields, list) or not fields:
        raise ProtocolError("fields must be a non-empty list of [tag, value] pairs")
    out: list[tuple[int, str]] = []
    for pair in fields:
        if (not isinstance(pair, list) or len(pair) != 2 or not isinstance(pair[0], int)
                or isinstance(pair[0], bool) or not isinstance(pair[1], str)):
            raise ProtocolError("each field must be [tag, \"value\"] with an integer tag")
        tag, value = pair
        if tag <= 0 or "\x01" in value or not value:
            raise ProtocolError(f"field {tag} is not a FIX field (tag > 0, a value without SOH)")
        out.append((tag, value))
    try:
        return Message(out)
    except ValueError as exc:
        raise ProtocolError(str(exc)) from None


def conn_json(conn: ConnRef) -> dict[str, str]:
    """A connection's identity on the wire."""
    return {"sender": conn.sender, "target": conn.target, "id": conn.connection_id}


def conn_from(obj: object) -> ConnRef:
    """The identity back; an empty one when the holder sent none."""
    if not isinstance(obj, dict):
        return ConnRef("", "", "")
    return ConnRef(str(obj.get("sender", "")), str(obj.get("target", "")), str(obj.get("id", "")))
