"""ops.amend and ops.status on one connection against the simulator: the success paths."""

from __future__ import annotations

import asyncio
from pathlib import Path

from krakenfix_cli.cli.common import JournalLedger
from krakenfix_cli.client import ClientSpec
from krakenfix_cli.fix.message import Message
from krakenfix_cli.ops.amend import Change, OrderFacts, amend_order, build_amend
from krakenfix_cli.ops.cancel import f_reaches, lookup
from krakenfix_cli.ops.outcomes import AmendResult, ConnRef, KnownOrder, Outcome
from krakenfix_cli.ops.report import RecordingReporter
from krakenfix_cli.ops.send import OrderSpec, build_order, send_message
from krakenfix_cli.ops.session import open_session
from krakenfix_cli.ops.status import StatusAnswer, ask_status
from krakenfix_cli.settings.journal import OrderJournal
from krakenfix_cli.transport import clock


def _spec(sim: object) -> ClientSpec:
    creds = sim.credentials  # type: ignore[attr-defined]
    return ClientSpec(host="127.0.0.1", port=sim.port, sender_comp_id=creds.sender_comp_id,  # type: ignore[attr-defined]
                      target_comp_id="KRAKEN-TRD", tls=False, api_key=creds.api_key, secret=creds.api_secret)


def test_amend_of_a_gtd_post_only_order_repeats_its_tif_expiry_and_post_only_and_is_replaced(
        tmp_path: Path) -> None:
    ledger = JournalLedger(OrderJournal(tmp_path, sync=False))

    async def go() -> tuple[Message, AmendResult, bool]:
        from krakenfix_cli.sim.runner import start_simulator

        async with await start_simulator(tls=False, flow_interval=None) as sim:
            reporter = RecordingReporter()
            async with open_session(_spec(sim), reporter, timeout=5, ledger=ledger) as live:
                order = build_order(OrderSpec("BTC/USD", "buy", "0.01", price="1000.0", tif="gtd", post_only=True,
                                              expire_time=clock.now() + 3600), ledger, clock.now(), derivatives=False)
                sent = await send_message(live.channel, order, reporter, ledger, timeout=5)
                assert sent.outcome is Outcome.OK, sent.reason
                known = lookup(ledger, clordid=order[11], order_id=None)
                assert known is not None
                reaches = f_reaches(known, live.conn)
                g = build_amend(ledger, known, Change(price="990.0"), OrderFacts(), derivatives=False)
                return g, await amend_order(live.channel, g, reporter, ledger, known, timeout=5), reaches

    g, result, reaches = asyncio.run(go())
    assert reaches
    assert result.outcome is Outcome.OK and not result.pending, result.reason
    assert (g.get(59), g.get(18), g.get(44), g.get(38), g.get(40)) == ("6", "P", "990", "0.01", "2")
    assert g.get(126)
    after = ledger.find(clordid=g[11])
    assert after is not None
    assert (after.latest_clordid, after.price, after.tif, after.exec_inst) == (g[11], "990", "6", "P")


def test_status_answers_each_order_and_refuses_an_unknown_one(tmp_path: Path) -> None:
    ledger = JournalLedger(OrderJournal(tmp_path, sync=False))

    async def go() -> tuple[list[StatusAnswer], str]:
        from krakenfix_cli.sim.runner import start_simulator

        async with await start_simulator(tls=False, flow_interval=None) as sim:
            reporter = RecordingReporter()
            async with open_session(_spec(sim), reporter, timeout=5, ledger=ledger) as live:
                order = build_order(OrderSpec("BTC/USD", "sell", "0.02", price="900000.0"), ledger, clock.now(),
                                    derivatives=False)
                sent = await send_message(live.channel, order, reporter, ledger, timeout=5)
                assert sent.outcome is Outcome.OK, sent.reason
                known = lookup(ledger, clordid=order[11], order_id=None)
                assert known is not None
                ghost = KnownOrder("1", "1", ConnRef("", "", ""), "unknown", "BTC/USD", "1", "OXXXXX-NONE-AAAAAA")
                no_id = KnownOrder("2", "2", ConnRef("", "", ""), "unknown", "BTC/USD", "1")
                return await ask_status(live.channel, [known, ghost, no_id], reporter, ledger, timeout=5), order[11]

    answers, clordid = asyncio.run(go())
    mine, ghost, no_id = answers
    assert mine.outcome is Outcome.OK and mine.report is not None
    assert (mine.report.get(150), mine.report.get(39), mine.report.get(151)) == ("I", "0", "0.02")
    assert ghost.outcome is Outcome.REJECTED and "BusinessMessageReject(j)" in ghost.reason
    assert "Unknown order" in ghost.reason
    assert no_id.outcome is Outcome.REJECTED and not no_id.asked and "OrderID(37)" in no_id.reason
    rec = ledger.find(clordid=clordid)
    assert rec is not None and (rec.state, rec.leaves_qty, rec.cum_qty) == ("new", "0.02", "0")
