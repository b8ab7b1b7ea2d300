"""Order → acknowledgement round trip and pipelined throughput: krakenfix vs QuickFIX, same run.

ours:     a client engine (Session + transport.Connection) in this process, the simulator
          (``krakenfix sim --no-tls``) in a subprocess, over loopback; Kraken-signed Logon,
          NewOrderSingle(D) limit orders that rest, acknowledged by ExecutionReport 150=0.
quickfix: a QuickFIX (PyPI quickfix-tls) initiator and acceptor pair; the acceptor answers
          each D with an ER. QuickFIX's acceptor binds every interface, so that half runs in
          a private network namespace (``unshare -n`` with ``lo`` up); it is skipped with a
          note when ``unshare -n`` is not permitted.

Latency: p50/p99 over ``--count`` (5,000) sequential orders after ``--warmup`` (1,000).
Throughput: ``--pipeline`` (50,000) orders sent back to back; acknowledged orders per second.

    python bench/roundtrip.py [--count 5000] [--pipeline 50000] [--no-quickfix]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def pct(samples: list[float], p: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


# -- ours -------------------------------------------------------------------------------------


async def bench_ours(count: int, warmup: int, pipeline: int) -> dict[str, float]:
    from krakenfix_cli.fix.message import Message
    from krakenfix_cli.fix.values import format_utc_timestamp
    from krakenfix_cli.kraken.auth import NonceSource, logon_auth_fields
    from krakenfix_cli.session.config import Role, SessionConfig
    from krakenfix_cli.session.engine import Session
    from krakenfix_cli.session.events import Event, LogonAccepted, MessageReceived
    from krakenfix_cli.session.store import MemoryStore
    from krakenfix_cli.transport.connection import Connection

    tmp = Path(tempfile.mkdtemp(prefix="kfx-bench-"))
    port_file = tmp / "port"
    # The simulator's state (its demo credentials file) goes under the temp dir, not the user's.
    env = {k: v for k, v in os.environ.items() if not k.startswith("KRAKENFIX_")}
    env["KRAKENFIX_STATE_DIR"] = str(tmp / "state")
    proc = subprocess.Popen(
        [sys.executable, "-m", "krakenfix_cli.cli.sim", "--no-tls", "--port", "0", "--port-file", str(port_file),
         "--rate-limit", "off"],  # 50,000 resting orders on one pair: past every tier's limits
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        banner: dict[str, str] = {}
        assert proc.stdout is not None
        for line in proc.stdout:
            if ":" in line:
                k, _, v = line.strip().partition(": ")
                banner[k.strip()] = v.strip()
            if line.strip().startswith("Ctrl-C"):
                break
        port = int(port_file.read_text())
        key, secret = banner["API key"], banner["API secret"]
        if secret.startswith("in "):  # the banner names the 0600 file that holds the secret
            secret = json.loads(Path(secret.split()[1]).read_text())["api_secret"]
        sender = "KFXDEMO"
        nonces = NonceSource()

        def auth(seq: int, now: float) -> list[tuple[int, str]]:
            return logon_auth_fields(key, secret, sender, "KRAKEN-TRD", seq, nonces.next(int(now * 1000)), True)

        cfg = SessionConfig(Role.INITIATOR, sender, "KRAKEN-TRD", reset_on_logon=True, logon_fields=auth,
                            sending_time_tolerance=None)
        session = Session(cfg, MemoryStore())
        logged_on = asyncio.Event()
        waiter: dict[str, Any] = {"acks": 0, "target": 0, "done": None}

        def on_event(ev: Event) -> None:
            if isinstance(ev, MessageReceived):
                if ev.message.get(150) == "0":
                    waiter["acks"] += 1
                    if waiter["acks"] >= waiter["target"] and waiter["done"] is not None:
                        waiter["done"].set()
            elif isinstance(ev, LogonAccepted):
                logged_on.set()

        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        conn = Connection(session, reader, writer, on_event)
        task = asyncio.create_task(conn.run())
        await asyncio.wait_for(logged_on.wait(), 10)
        n = [int(time.time() * 1_000_000)]

        def nos() -> Message:
            n[0] += 1
            return Message([(35, "D"), (11, str(n[0])), (38, "0.01"), (40, "2"), (44, "10000.0"), (54, "1"),
                            (55, "BTC/USD"), (59, "1"), (60, format_utc_timestamp(time.time()))])

        async def one() -> float:
            done = asyncio.Event()
            waiter["done"] = done
            waiter["target"] = waiter["acks"] + 1
            t0 = time.perf_counter()
            conn.send(nos())
            await done.wait()
            return time.perf_counter() - t0

        for _ in range(warmup):
            await one()
        lat = [await one() for _ in range(count)]
        done = asyncio.Event()
        waiter["done"] = done
        waiter["target"] = waiter["acks"] + pipeline
        t0 = time.perf_counter()
        for i in range(pipeline):
            # Pipelined: the engine stores and queues each order; one write per batch of 64.
            session.send(nos(), time.time())
            if i % 64 == 63 or i == pipeline - 1:
                writer.write(session.bytes_to_send())
                await asyncio.sleep(0)  # let the reader run
        await asyncio.wait_for(done.wait(), 600)
        elapsed = time.perf_counter() - t0
        conn.logout()
        await asyncio.wait_for(task, 10)
        return {"p50_us": pct(lat, 50) * 1e6, "p99_us": pct(lat, 99) * 1e6, "orders_per_s": pipeline / elapsed}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)


# -- QuickFIX -------------------------------------------------------------------------------------

_CFG = """[DEFAULT]
ConnectionType={kind}
StartTime=00:00:00
EndTime=00:00:00
HeartBtInt=30
ReconnectInterval=1
UseDataDictionary=N
ResetOnLogon=Y
SocketNodelay=Y
{extra}
[SESSION]
BeginString=FIX.4.4
SenderCompID={sender}
TargetCompID={target}
"""


def bench_quickfix(count: int, warmup: int, pipeline: int, port: int) -> dict[str, float]:
    """Runs inside the private network namespace (see the module docstring)."""
    import quickfix as fix

    class Acceptor(fix.Application):  # type: ignore[misc]
        def onCreate(self, sid: Any) -> None: ...
        def onLogon(self, sid: Any) -> None: ...
        def onLogout(self, sid: Any) -> None: ...
        def toAdmin(self, msg: Any, sid: Any) -> None: ...
        def fromAdmin(self, msg: Any, sid: Any) -> None: ...
        def toApp(self, msg: Any, sid: Any) -> None: ...

        def __init__(self) -> None:
            super().__init__()
            self.n = 0

        def fromApp(self, msg: Any, sid: Any) -> None:
            self.n += 1
            er = fix.Message()
            er.getHeader().setField(fix.MsgType("8"))
            for tag in (11, 55, 54, 38, 40, 44, 59):
                er.setField(tag, msg.getField(tag))
            er.setField(37, f"O{self.n}")
            er.setField(17, f"E{self.n}")
            er.setField(150, "0")
            er.setField(39, "0")
            er.setField(14, "0")
            er.setField(151, msg.getField(38))
            er.setField(6, "0")
            er.setField(60, msg.getField(60))
            fix.Session.sendToTarget(er, sid)

    class Initiator(fix.Application):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.sid: Any = None
            self.logged_on = threading.Event()
            self.cond = threading.Condition()
            self.acks = 0

        def onCreate(self, sid: Any) -> None: ...
        def onLogon(self, sid: Any) -> None:
            self.sid = sid
            self.logged_on.set()

        def onLogout(self, sid: Any) -> None: ...
        def toAdmin(self, msg: Any, sid: Any) -> None: ...
        def fromAdmin(self, msg: Any, sid: Any) -> None: ...
        def toApp(self, msg: Any, sid: Any) -> None: ...

        def fromApp(self, msg: Any, sid: Any) -> None:
            with self.cond:
                self.acks += 1
                self.cond.notify_all()

    tmp = Path(tempfile.mkdtemp(prefix="kfx-qf-"))
    acc_cfg = tmp / "acc.cfg"
    ini_cfg = tmp / "ini.cfg"
    acc_cfg.write_text(_CFG.format(kind="acceptor", sender="SRV", target="CLI", extra=f"SocketAcceptPort={port}"))
    ini_cfg.write_text(_CFG.format(kind="initiator", sender="CLI", target="SRV",
                                   extra=f"SocketConnectHost=127.0.0.1\nSocketConnectPort={port}"))
    acc_app, ini_app = Acceptor(), Initiator()
    acceptor = fix.SocketAcceptor(acc_app, fix.MemoryStoreFactory(), fix.SessionSettings(str(acc_cfg)))
    initiator = fix.SocketInitiator(ini_app, fix.MemoryStoreFactory(), fix.SessionSettings(str(ini_cfg)))
    acceptor.start()
    initiator.start()
    try:
        if not ini_app.logged_on.wait(15):
            raise RuntimeError("QuickFIX pair did not log on")
        n = [0]

        def nos() -> Any:
            n[0] += 1
            m = fix.Message()
            m.getHeader().setField(fix.MsgType("D"))
            m.setField(11, str(n[0]))
            m.setField(38, "0.01")
            m.setField(40, "2")
            m.setField(44, "10000.0")
            m.setField(54, "1")
            m.setField(55, "BTC/USD")
            m.setField(59, "1")
            m.setField(fix.TransactTime())
            return m

        def one() -> float:
            with ini_app.cond:
                target = ini_app.acks + 1
            t0 = time.perf_counter()
            fix.Session.sendToTarget(nos(), ini_app.sid)
            with ini_app.cond:
                while ini_app.acks < target:
                    ini_app.cond.wait()
            return time.perf_counter() - t0

        for _ in range(warmup):
            one()
        lat = [one() for _ in range(count)]
        with ini_app.cond:
            target = ini_app.acks + pipeline
        t0 = time.perf_counter()
        for _ in range(pipeline):
            fix.Session.sendToTarget(nos(), ini_app.sid)
        with ini_app.cond:
            while ini_app.acks < target:
                ini_app.cond.wait(600)
        elapsed = time.perf_counter() - t0
        return {"p50_us": pct(lat, 50) * 1e6, "p99_us": pct(lat, 99) * 1e6, "orders_per_s": pipeline / elapsed}
    finally:
        initiator.stop()
        acceptor.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def quickfix_in_namespace(args: argparse.Namespace) -> dict[str, float] | str:
    """Run the QuickFIX half under ``unshare -n``; its JSON result, or why it was skipped."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "skipped: unshare/ip not available"
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    if probe.returncode != 0:
        return "skipped: `unshare -n` is not permitted here (QuickFIX's acceptor would bind every interface)"
    inner = (f"ip link set lo up && exec {sys.executable} {Path(__file__).resolve()} --quickfix-only "
             f"--count {args.count} --warmup {args.warmup} --pipeline {args.pipeline}")
    out = subprocess.run(["unshare", "-n", "sh", "-c", inner], capture_output=True, text=True, timeout=1800)
    if out.returncode != 0:
        return f"skipped: QuickFIX peer failed: {out.stderr.strip()[-300:]}"
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--count", type=int, default=5000)
    p.add_argument("--warmup", type=int, default=1000)
    p.add_argument("--pipeline", type=int, default=50000)
    p.add_argument("--no-quickfix", action="store_true")
    p.add_argument("--quickfix-only", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.quickfix_only:
        print(json.dumps(bench_quickfix(args.count, args.warmup, args.pipeline, 15001)))
        return
    from krakenfix_cli.transport import loop

    ours = loop.run(bench_ours(args.count, args.warmup, args.pipeline))
    theirs: dict[str, float] | str = "skipped: --no-quickfix" if args.no_quickfix else quickfix_in_namespace(args)
    print(f"order -> ack round trip over loopback, {args.count} orders after {args.warmup} warm-up; "
          f"pipelined throughput over {args.pipeline} orders (Python {sys.version.split()[0]}, "
          f"{loop.loop_name()} event loop at both ends, pid {os.getpid()})")
    print(f"{'':10} {'p50 µs':>9} {'p99 µs':>9} {'orders/s':>10}")
    print(f"{'krakenfix':10} {ours['p50_us']:9.1f} {ours['p99_us']:9.1f} {ours['orders_per_s']:10.0f}")
    if isinstance(theirs, str):
        print(f"{'quickfix':10} {theirs}")
        return
    print(f"{'quickfix':10} {theirs['p50_us']:9.1f} {theirs['p99_us']:9.1f} {theirs['orders_per_s']:10.0f}")
    print(f"ratio p50 ours/quickfix: {ours['p50_us'] / theirs['p50_us']:.2f}x (goal <= 1.2x); "
          f"throughput ours: {ours['orders_per_s']:.0f}/s (goal >= 15000/s)")


if __name__ == "__main__":
    main()
