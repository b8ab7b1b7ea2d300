"""The documented exit statuses, and the one-line error form of the boundary."""

from __future__ import annotations

from run import run_cli

from krakenfix_cli.cli.errors import CliError, describe, register_error
from krakenfix_cli.cli.exit import ExitStatus


def test_exit_status_values_match_the_design() -> None:
    assert [int(s) for s in (ExitStatus.OK, ExitStatus.REJECTED, ExitStatus.USAGE,
                             ExitStatus.LOGON_REFUSED, ExitStatus.CONNECT_FAILED,
                             ExitStatus.INVALID_FIX, ExitStatus.INTERRUPTED)] == [0, 1, 2, 3, 4, 5, 130]


def test_unknown_option_is_one_line_and_exits_2() -> None:
    r = run_cli("--no-such-option")
    assert r.exit_status == 2
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("krakenfix: error: ")


def test_bad_output_mode_exits_2() -> None:
    r = run_cli("decode", "--output", "fancy", "35=0")
    assert r.exit_status == 2


def test_decode_with_nothing_to_read_exits_5() -> None:
    r = run_cli("decode", input=b"")
    assert r.exit_status == 5
    assert "no FIX message" in r.stderr


def test_version_and_help_exit_0() -> None:
    assert run_cli("--version").stdout.startswith("krakenfix ")
    r = run_cli("--help")
    assert r.exit_status == 0 and "decode" in r.stdout


def test_bare_krakenfix_without_a_tty_prints_help() -> None:
    r = run_cli()
    assert r.exit_status == 0 and "Usage:" in r.stdout


def test_known_errors_map_to_statuses() -> None:
    import errno

    assert describe(ConnectionRefusedError())[0] is ExitStatus.CONNECT_FAILED  # type: ignore[index]
    assert describe(TimeoutError())[0] is ExitStatus.CONNECT_FAILED  # type: ignore[index]
    full = describe(OSError(errno.ENOSPC, "No space left on device", "/state/x"))
    assert full is not None and full[1].startswith("disk full")
    from krakenfix_cli.fix.errors import FrameProblem, FramingError

    assert describe(FramingError(FrameProblem.BAD_CHECKSUM))[0] is ExitStatus.INVALID_FIX  # type: ignore[index]
    assert describe(CliError("x", "y", ExitStatus.REJECTED)) == (ExitStatus.REJECTED, "x; y")
    assert describe(ValueError("bug")) is None


def test_registered_error_by_name_wins_over_its_base() -> None:
    class LogonRefused(ConnectionError):
        pass

    register_error(f"{__name__}.test_registered_error_by_name_wins_over_its_base.<locals>.LogonRefused",
                   ExitStatus.LOGON_REFUSED, lambda e: f"logon refused: {e}; check the API key")
    assert describe(LogonRefused("bad nonce")) == (
        ExitStatus.LOGON_REFUSED, "logon refused: bad nonce; check the API key")
