"""Shared by the trading commands' subprocess tests: a simulator on loopback and a CLI runner.

Not a test module. ``sim_proc`` runs ``krakenfix sim --no-tls --port 0 --port-file F`` as a
subprocess and reads its demo credentials from the banner; ``SimThread`` runs a simulator
in a background event loop of the test process, for the tests that must steer it (force a
rollover, drop connections). ``kfx`` runs the real CLI in a subprocess, like
``support/run.py``'s ``run_cli``; while the lead has not yet listed the trading commands in
``cli/app.py``'s COMMANDS, it registers them through a two-line shim first.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Coroutine, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "support"))
from run import Result

T = TypeVar("T")
MINE = ("sim", "logon", "send", "cancel", "mass_cancel", "tail", "replay")
_SHIM = (
    "import importlib.util, sys\n"
    "from krakenfix_cli.cli import app\n"
    f"mine = {MINE!r}\n"
    "have = tuple(m for m in mine if importlib.util.find_spec('krakenfix_cli.cli.' + m) is not None)\n"
    "app.COMMANDS = tuple(dict.fromkeys(app.COMMANDS + have))\n"
    "sys.argv[0] = 'krakenfix'\n"
    "app.main()\n"
)


def _registered() -> bool:
    from krakenfix_cli.cli import app

    return all(m in app.COMMANDS for m in ("logon", "send", "cancel", "mass_cancel", "tail"))


def krakenfix_argv() -> list[str]:
    """How to start ``krakenfix`` in a subprocess."""
    if _registered():
        return [sys.executable, "-m", "krakenfix_cli"]
    return [sys.executable, "-c", _SHIM]


def base_env(home: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """No KRAKENFIX_* from the outside, NO_COLOR, state and config under ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KRAKENFIX_")}
    env.update(NO_COLOR="1", COLUMNS="120", PYTHONIOENCODING="utf-8", KRAKENFIX_NO_KEYRING="1",
               KRAKENFIX_STATE_DIR=str(home / "state"), KRAKENFIX_CONFIG_DIR=str(home / "config"))
    if extra:
        env.update(extra)
    return env


def kfx(*args: str, env: Mapping[str, str], input: str | None = None, timeout: float = 90) -> Result:
    """Run ``krakenfix *args`` in a subprocess; stdin is empty (not a TTY) unless ``input``."""
    proc = subprocess.run([*krakenfix_argv(), *args], input=(input or "").encode(), capture_output=True,
                          env=dict(env), timeout=timeout)
    return Result(proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"), proc.returncode)


def spawn(*args: str, env: Mapping[str, str], stdout: Any = subprocess.PIPE) -> subprocess.Popen[bytes]:
    """Start ``krakenfix *args`` without waiting."""
    return subprocess.Popen([*krakenfix_argv(), *args], stdin=subprocess.DEVNULL, stdout=stdout,
                            stderr=subprocess.PIPE, env=dict(env))


# -- a simulator subprocess ----------------------------------------------------------------------------------
@dataclass
class SimProc:
    """``krakenfix sim`` running on 127.0.0.1."""

    port: int
    api_key: str
    api_secret: str
    proc: subprocess.Popen[bytes]

    def env(self, home: Path, **extra: str) -> dict[str, str]:
        """CLI environment for the built-in ``sim`` profile (SenderCompID KFXCLIENT) at this port."""
        return base_env(home, {"KRAKENFIX_PROFILE": "sim", "KRAKENFIX_PORT": str(self.port),
                               "KRAKENFIX_API_KEY": self.api_key, "KRAKENFIX_API_SECRET": self.api_secret,
                               **extra})

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def start_sim_proc(workdir: Path, *extra: str) -> SimProc:
    """Start ``krakenfix sim --no-tls --port 0 --port-file F`` and read port and credentials."""
    workdir.mkdir(parents=True, exist_ok=True)
    port_file = workdir / "port"
    out_path = workdir / "sim.out"
    out = out_path.open("wb")
    env = base_env(workdir / "simhome")
    proc = subprocess.Popen([*krakenfix_argv(), "sim", "--no-tls", "--port", "0", "--port-file", str(port_file),
                             *extra], stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env)
    text = ""
    for _ in range(600):  # the banner follows the port file
        text = out_path.read_text(errors="replace")
        if "API secret:" in text and port_file.exists() and port_file.read_text().strip():
            break
        if proc.poll() is not None:
            raise RuntimeError(f"krakenfix sim exited: {text}")
        time.sleep(0.05)
    key = re.search(r"API key:\s+(\S+)", text)
    where = re.search(r"API secret: in (\S+)", text)
    if not key or not where:
        proc.kill()
        raise RuntimeError(f"no credentials in the simulator banner: {text}")
    secret = json.loads(Path(where.group(1)).read_text())["api_secret"]
    return SimProc(int(port_file.read_text().strip()), key.group(1), secret, proc)


@pytest.fixture(scope="module")
def sim_proc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimProc]:
    """One simulator subprocess per test module."""
    sim = start_sim_proc(tmp_path_factory.mktemp("sim"))
    yield sim
    sim.stop()


