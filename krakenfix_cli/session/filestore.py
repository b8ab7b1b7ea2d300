"""FileStore: sequence numbers and outbound frames made durable before bytes are released.

STYLE.md rule 5 (store, then send): ``save(seq, frame)`` returns only once the frame and
the new ``next_sender_seq`` are on disk, so a ``kill -9`` between ``save`` and the socket
write loses nothing; a restart from the same directory can answer a ResendRequest(2).

Layout of one session directory (one per SenderCompID/TargetCompID/profile)::

    body      append-only records: header ``<4sIQII`` (magic, epoch, seq, length, crc32)
              followed by the frame. The body indexes itself: the in-memory index
              (seq -> offset) is rebuilt by one scan on open, so a save costs one write
              and one fsync, not two files' worth.
    seqnums   two fixed-size slots (``<4sIQQQQI``: magic, epoch, generation, sender,
              target, body offset, crc32) written alternately in place; the valid slot
              with the highest generation wins, so a torn slot write falls back to the
              other one. A slot may carry, in its last 20 bytes, the *period stamp*
              (``<4sIqI``: magic, epoch, period, crc32 over the slot and the stamp): the
              rollover period (its start, UTC epoch seconds) in which the numbers of that
              epoch were set. Older stores have zeros there and read as "period unknown";
              older code ignores the bytes. The stamp's crc covers the slot before it, so
              a torn write never pairs a stamp with numbers it was not written with.
    lock      ``flock``-ed while open: two processes on one session would interleave
              sequence numbers. The holder writes its PID and command line into it, so
              the one refused can say who holds the session (:class:`StoreLockedError`).

Recovery: ``next_sender_seq`` is the seqnums value, advanced past every body record
appended after that slot was written (offset >= the slot's body offset). An incomplete or
corrupt trailing record (a crash mid-write) is cut off. ``reset()`` is one slot write with
a new epoch; records of an older epoch are ignored and truncated on the next open. A reset
leaves the period stamp behind on the old epoch, so after any reset the period reads as
unknown until :meth:`FileStore.stamp_period` records the new one.

A store that is damaged rather than torn (a ``seqnums`` with no valid slot, a ``body`` whose
first record is unreadable) is never taken silently as fresh: its files are renamed to
``<name>.corrupt-<UTC time>``, the store starts again at MsgSeqNum 1, and :attr:`FileStore.warning`
says so for the user.
"""

from __future__ import annotations

import contextlib
import os
import re
import struct
import zlib
from pathlib import Path

try:  # POSIX only; Windows runs without the cross-process lock
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

_REC = struct.Struct("<4sIQII")
_REC_MAGIC = b"KFXR"
_SLOT = struct.Struct("<4sIQQQQI")
_SLOT_MAGIC = b"KFXS"
_SLOT_SIZE = 64
_STAMP = struct.Struct("<4sIqI")
_STAMP_MAGIC = b"KFXP"
_STAMP_AT = _SLOT_SIZE - _STAMP.size  # the stamp fills the slot's tail, after the numbers' padding
_MAX_FRAME = 64 * 1024 * 1024

BODY_FILE = "body"
SEQNUMS_FILE = "seqnums"
LOCK_FILE = "lock"


class StoreError(OSError):
    """The store directory cannot be used (locked by another process, unreadable)."""


class StoreLockedError(StoreError):
    """Another process has this session's store open."""

    def __init__(self, directory: Path, holder: str | None) -> None:
        who = f" ({holder})" if holder else ""
        super().__init__(f"session store {directory} is in use by another krakenfix process{who}")
        self.directory = directory
        self.holder = holder
        "``PID 123: krakenfix tail ...`` when the lock file or /proc says so."


def _lock_holder(lock_fd: int) -> str | None:
    """``PID <n>: <command line>`` of the process that wrote the lock file, when it can be read."""
    try:
        raw = os.pread(lock_fd, 4096, 0).decode("utf-8", "replace")
        pid = int(raw.split("\n", 1)[0].strip())
    except (OSError, ValueError):
        return None
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            cmd = fh.read(4096).replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        lines = raw.split("\n")
        cmd = lines[1].strip() if len(lines) > 1 else ""
    from krakenfix_cli.fix.redact import redact_text

    cmd = redact_text(cmd)  # the command line may hold --raw '554=...'
    cmd = "".join(c if c.isprintable() else "?" for c in cmd)[:200]
    return f"PID {pid}: {cmd}" if cmd else f"PID {pid}"


def _write_holder(lock_fd: int) -> None:
    """Our PID and command line into the lock file, for a process the lock refuses."""
    import sys

    text = f"{os.getpid()}\n{' '.join(sys.argv)[:1000]}\n".encode("utf-8", "replace")
    with contextlib.suppress(OSError):
        os.ftruncate(lock_fd, 0)
        os.pwrite(lock_fd, text, 0)


