"""REPL start-up: from exec to a usable prompt on a logged-on session, next to its peers.

    python bench/repl_startup.py [--runs 7]

Runs a simulator in this process (a background thread, plain TCP on 127.0.0.1), then
spawns the real REPL in a pseudo-terminal (pexpect, 40x160, TERM=xterm) with explicit
``--host/--port/--sender-comp-id`` and the simulator's demo key/secret in the
environment, and times until both ``logged on:`` and the ``fix>`` prompt are on the
screen. Peers measured in the same run, the same way:

* ``python -c pass``: bare interpreter start-up (the floor);
* a bare prompt_toolkit ``PromptSession`` to its first prompt (what any
  prompt_toolkit REPL pays before doing anything);
* ``krakenfix repl --sim``: the same REPL with its embedded simulator (TLS certificate
  generation included).

Prints the median and best of ``--runs`` per case and the ratio of ours to the
prompt_toolkit peer. Goal: < 300 ms to a logged-on prompt.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
from typing import Any

import pexpect

PEER_PTK = (
    "from prompt_toolkit import PromptSession\n"
    "s = PromptSession()\n"
    "s.prompt('fix> ')\n"
)


def _start_sim() -> tuple[Any, asyncio.AbstractEventLoop]:
    from krakenfix_cli.sim.runner import start_simulator

    loop = asyncio.new_event_loop()
    ready: list[Any] = []
    started = threading.Event()

    def main() -> None:
        asyncio.set_event_loop(loop)

        async def go() -> None:
            ready.append(await start_simulator(port=0, tls=False, flow_interval=None))
            started.set()

        loop.run_until_complete(go())
        loop.run_forever()

    threading.Thread(target=main, daemon=True).start()
    started.wait(10)
    return ready[0], loop


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    home = tempfile.mkdtemp(prefix="krakenfix-bench-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KRAKENFIX_")}
    env.update(TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1", KRAKENFIX_STATE_DIR=os.path.join(home, "state"),
               KRAKENFIX_CONFIG_DIR=os.path.join(home, "config"), KRAKENFIX_NO_KEYRING="1")
    env.update(extra or {})
    return env


def _time_pty(argv: list[str], env: dict[str, str], patterns: list[str]) -> float:
    t0 = time.perf_counter()
    child = pexpect.spawn(argv[0], argv[1:], env=env, dimensions=(40, 160), encoding="utf-8", timeout=30)
    for p in patterns:
        child.expect(p)
    elapsed = time.perf_counter() - t0
    child.sendcontrol("d")
    child.expect(pexpect.EOF)
    child.close(force=True)
    return elapsed


def _time_exec(argv: list[str]) -> float:
    import subprocess

    t0 = time.perf_counter()
    subprocess.run(argv, check=True)
    return time.perf_counter() - t0


def _repl_argv() -> list[str]:
    from krakenfix_cli.cli import app

    if "repl" in app.COMMANDS:
        return [sys.executable, "-m", "krakenfix_cli", "repl"]
    return [sys.executable, "-m", "krakenfix_cli.cli.repl"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()

    sim, _loop = _start_sim()
    creds = sim.credentials
    repl_env = _env({"KRAKENFIX_API_KEY": creds.api_key, "KRAKENFIX_API_SECRET": creds.api_secret.reveal()})
    repl_argv = [*_repl_argv(), "--profile", "sim", "--host", "127.0.0.1", "--port", str(sim.port), "--no-tls",
                 "--sender-comp-id", creds.sender_comp_id, "--target-comp-id", "KRAKEN-TRD", "--no-history"]
    logged_on = [r"logged(?:\s|\x1b\[[0-9;?]*[A-Za-z])+on:", r"fix>"]

    cases: dict[str, list[float]] = {"python -c pass": [], "prompt_toolkit PromptSession": [],
                                     "krakenfix repl (logged on, running sim)": [],
                                     "krakenfix repl --sim (embedded sim, TLS)": []}
    for _ in range(args.runs):
        cases["python -c pass"].append(_time_exec([sys.executable, "-c", "pass"]))
        cases["prompt_toolkit PromptSession"].append(
            _time_pty([sys.executable, "-c", PEER_PTK], _env(), [r"fix>"]))
        cases["krakenfix repl (logged on, running sim)"].append(_time_pty(repl_argv, repl_env, logged_on))
        cases["krakenfix repl --sim (embedded sim, TLS)"].append(
            _time_pty([*_repl_argv(), "--sim", "--no-history"], _env(), logged_on))

    peer = statistics.median(cases["prompt_toolkit PromptSession"])
    print(f"REPL start-up to a usable prompt, {args.runs} runs each (median / best):")
    for name, values in cases.items():
        med = statistics.median(values)
        print(f"  {name:<44} {med * 1000:7.1f} ms  / {min(values) * 1000:7.1f} ms"
              f"   x{med / peer:4.2f} of prompt_toolkit")
    ours = statistics.median(cases["krakenfix repl (logged on, running sim)"])
    print(f"goal < 300 ms to a logged-on prompt: {'met' if ours < 0.3 else 'NOT met'} ({ours * 1000:.0f} ms)")
    asyncio.run_coroutine_threadsafe(sim.close(), _loop).result(5)


if __name__ == "__main__":
    main()
