"""A full disk under the state dir: one clear line, exit 74, no traceback.

The disk is a 256 KiB tmpfs filled to the brim, mounted in a private mount namespace
(``unshare -m``), so nothing outside the test sees it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest


def _can_unshare_mounts() -> bool:
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _can_unshare_mounts(), reason="unshare -m is not permitted here")
def test_order_on_a_full_disk_fails_with_one_line_and_exit_74(tmp_path: Path) -> None:
    mnt = tmp_path / "disk"
    mnt.mkdir()
    kfx = f"{sys.executable} -m krakenfix_cli"
    script = textwrap.dedent(f"""
        set -u
        mount -t tmpfs -o size=256k tmpfs {mnt}
        export KRAKENFIX_CONFIG_DIR={mnt}/cfg NO_COLOR=1
        {kfx} logon --sim --state-dir {mnt}/state -o compact >/dev/null 2>&1 || exit 90
        head -c 1000000 /dev/zero > {mnt}/filler 2>/dev/null
        {kfx} send --sim --state-dir {mnt}/state -s BTC/USD --side buy -q 0.01 --price 50000 -o compact
        echo "rc=$?"
    """)
    proc = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip().splitlines()[-1] == "rc=74", proc.stdout + proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("krakenfix: error:")]
    assert errors == ["krakenfix: error: disk full; free some space or point --state-dir elsewhere"]
    assert "Traceback" not in proc.stderr



def _uuid_clordid() -> str:
    """A Spot ClOrdID of the second format (timestamp-first UUID): such a send writes no
    ClOrdID watermark file, which on a full tmpfs would need a page of its own."""
    from krakenfix_cli.kraken.clordid import next_derivatives_clordid
    from krakenfix_cli.transport.clock import now

    return next_derivatives_clordid(now())


ORDER = "|55=BTC/USD|54=1|38=0.01|40=2|44=1000.0|59=1"
LOG = "logs/FIX.4.4-KFXDEMO-KRAKEN-TRD.messages.current.log"


def _disk_script(mnt: Path, body: str) -> str:
    """A script on a fresh 256 KiB tmpfs at ``mnt`` after one ``logon --sim``.

    ``pad FILE SLACK`` appends one blank line (readers skip it) so that FILE's last tmpfs
    page has SLACK bytes free: once the disk is filled, FILE can grow by that much and no
    more (tmpfs allocates whole pages).
    """
    kfx = f"{sys.executable} -m krakenfix_cli"
    return textwrap.dedent(f"""
        set -u
        mount -t tmpfs -o size=256k tmpfs {mnt}
        export KRAKENFIX_CONFIG_DIR={mnt}/cfg NO_COLOR=1
        kfx="{kfx}"; state={mnt}/state
        pad() {{
            size=$(stat -c %s "$1" 2>/dev/null || echo 0)
            n=$(( (8192 - $2 - size % 4096) % 4096 ))
            [ "$n" -ge 1 ] || n=$((n + 4096))
            {{ head -c $((n - 1)) /dev/zero | tr '\\0' ' '; echo; }} >> "$1"
        }}
        $kfx logon --sim --state-dir $state -o compact >/dev/null 2>&1 || exit 90
    """) + textwrap.dedent(body)


def _run(script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=180)


@pytest.mark.skipif(not _can_unshare_mounts(), reason="unshare -m is not permitted here")
def test_the_disk_filling_after_the_ack_still_reports_the_order_accepted(tmp_path: Path) -> None:
    """The journal's ``placed`` line fits, its update after the ack does not: exit 0, one warning."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    second, first = _uuid_clordid(), _uuid_clordid()
    # A first order measures the journal's lines; the second goes onto a page with room for
    # its ``placed`` line and half an update, the disk otherwise full. Its ClOrdID is below
    # the first (each --sim run is a new simulator), so it does not rewrite clordid.json.
    proc = _run(_disk_script(mnt, f"""
        $kfx send --sim --state-dir $state --raw '35=D|11={first}{ORDER}' -o compact >/dev/null 2>&1 || exit 91
        placed=$(grep -m1 '"placed"' $state/orders.jsonl | wc -c)
        update=$(grep -m1 '"update"' $state/orders.jsonl | wc -c)
        pad $state/{LOG} 3000
        pad $state/orders.jsonl $((placed + update / 2))
        head -c 1000000 /dev/zero > {mnt}/filler 2>/dev/null
        $kfx send --sim --state-dir $state --raw '35=D|11={second}{ORDER}' -o compact
        echo "rc=$?"
        cat $state/orders.jsonl > {tmp_path}/journal.copy
    """))
    assert proc.stdout.strip().splitlines()[-1] == "rc=0", proc.stdout + proc.stderr
    assert "< ExecutionReport" in proc.stdout and f"accepted: ClOrdID {second}" in proc.stdout, proc.stdout
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("krakenfix: warning:")]
    assert len(warnings) == 1 and "could not write the order journal" in warnings[0], proc.stderr
    assert "do not resend it" in warnings[0]
    assert "krakenfix: error:" not in proc.stderr and "Traceback" not in proc.stderr
    data = (tmp_path / "journal.copy").read_bytes()
    assert data.endswith(b"\n")
    records = [json.loads(line) for line in data.splitlines() if line.strip()]  # no torn line
    assert [r["clordid"] for r in records if r["ev"] == "placed"] == [first, second]