_SAFE = re.compile(r"[^A-Za-z0-9._-]")


def _safe_part(text: str) -> str:
    """A reversible, filesystem-safe spelling of a CompID or profile name."""
    if not text:
        return "_"
    out = _SAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group(0).encode("utf-8")), text)
    return "%2E" + out[1:] if out.startswith(".") else out


def session_dir_name(sender: str, target: str, profile: str) -> str:
    """``<profile>/<sender>-<target>``-style key made safe; one directory per session."""
    return f"{_safe_part(profile)}__{_safe_part(sender)}__{_safe_part(target)}"


def session_dir(state_dir: str | os.PathLike[str], sender: str, target: str, profile: str) -> Path:
    """The store directory for a session under ``state_dir``."""
    return Path(state_dir) / "sessions" / session_dir_name(sender, target, profile)


def _read_stamp(slot: bytes, tail: bytes) -> tuple[int, int] | None:
    """The period stamp after a valid ``slot``, or None (absent, torn, or written with another slot)."""
    if len(tail) < _STAMP.size:
        return None
    magic, epoch, period, crc = _STAMP.unpack(tail[: _STAMP.size])
    if magic != _STAMP_MAGIC or _stamp_crc(slot, tail[: _STAMP.size - 4]) != crc:
        return None
    return epoch, period


def _stamp_crc(slot: bytes, stamp: bytes) -> int:
    """The stamp's crc32, over the slot's fields and the stamp's (not the slot's crc: a valid
    slot followed by its own crc always has the same crc32, which would bind nothing)."""
    return zlib.crc32(stamp, zlib.crc32(slot[: _SLOT.size - 4]))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _datasync(fd: int) -> None:
    # fdatasync also flushes the file size, which is all an append changes besides data.
    sync = getattr(os, "fdatasync", None)
    if sync is not None:
        sync(fd)
    else:  # pragma: no cover - macOS/Windows
        os.fsync(fd)


