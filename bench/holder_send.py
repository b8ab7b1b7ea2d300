"""`krakenfix send` through a session holder: process start → acknowledgement, against a one-shot send.

A one-shot `send` starts Python, imports the engine, connects, logs on, sends, waits for the
ack and logs out; through a running `krakenfix session` it starts warm (a fork of the
holder's warm server, with the CLI loaded: docs/holder-protocol.md) and only asks the
holder's socket. The holder's runs start once its warm server listens. Each figure is the
median over ``--runs`` fresh processes, against the same
`krakenfix sim` (TLS on 127.0.0.1, as Kraken's gateway), with `krakenfix --help` (start-up alone) timed
in between as the peer: the goal is at most a third of the one-shot figure and within
80 ms of `--help`.

Usage: python bench/holder_send.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KFX = [sys.executable, "-m", "krakenfix_cli"]


def _env(home: Path) -> dict[str, str]:
    # Bytecode is cached as an installed package's would be (an environment that forbids
    # writing it would time the compiler on every start).
    env = {k: v for k, v in os.environ.items() if not k.startswith("KRAKENFIX_") and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(NO_COLOR="1", KRAKENFIX_NO_KEYRING="1", KRAKENFIX_STATE_DIR=str(home / "state"),
               KRAKENFIX_CONFIG_DIR=str(home / "config"), KRAKENFIX_PROFILE="sim")
    return env


def _timed(argv: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[2:])} exited {proc.returncode}: {proc.stderr.decode()[-500:]}")
    return (time.perf_counter() - t0) * 1000


def _send(env: dict[str, str], price: int) -> float:
    """Process start → the acknowledgement on stdout (the settle period after it is not counted)."""
    argv = [*KFX, "send", "-s", "BTC/USD", "--side", "buy", "-q", "0.01", "--price", f"{price}.0", "--post-only",
            "-o", "compact"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    acked = None
    for line in proc.stdout:
        if acked is None and b"< ExecutionReport" in line and b" New " in line:
            acked = (time.perf_counter() - t0) * 1000
    err = proc.stderr.read() if proc.stderr is not None else b""
    if proc.wait() != 0 or acked is None:
        raise RuntimeError(f"send exited {proc.returncode} without an ack: {err.decode()[-500:]}")
    return acked


def _await_warm_server(directory: Path) -> None:
    """Until the holder's warm server answers (it loads the CLI before it listens)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for path in directory.glob("*.sock"):
            with socket.socket(socket.AF_UNIX) as probe:
                try:
                    probe.connect(str(path))
                    return
                except OSError:
                    pass
        time.sleep(0.05)
    raise RuntimeError("the holder's warm server did not start")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    runs = ap.parse_args().runs
    with tempfile.TemporaryDirectory(prefix="kfx-bench-holder-") as tmp:
        home = Path(tmp)
        env = _env(home)
        port_file = home / "port"
        sim = subprocess.Popen([*KFX, "sim", "--port", "0", "--port-file", str(port_file)],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        try:
            while not (port_file.exists() and port_file.read_text().strip()
                       and (home / "state" / "sim-endpoint.json").exists()):
                if sim.poll() is not None:
                    raise RuntimeError("krakenfix sim did not start")
                time.sleep(0.05)
            one_shot, through, helps = [], [], []
            _send(env, 900)  # warm the disk caches once, for both
            for i in range(runs):
                one_shot.append(_send(env, 1000 + i))
                helps.append(_timed([*KFX, "--help"], env))
            subprocess.run([*KFX, "session", "start"], check=True, capture_output=True, env=env)
            _await_warm_server(home / "state" / "warm")
            try:
                for i in range(runs):
                    through.append(_send(env, 2000 + i))
                    helps.append(_timed([*KFX, "--help"], env))
            finally:
                subprocess.run([*KFX, "session", "stop"], capture_output=True, env=env)
        finally:
            sim.terminate()
            sim.wait(10)
    o, t, h = statistics.median(one_shot), statistics.median(through), statistics.median(helps)
    print(f"process start -> ack, median of {runs} runs (ms)")
    print(f"{'send through the holder':<28}{t:10.1f}")
    print(f"{'send one-shot':<28}{o:10.1f}")
    print(f"{'krakenfix --help':<28}{h:10.1f}")
    print(f"through/one-shot {t / o:.2f} (goal <= 0.33); through - --help {t - h:+.1f} ms (goal <= 80)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
