"""Read FIX log files as a stream: QuickFIX file logs, raw SOH streams, ``|`` text lines.

Memory stays flat on multi-GB files: the stream is read in chunks (1 MiB by default) and
entries are yielded as they are framed; only the bytes of a frame still in progress are
held. The :class:`Framer` does all framing (and skips the prefixes); this module only
recovers each frame's timestamp from the bytes just before it.

Formats, decided by the first chunk that holds ``8=FIX``:

* SOH present: QuickFIX file-log lines (``20240513-09:31:00.123 : 8=FIX.4.4<SOH>...``)
  or raw frames back to back, with or without newlines;
* no SOH: ``|``-separated text lines (``8=FIX.4.4|9=..|..|10=123|``); ``|`` becomes SOH
  before framing, so a ``|`` inside a value makes that frame fail its checks.

No clock is read here: :class:`LogReader.poll` returns what the stream holds now, and a
``tail --follow`` caller decides when to poll again.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import BinaryIO

from krakenfix_cli.fix.errors import FramingError
from krakenfix_cli.fix.framing import Framer

#: (QuickFIX log timestamp or None, frame bytes or the refusal of dropped bytes)
LogEntry = tuple[str | None, bytes | FramingError]

CHUNK_SIZE = 1 << 20
_TIMESTAMP = re.compile(rb"[ \t]*(\d{8}-\d{2}:\d{2}:\d{2}(?:\.\d+)?)[ \t]*:[ \t]*")
#: A prefix is at most this long (timestamp with nanoseconds, padding).
_PREFIX_MAX = 64


class LogReader:
    """Incremental reader over one binary stream; :meth:`poll` never blocks or sleeps.

    ``read_log`` drives it to the end once; ``tail --follow`` calls :meth:`poll` again
    after its own sleep. ``recover=True`` (default) keeps good frames hidden inside a
    frame with a corrupt BodyLength(9), as ``decode`` wants.
    """

    def __init__(self, stream: BinaryIO, *, recover: bool = True, chunk_size: int = CHUNK_SIZE) -> None:
        self._stream = stream
        self._chunk_size = chunk_size
        self._framer = Framer(recover=recover)
        self._recover = recover
        self._pipes: bool | None = None
        #: Stream offset of ``_window[0]``; the window holds the bytes not yet returned as
        #: entries plus ``_PREFIX_MAX`` bytes before them, where timestamps are looked up.
        self._window = b""
        self._window_base = 0
        #: The last read returned nothing: everything the stream holds now has been fed.
        self.at_eof = False

    @property
    def framer(self) -> Framer:
        """The framer in use (its ``skipped`` counts bytes of prefixes and newlines)."""
        return self._framer

    def poll(self, max_chunks: int | None = None) -> Iterator[LogEntry]:
        """Entries for everything the stream holds now; stops at end-of-file without waiting.

        ``max_chunks`` reads at most that many chunks, so a caller on an event loop can let
        a signal in between (``/dev/zero`` has no end); :attr:`at_eof` says whether it ended.
        A frame still being written stays buffered until a later poll completes it.
        """
        read = self._stream.read
        n = 0
        while max_chunks is None or n < max_chunks:
            chunk = read(self._chunk_size)
            n += 1
            self.at_eof = not chunk
            if not chunk:
                return
            yield from self.feed(chunk)

    def rewind_if_truncated(self) -> None:
        """Start over from the beginning when the file shrank (truncated or rotated in place)."""
        stream = self._stream
        try:
            size = os.fstat(stream.fileno()).st_size
        except (OSError, ValueError, AttributeError):
            return
        if size < stream.tell():
            stream.seek(0)
            self.reset()

    def feed(self, chunk: bytes) -> Iterator[LogEntry]:
        """Entries completed by ``chunk`` (for callers that read the stream themselves)."""
        if self._pipes is None and b"8=FIX" in chunk:
            self._pipes = b"\x01" not in chunk
        if self._pipes:
            chunk = chunk.replace(b"|", b"\x01")
        framer = self._framer
        # Keep the bytes the framer has not returned yet (a frame in progress) and the
        # prefix before them, so every frame's timestamp is still in the window.
        keep_from = max(self._window_base, framer.offset - _PREFIX_MAX)
        self._window = self._window[keep_from - self._window_base :] + chunk
        self._window_base = keep_from
        framer.feed(chunk)
        for item in framer:
            if type(item) is bytes:
                yield self._timestamp(framer.offset - len(item)), item
            else:
                yield None, item

    def close(self) -> Iterator[LogEntry]:
        """End of input: a truncated-message or garbage refusal for the tail, if any."""
        err = self._framer.close()
        if err is not None:
            yield None, err

    def reset(self) -> None:
        """Forget buffered bytes (the file was truncated or rotated); keep the options."""
        self._framer = Framer(recover=self._recover)
        self._window = b""
        self._window_base = 0

    def _timestamp(self, frame_start: int) -> str | None:
        """The QuickFIX ``timestamp : `` right before the frame at ``frame_start``, if any."""
        rel = frame_start - self._window_base
        window = self._window
        if rel <= 0 or rel > len(window):
            return None
        line = window.rfind(b"\n", max(0, rel - _PREFIX_MAX), rel) + 1
        if line == 0 and rel - _PREFIX_MAX > 0:
            return None
        m = _TIMESTAMP.fullmatch(window, line, rel)
        return m.group(1).decode("ascii") if m is not None else None


def read_log(stream: BinaryIO, *, recover: bool = True, chunk_size: int = CHUNK_SIZE) -> Iterator[LogEntry]:
    """Every entry of a whole log, in order, in constant memory."""
    reader = LogReader(stream, recover=recover, chunk_size=chunk_size)
    yield from reader.poll()
    yield from reader.close()


def follow(stream: BinaryIO, *, recover: bool = True, from_start: bool = False) -> Iterator[list[LogEntry]]:
    """``tail -f`` without a clock: each ``next()`` returns the entries appended since the last.

    Starts at the end of the file unless ``from_start``. An empty list means nothing new:
    the caller sleeps (or waits on its event loop) and calls ``next()`` again. If the file
    shrinks (truncated or rotated in place), reading restarts from its beginning.
    """
    reader = LogReader(stream, recover=recover)
    if not from_start:
        stream.seek(0, os.SEEK_END)
    while True:
        reader.rewind_if_truncated()
        yield list(reader.poll())
