"""Exception type → (ExitStatus, one-line message): what ``cli.app.main`` prints and exits with.

Every line reads ``<what happened>; <what to do>``; the boundary adds the
``krakenfix: error:`` prefix. Register more with :func:`register_error`, by class or by
dotted name (``"krakenfix_cli.client.LogonRefused"``): a name costs no import, so a
command module can register the errors of heavy layers without slowing ``--help``.
The most specific registered class in the exception's MRO wins.
"""

from __future__ import annotations

import errno
from collections.abc import Callable

from krakenfix_cli.cli.exit import ExitStatus

Formatter = Callable[[BaseException], str]


class CliError(Exception):
    """A user-facing error raised by a command: the message, a hint, an exit status."""

    def __init__(self, what: str, todo: str = "", status: ExitStatus = ExitStatus.USAGE) -> None:
        self.what = what
        self.todo = todo
        self.status = status
        super().__init__(f"{what}; {todo}" if todo else what)


_BY_NAME: dict[str, tuple[ExitStatus, Formatter]] = {}


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def register_error(exc_type: type[BaseException] | str, status: ExitStatus,
                   formatter: Formatter | None = None) -> None:
    """Map ``exc_type`` (a class or its dotted name) to ``status`` and a message.

    ``formatter(exc)`` returns ``"<what happened>; <what to do>"``; without one the
    exception's own ``str()`` is used. Registering again replaces the entry.
    """
    key = exc_type if isinstance(exc_type, str) else _name(exc_type)
    _BY_NAME[key] = (status, formatter or _plain)


def _plain(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def describe(exc: BaseException) -> tuple[ExitStatus, str] | None:
    """``(status, line)`` for a known exception, ``None`` for a bug."""
    if isinstance(exc, CliError):
        return exc.status, str(exc)
    for cls in type(exc).__mro__:
        entry = _BY_NAME.get(_name(cls))
        if entry is not None:
            status, fmt = entry
            special = _os_error(exc) if cls is OSError else None
            if special is not None:
                return special
            return status, fmt(exc)
    return None


def _os_error(exc: BaseException) -> tuple[ExitStatus, str] | None:
    if not isinstance(exc, OSError):
        return None
    where = f": {exc.filename}" if exc.filename else ""
    if exc.errno == errno.ENOSPC:
        return ExitStatus.IO_ERROR, f"disk full{where}; free some space or point --state-dir elsewhere"
    if exc.errno in (errno.ECONNREFUSED, errno.ECONNRESET, errno.ENETUNREACH, errno.EHOSTUNREACH,
                     errno.ETIMEDOUT, errno.ECONNABORTED):
        return ExitStatus.CONNECT_FAILED, (f"{exc.strerror or exc}; check --host/--port and the "
                                           "network, or try --sim")
    if exc.errno == errno.EPIPE:
        return ExitStatus.OK, "output pipe closed"
    return ExitStatus.IO_ERROR, f"{exc.strerror or exc}{where}; check the path and its permissions"


def _fix_error(exc: BaseException) -> str:
    return f"invalid FIX: {exc}; check the message with `krakenfix decode`"


def _cli_error(exc: BaseException) -> str:
    return str(exc)


# -- the built-in table -------------------------------------------------------------------------
register_error(OSError, ExitStatus.IO_ERROR)  # refined by _os_error (ENOSPC, EPIPE, network errnos)
register_error(FileNotFoundError, ExitStatus.USAGE,
               lambda e: f"no such file: {getattr(e, 'filename', '') or e}; check the path")
register_error(IsADirectoryError, ExitStatus.USAGE,
               lambda e: f"is a directory: {getattr(e, 'filename', '') or e}; give a file")
register_error(PermissionError, ExitStatus.IO_ERROR,
               lambda e: f"permission denied: {getattr(e, 'filename', '') or e}; check its permissions")
register_error(ConnectionRefusedError, ExitStatus.CONNECT_FAILED,
               lambda e: "connection refused; check --host/--port, or start a simulator with --sim")
register_error(ConnectionResetError, ExitStatus.CONNECT_FAILED,
               lambda e: "the connection was reset by the peer; check TLS (--tls/--no-tls) and the port")
register_error(ConnectionError, ExitStatus.CONNECT_FAILED,
               lambda e: f"connection failed: {e}; check --host/--port and the network")
register_error(TimeoutError, ExitStatus.CONNECT_FAILED,
               lambda e: f"timed out{': ' + str(e) if str(e) else ''}; check the network or raise --timeout")
register_error("ssl.SSLCertVerificationError", ExitStatus.CONNECT_FAILED,
               lambda e: f"TLS certificate not trusted: {getattr(e, 'verify_message', '') or e}; "
                         "check the host name, or use --insecure against UAT only")
register_error("ssl.SSLError", ExitStatus.CONNECT_FAILED,
               lambda e: f"TLS handshake failed: {getattr(e, 'reason', '') or e}; check --tls/--no-tls and --port")
register_error("socket.gaierror", ExitStatus.CONNECT_FAILED,
               lambda e: f"cannot resolve the host name ({e}); check --host")
register_error("krakenfix_cli.fix.errors.FixError", ExitStatus.INVALID_FIX, _fix_error)
register_error("krakenfix_cli.session.errors.LocalProtocolError", ExitStatus.USAGE,
               lambda e: f"not allowed by the FIX session rules: {e}; see `krakenfix --help`")
register_error("krakenfix_cli.session.errors.RemoteProtocolError", ExitStatus.CONNECT_FAILED,
               lambda e: f"the counterparty broke the FIX session rules: {e}; "
                         "see the message log under --state-dir")
register_error("krakenfix_cli.session.filestore.StoreLockedError", ExitStatus.STATE_IN_USE,
               lambda e: f"{e}; stop that process (or let it finish), or use a different --state-dir")
register_error(CliError, ExitStatus.USAGE, _cli_error)
