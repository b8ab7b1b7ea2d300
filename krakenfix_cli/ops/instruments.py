"""Ask a market-data session for the InstrumentList(y): which pairs the gateway really lists.

Kraken serves InstrumentList only on the market-data session (SPEC §7, §7.6), which needs no
credentials (the SenderCompID alone, §3.1), so a trading session learns its tradable symbols
through a short second connection: log on to the market-data twin, send
InstrumentListRequest(x) for all pairs, read the answer, log out. That connection is a
separate CompID pair (``KRAKEN-MD``), so it never collides with the trading logon, and its
session store lives in memory (nothing of it needs to outlive the request).
"""

from __future__ import annotations

import asyncio
import dataclasses

from krakenfix_cli.client import Client, ClientSpec
from krakenfix_cli.kraken import builders
from krakenfix_cli.kraken.profiles import target_comp_id
from krakenfix_cli.transport import clock


class InstrumentListError(Exception):
    """The market-data session refused or did not answer the request."""


def market_data_twin(spec: ClientSpec, port: int | None = None) -> ClientSpec:
    """``spec`` (a trading session) turned into its market-data twin: same host, TLS and
    SenderCompID, the MD TargetCompID, no credentials, a memory store; ``port`` if it differs."""
    return dataclasses.replace(
        spec, target_comp_id=target_comp_id(derivatives=spec.derivatives, market_data=True), market_data=True,
        api_key=None, secret=None, state_dir=None, memory_store=True, port=spec.port if port is None else port,
        checkpoint=False,
    )


async def fetch_symbols(spec: ClientSpec, timeout: float = 10.0) -> list[str]:
    """The symbols of InstrumentList(y) from the market-data session ``spec`` (in the gateway's order)."""
    client = Client.from_spec(spec)
    leaving = False
    try:
        await client.connect(timeout)
        req_id = f"kfx-{int(clock.now() * 1000)}"
        await client.send(builders.instrument_list_request(req_id))
        deadline = clock.monotonic() + timeout
        symbols: list[str] = []
        while (left := deadline - clock.monotonic()) > 0:
            msg = await client.next_message(left)
            if msg is None:
                break
            if msg.msg_type != "y" or msg.get(320) != req_id:
                continue
            if (msg.get(560) or "0") != "0":
                raise InstrumentListError(f"InstrumentList refused: {msg.get(58) or '560=' + (msg.get(560) or '')}")
            symbols += [s for s in msg.get_all(55) if s]
            if msg.get(893) != "N":  # LastFragment: absent or Y ends the answer
                return list(dict.fromkeys(symbols))
        raise InstrumentListError(f"no InstrumentList from {spec.host}:{spec.port} in {timeout:g} s")
    except asyncio.CancelledError:  # the caller is leaving (the REPL quits): nothing more to wait for
        leaving = True
        client.drop()
        raise
    finally:
        if not leaving:
            if client.is_logged_on:
                await client.logout(2.0)
            await client.close()
