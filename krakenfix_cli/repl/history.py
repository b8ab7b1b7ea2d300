"""Persistent REPL history that never writes a secret to disk.

A ``raw`` line may carry Password(554) or RawData(96) (``raw 35=A|554=...``); the line
kept in memory for this session is the one typed (so Up recalls it as it was), but what
goes to the history file has those values replaced by ``***`` (``fix.redact.MASK``).
Tags may be typed by number or by name, so both spellings are matched.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from krakenfix_cli.fix.redact import MASK, SECRET_TAGS

_NAMES = ("Password", "RawData", "NewPassword")
_SECRET_RE = re.compile(
    r"(?P<key>(?<![0-9A-Za-z_])(?:" + "|".join([str(t) for t in sorted(SECRET_TAGS)] + list(_NAMES)) + r"))"
    r"(?P<eq>\s*=\s*)(?P<value>[^|\x01\s]*)",
    re.IGNORECASE,
)


def redact_line(line: str) -> str:
    """``raw 35=A|554=abc`` → ``raw 35=A|554=***`` (also ``Password=...``)."""
    return _SECRET_RE.sub(lambda m: f"{m.group('key')}{m.group('eq')}{MASK}" if m.group("value") else m.group(0), line)


def build_history(path: Path) -> Any:
    """A prompt_toolkit ``FileHistory`` at ``path`` whose file lines are redacted."""
    from prompt_toolkit.history import FileHistory

    class RedactingFileHistory(FileHistory):
        """FileHistory that masks 554/96 values before they reach the file."""

        def store_string(self, string: str) -> None:
            super().store_string(redact_line(string))

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))  # private before the first line
    return RedactingFileHistory(str(path))
