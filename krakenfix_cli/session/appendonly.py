"""Append-only state files: a record is appended whole or not at all.

The one rule for every append-only file under the state dir (the order journal, the
message and event logs): a record starts on a fresh line even when the file ends torn (a
crash mid-write), and a write that comes up short (a full disk) is cut back, so readers,
which resynchronise at the next newline, never see a partial record glued to a whole one.
"""

from __future__ import annotations

import contextlib
import errno
import os


def append_record(fd: int, data: bytes, path: os.PathLike[str] | str) -> None:
    """Append one newline-terminated record to an ``O_APPEND`` file, whole or not at all.

    The rule for every append-only state file (journal, message log): if the file ends in a
    torn record, the new one starts on a fresh line; a short write (a full disk) is cut back
    to where the file ended, and raises ``ENOSPC``, so no partial record is left behind.
    The caller holds whatever lock keeps other appenders out.
    """
    size = os.fstat(fd).st_size
    if size and os.pread(fd, 1, size - 1) != b"\n":
        data = b"\n" + data
    try:
        n = os.write(fd, data)  # one write: a record is never split between two
        if n != len(data):
            raise OSError(errno.ENOSPC, f"short write to {path} ({n} of {len(data)} bytes)")
    except OSError:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, size)
        raise
