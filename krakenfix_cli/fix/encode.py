"""Message → wire bytes with a correct BodyLength(9) and CheckSum(10).

Our own join rather than simplefix's ``FixMessage.encode()`` on the hot path: encode
is on every outbound message of the simulator and the round-trip benchmark, and
simplefix builds the frame by repeated ``+=`` (``bench/codec.py`` prints both rates).
simplefix is still the tool for deliberately broken frames: see ``fix/_simplefix.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from zlib import adler32

from krakenfix_cli.fix.errors import FixError
from krakenfix_cli.fix.framing import checksum
from krakenfix_cli.fix.message import Field, Message
from krakenfix_cli.fix.tags import DATA_LENGTH_TAGS

BEGIN_STRING = "FIX.4.4"


class FieldInjectionError(FixError):
    """A field value holds SOH: encoding it would put extra fields on the wire (tag injection)."""


#: Data fields (RawData(96), ...) may hold SOH: their length field says where they end.
_DATA_TAGS = frozenset(DATA_LENGTH_TAGS.values())


def join_fields(fields: Sequence[Field]) -> str:
    """``tag=value<SOH>...`` text of ``fields``; FieldInjectionError when a value contains SOH.

    Settings validation refuses SOH in CompIDs and the API key; this is the last guard, so no
    value can ever become two fields. One count over the joined text, not a test per field;
    only a length-prefixed data field (RawData(96), ...) may carry SOH.
    """
    parts = [f"{t}={v}\x01" for t, v in fields]
    text = "".join(parts)
    if text.count("\x01") != len(parts):
        bad = next((t for t, v in fields if "\x01" in str(v) and t not in _DATA_TAGS), None)
        if bad is not None:
            raise FieldInjectionError(f"the value of tag {bad} contains SOH; refusing to encode it")
    return text


def encode_fields(fields: Iterable[Field], begin_string: str = BEGIN_STRING) -> bytes:
    """Frame ``fields`` (starting at MsgType(35), without 8/9/10) as one FIX message."""
    return encode_text(join_fields(fields if isinstance(fields, Sequence) else list(fields)), begin_string)


def encode_text(body: str, begin_string: str = BEGIN_STRING) -> bytes:
    """Frame ``body``, the ``35=...<SOH>`` text up to the trailer, as one FIX message.

    The session engine builds its header as text and joins it to the body text, so the
    frame costs one encode, one join and one checksum.
    """
    data = body.encode("latin-1")
    frame = b"8=%s\x019=%d\x01%s" % (begin_string.encode("latin-1"), len(data), data)
    if len(frame) <= 256:
        # Adler-32's low half is 1 + the byte sum (exact up to 256 bytes, see framing.checksum),
        # one C call instead of checksum()'s memoryview loop on a typical order or report.
        return frame + b"10=%03d\x01" % (((adler32(frame) & 0xFFFF) - 1) & 255)
    return frame + b"10=%03d\x01" % checksum(frame)


def encode(msg: Message) -> bytes:
    """Wire bytes of ``msg``; 8, 9 and 10 in it are ignored and recomputed."""
    begin = msg.get(8) or BEGIN_STRING
    return encode_fields((f for f in msg.fields if f[0] not in (8, 9, 10)), begin)


def frame_text(text: str, sep: str = "|") -> bytes:
    """Frame ``"35=D|11=A|..."`` (``|`` or SOH separators; 8/9/10 optional and recomputed)."""
    from krakenfix_cli.fix.message import parse_fields

    raw = text.replace(sep, "\x01") if sep != "\x01" else text
    if not raw.endswith("\x01"):
        raw += "\x01"
    return encode(Message._trusted(parse_fields(raw)))
