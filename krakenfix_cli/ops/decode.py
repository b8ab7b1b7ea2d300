"""``krakenfix decode``: every message in some text, file or stream, decoded and checked.

Pure: the CLI opens the files and stdin and hands them in as :class:`StreamInput`;
messages and problems go out through a :class:`~krakenfix_cli.ops.report.Reporter`.

Each input is checked layer by layer (STYLE.md rule 6), and every layer's problems are
reported, not just the first:

* framing (``fix.framing.Framer(recover=True)``): 8/9/35 order, BodyLength(9),
  CheckSum(10), bytes outside any message, a message cut off at the end;
* fields (``fix.message.decode``): a tag that is not a number, a missing ``=``;
* dictionary (``fix.validate.validate`` with the Kraken dictionary): unknown tags,
  missing required fields, bad enum values, groups, in QuickFIX's Text(58) words.

Input forms:

* wire bytes (SOH separators), raw streams and QuickFIX file logs
  (``YYYYMMDD-HH:MM:SS.sss : 8=FIX.4.4<SOH>...``): framed by the Framer;
* ``|``-separated text (arguments, or lines of a file or stdin without any SOH; a
  QuickFIX-style ``timestamp : `` prefix is allowed). When such text carries
  BodyLength(9) and CheckSum(10), they are checked exactly as on the wire. When it
  leaves them out (``35=D|11=A|55=BTC/USD|...``, the way people write messages by
  hand), they are computed, and the framing is taken as valid; any of 8/9/10 that *is*
  given is still checked (order, value). ``strict=True`` refuses such incomplete frames.
  A ``|`` inside a value is read as a separator (the text form cannot tell them apart).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from krakenfix_cli.fix import framing
from krakenfix_cli.fix.encode import encode_fields
from krakenfix_cli.fix.errors import FramingError, MessageError
from krakenfix_cli.fix.framing import checksum
from krakenfix_cli.fix.message import Message, decode, parse_fields
from krakenfix_cli.fix.redact import MASK
from krakenfix_cli.ops.report import Reporter
from krakenfix_cli.ops.results import DecodeResult, Problem

CHUNK = 1 << 16
_LOG_PREFIX = re.compile(r"^\s*(\d{8}-\d{2}:\d{2}:\d{2}(?:\.\d+)?)\s*:\s*")
_SECRET_IN_TEXT = re.compile(r"(?<![0-9])(554|96|925)=[^|\x01'\"\s]*")


class BinaryReader(Protocol):
    """Anything with ``read(n) -> bytes`` (an open file, ``sys.stdin.buffer``)."""

    def read(self, n: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class TextInput:
    """One message typed as an argument (``|`` or SOH separators)."""

    source: str
    text: str


@dataclass(frozen=True)
class StreamInput:
    """A file or stdin: wire bytes / a QuickFIX log, or lines of ``|`` text."""

    source: str
    stream: BinaryReader


def _scrub(text: str) -> str:
    """Problem texts quote input bytes; never let a secret through that way."""
    return _SECRET_IN_TEXT.sub(lambda m: f"{m.group(1)}={MASK}", text)


#: Problems reported per message; the rest are counted in one "... and N more" line.
MAX_PROBLEMS_PER_MESSAGE = 20
#: Characters of one problem text (values are quoted in them).
MAX_PROBLEM_TEXT = 300
#: Problems shown (and kept) in one run; past them a garbled file's problems are only counted,
#: so stderr and memory stay bounded on any input.
MAX_PROBLEMS_SHOWN = 200


class _Run:
    """One decode run: counts, and the reporter every finding goes to."""

    def __init__(self, reporter: Reporter, dictionary: Any, strict: bool) -> None:
        self.reporter = reporter
        self.dictionary = dictionary
        self.strict = strict
        self.result = DecodeResult()

    def problem(self, source: str, text: str, layer: str) -> None:
        self.result.problem_count += 1
        if self.result.problem_count > MAX_PROBLEMS_SHOWN:
            if self.result.problem_count == MAX_PROBLEMS_SHOWN + 1:
                self.reporter.warn(f"more than {MAX_PROBLEMS_SHOWN} problems: the rest are counted, not shown")
            return
        if len(text) > MAX_PROBLEM_TEXT:  # a problem quoting a huge value stays one readable line
            text = f"{text[:MAX_PROBLEM_TEXT]}... ({len(text) - MAX_PROBLEM_TEXT} more characters)"
        p = Problem(source, _scrub(text), layer)
        self.result.problems.append(p)
        self.reporter.warn(f"{p.source}: {p.text}")

    def show(self, msg: Message, source: str, when: float | None, *, framed_ok: bool,
             problems_before: int) -> None:
        """Report one decoded message, then its dictionary problems (if the frame was sound)."""
        self.result.messages += 1
        self.reporter.message(msg, None, when)
        if framed_ok and self.dictionary is not None:
            from krakenfix_cli.fix.validate import validate

            # A body typed without any header (35=D|11=...|) is checked as a body: the header is
            # the session engine's to fill, so its absence is not a problem of the message.
            body_only = not any(t in msg for t in (34, 49, 52, 56))
            more = 0
            for n, (_reason, ref_tag, text) in enumerate(validate(msg, self.dictionary, body_only=body_only)):
                if n >= MAX_PROBLEMS_PER_MESSAGE:
                    more += 1
                    continue
                where = ""
                if ref_tag is not None:
                    where = f" [{self.dictionary.field_name(ref_tag)}({ref_tag})]"
                self.problem(source, f"{text}{where}", "dictionary")
            if more:
                self.problem(source, f"... and {more} more problem(s) in this message", "dictionary")
        if self.result.problem_count > problems_before:
            self.result.invalid += 1

    # -- wire bytes ------------------------------------------------------------------------------
    def frames(self, chunks: Iterable[bytes], source: str, *, what: str = "byte") -> int:
        """Frame and decode wire bytes; returns how many messages came out.

        ``fix.logfile.LogReader`` does the framing (a ``Framer(recover=True)``) and hands
        back each frame's QuickFIX log timestamp, shown as the message time.
        """
        import io

        from krakenfix_cli.fix.logfile import LogReader

        start = self.result.messages
        reader = LogReader(io.BytesIO(), recover=True)
        for chunk in chunks:
            for stamp, item in reader.feed(chunk):
                self._entry(stamp, item, source, what)
        for stamp, item in reader.close():
            self._entry(stamp, item, source, what)
        return self.result.messages - start

    def _entry(self, stamp: str | None, item: bytes | FramingError, source: str, what: str) -> None:
        if isinstance(item, FramingError):
            self._refused(item, source, what)
            return
        before = self.result.problem_count
        try:
            msg = decode(item)
        except MessageError as exc:
            self.problem(source, f"cannot split fields: {exc}", "fields")
            self.result.invalid += 1
            return
        self.show(msg, source, _when(stamp), framed_ok=True, problems_before=before)

    def _refused(self, err: FramingError, source: str, what: str) -> None:
        where = f"{source} {what} {err.offset}" if what == "byte" else source
        self.problem(where, str(err), "framing")
        self.result.invalid += 1

    # -- | text ----------------------------------------------------------------------------------
    def text(self, text: str, source: str, when: float | None = None) -> None:
        raw = text.strip("\r\n ")
        if "\x01" not in raw:
            raw = raw.replace("|", "\x01")
        if not raw.endswith("\x01"):
            raw += "\x01"
        if raw.startswith("8=FIX") and "\x019=" in raw and "\x0110=" in raw:
            short = _body_too_short(raw)
            if short is not None:
                # The framer would wait for the missing bytes and call it truncated; for
                # one whole message typed as text, the length is what is wrong.
                self.problem(source, short, "framing")
                self.result.invalid += 1
                self._show_unframed(raw, when)
                return
            if self.frames([raw.encode("latin-1")], source, what="text") == 0:
                self._show_unframed(raw, when)
            return
        before = self.result.problem_count
        try:
            fields = parse_fields(raw)
        except MessageError as exc:
            self.problem(source, f"cannot split fields: {exc}", "fields")
            self.result.invalid += 1
            return
        if not fields:
            return
        framed_ok = self._check_partial_frame(fields, source)
        body = [f for f in fields if f[0] not in (8, 9, 10)]
        begin = next((v for t, v in fields if t == 8), "FIX.4.4")
        msg = decode(encode_fields(body, begin)) if framed_ok else Message(fields)
        self.show(msg, source, when, framed_ok=framed_ok, problems_before=before)

    def _show_unframed(self, raw: str, when: float | None) -> None:
        """A refused frame: still show what it says (unvalidated); it is usually why
        someone is decoding it."""
        try:
            fields = parse_fields(raw)
        except MessageError:
            return
        self.result.messages += 1
        self.reporter.message(Message(fields), None, when)

    def _check_partial_frame(self, fields: tuple[tuple[int, str], ...], source: str) -> bool:
        """Check the 8/9/35/10 that were given; compute what was left out."""
        tags = [t for t, _ in fields]
        values = dict(fields)
        bad = False

        def refuse(text: str) -> None:
            nonlocal bad
            bad = True
            self.problem(source, text, "framing")

        if self.strict:
            missing = [f"{n}({t})" for t, n in ((8, "BeginString"), (9, "BodyLength"), (10, "CheckSum"))
                       if t not in values]
            refuse(f"{', '.join(missing)} missing: --strict needs a whole frame")
        pos = 0
        if 8 in values:
            if tags[0] != 8:
                refuse("BeginString(8) is not the first field")
            pos += 1
        if 9 in values:
            if tags.index(9) != pos:
                refuse("BodyLength(9) is not the second field")
            pos += 1
        if 35 not in values:
            refuse("MsgType(35) is missing")
        elif tags.index(35) != pos:
            refuse("MsgType(35) is not the third field" if pos == 2 else
                   "MsgType(35) must come right after BeginString(8)/BodyLength(9)")
        if 10 in values and tags.index(10) != len(tags) - 1:
            refuse("CheckSum(10) is not the last field")
        if bad:
            return False
        body = [f for f in fields if f[0] not in (8, 9, 10)]
        frame = encode_fields(body, values.get(8, "FIX.4.4"))
        body_len = len(b"".join(f"{t}={v}\x01".encode("latin-1") for t, v in body))
        if 9 in values and values[9] != str(body_len):
            refuse(f"BodyLength(9) does not match the body: 9={values[9]} but the body is {body_len} bytes")
        if 10 in values:
            want = checksum(frame, 0, frame.rindex(b"10="))
            if values[10] != f"{want:03d}":
                refuse(f"CheckSum(10) does not match the bytes: 10={values[10]} but the bytes sum to {want:03d}")
        return not bad

    # -- streams ---------------------------------------------------------------------------------
    def stream(self, inp: StreamInput) -> None:
        first = inp.stream.read(CHUNK)
        if not first:
            return
        if b"\x01" in first:
            self.frames(_chunks(first, inp.stream), inp.source)
        else:
            self.lines(_lines(first, inp.stream), inp.source)

    def lines(self, lines: Iterable[bytes | None], source: str) -> None:
        for n, line_bytes in enumerate(lines, 1):
            if line_bytes is None:
                self.problem(f"{source} line {n}",
                             f"longer than {framing.MAX_FRAME_LENGTH} bytes, no message is; skipped", "framing")
                self.result.invalid += 1
                continue
            line = line_bytes.decode("latin-1").strip()
            if not line or line.startswith("#"):
                continue
            where = f"{source} line {n}"
            when: float | None = None
            m = _LOG_PREFIX.match(line)
            if m is not None:
                when = _when(m.group(1))
                line = line[m.end():]
            if "=" not in line:
                self.problem(where, f"bytes outside any message: {line[:60]!r}", "framing")
                self.result.invalid += 1
                continue
            self.text(line, where, when)


def _body_too_short(raw: str) -> str | None:
    """The BodyLength(9) complaint when ``raw``'s declared length runs past its CheckSum(10)."""
    first = raw.find("\x01")
    second = raw.find("\x01", first + 1)
    value = raw[first + 3 : second]
    if raw[first:first + 3] != "\x019=" or not value.isdigit() or raw[second + 1 : second + 4] != "35=":
        return None  # an 8/9/35 order problem: the framer names it
    body = len(raw[second + 1 : raw.rfind("\x0110=") + 1].encode("latin-1"))
    if int(value) > body:
        return f"BodyLength(9) does not match the body: 9={value} but the body is {body} bytes"
    return None


