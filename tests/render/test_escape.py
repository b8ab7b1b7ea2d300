"""Wire, log and typed text is data on a terminal, never control (issue 9 §5)."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from run import cli_env

from krakenfix_cli.fix.encode import encode_text
from krakenfix_cli.render import Env
from krakenfix_cli.render.console import TerminalReporter, write_error, write_note, write_warning
from krakenfix_cli.render.escape import escape_text

HOSTILE = "x\x1b]0;pwned\x07\x1b[2J\r\n2026 ExecutionReport accepted\u202e\x9b"
UNSAFE = ("\x1b", "\x07", "\r", "\u202e", "\x9b")


def test_escape_text_spells_out_controls_and_keeps_text() -> None:
    assert escape_text("BTC/USD 50000 é") == "BTC/USD 50000 é"
    assert escape_text(HOSTILE) == ("x\\x1b]0;pwned\\x07\\x1b[2J\\x0d\\x0a2026 ExecutionReport accepted"
                                    "\\u202e\\x9b")


@pytest.mark.parametrize("mode", ["compact", "raw", "pretty"])
def test_decode_writes_no_control_character_in_human_modes(mode: str, tmp_path: Path) -> None:
    # A log line cannot hold LF (it ends the line), and a frame is latin-1; everything else can.
    text = HOSTILE.replace("\n", "").replace("\u202e", "")
    frame = encode_text(f"35=3\x0134=2\x0149=KRAKEN-TRD\x0156=ME\x0152=20261125-14:00:00\x0145=1\x0158={text}\x01")
    proc = subprocess.run([sys.executable, "-m", "krakenfix_cli", "decode", "-o", mode],
                          capture_output=True, env=cli_env(home=str(tmp_path)), input=frame + b"\n")
    out = proc.stdout.decode("utf-8") + proc.stderr.decode("utf-8")
    assert "pwned" in out and "\\x1b" in out
    for c in UNSAFE:
        assert c not in out, (mode, out)


def test_error_warning_note_and_table_lines_are_escaped() -> None:
    out, err = io.StringIO(), io.StringIO()
    env = Env(stdout=out, stderr=err, stdin=io.StringIO(), width=100)
    write_error(env, f"logon refused (gateway said: {HOSTILE})")
    write_warning(env, HOSTILE)
    write_note(env, HOSTILE)
    from krakenfix_cli.render import MessageWriter, Mode

    TerminalReporter(env, MessageWriter(env, Mode.COMPACT)).table("t", ["Text"], [[HOSTILE]])
    for c in (*UNSAFE, "\n2026"):
        assert c not in err.getvalue() + out.getvalue()
    assert err.getvalue().count("\n") == 3
