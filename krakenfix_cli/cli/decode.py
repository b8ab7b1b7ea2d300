"""``krakenfix decode``: decode and check FIX messages from arguments, stdin or files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from krakenfix_cli.cli.options import Output
from krakenfix_cli.render import Mode

HELP = """Decode FIX messages: names, enum meanings, groups, and every framing error.

Messages come from the arguments (`|` or SOH separators), from --file (QuickFIX logs,
raw SOH streams, or lines of `|` text), or from stdin when no argument is given and
stdin is not a terminal (or as `-`). In `|` text, BodyLength(9) and CheckSum(10) are
checked when given and computed when left out (--strict refuses that). Exits 0 when
every message is valid, 5 when any is not.
"""


def decode(
    messages: Annotated[list[str] | None, typer.Argument(
        metavar="MESSAGE", show_default=False,
        help="Messages as `8=FIX.4.4|9=...|35=D|...|10=...|` or `35=D|11=A|...`; `-` reads stdin.")] = None,
    file: Annotated[list[Path] | None, typer.Option(
        "--file", "-f", metavar="FILE", show_default=False, dir_okay=False,
        help="A log or capture to decode (repeatable; `-` is stdin).")] = None,
    output: Output = Mode.PRETTY,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Refuse `|` text without BeginString(8), BodyLength(9) and CheckSum(10).")] = False,
) -> None:
    """Decode FIX messages from arguments, stdin or files."""
    import sys
    from contextlib import ExitStack

    from krakenfix_cli.cli.errors import CliError
    from krakenfix_cli.cli.exit import ExitStatus
    from krakenfix_cli.cli.options import get_env
    from krakenfix_cli.ops.decode import StreamInput, TextInput, decode_inputs
    from krakenfix_cli.render import MessageWriter, default_dictionary
    from krakenfix_cli.render.console import TerminalReporter, write_error

    env = get_env()
    inputs: list[TextInput | StreamInput] = []
    stdin_used = False

    def stdin_input() -> StreamInput:
        nonlocal stdin_used
        if stdin_used:
            raise CliError("stdin given twice", "pass `-` only once")
        stdin_used = True
        return StreamInput("<stdin>", getattr(env.stdin, "buffer", sys.stdin.buffer))

    with ExitStack() as stack:
        for i, text in enumerate(messages or [], 1):
            inputs.append(stdin_input() if text == "-" else TextInput(f"argument {i}", text))
        for path in file or []:
            if str(path) == "-":
                inputs.append(stdin_input())
            else:
                inputs.append(StreamInput(str(path), stack.enter_context(path.open("rb"))))
        if not inputs:
            if env.stdin_isatty:
                raise CliError("nothing to decode",
                               "give messages as arguments, --file LOG, or pipe them on stdin")
            inputs.append(stdin_input())
        dictionary = default_dictionary()
        writer = MessageWriter(env, output, dictionary)
        reporter = TerminalReporter(env, writer)
        result = decode_inputs(inputs, reporter, dictionary=dictionary, strict=strict)
        writer.flush()
    if result.messages == 0 and not result.problem_count:
        write_error(env, "no FIX message found in the input; check the file or the separators (`|` or SOH)")
        raise typer.Exit(ExitStatus.INVALID_FIX)
    if not result.ok:
        bad = result.invalid or result.problem_count
        write_error(env, f"{bad} invalid of {max(result.messages, bad)} "
                         f"message{'s' if result.messages != 1 else ''}; see the problems above")
        raise typer.Exit(ExitStatus.INVALID_FIX)
    raise typer.Exit(ExitStatus.OK)


def register(app: typer.Typer) -> None:
    """Add ``decode`` to ``app``."""
    app.command("decode", help=HELP)(decode)
