"""ops.cancel on one connection: the success path Kraken allows (place and cancel on the same session)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from krakenfix_cli.client import ClientSpec
from krakenfix_cli.ops.cancel import build_cancel, cancel_order, lookup
from krakenfix_cli.ops.outcomes import ConnRef, KnownOrder, NullLedger, Outcome
from krakenfix_cli.ops.report import RecordingReporter
from krakenfix_cli.ops.send import OrderSpec, build_order, send_message
from krakenfix_cli.ops.session import open_session
from krakenfix_cli.transport import clock


class MemoryLedger(NullLedger):
    """Remembers placed orders in memory (enough for one connection)."""

    def __init__(self) -> None:
        super().__init__()
        self.orders: dict[str, KnownOrder] = {}

    def placed(self, clordid: str, conn: ConnRef, now: float, *, symbol: str | None, side: str | None,
               details: Mapping[str, str] | None = None) -> None:
        self.orders[clordid] = KnownOrder(clordid, clordid, conn, "pending-new", symbol, side)

    def find(self, *, clordid: str | None = None, order_id: str | None = None) -> KnownOrder | None:
        return self.orders.get(clordid or "")


def test_order_placed_and_cancelled_on_one_connection_is_cancelled() -> None:
    async def go() -> tuple[Outcome, Outcome, str]:
        from krakenfix_cli.sim.runner import start_simulator

        async with await start_simulator(tls=False, flow_interval=None) as sim:
            creds = sim.credentials
            spec = ClientSpec(host="127.0.0.1", port=sim.port, sender_comp_id=creds.sender_comp_id,
                              target_comp_id="KRAKEN-TRD", tls=False, api_key=creds.api_key, secret=creds.api_secret)
            ledger, reporter = MemoryLedger(), RecordingReporter()
            async with open_session(spec, reporter, timeout=5, ledger=ledger) as live:
                order = build_order(OrderSpec("BTC/USD", "buy", "0.01", price="1000.0"), ledger, clock.now(),
                                    derivatives=False)
                sent = await send_message(live.channel, order, reporter, ledger, timeout=5)
                known = lookup(ledger, clordid=order[11], order_id=None)
                assert known is not None and known.placed_by == live.conn
                f = build_cancel(ledger, known, clordid=order[11], order_id=None, symbol=None, side=None,
                                 derivatives=False)
                cancelled = await cancel_order(live.channel, f, reporter, ledger, timeout=5)
            kinds = "".join(m.msg_type for m, d, _ in reporter.messages if d == "in")
            return sent.outcome, cancelled.outcome, kinds

    sent, cancelled, kinds = asyncio.run(go())
    assert (sent, cancelled) == (Outcome.OK, Outcome.OK)
    assert "j" not in kinds
