"""The ``krakenfix`` entry point: answer ``--help`` and ``--version`` without importing Typer.

Importing Typer (and Click under it) costs about 75 ms here, more than the interpreter
itself; top-level ``--help`` would then miss its 100 ms budget. The top-level help text is
therefore cached in ``help_cache.json`` for the two widths Click renders it at in
practice (a terminal of 100+ columns, and the 80-column default of pipes and small
terminals). ``tests/cli/test_help_cache.py`` regenerates it from the live Typer app and
fails when it drifts (regenerate: ``python -m krakenfix_cli.cli.entry --write-help-cache``).
A one-shot command runs warm when a session holder keeps a warm server (``cli/warm.py``);
anything else goes to :func:`krakenfix_cli.cli.app.main`.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

CACHE = Path(__file__).with_name("help_cache.json")
#: Click wraps help at max(min(columns, max_content_width) - 2, 50); app.py sets 100.
MAX_CONTENT_WIDTH = 100


def click_width(columns: int) -> int:
    """The text width Click uses for a terminal of ``columns`` (HelpFormatter's rule)."""
    return max(min(columns, MAX_CONTENT_WIDTH) - 2, 50)


def _columns() -> int:
    env = os.environ.get("COLUMNS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


def _fast(args: list[str]) -> bool:
    """Answer from the cache when the request needs nothing else; True when answered."""
    if os.environ.get("KRAKENFIX_NO_HELP_CACHE") or "_KRAKENFIX_COMPLETE" in os.environ:
        return False  # shell completion speaks its own protocol through the app
    if args in (["--version"],):
        from krakenfix_cli import __version__

        sys.stdout.write(f"krakenfix {__version__}\n")
        return True
    wants_help = args in (["--help"], ["-h"]) or (not args and not (sys.stdin.isatty() and sys.stdout.isatty()))
    if not wants_help:
        return False
    try:
        cache = json.loads(CACHE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    text = cache.get(str(click_width(_columns())))
    if not isinstance(text, str):
        return False
    sys.stdout.write(text)
    return True


def main() -> None:
    """``krakenfix``: the fast answers here, everything else through the Typer app."""
    if _fast(sys.argv[1:]):
        sys.exit(0)
    from krakenfix_cli.cli import warm

    try:
        status = warm.run(sys.argv[1:])  # in a fork of the warm server a session holder keeps, when one runs
    except KeyboardInterrupt:  # before the command started anywhere
        sys.exit(130)
    if status is not None:
        sys.exit(status)
    from krakenfix_cli.cli.app import main as app_main

    app_main()


def render_help(columns: int) -> str:
    """The live top-level help at ``columns`` (Typer app, no cache)."""
    import subprocess

    env = dict(os.environ, COLUMNS=str(columns), KRAKENFIX_NO_HELP_CACHE="1", NO_COLOR="1")
    out = subprocess.run([sys.executable, "-m", "krakenfix_cli", "--help"], capture_output=True, text=True,
                         env=env, check=True)
    return out.stdout


def write_cache() -> None:
    """Regenerate ``help_cache.json`` from the live app."""
    texts = {str(click_width(c)): render_help(c) for c in (MAX_CONTENT_WIDTH + 2, 80)}
    CACHE.write_text(json.dumps(texts, indent=1, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write-help-cache"]:
        write_cache()
    else:
        main()
