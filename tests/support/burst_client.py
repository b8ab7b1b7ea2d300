"""A client process that sends a burst of orders and records every ExecutionReport it sees.

Used by the crash-recovery test: the test kills it with SIGKILL in the middle of the burst,
then starts it again with ``--resume`` on the same state dir. Each ExecutionReport is
appended to ``--seen`` (``ExecID ClOrdID ExecType`` per line, flushed) before the client
checkpoints it; on resume the file is read back so a replayed copy is recognised by its
ExecID and not shown twice.
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


async def run(a: argparse.Namespace) -> dict[str, object]:
    seen_path = Path(a.seen)
    seen: dict[str, str] = {}
    if seen_path.exists():
        for line in seen_path.read_text().splitlines():
            parts = line.split()
            if len(parts) == 3:
                seen[parts[0]] = parts[1]
    counter = Path(a.state_dir) / "next_order"
    start = int(counter.read_text()) if a.resume and counter.exists() else 0
    spec = ClientSpec(
        a.host, a.port, a.sender, "KRAKEN-TRD", tls=False, api_key=a.api_key, secret=ApiSecret(a.secret),
        cancel_on_disconnect=False, reset_on_logon=not a.resume, state_dir=Path(a.state_dir), profile="crash",
        checkpoint=True,
    )
    client = Client.from_spec(spec)
    facts = await client.connect(10)
    out = open(seen_path, "a")  # noqa: SIM115 - kept open for the whole burst
    duplicates = 0
    acked: set[str] = {c for c in seen.values()}

    async def consume() -> None:
        nonlocal duplicates
        while True:
            ev = await client.inbound.get()
            if not isinstance(ev, MessageReceived) or ev.message.msg_type != "8":
                continue
            msg = ev.message
            exec_id = msg.get(17) or ""
            if exec_id in seen:
                duplicates += 1
            else:
                seen[exec_id] = msg.get(11) or ""
                out.write(f"{exec_id} {msg.get(11)} {msg.get(150)}\n")
                out.flush()
                if msg.get(150) == "0":
                    acked.add(msg.get(11) or "")
            client.processed(msg)

    consumer = asyncio.create_task(consume())
    for i in range(start, a.orders):
        order = new_order_single(
            str(BASE_CLORDID + i), "BTC/USD", Side.BUY, Decimal("0.001"), OrdType.LIMIT,
            price=Decimal("1000.0"), transact_time=SYSTEM.now(),
        )
        await client.send(order)
        counter.write_text(str(i + 1))
        if i % 50 == 0:
            await asyncio.sleep(0)  # let ERs be consumed while the burst runs
    wanted = {str(BASE_CLORDID + i) for i in range(a.orders)}
    for _ in range(400):
        if wanted <= acked:
            break
        await asyncio.sleep(0.05)
    consumer.cancel()
    await client.logout()
    out.close()
    return {
        "first_seq_out": facts.seq_out - 1,
        "reset": facts.reset,
        "acked": len(wanted & acked),
        "duplicates_dropped": duplicates,
        "next_sender_seq": client.session.next_sender_seq,
    }


def main() -> int:
    p = argparse.ArgumentParser()
    for opt in ("--host", "--api-key", "--secret", "--sender", "--state-dir", "--seen"):
        p.add_argument(opt, required=opt != "--host", default="127.0.0.1" if opt == "--host" else None)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--orders", type=int, default=1000)
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