# -- a simulator in a background event loop -------------------------------------------------------------------
class SimThread:
    """``start_simulator`` on its own event loop thread; ``call`` runs a coroutine there."""

    def __init__(self, **options: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        from krakenfix_cli.sim.runner import start_simulator

        options.setdefault("tls", False)
        self.sim = self.call(start_simulator("127.0.0.1", 0, **options))

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def run(self, fn: Any) -> None:
        """Call ``fn()`` on the simulator's loop (force_rollover, drop_connections)."""
        async def go() -> None:
            fn()

        self.call(go())

    @property
    def port(self) -> int:
        return int(self.sim.port)

    def env(self, home: Path, **extra: str) -> dict[str, str]:
        creds = self.sim.credentials
        return base_env(home, {"KRAKENFIX_PROFILE": "sim", "KRAKENFIX_PORT": str(self.port),
                               "KRAKENFIX_API_KEY": creds.api_key,
                               "KRAKENFIX_API_SECRET": creds.api_secret.reveal(), **extra})

    def close(self) -> None:
        self.call(self.sim.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


# -- placing orders directly --------------------------------------------------------------------------------
def place_orders(port: int, api_key: str, api_secret: str, orders: list[dict[str, str]], *,
                 sender: str = "KFXDEMO") -> list[str]:
    """Place resting orders on one connection (8674=1, then an orderly Logout: they stay); their OrderIDs."""
    return asyncio.run(_place(port, api_key, api_secret, orders, sender))


async def _place(port: int, api_key: str, api_secret: str, orders: list[dict[str, str]], sender: str) -> list[str]:
    from krakenfix_cli.client import Client, ClientSpec
    from krakenfix_cli.fix.message import Message
    from krakenfix_cli.fix.values import format_utc_timestamp
    from krakenfix_cli.kraken.auth import ApiSecret

    spec = ClientSpec(host="127.0.0.1", port=port, sender_comp_id=sender, target_comp_id="KRAKEN-TRD", tls=False,
                      api_key=api_key, secret=ApiSecret(api_secret), cancel_on_disconnect=False)
    client = Client.from_spec(spec)
    await client.connect(10)
    base = int(time.time() * 1_000_000)
    wanted: set[str] = set()
    for i, o in enumerate(orders):
        cid = str(base + i)
        wanted.add(cid)
        fields = [(11, cid), *((int(k), v) for k, v in o.items()), (60, format_utc_timestamp(time.time()))]
        await client.send(Message.new("D", *fields))
    order_ids: list[str] = []
    while wanted:
        msg = await client.next_message(20)
        assert msg is not None, f"{len(wanted)} orders were not acknowledged"
        if msg.msg_type == "8" and msg.get(11) in wanted and msg.get(150) == "0":
            wanted.discard(msg.get(11) or "")
            order_ids.append(msg.get(37) or "")
        assert msg.msg_type != "j", msg.to_text()
    await client.logout(5)
    return order_ids


def resting_buy(symbol: str = "BTC/USD", price: str = "1000.0", qty: str = "0.01", **extra: str) -> dict[str, str]:
    """A limit buy far below the simulated market, so it rests."""
    return {"38": qty, "40": "2", "44": price, "54": "1", "55": symbol, "59": "1", **extra}


def scan_for_secret(secret: str, texts: list[str], state_dir: Path) -> list[str]:
    """Where ``secret`` (or an unredacted Password(554)) shows up: outputs and every state file."""
    found = [f"output {i}" for i, t in enumerate(texts) if secret in t]
    for path in state_dir.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if secret.encode() in data:
            found.append(str(path))
        for m in re.finditer(rb"(?:^|[\x01|])554=([^\x01|\n]*)", data):
            if m.group(1) != b"***":
                found.append(f"{path}: 554={m.group(1)[:8]!r}...")
    for i, t in enumerate(texts):
        for m in re.finditer(r"(?:^|[\x01|\s])554=([^\x01|\s]*)", t):
            if m.group(1) not in ("***", '"***"'):
                found.append(f"output {i}: 554=...")
    return found
