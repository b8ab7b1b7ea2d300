"""The one door to simplefix (untyped, no ``py.typed``): typed helpers around it.

What we use simplefix for (STYLE.md rule 8): building frames with ``FixMessage.encode()``
where speed does not matter, ``encode(raw=True)`` for frames that are wrong on purpose
(tests, the simulator's fault injection), and as the peer in ``bench/codec.py``. Never
its parser on an inbound path, never ``FixMessage ==`` (ignores order), never
``to_string()`` (raises on UTF-8, shows secrets).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, cast

import simplefix

from krakenfix_cli.fix.framing import checksum as _fix_checksum
from krakenfix_cli.fix.message import Field, Message
from krakenfix_cli.fix.values import format_value

BEGIN_STRING = "FIX.4.4"


class EncodableMessage(Protocol):
    """The part of ``simplefix.FixMessage`` we call."""

    def encode(self, raw: bool = False) -> bytes: ...


def fix_message(fields: Iterable[tuple[int, object]], begin_string: str = BEGIN_STRING) -> EncodableMessage:
    """A ``FixMessage`` holding BeginString(8) and ``fields`` (MsgType(35) first, no 8/9/10)."""
    msg = simplefix.FixMessage()
    msg.append_pair(8, begin_string)
    for tag, value in fields:
        msg.append_pair(tag, _wire(value))
    return cast(EncodableMessage, msg)


def encode(msg: Message) -> bytes:
    """``msg`` framed by simplefix (BodyLength(9) and CheckSum(10) recomputed)."""
    begin = msg.get(8) or BEGIN_STRING
    return fix_message((f for f in msg.fields if f[0] not in (8, 9, 10)), begin).encode()


def broken_frame(
    fields: Iterable[tuple[int, object]],
    body_length: int | str | None = None,
    checksum: int | str | None = None,
    *,
    begin_string: str = BEGIN_STRING,
) -> bytes:
    """A frame of ``fields`` whose BodyLength(9) and/or CheckSum(10) are the ones given.

    ``fields`` start at MsgType(35) and hold no 8/9/10. Whatever is left ``None`` is
    computed correctly, so one test can break exactly one thing. Values are written
    as given (``checksum="1"`` gives ``10=1``, not ``10=001``): built with simplefix's
    ``encode(raw=True)``, which trusts the pairs as they are.
    """
    body_pairs = [(int(t), _wire(v)) for t, v in fields]
    body = b"".join(b"%d=%s\x01" % (t, v) for t, v in body_pairs)
    length = len(body) if body_length is None else body_length
    msg = simplefix.FixMessage()
    msg.append_pair(8, begin_string)
    msg.append_pair(9, _wire(length))
    for tag, value in body_pairs:
        msg.append_pair(tag, value)
    if checksum is None:
        head = b"8=%s\x019=%s\x01" % (begin_string.encode("latin-1"), _wire(length))
        checksum = f"{_fix_checksum(head + body):03d}"
    msg.append_pair(10, _wire(checksum))
    return cast(bytes, msg.encode(raw=True))


def parse_count(chunks: Iterable[bytes]) -> int:
    """How many messages simplefix's ``FixParser`` returns for ``chunks`` (the bench peer)."""
    parser = simplefix.FixParser()
    count = 0
    append = parser.append_buffer
    get = parser.get_message
    for chunk in chunks:
        append(chunk)
        while get() is not None:
            count += 1
    return count


def parse_fields(frame: bytes) -> list[Field]:
    """The fields simplefix's parser finds in one frame (values latin-1), for cross-checks."""
    parser = simplefix.FixParser()
    parser.append_buffer(frame)
    msg = parser.get_message()
    if msg is None:
        return []
    return [(int(t), bytes(v).decode("latin-1")) for t, v in msg.pairs]


def _wire(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("latin-1")
    return format_value(value).encode("latin-1")
