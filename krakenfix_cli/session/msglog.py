"""Per-session message and event log in QuickFIX's file-log layout, always redacted.

Same file names and line shape as QuickFIX's ``FileLog``, so ``krakenfix decode``,
``tail --file`` and other FIX tools read our logs and theirs alike::

    <dir>/FIX.4.4-<SENDER>-<TARGET>.messages.current.log   20261125-14:34:25.817908000 : 8=FIX.4.4^A...
    <dir>/FIX.4.4-<SENDER>-<TARGET>.event.current.log      20261125-14:34:25.817942000 : Created session

The timestamp has nine fractional digits: checked against quickfix-tls 1.16's ``FileLog``
(``UtcTimeStampConvertor::convert(now, 9)``), which writes microseconds padded with ``000``.
Every frame goes through ``fix.redact.redact_frame`` first: Password(554) and RawData(96)
never reach the disk. ``now`` is passed in (POSIX seconds); this module reads no clock.

The log is a record, not the session's memory (the store is): a write that fails (a full
disk) never raises into the engine, it is cut back (``session.appendonly``: no torn line)
and reported once through :attr:`MessageLog.on_failure`; the session and its outcome go on.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path

from krakenfix_cli.fix.redact import redact_frame
from krakenfix_cli.fix.values import COMP_ID_RE
from krakenfix_cli.session.appendonly import append_record

TIMESTAMP_DIGITS = 9


def format_log_timestamp(now: float) -> str:
    """``YYYYMMDD-HH:MM:SS.fffffffff`` (UTC) as QuickFIX's FileLog writes it."""
    micros = round(now * 1_000_000)
    secs, us = divmod(micros, 1_000_000)
    stamp = dt.datetime.fromtimestamp(secs, dt.UTC).strftime("%Y%m%d-%H:%M:%S")
    return f"{stamp}.{us:06d}" + "0" * (TIMESTAMP_DIGITS - 6)


def log_file_prefix(sender: str, target: str, begin_string: str = "FIX.4.4", qualifier: str = "") -> str:
    """``FIX.4.4-SENDER-TARGET`` (``-QUALIFIER`` when given), QuickFIX's session id in file names.

    A CompID that is not file-name safe (``/``, ``..``, SOH) is refused here as well as in the
    settings, so no name can point outside the log directory.
    """
    for part in (sender, target):
        if not COMP_ID_RE.match(part):
            raise ValueError(f"CompID {part!r} cannot name a log file (letters, digits, '.', '_', '-' only)")
    prefix = f"{begin_string}-{sender}-{target}"
    return f"{prefix}-{qualifier}" if qualifier else prefix


class MessageLog:
    """Appends inbound/outbound frames and session events to the two QuickFIX log files.

    Each line is one ``write`` on an ``O_APPEND`` descriptor, so ``tail -f`` sees it and a
    crash loses none that were written; ``sync=True`` also fsyncs each line (off by default:
    the store, not the log, is what recovery depends on).
    """

    on_failure: Callable[[OSError, Path], None] | None = None
    "Called once, on the first write that fails; later failures are silent."

    def __init__(
        self,
        directory: str | os.PathLike[str],
        sender: str,
        target: str,
        *,
        begin_string: str = "FIX.4.4",
        qualifier: str = "",
        sync: bool = False,
    ) -> None:
        self.directory = Path(directory)
        self.sync = sync
        self.failure: OSError | None = None
        "The first write error, if any (the log then lacks lines from that point)."
        prefix = log_file_prefix(sender, target, begin_string, qualifier)
        self.messages_path = self.directory / f"{prefix}.messages.current.log"
        self.event_path = self.directory / f"{prefix}.event.current.log"
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._messages = self._open(self.messages_path)
        self._events = self._open(self.event_path)

    @staticmethod
    def _open(path: Path) -> int:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)

    def _write(self, fd: int, line: bytes, path: Path) -> None:
        if fd < 0:
            raise ValueError("message log is closed")
        try:
            append_record(fd, line, path)
            if self.sync:
                os.fsync(fd)
        except OSError as exc:
            if self.failure is None:
                self.failure = exc
                if self.on_failure is not None:
                    self.on_failure(exc, path)

    def incoming(self, frame: bytes, now: float) -> None:
        """Log a frame received from the counterparty (redacted)."""
        self._write(self._messages, self._line(redact_frame(frame), now), self.messages_path)

    def outgoing(self, frame: bytes, now: float) -> None:
        """Log a frame we sent (redacted)."""
        self._write(self._messages, self._line(redact_frame(frame), now), self.messages_path)

    def event(self, text: str, now: float) -> None:
        """Log a session event; newlines become spaces so one event stays one line."""
        clean = text.replace("\r", " ").replace("\n", " ")
        self._write(self._events, self._line(clean.encode("utf-8"), now), self.event_path)

    @staticmethod
    def _line(payload: bytes, now: float) -> bytes:
        return format_log_timestamp(now).encode("ascii") + b" : " + payload + b"\n"

    def close(self) -> None:
        """Close both files; safe to call twice."""
        for name in ("_messages", "_events"):
            fd = getattr(self, name)
            if fd >= 0:
                os.close(fd)
                setattr(self, name, -1)

    def __enter__(self) -> MessageLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class NullLog(MessageLog):
    """A MessageLog that writes nothing (simulator default, engine tests)."""

    def __init__(self) -> None:  # no files
        self.sync = False
        self.failure = None
        self._messages = -1
        self._events = -1

    def incoming(self, frame: bytes, now: float) -> None:
        return None

    def outgoing(self, frame: bytes, now: float) -> None:
        return None

    def event(self, text: str, now: float) -> None:
        return None

    def close(self) -> None:
        return None
