"""`tail` and the REPL through several rollovers and random socket drops: each ExecutionReport once.

The simulator runs in this process (``SimThread``) on a short schedule (a rollover every
3 s, logons refused for 1 s after each) with its synthetic market frozen. Before the
client under test logs on, its session (KFXCLIENT) rests one big limit buy at 60000.0,
the best bid. A feeder on another account sends small IOC sells at that price from its
own thread, so every feeder order fills the resting buy by 0.01 and the gateway sends the
client under test one Trade ExecutionReport (CumQty 0.01, 0.02, ...). Meanwhile the test
drops every socket (``drop_connections``) at seeded random moments.

A drop is injected only where the client has time to log on again and fill the gap before
the next rollover: after a rollover Kraken starts both sequences at 1, so anything still
owed from before it cannot be resent (SPEC §2.4); that is the protocol, not a client bug.

The truth is the gateway's own order: its CumQty says how many fills there were. The
client must show exactly that many distinct ExecIDs, each once, with every CumQty from
0.01 to the total. Waits are for text or state, bounded only against a hang.
"""

from __future__ import annotations

import asyncio
import random
import re
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "ops"))
from cli_harness import SimThread, base_env, place_orders, resting_buy, spawn  # type: ignore[import-not-found]

EVERY = 3.0
WINDOW = 1.0
ROLLOVERS = 3
DROPS = 3
PRICE = "60000.0"
LOT = Decimal("0.01")
HANG = 40.0
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")
ER_LINE = re.compile(r"ExecutionReport .*?cum=(\S+).*?\b17=(\S+)")


class Feeder(threading.Thread):
    """Sends IOC sells at the resting bid's price on its own account, reconnecting as needed."""

    def __init__(self, port: int, api_key: str, secret: str, sender: str) -> None:
        super().__init__(daemon=True)
        self.port, self.api_key, self.secret, self.sender = port, api_key, secret, sender
        self.stop = threading.Event()
        self.sent = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported by the test
            self.error = exc

    async def _main(self) -> None:
        from krakenfix_cli.client import Client, ClientSpec, ConnectFailed, LogonRefusedError
        from krakenfix_cli.kraken.auth import ApiSecret
        from krakenfix_cli.kraken.builders import OrdType, Side, TimeInForce, new_order_single
        from krakenfix_cli.transport.clock import SYSTEM

        clordid = int(SYSTEM.now() * 1_000_000)
        while not self.stop.is_set():
            client = Client.from_spec(ClientSpec(
                "127.0.0.1", self.port, self.sender, "KRAKEN-TRD", tls=False, api_key=self.api_key,
                secret=ApiSecret(self.secret), cancel_on_disconnect=False))
            try:
                await client.connect(5)
            except (ConnectFailed, LogonRefusedError):
                await client.close()
                await asyncio.sleep(0.1)
                continue
            while not self.stop.is_set() and client.is_logged_on:
                clordid += 1
                order = new_order_single(str(clordid), "BTC/USD", Side.SELL, LOT, OrdType.LIMIT, price=PRICE,
                                         tif=TimeInForce.IOC, transact_time=SYSTEM.now())
                try:
                    await client.send(order)
                except Exception:
                    break
                self.sent += 1
                await asyncio.sleep(0.04)
            if client.is_logged_on:
                await client.logout(2)
            await client.close()


class Scenario:
    """The simulator, the resting order, the feeder and the drops around one client under test."""

    def __init__(self) -> None:
        # Rate limits off: the feeder's 25 orders/s would meet the pair's counter within seconds.
        self.sim = SimThread(flow_interval=None, rollover_every=EVERY, refusal_window=WINDOW, rate_limit="off")
        creds = self.sim.sim.credentials
        self.key, self.secret = creds.api_key, creds.api_secret.reveal()
        self.sender = "KFXCLIENT"  # the `sim` profile's SenderCompID: the client under test
        place_orders(self.sim.port, self.key, self.secret, [resting_buy(price=PRICE, qty="5")], sender=self.sender)

        async def feeder_account() -> Any:
            return self.sim.sim.accounts.create("FEEDER")

        fc = self.sim.call(feeder_account())
        self.feeder = Feeder(self.sim.port, fc.api_key, fc.api_secret.reveal(), fc.sender_comp_id)
        self.rng = random.Random(20240513)
        self.drops = 0

    def _rollovers(self) -> int:
        async def count() -> int:
            return int(self.sim.sim._core.state.count)

        return int(self.sim.call(count()))

    def _phase(self) -> float:
        """Seconds since the latest rollover began (or since the start)."""
        async def phase() -> float:
            from krakenfix_cli.transport import clock

            core = self.sim.sim._core
            now = clock.now()
            return float(EVERY - (core.schedule.next_after(now) - now))

        return float(self.sim.call(phase()))

    def _client_connected(self) -> bool:
        """The client under test is logged on now (a drop while it reconnects would drop nothing)."""
        async def check() -> bool:
            entry = self.sim.sim._core.entries.get((self.sender, "KRAKEN-TRD"))
            conn = None if entry is None else entry.conn
            return bool(entry is not None and entry.session.is_logged_on and conn is not None and not conn.closed)

        return bool(self.sim.call(check()))

    def drive(self, poll: Callable[[], None]) -> None:
        """Feed orders and drop sockets until ROLLOVERS rollovers and DROPS drops have happened."""
        self.feeder.start()
        deadline = time.monotonic() + HANG
        planned: float | None = None
        while self._rollovers() < ROLLOVERS or self.drops < DROPS:
            assert time.monotonic() < deadline, "the scenario did not complete"
            assert self.feeder.error is None, repr(self.feeder.error)
            poll()
            phase = self._phase()
            if planned is None and WINDOW + 0.4 < phase < WINDOW + 0.5:
                planned = self.rng.uniform(WINDOW + 0.5, EVERY - 1.1)  # a random point of the safe stretch
            if planned is not None and phase >= planned:
                planned = None
                if phase < EVERY - 1.0 and self._client_connected():  # else: try in the next period
                    self.sim.run(self.sim.sim.drop_connections)
                    self.drops += 1
            time.sleep(0.02)
        self.feeder.stop.set()
        self.feeder.join(HANG)
        assert self.feeder.error is None, repr(self.feeder.error)
        assert self.feeder.sent > 0

    def fills(self) -> int:
        """How many 0.01 fills the gateway made on the resting order."""
        async def cum() -> Decimal:
            orders = [o for o in self.sim.sim.gateway.spot.orders.values()
                      if getattr(o.owner, "sender", None) == self.sender]
            assert len(orders) == 1
            return Decimal(orders[0].cum_qty)

        return int(Decimal(self.sim.call(cum())) / LOT)

    def close(self) -> None:
        self.feeder.stop.set()
        self.sim.close()


