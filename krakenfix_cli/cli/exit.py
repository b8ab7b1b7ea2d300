"""krakenfix exit codes: the README and ``krakenfix --help`` print this same table."""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    """What the process exit status means (DESIGN.md, command surface)."""

    OK = 0
    REJECTED = 1  # the gateway said no, orders survived a mass cancel, `log` found nothing or a difference
    USAGE = 2  # bad options or arguments (Click exits 2 too)
    LOGON_REFUSED = 3
    CONNECT_FAILED = 4  # connect, TLS or time-out
    INVALID_FIX = 5  # decode found a framing, field or dictionary problem
    NOT_FILLED = 6  # an IOC/FOK order filled nothing (cancelled by its time in force, not refused)
    INTERNAL_ERROR = 70  # a bug in krakenfix (EX_SOFTWARE); the debug log has the traceback
    IO_ERROR = 74  # disk full, permission denied (EX_IOERR)
    STATE_IN_USE = 75  # session state in use by another krakenfix process (EX_TEMPFAIL)
    INTERRUPTED = 130  # 128 + SIGINT


#: One line per status, for --help epilogs and the README.
EXIT_TABLE = (
    (ExitStatus.OK, "success"),
    (ExitStatus.REJECTED, "rejected by the gateway, orders survived a mass cancel, log found nothing or a difference"),
    (ExitStatus.USAGE, "usage error"),
    (ExitStatus.LOGON_REFUSED, "logon refused"),
    (ExitStatus.CONNECT_FAILED, "cannot connect, TLS failure or time-out"),
    (ExitStatus.INVALID_FIX, "invalid FIX (decode)"),
    (ExitStatus.NOT_FILLED, "an IOC/FOK order filled nothing (send)"),
    (ExitStatus.INTERNAL_ERROR, "internal error (a bug: please report it)"),
    (ExitStatus.IO_ERROR, "disk full or a file cannot be written"),
    (ExitStatus.STATE_IN_USE, "session state in use by another krakenfix process"),
    (ExitStatus.INTERRUPTED, "interrupted (Ctrl-C)"),
)
