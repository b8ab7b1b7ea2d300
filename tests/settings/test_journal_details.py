"""Order journal details: what an amend must repeat and ``orders`` shows, kept across folds and compactions."""

from __future__ import annotations

import json
from pathlib import Path

from krakenfix_cli.cli.common import JournalLedger
from krakenfix_cli.fix.message import Message
from krakenfix_cli.kraken import builders
from krakenfix_cli.ops.outcomes import ConnRef, order_details, report_details
from krakenfix_cli.settings.journal import OrderJournal, SessionRef

T = 1_700_000_000.0
CONN = SessionRef.from_logon("KFXCLIENT", "KRAKEN-TRD", T)


def _gtd_post_only() -> Message:
    return builders.new_order_single("1700000000000001", "BTC/USD", "buy", "0.01", "limit", transact_time=T,
                                     price="1000.5", tif="gtd", expire_time=T + 3600, post_only=True)


def test_order_details_of_a_new_order_single_are_its_wire_values() -> None:
    d = order_details(_gtd_post_only())
    assert d == {"ord_type": "2", "price": "1000.5", "qty": "0.01", "tif": "6",
                 "expire_time": "20231114-23:13:20", "exec_inst": "P"}


def test_report_details_take_price_and_qty_only_from_a_replace_or_status_report() -> None:
    fill = Message.new("8", (14, "0.004"), (38, "0.01"), (44, "999"), (150, "F"), (151, "0.006"), (6, "1000"))
    assert report_details(fill) == {"cum_qty": "0.004", "leaves_qty": "0.006", "avg_px": "1000"}
    replaced = Message.new("8", (14, "0"), (38, "0.02"), (44, "990"), (150, "5"), (151, "0.02"))
    assert report_details(replaced) == {"cum_qty": "0", "leaves_qty": "0.02", "qty": "0.02", "price": "990"}


def test_details_written_at_placement_are_read_back_and_updates_win(tmp_path: Path) -> None:
    j = OrderJournal(tmp_path, sync=False)
    j.record_placed("1", CONN, T, symbol="BTC/USD", side="1", details=order_details(_gtd_post_only()))
    j.record_update("1", T + 1, new_clordid="2", details={"price": "990", "cum_qty": "0"})
    rec = j.find(clordid="2")
    assert rec is not None
    assert rec.details["price"] == "990" and rec.details["tif"] == "6" and rec.details["exec_inst"] == "P"
    assert rec.details["cum_qty"] == "0"


def test_a_record_without_details_still_loads(tmp_path: Path) -> None:
    line = {"v": 1, "ev": "placed", "t": T, "clordid": "7", "sender": "S", "target": "T", "conn": "c",
            "symbol": "BTC/USD", "side": "1", "order_id": None, "state": "new", "profile": None}
    (tmp_path / "orders.jsonl").write_text(json.dumps(line) + "\n")
    j = OrderJournal(tmp_path, sync=False)
    rec = j.find(clordid="7")
    assert rec is not None and rec.details == {} and rec.state == "new"
    known = JournalLedger(j).find(clordid="7")
    assert known is not None and known.tif is None and known.price is None


def test_details_of_the_wrong_shape_are_dropped_but_the_order_kept(tmp_path: Path) -> None:
    line = {"v": 1, "ev": "placed", "t": T, "clordid": "8", "sender": "S", "target": "T", "conn": "c",
            "state": "new", "d": {"price": 5}}
    (tmp_path / "orders.jsonl").write_text(json.dumps(line) + "\n")
    j = OrderJournal(tmp_path, sync=False)
    rec = j.find(clordid="8")
    assert rec is not None and rec.details == {}
    assert j.skipped == 0


def test_compaction_keeps_the_folded_details(tmp_path: Path) -> None:
    j = OrderJournal(tmp_path, sync=False)
    j.record_placed("1", CONN, T, details={"tif": "6", "price": "1"})
    j.record_update("1", T + 1, new_clordid="2", details={"price": "2"})
    j.compact(T + 2)
    rec = j.find(clordid="2")
    assert rec is not None and dict(rec.details) == {"tif": "6", "price": "2"}


def test_the_ledger_adapter_writes_and_returns_details(tmp_path: Path) -> None:
    ledger = JournalLedger(OrderJournal(tmp_path, sync=False))
    ledger.placed("1", ConnRef("S", "T", "c"), T, symbol="BTC/USD", side="1",
                  details=order_details(_gtd_post_only()))
    ledger.updated("1", T + 1, order_id="O-1", ord_status="0", details={"leaves_qty": "0.01"})
    known = ledger.find(order_id="O-1")
    assert known is not None
    assert (known.tif, known.expire_time, known.exec_inst, known.price, known.leaves_qty, known.placed) == (
        "6", "20231114-23:13:20", "P", "1000.5", "0.01", T)
