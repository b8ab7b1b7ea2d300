"""A client process that sends a burst of orders and records every ExecutionReport it sees.

Used by the crash-recovery test: the test kills it with SIGKILL in the middle of the burst,
then starts it again with ``--resume`` on the same state dir. Each ExecutionReport is
appended to ``--seen`` (``ExecID ClOrdID ExecType PossDup`` per line, flushed) before the
client checkpoints it (``Client.processed``); on resume the file is read back so a replayed
copy is recognised by its ExecID and not recorded twice. That file is what "shown" means
for the test: each ExecID must be in it exactly once.

``--pace``/``--pace-every`` slow the burst down (a pause after every few orders) so that a kill from outside lands
while orders are still going out and ExecutionReports are still coming back.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from decimal import Decimal
from pathlib import Path

from krakenfix_cli.client import Client, ClientSpec
from krakenfix_cli.kraken.auth import ApiSecret
from krakenfix_cli.kraken.builders import OrdType, Side, new_order_single
from krakenfix_cli.session.events import MessageReceived
from krakenfix_cli.transport.clock import SYSTEM

BASE_CLORDID = 1_700_000_000_000_000
QUIET = 2.0
"After the burst: stop waiting for missing acknowledgements once nothing arrived for this long."
WAIT_CAP = 30.0
"After the burst: never wait longer than this in total (a hang bound, not a measurement)."


def read_seen(path: Path) -> dict[str, str]:
    """ExecID -> ClOrdID from an earlier run's ``--seen`` file (a torn last line is ignored)."""
    seen: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3:
                seen[parts[0]] = parts[1]
    return seen


def _write_counter(path: Path, n: int) -> None:
    """Replace the counter atomically: a kill never leaves it empty."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(str(n))
    tmp.replace(path)


async def run(a: argparse.Namespace) -> dict[str, object]:
    seen_path = Path(a.seen)
    seen = read_seen(seen_path)
    state_dir = Path(a.state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    counter = state_dir / "next_order"
    start = int(counter.read_text() or 0) if a.resume and counter.exists() else 0
    spec = ClientSpec(
        a.host, a.port, a.sender, "KRAKEN-TRD", tls=False, api_key=a.api_key, secret=ApiSecret(a.secret),
        cancel_on_disconnect=False, reset_on_logon=not a.resume, state_dir=state_dir, profile="crash",
        checkpoint=True,
    )
    client = Client.from_spec(spec)
    facts = await client.connect(10)
    logon_seq = facts.seq_out - 1
    duplicates = 0
    loop = asyncio.get_running_loop()
    last_er = [loop.time()]
    acked: set[str] = set()
    with seen_path.open("a") as out:

        async def consume() -> None:
            nonlocal duplicates
            while True:
                ev = await client.inbound.get()
                if not isinstance(ev, MessageReceived) or ev.message.msg_type != "8":
                    continue
                msg = ev.message
                last_er[0] = loop.time()
                exec_id = msg.get(17) or ""
                clordid = msg.get(11) or ""
                if exec_id in seen:
                    duplicates += 1
                else:
                    seen[exec_id] = clordid
                    out.write(f"{exec_id} {clordid} {msg.get(150)} {'Y' if ev.poss_dup else 'N'}\n")
                    out.flush()
                if msg.get(150) == "0":
                    acked.add(clordid)
                client.processed(msg)

        consumer = asyncio.create_task(consume())
        for i in range(start, a.orders):
            order = new_order_single(
                str(BASE_CLORDID + i), "BTC/USD", Side.BUY, Decimal("0.001"), OrdType.LIMIT,
                price=Decimal("1000.0"), transact_time=SYSTEM.now(),
            )
            await client.send(order)
            _write_counter(counter, i + 1)
            if a.pace > 0 and i % a.pace_every == a.pace_every - 1:
                await asyncio.sleep(a.pace)
            elif i % 50 == 0:
                await asyncio.sleep(0)  # let ERs be consumed while the burst runs
        acked |= set(seen.values())
        wanted = {str(BASE_CLORDID + i) for i in range(a.orders)}
        began = loop.time()
        while not wanted <= acked and not client.closed:
            now = loop.time()
            if now - last_er[0] > QUIET or now - began > WAIT_CAP:
                break  # the rest never reached the gateway (lost with the killed socket)
            await asyncio.sleep(0.05)
        consumer.cancel()
        with_ack = len(wanted & acked)
        await client.logout()
    return {
        "logon_seq": logon_seq,
        "reset": facts.reset,
        "acked": with_ack,
        "duplicates_dropped": duplicates,
        "next_sender_seq": client.session.next_sender_seq,
    }


def main() -> int:
    p = argparse.ArgumentParser()
    for opt in ("--api-key", "--secret", "--sender", "--state-dir", "--seen"):
        p.add_argument(opt, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--orders", type=int, default=1000)
    p.add_argument("--pace", type=float, default=0.0, help="seconds of pause after each --pace-every orders")
    p.add_argument("--pace-every", type=int, default=1)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--result")
    a = p.parse_args()
    result = asyncio.run(run(a))
    if a.result:
        Path(a.result).write_text(json.dumps(result))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
