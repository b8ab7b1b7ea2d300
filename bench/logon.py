"""Logon time: process start to logged on, krakenfix against QuickFIX, same acceptor, same run.

Both initiators are fresh processes that import their FIX engine, connect over loopback
to the same acceptor (our conformance session, ISLD <- TW44, plain TCP), complete the
Logon(A) exchange and print a marker; we time spawn → marker. A third row times the
real command, ``krakenfix logon``, to its "logged on" line.

Usage: python bench/logon.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OURS = r"""
import asyncio, sys
from krakenfix_cli.client import Client, ClientSpec
async def main():
    c = Client.from_spec(ClientSpec("127.0.0.1", int(sys.argv[1]), "TW44", "ISLD", tls=False))
    await c.connect(10)
    print("LOGGED-ON", flush=True)
    await c.logout()
from krakenfix_cli.transport import loop
loop.run(main())
"""

QUICKFIX = r"""
import sys, threading, tempfile, os
import quickfix as fix
done = threading.Event()
class App(fix.Application):
    def onCreate(self, s): pass
    def onLogon(self, s):
        print("LOGGED-ON", flush=True); done.set()
    def onLogout(self, s): pass
    def toAdmin(self, m, s): pass
    def fromAdmin(self, m, s): pass
    def toApp(self, m, s): pass
    def fromApp(self, m, s): pass
d = tempfile.mkdtemp()
cfg = os.path.join(d, "i.cfg")
open(cfg, "w").write(f'''[DEFAULT]
ConnectionType=initiator
SocketConnectHost=127.0.0.1
SocketConnectPort={sys.argv[1]}
StartTime=00:00:00
EndTime=00:00:00
HeartBtInt=30
ReconnectInterval=1
UseDataDictionary=N
ResetOnLogon=Y
[SESSION]
BeginString=FIX.4.4
SenderCompID=TW44
TargetCompID=ISLD
''')
s = fix.SessionSettings(cfg)
ini = fix.SocketInitiator(App(), fix.MemoryStoreFactory(), s, fix.ScreenLogFactory(False, False, False))
ini.start()
done.wait(10)
ini.stop()
"""


def time_to_marker(cmd: list[str], marker: str = "LOGGED-ON") -> float:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    elapsed = float("nan")
    for line in proc.stdout:
        if marker in line:
            elapsed = time.perf_counter() - t0
            break
    proc.wait(30)
    return elapsed * 1000


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--runs", type=int, default=15)
    a = p.parse_args()
    # `krakenfix logon` needs a key to sign with; the conformance acceptor does not check it.
    # Its state (store, log) goes to a temp dir, not the user's.
    os.environ.update(KRAKENFIX_API_KEY="bench-key", KRAKENFIX_API_SECRET="YmVuY2gtc2VjcmV0LWJlbmNoLXNlY3JldA==",
                      KRAKENFIX_NO_KEYRING="1", KRAKENFIX_STATE_DIR=tempfile.mkdtemp(prefix="kfx-bench-state-"),
                      KRAKENFIX_CONFIG_DIR=tempfile.mkdtemp(prefix="kfx-bench-config-"))
    port_file = Path(tempfile.mkdtemp()) / "port"
    acceptor = subprocess.Popen(
        [sys.executable, "-m", "krakenfix_cli.sim.conformance", "--port", "0", "--port-file", str(port_file)],
        stdout=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            if port_file.exists() and port_file.read_text():
                break
            time.sleep(0.05)
        port = port_file.read_text()
        rows: list[tuple[str, list[float]]] = [("krakenfix Client (python -c)", []), ("krakenfix logon (CLI)", [])]
        try:
            import quickfix  # noqa: F401

            rows.append(("QuickFIX SocketInitiator (python -c)", []))
        except ImportError:
            pass
        cli = [sys.executable, "-m", "krakenfix_cli", "logon", "--host", "127.0.0.1", "--port", port, "--no-tls",
               "--sender-comp-id", "TW44", "--target-comp-id", "ISLD", "--output", "compact",
               "--reset"]  # each run a fresh session, as the peers' (ResetOnLogon=Y)
        # The gateway's Logon(A) answer, printed as it arrives: the moment the CLI is logged on.
        env_marker = os.environ.get("KFX_LOGON_MARKER", "< Logon")
        for _ in range(a.runs):
            rows[0][1].append(time_to_marker([sys.executable, "-c", OURS, port]))
            rows[1][1].append(time_to_marker(cli, env_marker))
            if len(rows) > 2:
                rows[2][1].append(time_to_marker([sys.executable, "-c", QUICKFIX, port]))
        base = statistics.median(rows[-1][1]) if len(rows) > 2 else None
        print(f"{'initiator':40} {'median ms':>10} {'min ms':>8} {'vs QuickFIX':>12}")
        for name, ts in rows:
            med = statistics.median(ts)
            ratio = f"{med / base:.2f}x" if base else "-"
            print(f"{name:40} {med:10.1f} {min(ts):8.1f} {ratio:>12}")
    finally:
        acceptor.terminate()
        acceptor.wait(5)


if __name__ == "__main__":
    main()
