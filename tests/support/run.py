"""run_cli: the real ``krakenfix`` in a subprocess, isolated from the user's state and config.

A subprocess (``sys.executable -m krakenfix_cli``) rather than in-process: exit codes,
stderr wording and import side effects are exactly what a user gets.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Result:
    """What a run printed and how it exited."""

    stdout: str
    stderr: str
    exit_status: int

    @property
    def output(self) -> str:
        """stdout and stderr together (for "never printed anywhere" checks)."""
        return self.stdout + self.stderr


def cli_env(env: Mapping[str, str] | None = None, home: str | None = None) -> dict[str, str]:
    """The environment for a run: NO_COLOR, and state/config dirs under ``home`` (a new temp dir
    when ``None``; the caller then removes it)."""
    base = home or tempfile.mkdtemp(prefix="krakenfix-test-")
    out = {k: v for k, v in os.environ.items() if not k.startswith("KRAKENFIX_")}
    out.update(
        NO_COLOR="1",
        COLUMNS="100",
        KRAKENFIX_STATE_DIR=os.path.join(base, "state"),
        KRAKENFIX_CONFIG_DIR=os.path.join(base, "config"),
        PYTHONIOENCODING="utf-8",
    )
    if env:
        out.update(env)
    return out


def run_cli(
    *args: str,
    env: Mapping[str, str] | None = None,
    input: str | bytes | None = None,
    timeout: float = 60,
) -> Result:
    """Run ``krakenfix *args``; ``input`` goes to stdin (an empty stdin when ``None``)."""
    data = input.encode("latin-1") if isinstance(input, str) else input
    with tempfile.TemporaryDirectory(prefix="krakenfix-test-") as home:
        proc = subprocess.run(
            [sys.executable, "-m", "krakenfix_cli", *args],
            input=data if data is not None else b"",
            capture_output=True,
            env=cli_env(env, home),
            timeout=timeout,
        )
    return Result(
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
        proc.returncode,
    )