def check_reports(text: str, fills: int) -> None:
    """Exactly ``fills`` distinct ExecIDs, none twice, and every CumQty 0.01..total once."""
    rows = ER_LINE.findall(ANSI.sub("", text))
    exec_ids = Counter(e for _, e in rows)
    assert [e for e, n in exec_ids.items() if n > 1] == []
    cums = sorted(Decimal(c) for c, _ in rows)
    assert cums == [LOT * i for i in range(1, fills + 1)]


def distinct_reports(text: str) -> int:
    return len({e for _, e in ER_LINE.findall(ANSI.sub("", text))})


def test_tail_through_rollovers_and_drops_shows_each_execution_report_once(tmp_path: Path) -> None:
    scenario = Scenario()
    out_path = tmp_path / "tail.out"
    try:
        env = scenario.sim.env(tmp_path)
        with out_path.open("wb") as out:
            proc = spawn("tail", "--host", "127.0.0.1", "--port", str(scenario.sim.port), "--no-tls",
                         "-o", "compact", "-m", "8", env=env, stdout=out)
            try:
                scenario.drive(lambda: None)
                fills = scenario.fills()
                assert fills > 0
                deadline = time.monotonic() + HANG
                while distinct_reports(out_path.read_text(errors="replace")) < fills:
                    assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
                    assert time.monotonic() < deadline, "tail never showed every fill"
                    time.sleep(0.05)
                proc.send_signal(signal.SIGINT)
                _, err = proc.communicate(timeout=HANG)
            finally:
                if proc.poll() is None:
                    proc.kill()
        stderr = err.decode(errors="replace")
        assert proc.returncode == 0, stderr
        check_reports(out_path.read_text(errors="replace"), fills)
        summary = re.search(r"(\d+) reconnect\(s\), (\d+) rollover\(s\)", stderr)
        assert summary, stderr
        assert int(summary.group(2)) >= ROLLOVERS
        assert int(summary.group(1)) >= ROLLOVERS + 1
        assert "Traceback" not in stderr
    finally:
        scenario.close()


def test_repl_through_rollovers_and_drops_shows_each_execution_report_once(tmp_path: Path) -> None:
    pexpect = pytest.importorskip("pexpect")
    scenario = Scenario()
    try:
        env = base_env(tmp_path, {"KRAKENFIX_API_KEY": scenario.key, "KRAKENFIX_API_SECRET": scenario.secret,
                                  "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1", "COLUMNS": "200",
                                  "LINES": "40"})
        child = pexpect.spawn(sys.executable, ["-m", "krakenfix_cli", "repl", "--profile", "sim", "--host",
                                               "127.0.0.1", "--port", str(scenario.sim.port), "--no-tls",
                                               "--output", "compact", "--no-history"],
                              env=env, dimensions=(40, 200), encoding="utf-8", timeout=HANG)
        seen: list[str] = []
        try:
            child.expect(r"fix>")

            def poll() -> None:
                try:
                    seen.append(child.read_nonblocking(1 << 16, timeout=0))
                except pexpect.TIMEOUT:
                    pass

            scenario.drive(poll)
            fills = scenario.fills()
            assert fills > 0
            deadline = time.monotonic() + HANG
            while distinct_reports("".join(seen)) < fills:
                assert child.isalive(), "".join(seen)[-2000:]
                assert time.monotonic() < deadline, "the REPL never showed every fill"
                try:
                    seen.append(child.read_nonblocking(1 << 16, timeout=0.2))
                except pexpect.TIMEOUT:
                    pass
            child.sendline("quit")
            child.expect(pexpect.EOF)
            seen.append(str(child.before))
        finally:
            if child.isalive():
                child.terminate(force=True)
        text = ANSI.sub("", "".join(seen))
        check_reports(text, fills)
        assert len(re.findall(r"gateway sent Logout\(5\): session rollover", text)) >= ROLLOVERS
        assert text.count("reconnected after the rollover") >= ROLLOVERS - 1
        assert "reconnected; any gap is filled by a resend" in text
        assert "Traceback" not in text
    finally:
        scenario.close()