@pytest.mark.skipif(not _can_unshare_mounts(), reason="unshare -m is not permitted here")
def test_a_full_message_log_is_a_warning_not_a_lost_outcome(tmp_path: Path) -> None:
    mnt = tmp_path / "disk"
    mnt.mkdir()
    clordid, above = _uuid_clordid(), _uuid_clordid()  # `above` sets the watermark: no rewrite later
    proc = _run(_disk_script(mnt, f"""
        $kfx send --sim --state-dir $state --raw '35=D|11={above}{ORDER}' -o compact >/dev/null 2>&1 || exit 91
        pad $state/orders.jsonl 3000
        pad $state/{LOG} 100
        head -c 1000000 /dev/zero > {mnt}/filler 2>/dev/null
        $kfx send --sim --state-dir $state --raw '35=D|11={clordid}{ORDER}' -o compact
        echo "rc=$?"
        cat $state/{LOG} > {tmp_path}/log.copy
    """))
    assert proc.stdout.strip().splitlines()[-1] == "rc=0", proc.stdout + proc.stderr
    assert f"accepted: ClOrdID {clordid}" in proc.stdout, proc.stdout
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("krakenfix: warning:")]
    assert len(warnings) == 1 and "could not write the message log" in warnings[0], proc.stderr
    assert "krakenfix: error:" not in proc.stderr and "Traceback" not in proc.stderr
    data = (tmp_path / "log.copy").read_bytes()
    assert data.endswith(b"\n") and all(b" : 8=FIX.4.4\x01" in line for line in data.splitlines() if line.strip())


@pytest.mark.skipif(not _can_unshare_mounts(), reason="unshare -m is not permitted here")
def test_a_message_the_store_cannot_hold_is_not_sent_and_exits_74(tmp_path: Path) -> None:
    """Store, then send: a NewOrderSingle bigger than the store's free page never reaches the wire.

    Against a ``krakenfix sim`` of its own (a ``--sim`` run keeps its store in memory, as its
    simulator lives only as long as the command)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    clordid = _uuid_clordid()
    text = "x" * 6000  # the stored frame needs a page the full disk does not have
    kfx = f"{sys.executable} -m krakenfix_cli"
    proc = _run(textwrap.dedent(f"""
        set -u
        mount -t tmpfs -o size=256k tmpfs {mnt}
        export KRAKENFIX_CONFIG_DIR={mnt}/cfg KRAKENFIX_STATE_DIR={mnt}/state NO_COLOR=1
        {kfx} sim --port 0 --no-tls --port-file {tmp_path}/port >/dev/null 2>&1 &
        simpid=$!
        for _ in $(seq 200); do [ -s {tmp_path}/port ] && break; sleep 0.1; done
        {kfx} logon --profile sim -o compact >/dev/null 2>&1 || {{ kill $simpid; exit 90; }}
        head -c 1000000 /dev/zero > {mnt}/filler 2>/dev/null
        {kfx} send --profile sim --raw '35=D|11={clordid}{ORDER}|58={text}' -o compact
        echo "rc=$?"
        kill $simpid; wait $simpid
    """))
    assert "rc=" in proc.stdout, proc.stdout + proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "rc=74", proc.stdout + proc.stderr
    assert "> NewOrderSingle" not in proc.stdout and "< ExecutionReport" not in proc.stdout
    errors = [line for line in proc.stderr.splitlines() if line.startswith("krakenfix: error:")]
    assert errors == ["krakenfix: error: disk full; free some space or point --state-dir elsewhere"], proc.stderr
    assert "Traceback" not in proc.stderr