def _sync_dir(path: Path) -> None:
    """Make a newly created entry in ``path`` durable (POSIX; a no-op elsewhere)."""
    if os.name != "posix":  # pragma: no cover
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FileStore:
    """A MessageStore on disk; see the module docstring for the layout and recovery."""

    def __init__(
        self, directory: str | os.PathLike[str], *, sync: bool = True, sync_target: bool | None = None
    ) -> None:
        """Open or create the store in ``directory``.

        ``sync``: fdatasync before ``save``/``set_next_sender_seq``/``reset`` return.
        ``sync_target`` (default: ``sync``): the same for ``set_next_target_seq``, which runs
        once per inbound message; losing the last inbound number to a power cut only costs a
        ResendRequest(2) for messages already seen, which come back as PossDup(43)=Y.
        """
        self.directory = Path(directory)
        self.sync = sync
        self.sync_target = sync if sync_target is None else sync_target
        self.recovery_note: str | None = None
        "What recovery had to repair on open (a torn record cut off), for the event log."
        self.warning: str | None = None
        "What the user must hear about: a corrupt store moved aside and started afresh."
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        created = not (self.directory / SEQNUMS_FILE).exists()
        self._lock_fd = os.open(self.directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        self._body_fd = -1
        self._seq_fd = -1
        try:
            if fcntl is not None:
                try:
                    fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError as exc:
                    raise StoreLockedError(self.directory, _lock_holder(self._lock_fd)) from exc
                _write_holder(self._lock_fd)
            self._open_files()
            self._recover()
            if self._corrupt is not None:
                self._move_aside(self._corrupt)
                self._open_files()
                self._recover()
                created = True
            if created:
                self._write_slot()
                if self.sync:
                    _sync_dir(self.directory)
                    _sync_dir(self.directory.parent)
        except BaseException:
            self.close()
            raise

    def _open_files(self) -> None:
        self._body_fd = os.open(self.directory / BODY_FILE, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        self._seq_fd = os.open(self.directory / SEQNUMS_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        self._index: dict[int, tuple[int, int]] = {}
        #: The body file's size, kept here: an fstat per message is a syscall on the hot path.
        self._size = 0
        self._generation = 0
        self._epoch = 0
        self._sender = 1
        self._target = 1
        #: (epoch, period): the rollover period in which that epoch's numbers were set.
        self._stamp: tuple[int, int] | None = None
        self._corrupt: str | None = None

    def _move_aside(self, why: str) -> None:
        """Rename a damaged store's files to ``<name>.corrupt-<time>`` and say so in :attr:`warning`.

        The time is the damaged seqnums file's last change (this module reads no clock).
        """
        import datetime as dt

        mtime = os.fstat(self._seq_fd).st_mtime
        stamp = dt.datetime.fromtimestamp(int(mtime), dt.UTC).strftime("%Y%m%d-%H%M%S")
        for name in ("_body_fd", "_seq_fd"):
            os.close(getattr(self, name))
            setattr(self, name, -1)
        moved = []
        for name in (BODY_FILE, SEQNUMS_FILE):
            src = self.directory / name
            dst = self.directory / f"{name}.corrupt-{stamp}"
            n = 0
            while dst.exists():
                n += 1
                dst = self.directory / f"{name}.corrupt-{stamp}.{n}"
            with contextlib.suppress(FileNotFoundError):
                os.replace(src, dst)
                moved.append(dst.name)
        self.warning = (f"session store {self.directory} was corrupt ({why}); moved it aside to "
                        f"{' and '.join(moved)} and started again at MsgSeqNum(34) 1; nothing to do unless "
                        "the gateway then refuses the sequence numbers (the old files are kept to inspect)")

    @classmethod
    def for_session(
        cls,
        state_dir: str | os.PathLike[str],
        sender: str,
        target: str,
        profile: str,
        *,
        sync: bool = True,
        sync_target: bool | None = None,
    ) -> FileStore:
        """Open (creating if needed) the store of one session under ``state_dir``."""
        return cls(session_dir(state_dir, sender, target, profile), sync=sync, sync_target=sync_target)

    # -- recovery -------------------------------------------------------------------------------
    def _read_slots(self) -> tuple[int, int, int, int, int, tuple[int, int] | None] | None:
        data = os.pread(self._seq_fd, 2 * _SLOT_SIZE, 0)
        best: tuple[int, int, int, int, int, tuple[int, int] | None] | None = None
        for i in range(2):
            raw = data[i * _SLOT_SIZE : i * _SLOT_SIZE + _SLOT.size]
            if len(raw) < _SLOT.size:
                continue
            magic, epoch, gen, sender, target, offset, crc = _SLOT.unpack(raw)
            if magic != _SLOT_MAGIC or zlib.crc32(raw[: _SLOT.size - 4]) != crc:
                continue
            if best is None or gen > best[1]:
                tail = data[i * _SLOT_SIZE + _STAMP_AT : (i + 1) * _SLOT_SIZE]
                best = (epoch, gen, sender, target, offset, _read_stamp(raw, tail))
        return best

    def _recover(self) -> None:
        slot = self._read_slots()
        body_offset = 0
        if slot is not None:
            self._epoch, self._generation, self._sender, self._target, body_offset, self._stamp = slot
        elif os.fstat(self._seq_fd).st_size > 0:
            self._corrupt = "no valid sequence-number slot in seqnums"
            return
        size = self._size = os.fstat(self._body_fd).st_size
        data = os.pread(self._body_fd, size, 0) if size else b""
        pos = 0
        stale = False
        while pos < len(data):
            head = data[pos : pos + _REC.size]
            if len(head) < _REC.size:
                break
            magic, epoch, seq, length, crc = _REC.unpack(head)
            end = pos + _REC.size + length
            if magic != _REC_MAGIC or length > _MAX_FRAME or end > len(data):
                break
            frame = data[pos + _REC.size : end]
            if zlib.crc32(frame, zlib.crc32(head[4:-4])) != crc:
                break
            if epoch != self._epoch:
                stale = True
            else:
                self._index[seq] = (pos + _REC.size, length)
                if pos >= body_offset:
                    self._sender = seq + 1
            pos = end
        if pos == 0 and size >= _REC.size and data[:4] != _REC_MAGIC:
            # Not a record torn by a crash (that keeps its header): the body is damaged.
            self._corrupt = "the first record in body is unreadable"
            return
        if stale:
            # A reset() was made durable but the old frames were not yet truncated.
            os.ftruncate(self._body_fd, 0)
            self._size = 0
            self._index.clear()
            self._write_slot()
            self.recovery_note = "dropped frames left from before a sequence reset"
        elif pos < size:
            os.ftruncate(self._body_fd, pos)
            self._size = pos
            if self.sync:
                _datasync(self._body_fd)
            self.recovery_note = f"cut off an incomplete trailing record ({size - pos} bytes) at offset {pos}"

    # -- durable writes -------------------------------------------------------------------------
    def _write_slot(self, body_offset: int | None = None, *, sync: bool | None = None) -> None:
        """Write the numbers to the older slot; body records past ``body_offset`` override them."""
        self._generation += 1
        offset = self._size if body_offset is None else body_offset
        raw = _SLOT.pack(_SLOT_MAGIC, self._epoch, self._generation, self._sender, self._target, offset, 0)
        raw = raw[:-4] + struct.pack("<I", zlib.crc32(raw[:-4]))
        slot = raw.ljust(_STAMP_AT, b"\0")
        if self._stamp is not None:
            head = _STAMP.pack(_STAMP_MAGIC, self._stamp[0], self._stamp[1], 0)[:-4]
            slot += head + struct.pack("<I", _stamp_crc(raw, head))
        os.pwrite(self._seq_fd, slot.ljust(_SLOT_SIZE, b"\0"), (self._generation % 2) * _SLOT_SIZE)
        if self.sync if sync is None else sync:
            _datasync(self._seq_fd)

    # -- MessageStore ---------------------------------------------------------------------------
    @property
    def next_sender_seq(self) -> int:
        """MsgSeqNum(34) our next outbound message will carry."""
        return self._sender

    @property
    def next_target_seq(self) -> int:
        """MsgSeqNum(34) we expect on the next inbound message."""
        return self._target

    @property
    def epoch(self) -> int:
        """Changes at every :meth:`reset`: tells a caller whether a reset happened since it last looked."""
        return self._epoch

    @property
    def reset_period(self) -> int | None:
        """The rollover period (its start, UTC epoch seconds) in which the current numbers were set.

        None when unknown: a store from before the stamp existed, one never stamped, or one
        reset since it was stamped (the gateway's 141=Y, a rollover seen by ``tail``).
        """
        stamp = self._stamp
        return stamp[1] if stamp is not None and stamp[0] == self._epoch else None

    def stamp_period(self, period: int, epoch: int | None = None) -> None:
        """Record that the numbers of ``epoch`` (default: the current one) were set in ``period``; durable.

        A stamp for an epoch other than the current one is kept but reads as unknown.
        """
        self._check_open()
        self._stamp = (self._epoch if epoch is None else epoch, int(period))
        self._write_slot(sync=self.sync)

    def set_next_sender_seq(self, seq: int) -> None:
        """Move the outbound number; durable before return."""
        self._check_open()
        self._sender = seq
        self._write_slot()

    def set_next_target_seq(self, seq: int) -> None:
        """Move the inbound number; one in-place slot write (+ fdatasync when ``sync_target``)."""
        self._check_open()
        self._target = seq
        self._write_slot(sync=self.sync_target)

    def save(self, seq: int, frame: bytes) -> None:
        """Append the frame and set next_sender_seq = seq + 1, both durable before return."""
        self._check_open()
        if len(frame) > _MAX_FRAME:
            raise ValueError(f"frame of {len(frame)} bytes is too large to store")
        head = _REC.pack(_REC_MAGIC, self._epoch, seq, len(frame), 0)
        crc = zlib.crc32(frame, zlib.crc32(head[4:-4]))
        record = head[:-4] + struct.pack("<I", crc) + frame
        offset = self._size
        try:
            _write_all(self._body_fd, record)
            self._size = offset + len(record)
            if self.sync:
                _datasync(self._body_fd)
        except OSError:
            # A half-written record (disk full) must not sit in front of later ones. If even
            # the truncate fails, recovery on the next open cuts the torn record; the write
            # error is the one to report.
            with contextlib.suppress(OSError):
                os.ftruncate(self._body_fd, offset)
            with contextlib.suppress(OSError):
                self._size = os.fstat(self._body_fd).st_size
            raise
        self._index[seq] = (offset + _REC.size, len(frame))
        self._sender = seq + 1

    def get(self, begin: int, end: int) -> list[tuple[int, bytes]]:
        """Stored outbound frames with begin <= seq <= end, ascending."""
        self._check_open()
        seqs = sorted(s for s in self._index if begin <= s <= end)
        out: list[tuple[int, bytes]] = []
        for s in seqs:
            offset, length = self._index[s]
            out.append((s, os.pread(self._body_fd, length, offset)))
        return out

    def reset(self) -> None:
        """Both numbers to 1 and the frames dropped; the new epoch makes it atomic."""
        self._check_open()
        self._epoch = (self._epoch + 1) & 0xFFFFFFFF
        self._sender = 1
        self._target = 1
        self._write_slot(body_offset=0)
        os.ftruncate(self._body_fd, 0)
        self._size = 0
        if self.sync:
            _datasync(self._body_fd)
        self._index.clear()

    def close(self) -> None:
        """Release the files and the lock; safe to call twice."""
        for name in ("_body_fd", "_seq_fd", "_lock_fd"):
            fd = getattr(self, name, -1)
            if fd >= 0:
                os.close(fd)
                setattr(self, name, -1)

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return self._body_fd < 0

    def _check_open(self) -> None:
        if self._body_fd < 0:
            raise StoreError(f"session store {self.directory} is closed")

    def __enter__(self) -> FileStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"FileStore({str(self.directory)!r}, next_sender_seq={self._sender}, next_target_seq={self._target})"
