"""Size: memory stays flat and warnings stay few on huge inputs; huge messages are refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from run import cli_env

from krakenfix_cli.fix.encode import encode_text

PEAK_LIMIT_KIB = 120 * 1024  # generous (about 30 MB now): a 50 MB line used to take 170-530 MB


def _run_measured(args: list[str], stdin: Path, home: Path) -> tuple[int, str, int]:
    """Run krakenfix in a wrapper process so ru_maxrss is the CLI's own peak, not this test run's."""
    code = (
        "import resource, subprocess, sys, json\n"
        f"p = subprocess.run({[sys.executable, '-m', 'krakenfix_cli', *args]!r}, stdin=open({str(stdin)!r}, 'rb'),"
        " stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
        "print(json.dumps([p.returncode, p.stderr.decode('utf-8', 'replace'),"
        " resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=cli_env(home=str(home)), timeout=600)
    status, stderr, peak = json.loads(out.stdout)
    return status, stderr, peak


@pytest.mark.parametrize("sep", [b"\x01", b"|"])
def test_decode_of_one_50_mb_line_is_refused_in_flat_memory(sep: bytes, tmp_path: Path) -> None:
    big = tmp_path / "big.log"
    with big.open("wb") as fh:
        fh.write(b"8=FIX.4.4" + sep + b"9=5" + sep + b"35=0" + sep + b"58=")
        for _ in range(50):
            fh.write(b"A" * 1_000_000)
        fh.write(sep + b"10=000" + sep + b"\n")
    status, stderr, peak = _run_measured(["decode", "-o", "compact"], big, tmp_path)
    assert status == 5
    assert peak < PEAK_LIMIT_KIB, f"peak RSS {peak} KiB"
    assert len(stderr) < 1_000_000 and max(len(line) for line in stderr.splitlines()) < 1000


def test_repeated_fields_give_at_most_20_warnings_and_a_count(tmp_path: Path) -> None:
    body = "35=D\x0134=2\x0149=A\x0152=20260101-00:00:00\x0156=B\x01" + "9999=x\x01" * 100_000
    rep = tmp_path / "rep.log"
    rep.write_bytes(encode_text(body) + b"\n")
    status, stderr, peak = _run_measured(["decode", "-o", "compact"], rep, tmp_path)
    assert status == 5
    warnings = [line for line in stderr.splitlines() if line.startswith("krakenfix: warning:")]
    assert len(warnings) <= 21, len(warnings)
    assert "more problem(s) in this message" in warnings[-1]
    assert peak < PEAK_LIMIT_KIB, f"peak RSS {peak} KiB"


def test_send_refuses_a_message_over_the_size_limit(tmp_path: Path) -> None:
    from run import run_cli

    msg = tmp_path / "big.txt"
    msg.write_text("35=D|11=1|55=BTC/USD|54=1|38=1|40=1|58=" + "A" * 2_000_000 + "|")
    r = run_cli("send", "--sim", "--file", str(msg), "--dry-run", "-o", "raw")
    assert r.exit_status == 2, r.stderr[:500]
    assert "the limit is 1048576" in r.stderr and r.stdout == ""


def test_the_message_limit_is_configurable(tmp_path: Path) -> None:
    from run import run_cli

    msg = tmp_path / "mid.txt"
    msg.write_text("35=D|11=1|55=BTC/USD|54=1|38=1|40=2|44=1000|58=" + "A" * 5000 + "|")
    small = run_cli("send", "--sim", "--file", str(msg), "--dry-run", "-o", "raw",
                    env={"KRAKENFIX_MAX_MESSAGE_BYTES": "4096"})
    assert small.exit_status == 2 and "the limit is 4096" in small.stderr, small.stderr[:500]
    line = tmp_path / "mid.log"
    line.write_bytes(encode_text("35=0\x01112=" + "A" * 5000 + "\x01") + b"\n")
    d = run_cli("decode", "--file", str(line), env={"KRAKENFIX_MAX_MESSAGE_BYTES": "4096"})
    assert d.exit_status == 5 and "9=5010 is too large" in d.stderr, d.output[:500]
    assert run_cli("decode", "--file", str(line)).exit_status == 0  # the default, 1 MiB, takes it


@pytest.mark.parametrize("value", ["12", "abc", "1e6", "\uff14096", "999999999999"])
def test_a_bad_message_limit_is_a_usage_error(value: str) -> None:
    from run import run_cli

    r = run_cli("decode", "8=FIX.4.4|9=5|35=0|10=000|", env={"KRAKENFIX_MAX_MESSAGE_BYTES": value})
    assert r.exit_status == 2, r.output
    assert r.stderr.count("\n") == 1 and "KRAKENFIX_MAX_MESSAGE_BYTES" in r.stderr, r.stderr


def test_a_garbled_file_shows_a_bounded_number_of_problems_and_counts_them_all(tmp_path: Path) -> None:
    from run import run_cli

    from krakenfix_cli.ops.decode import MAX_PROBLEMS_SHOWN

    bad = tmp_path / "garbled.log"
    bad.write_bytes(b"".join(b"noise %d without any frame\n" % i for i in range(5000)))
    r = run_cli("decode", "--file", str(bad), "-o", "compact")
    assert r.exit_status == 5, r.stderr[-500:]
    lines = r.stderr.splitlines()
    assert len(lines) == MAX_PROBLEMS_SHOWN + 2, len(lines)  # the shown ones, "the rest are counted", the total
    assert f"more than {MAX_PROBLEMS_SHOWN} problems" in lines[-2]
    assert lines[-1] == "krakenfix: error: 5000 invalid of 5000 messages; see the problems above"
