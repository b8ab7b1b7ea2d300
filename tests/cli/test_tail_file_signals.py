"""``tail --file`` stops on SIGINT/SIGTERM mid-file, and reads an endless input in flat memory."""

from __future__ import annotations

import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from run import cli_env


@pytest.mark.parametrize(("sig", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_tail_file_of_dev_zero_stops_on_a_signal(sig: signal.Signals, status: int, tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "krakenfix_cli", "tail", "--file", "/dev/zero", "-o", "compact"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=cli_env(home=str(tmp_path)))
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()  # it is reading: the first chunk of zeros was skipped
        assert b"not a FIX message" in first
        proc.send_signal(sig)
        proc.communicate(timeout=120)  # drain until it exits; TimeoutExpired if it ignores the signal
        assert proc.returncode == status
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert peak_kib < 400 * 1024, f"peak RSS {peak_kib} KiB"
