"""A full disk under the state dir: one clear line, exit 74, no traceback.

The disk is a 256 KiB tmpfs filled to the brim, mounted in a private mount namespace
(``unshare -m``), so nothing outside the test sees it.
"""

from __future__ import annotations

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
