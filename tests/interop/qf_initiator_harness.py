"""A QuickFIX initiator against the krakenfix simulator (Kraken logon, orders, gaps, logout).

Usage: python qf_initiator_harness.py --port P --endpoint sim-endpoint.json [--tls --ca CA] --out result.json

QuickFIX adds Kraken's Logon fields in ``toAdmin`` (553/554/5025, signed with our
kraken.auth, which is checked against SPEC.md's vectors), places resting orders, cancels
one, then forces a gap in each direction: it skips two of its own outbound numbers (the
simulator must send ResendRequest(2) and accept QuickFIX's SequenceReset-GapFill(4)), and
it winds back its expected inbound number (QuickFIX must send ResendRequest(2) and take
the simulator's replays, 43=Y, with a GapFill(4) over admin messages). Exit 0 when every
check held.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import quickfix as fix
from qf_process import run_and_leave

from krakenfix_cli.kraken.auth import ApiSecret, logon_auth_fields


class Trader(fix.Application):  # type: ignore[misc]
    def __init__(self, api_key: str, secret: str, sender: str) -> None:
        super().__init__()
        self.api_key = api_key
        self.secret = ApiSecret(secret)
        self.sender = sender
        self.sid: Any = None
        self.logged_on = threading.Event()
        self.logged_out = threading.Event()
        self.reports: list[dict[str, str]] = []
        self.admin_in: list[str] = []
        self.admin_out: list[str] = []
        self.lock = threading.Lock()
        self.nonce = 0
        #: Kraken Spot ClOrdIDs are ever-increasing numbers (SPEC.md §6.2): names map to them.
        self.base = int(time.time() * 1_000_000)
        self.names: dict[str, str] = {}

    def clordid(self, name: str) -> str:
        if name not in self.names:
            self.names[name] = str(self.base + len(self.names))
        return self.names[name]

    def onCreate(self, sid: Any) -> None:
        self.sid = sid

    def onLogon(self, sid: Any) -> None:
        self.logged_on.set()

    def onLogout(self, sid: Any) -> None:
        self.logged_out.set()

    def toAdmin(self, msg: Any, sid: Any) -> None:
        mt = fix.MsgType()
        msg.getHeader().getField(mt)
        with self.lock:
            self.admin_out.append(mt.getValue())
        if mt.getValue() != "A":
            return
        seq = fix.MsgSeqNum()
        msg.getHeader().getField(seq)
        self.nonce = max(int(time.time() * 1000), self.nonce + 1)
        for tag, value in logon_auth_fields(self.api_key, self.secret, self.sender, "KRAKEN-TRD",
                                            seq.getValue(), self.nonce, cancel_on_disconnect=False):
            msg.setField(fix.StringField(tag, value))

    def fromAdmin(self, msg: Any, sid: Any) -> None:
        mt = fix.MsgType()
        msg.getHeader().getField(mt)
        with self.lock:
            self.admin_in.append(mt.getValue())

    def toApp(self, msg: Any, sid: Any) -> None: ...

    def fromApp(self, msg: Any, sid: Any) -> None:
        fields = {}
        for tag in (11, 17, 37, 39, 150, 43):
            f = fix.StringField(tag)
            if tag == 43:
                if msg.getHeader().isSetField(f):
                    msg.getHeader().getField(f)
                    fields[str(tag)] = f.getValue()
                continue
            if msg.isSetField(f):
                msg.getField(f)
                fields[str(tag)] = f.getValue()
        mt = fix.MsgType()
        msg.getHeader().getField(mt)
        fields["35"] = mt.getValue()
        with self.lock:
            self.reports.append(fields)

    def order(self, clordid: str) -> None:
        m = fix.Message()
        m.getHeader().setField(fix.MsgType("D"))
        m.setField(fix.ClOrdID(self.clordid(clordid)))
        m.setField(fix.Symbol("BTC/USD"))
        m.setField(fix.Side("1"))
        m.setField(fix.OrderQty(0.01))
        m.setField(fix.OrdType("2"))
        m.setField(fix.Price(1000.0))
        m.setField(fix.TimeInForce("1"))
        m.setField(fix.TransactTime())
        fix.Session.sendToTarget(m, self.sid)

    def cancel(self, clordid: str, orig: str) -> None:
        m = fix.Message()
        m.getHeader().setField(fix.MsgType("F"))
        m.setField(fix.ClOrdID(self.clordid(clordid)))
        m.setField(fix.OrigClOrdID(self.clordid(orig)))
        m.setField(fix.Symbol("BTC/USD"))
        m.setField(fix.Side("1"))
        m.setField(fix.TransactTime())
        fix.Session.sendToTarget(m, self.sid)

    def wait_reports(self, pred: Any, timeout: float = 10.0) -> bool:
        end = time.time() + timeout
        while time.time() < end:
            with self.lock:
                if pred(self.reports):
                    return True
            time.sleep(0.02)
        return False


def settings_text(port: int, sender: str, workdir: Path, tls: bool, ca: str | None) -> str:
    lines = [
        "[DEFAULT]", "ConnectionType=initiator", "SocketConnectHost=127.0.0.1", f"SocketConnectPort={port}",
        "StartTime=00:00:00", "EndTime=00:00:00", "HeartBtInt=30", "ReconnectInterval=60",
        "UseDataDictionary=N", "ResetOnLogon=Y", f"FileLogPath={workdir / 'qflog'}",
        "[SESSION]", "BeginString=FIX.4.4", f"SenderCompID={sender}", "TargetCompID=KRAKEN-TRD",
    ]
    if tls:
        lines[1:1] = ["SSLProtocol=+TLSv1_2 +TLSv1_3", "CertificateVerifyLevel=1",
                      f"CertificationAuthoritiesFile={ca}"]
    return "\n".join(lines) + "\n"


def ids(reports: list[dict[str, str]], exec_type: str, app: Trader) -> list[str]:
    """Names (QF0, QFGAP, ...) of the orders with an ExecutionReport of ``exec_type``."""
    back = {v: k for k, v in app.names.items()}
    return [back.get(r.get("11", ""), "") for r in reports if r.get("35") == "8" and r.get("150") == exec_type]


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--endpoint", required=True)
    p.add_argument("--tls", action="store_true")
    p.add_argument("--ca")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    info = json.loads(Path(a.endpoint).read_text())
    workdir = Path(tempfile.mkdtemp(prefix="kfx-qfi-"))
    (workdir / "initiator.cfg").write_text(settings_text(a.port, info["sender"], workdir, a.tls, a.ca))
    settings = fix.SessionSettings(str(workdir / "initiator.cfg"))
    app = Trader(info["api_key"], info["api_secret"], info["sender"])
    initiator = (fix.SSLSocketInitiator if a.tls else fix.SocketInitiator)(
        app, fix.MemoryStoreFactory(), settings, fix.FileLogFactory(settings))
    result: dict[str, Any] = {}
    initiator.start()
    try:
        result["logged_on"] = app.logged_on.wait(15)
        if not result["logged_on"]:
            raise SystemExit(1)
        session = fix.Session.lookupSession(app.sid)
        for i in range(3):
            app.order(f"QF{i}")
        result["acks"] = app.wait_reports(lambda r: len(ids(r, "0", app)) >= 3)
        app.cancel("QFX0", "QF0")
        result["cancelled"] = app.wait_reports(lambda r: "QFX0" in ids(r, "4", app))
        # Gap QuickFIX -> simulator: skip two outbound numbers, then send an order. The simulator
        # must ask for them (ResendRequest(2)); QuickFIX answers with SequenceReset-GapFill(4)
        # (over the order itself: its store does not hold the re-numbered message).
        session.setNextSenderMsgSeqNum(session.getExpectedSenderNum() + 2)
        app.order("QFGAP")
        end = time.time() + 10
        # Wait for the simulator's ResendRequest(2) and QuickFIX's SequenceReset(4) answer. An
        # order sent before that answer is covered by its GapFill too, and so never reaches the
        # simulator (FIX: a gap-filled number is skipped); that was a race in this harness.
        while time.time() < end and not ("2" in app.admin_in and "4" in app.admin_out):
            time.sleep(0.02)
        result["simulator_asked_resend"] = "2" in app.admin_in
        # Gap simulator -> QuickFIX: forget the last two inbound numbers; QuickFIX must ask again.
        session.setNextTargetMsgSeqNum(session.getExpectedTargetNum() - 2)
        app.order("QFAFTER")
        result["after_acked"] = app.wait_reports(lambda r: "QFAFTER" in ids(r, "0", app))
        with app.lock:
            back = {v: k for k, v in app.names.items()}
            result["replayed"] = [back.get(r.get("11", ""), "") for r in app.reports if r.get("43") == "Y"]
            result["admin_in"] = list(app.admin_in)
        session.logout("done")
        result["logged_out"] = app.logged_out.wait(10)
    finally:
        # No initiator.stop(): QuickFIX's stop() can segfault while its threads wind down (seen
        # on the acceptor side); the process leaves through qf_process.run_and_leave.
        Path(a.out).write_text(json.dumps(result, indent=2))
    ok = (result.get("acks") and result.get("cancelled") and result.get("simulator_asked_resend")
          and result.get("after_acked") and len(result.get("replayed", [])) >= 1
          and "4" in result.get("admin_in", []) and result.get("logged_out"))
    return 0 if ok else 1


if __name__ == "__main__":
    run_and_leave(main)