def _when(stamp: str | None) -> float | None:
    """POSIX seconds of a log line's UTCTimestamp prefix (``None`` when absent or malformed)."""
    if stamp is None:
        return None
    from krakenfix_cli.fix.errors import FixError
    from krakenfix_cli.fix.values import parse_utc_timestamp

    try:
        return parse_utc_timestamp(stamp)
    except FixError:
        return None


def _chunks(first: bytes, stream: BinaryReader) -> Iterator[bytes]:
    yield first
    while True:
        data = stream.read(CHUNK)
        if not data:
            return
        yield data


def _lines(first: bytes, stream: BinaryReader) -> Iterator[bytes | None]:
    """The input's lines; ``None`` for a line longer than any message, which is skipped unread.

    A line is held only up to ``MAX_FRAME_LENGTH`` bytes, so memory stays flat on a 50 MB line
    or on input with no newline at all.
    """
    parts: list[bytes] = []
    held = 0
    skipping = False
    for chunk in _chunks(first, stream):
        start = 0
        while True:
            nl = chunk.find(b"\n", start)
            piece = chunk[start:] if nl < 0 else chunk[start:nl]
            if not skipping:
                parts.append(piece)
                held += len(piece)
                if held > framing.MAX_FRAME_LENGTH:
                    parts, held, skipping = [], 0, True
                    yield None
            if nl < 0:
                break
            if not skipping:
                yield b"".join(parts)
            parts, held, skipping = [], 0, False
            start = nl + 1
    if parts and not skipping:
        yield b"".join(parts)


def decode_inputs(
    inputs: Iterable[TextInput | StreamInput],
    reporter: Reporter,
    *,
    dictionary: Any = None,
    strict: bool = False,
) -> DecodeResult:
    """Decode and check every message in ``inputs``; report each message and problem.

    ``dictionary`` (the Kraken dictionary in the CLI) enables the dictionary layer;
    ``None`` checks framing and fields only.
    """
    run = _Run(reporter, dictionary, strict)
    for inp in inputs:
        if isinstance(inp, TextInput):
            run.text(inp.text, inp.source)
        else:
            run.stream(inp)
    return run.result
