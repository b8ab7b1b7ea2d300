"""The ``krakenfix`` Typer app, and ``main()``: the one place that catches exceptions broadly.

Adding a subcommand is a one-line change. Write ``krakenfix_cli/cli/<name>.py`` with::

    def register(app: typer.Typer) -> None:
        app.command("mass-cancel", help="...")(mass_cancel)   # or app.add_typer(...)

(or, shorter, a module-level Typer command function named ``command``; it is
registered under the module name with ``_`` → ``-``), then add ``"<name>"`` to
:data:`COMMANDS` below. ``--help`` imports every command module, so keep their top level
cheap: typer, ``cli.options``, ``cli.exit``, ``cli.errors`` only; import ops, render,
client, rich, asyncio, ... inside the command function.
``tests/cli/test_help_startup.py`` fails when ``--help`` imports rich, prompt_toolkit or
asyncio. Register a new exception type with ``cli.errors.register_error`` (by dotted
name from the command module, which costs no import).

Errors: a known exception (``cli/errors.py``) becomes one line
``krakenfix: error: <what>; <what to do>`` on stderr and its exit status; Ctrl-C exits
130; anything else prints one line asking for a bug report with the path of a debug log
holding the traceback. ``--debug`` (or ``KRAKENFIX_DEBUG=1``) also prints the traceback; the exit status is the same.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Annotated, Any, NoReturn

import typer

from krakenfix_cli import __version__
from krakenfix_cli.cli.exit import EXIT_TABLE, ExitStatus
from krakenfix_cli.cli.options import get_env, set_env
from krakenfix_cli.render.env import Env

#: Subcommand modules under ``krakenfix_cli/cli/``, in ``--help`` order.
COMMANDS: tuple[str, ...] = (
    "logon",
    "send",
    "cancel",
    "amend",
    "status",
    "orders",
    "instruments",
    "mass_cancel",
    "replay",
    "session",
    "tail",
    "book",
    "trades",
    "repl",
    "decode",
    "log",
    "sim",
)

PROG = "krakenfix"

_EPILOG = "\b\nExit status:\n" + "\n".join(f"  {int(s):>3}  {text}" for s, text in EXIT_TABLE)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"{PROG} {__version__}")
        raise typer.Exit(0)


def _root(
    ctx: typer.Context,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and internal detail.")] = False,
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and exit.")] = False,
) -> None:
    """Kraken FIX 4.4 from the terminal: log on, trade, cancel, tail, replay, decode.

    Bare `krakenfix` on a terminal starts the REPL.
    """
    env = Env.from_system(debug=debug)
    set_env(env)
    if ctx.invoked_subcommand is not None:
        return
    group = ctx.command
    repl = group.get_command(ctx, "repl") if isinstance(group, typer.core.TyperGroup) else None
    if repl is not None and env.stdin_isatty and env.stdout_isatty:
        ctx.invoke(repl)
        return
    typer.echo(ctx.get_help())
    raise typer.Exit(0)


def build_app(only: str | None = None) -> typer.Typer:
    """The app with every module of :data:`COMMANDS` registered (or just ``only``).

    Typer turns every registered function into a Click command before it dispatches
    (signatures, annotations, option objects): about 100 ms for all nine here, most of
    the REPL's start-up budget. A run that names its subcommand needs only that one.
    """
    app = typer.Typer(
        name=PROG,
        pretty_exceptions_enable=False,
        no_args_is_help=False,
        add_completion=True,
        rich_markup_mode=None,  # plain Click help: rich is not imported for --help
        context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
        epilog=_EPILOG,
        invoke_without_command=True,
    )
    app.callback()(_root)
    for name in COMMANDS if only is None else (only,):
        module = importlib.import_module(f"krakenfix_cli.cli.{name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)
        else:
            app.command(name.replace("_", "-"))(module.command)
    return app


#: Click commands built ahead of time by :func:`prebuild` (a warm server's), by module name.
_BUILT: dict[str, object] = {}


def prebuild(names: list[str]) -> None:
    """Build these commands now, so that a run naming one of them skips the build (``cli/warm_server.py``)."""
    for name in names:
        if name in COMMANDS:
            _BUILT[name] = typer.main.get_command(build_app(name))


def _command_for(args: list[str]) -> Any:
    name = _named_command(args)
    built = _BUILT.get(name) if name is not None else None
    return built if built is not None else typer.main.get_command(build_app(name))


def _named_command(args: list[str]) -> str | None:
    """The :data:`COMMANDS` module ``args`` invoke, when only it needs building.

    Only the root's own ``--debug`` may come before the name; anything else (help,
    completion, a typo that wants "no such command") goes through the whole app.
    """
    if "_KRAKENFIX_COMPLETE" in os.environ:
        return None
    for arg in args:
        if arg == "--debug":
            continue
        module = arg.replace("-", "_")
        return module if "_" not in arg and module in COMMANDS else None
    return None


def _debug_requested(args: list[str]) -> bool:
    head = args[: args.index("--")] if "--" in args else args
    return "--debug" in head or os.environ.get("KRAKENFIX_DEBUG", "") not in ("", "0")


def _state_dir(args: list[str]) -> str:
    """``--state-dir`` from ``args`` (before ``--``), else what ``settings.paths`` resolves."""
    from krakenfix_cli.settings import paths

    return str(paths.state_dir_from_args(args))


def _write_debug_log(exc: BaseException, args: list[str]) -> str:
    """The traceback, redacted, in a 0600 file under the state dir (or the temp dir); its path."""
    import tempfile
    import traceback

    from krakenfix_cli.fix.redact import redact_text

    text = "".join(traceback.format_exception(exc))
    text = redact_text(f"{PROG} {__version__}, Python {sys.version.split()[0]}\nargv: {args!r}\n\n{text}")
    for base in (os.path.join(_state_dir(args), "debug"), tempfile.gettempdir()):
        try:
            os.makedirs(base, mode=0o700, exist_ok=True)
            path = os.path.join(base, f"crash-{os.getpid()}.log")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                os.fchmod(fd, 0o600)  # an older crash log of the same PID may be looser
                fh.write(text)
            return path
        except OSError:
            continue
    return "(could not be written)"


MESSAGE_LIMIT_ENV = "KRAKENFIX_MAX_MESSAGE_BYTES"


def _private_state(args: list[str]) -> None:
    """Everything krakenfix creates is owner-only; a state dir made looser before is tightened."""
    os.umask(0o077)
    try:
        from pathlib import Path

        from krakenfix_cli.settings import paths

        paths.tighten_state_dir(Path(_state_dir(args)))
    except Exception:  # never a reason not to run the command
        pass


def _message_limit() -> str | None:
    """Apply ``KRAKENFIX_MAX_MESSAGE_BYTES`` (the bound on one FIX message); the error line if bad."""
    text = os.environ.get(MESSAGE_LIMIT_ENV, "").strip()
    if not text:
        return None
    from krakenfix_cli.fix import framing

    try:
        framing.set_max_body_length(int(text) if text.isascii() and text.isdigit() else -1)
    except ValueError:
        low, high = framing.MAX_BODY_LENGTH_RANGE
        return f"{MESSAGE_LIMIT_ENV}={text!r} is not usable; give a whole number of bytes from {low} to {high}"
    return None


def run(argv: list[str] | None = None) -> int:
    """Run the CLI on ``argv`` and return the exit status (never raises; --debug adds tracebacks)."""
    from krakenfix_cli.cli.errors import describe
    from krakenfix_cli.cli.pipe import guard_stdout
    from krakenfix_cli.render.console import write_error

    args = sys.argv[1:] if argv is None else list(argv)
    debug = _debug_requested(args)
    _private_state(args)
    guard_stdout()  # a reader that goes away (`| head -1`) does not stop the command
    bad_limit = _message_limit()
    if bad_limit is not None:
        write_error(_env_for_errors(), bad_limit)
        return ExitStatus.USAGE
    try:
        command = _command_for(args)
        rv = command.main(args=args, prog_name=PROG, standalone_mode=False)
        return rv if isinstance(rv, int) else ExitStatus.OK
    except SystemExit as stop:
        code = stop.code
        if code is None:
            return ExitStatus.OK
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return ExitStatus.INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``| head``): not an error. Silence the flush at exit.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return ExitStatus.OK
    except Exception as exc:
        env = _env_for_errors()
        if debug:
            # --debug adds the traceback; the exit status and the error line stay the same.
            import traceback

            env.stderr.write("".join(traceback.format_exception(exc)))
            env.stderr.flush()
        usage = _click_error(exc)
        if usage is not None:
            status, line = usage
            write_error(env, line)
            return status
        known = describe(exc)
        if known is not None:
            status, line = known
            write_error(env, line)
            return status
        path = _write_debug_log(exc, args)
        write_error(env, f"internal error ({type(exc).__name__}); this is a bug, please report it "
                         f"with the debug log {path}")
        return ExitStatus.INTERNAL_ERROR


def _click_error(exc: BaseException) -> tuple[int, str] | None:
    """Click's usage errors and aborts, as one line (Click's own form is three)."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    if "Abort" in names:
        return ExitStatus.INTERRUPTED, "aborted"
    if "ClickException" not in names:
        return None
    message = str(exc.format_message()).rstrip(".")  # type: ignore[attr-defined]
    code = int(getattr(exc, "exit_code", ExitStatus.USAGE))
    ctx = getattr(exc, "ctx", None)
    path = getattr(ctx, "command_path", PROG) or PROG
    return code, f"{message}; see `{path} --help`"


def _env_for_errors() -> Env:
    return get_env()


def main(argv: list[str] | None = None) -> NoReturn:
    """The ``krakenfix`` console script."""
    sys.exit(run(argv))
