"""FIX log files → :class:`Record` s in time order, in one pass and flat memory.

Framing is ``fix.logfile.LogReader``'s (what ``decode``, ``tail --file`` and
``replay --file`` use): QuickFIX file logs, raw SOH streams, ``|`` text lines. A file
that starts with gzip's magic bytes is read through :mod:`gzip`; ``-`` is stdin.
Several files are merged by their line timestamps (``heapq.merge``: one pending record
per file). A frame that cannot be framed or split is counted in :class:`BadFrames`
with its source and the first reasons, never fatal.

Direction is not written in a QuickFIX log: a message whose SenderCompID(49) is the
log's own side is ``"out"``. The own side comes from the file name
(``FIX.4.4-SENDER-TARGET.messages...log``, QuickFIX's and ours), else from the first
message of the file (a log begins with our Logon).
"""

from __future__ import annotations

import gzip
import heapq
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from krakenfix_cli.fix.errors import FixError, FramingError, MessageError
from krakenfix_cli.fix.logfile import LogEntry, follow, read_log
from krakenfix_cli.fix.message import Message, decode
from krakenfix_cli.fix.redact import SECRET_TAGS, redact_fields, redact_text
from krakenfix_cli.fix.values import parse_utc_timestamp

_FILE_SESSION = re.compile(r"FIX[T]?\.\d\.\d-([^-/\\]+)-([^/\\]+?)(?:-[^/\\.]+)?\.messages")
#: How many reasons :class:`BadFrames` keeps (the count goes on).
MAX_REASONS = 5


@dataclass(frozen=True, slots=True)
class Record:
    """One message of a log, with what the log says around it."""

    msg: Message
    when: float | None  # the line's timestamp (else SendingTime(52)), POSIX seconds
    direction: str | None  # "in" | "out" | None
    session: str  # "SENDER→TARGET" from our side, or "?" when unknown
    source: str
    index: int  # 1-based position of the message in its source


@dataclass
class BadFrames:
    """Frames that could not be read: how many, and the first few reasons with their source."""

    count: int = 0
    reasons: list[str] = field(default_factory=list)

    def add(self, source: str, reason: str) -> None:
        self.count += 1
        if len(self.reasons) < MAX_REASONS:
            self.reasons.append(redact_text(f"{source}: {reason}"))  # a reason may quote the bytes


@dataclass(frozen=True)
class LogSource:
    """A named binary stream (a file opened by the CLI, or stdin)."""

    name: str
    stream: BinaryIO


def open_maybe_gzip(stream: BinaryIO) -> BinaryIO:
    """``stream``, or a gzip reader over it when it starts with gzip's magic bytes."""
    peek = getattr(stream, "peek", None)
    head = peek(2)[:2] if peek is not None else b""
    if head == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=stream, mode="rb")  # type: ignore[return-value]
    return stream


def _when(stamp: str | None, msg: Message) -> float | None:
    for text in (stamp, msg.get(52)):
        if text:
            try:
                return parse_utc_timestamp(text)
            except FixError:
                continue
    return None


def redacted(msg: Message) -> Message:
    """``msg`` with Password(554), RawData(96) and NewPassword(925) masked: someone else's log
    may hold them in clear, and nothing read here reaches any output unmasked."""
    if any(tag in msg for tag in SECRET_TAGS):
        return Message(redact_fields(msg))
    return msg


def own_side(name: str) -> str | None:
    """Our SenderCompID from a QuickFIX log file name, if it has that shape."""
    m = _FILE_SESSION.search(name)
    return m.group(1) if m is not None else None


def read_source(src: LogSource, bad: BadFrames) -> Iterator[Record]:
    """Every message of one source, in file order."""
    return _records(read_log(open_maybe_gzip(src.stream)), src.name, bad)


def follow_source(src: LogSource, bad: BadFrames, wait: Callable[[], None]) -> Iterator[Record]:
    """Every message of one file, then each one appended later (``grep --follow``), forever.

    ``wait()`` is called whenever nothing new is there (the CLI sleeps in it; this module
    reads no clock). A file truncated or rotated in place is read again from its start.
    """

    def entries() -> Iterator[LogEntry]:
        for batch in follow(src.stream, from_start=True):
            if batch:
                yield from batch
            else:
                wait()

    return _records(entries(), src.name, bad)


def _records(entries: Iterable[LogEntry], name: str, bad: BadFrames) -> Iterator[Record]:
    me = own_side(name)
    index = 0
    names: dict[tuple[str, str], str] = {}  # one string per session, not one per record
    for stamp, item in entries:
        if isinstance(item, FramingError):
            bad.add(name, str(item))
            continue
        try:
            msg = redacted(decode(item))
        except MessageError as exc:
            bad.add(name, f"cannot split fields: {exc}")
            continue
        index += 1
        sender, target = msg.get(49) or "", msg.get(56) or ""
        if me is None and sender:
            me = sender
        if me is None:
            direction, session = None, "?"
        else:
            direction = "out" if sender == me else "in"
            ours = (sender, target) if direction == "out" else (target, sender)
            session = names.get(ours) or names.setdefault(ours, "→".join(ours))
        yield Record(msg, _when(stamp, msg), direction, session, name, index)


def read_sources(sources: Iterable[LogSource], bad: BadFrames) -> Iterator[Record]:
    """Every message of every source, merged in time order (file order within a file)."""
    streams = [read_source(s, bad) for s in sources]
    if len(streams) == 1:
        return streams[0]
    return heapq.merge(*streams, key=lambda r: r.when if r.when is not None else 0.0)
