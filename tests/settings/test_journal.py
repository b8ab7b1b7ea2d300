"""Order journal: who placed which ClOrdID, latest state, and ClOrdIDs that keep increasing."""

from __future__ import annotations

import errno
import json
import multiprocessing
from pathlib import Path

import pytest

from krakenfix_cli.kraken.clordid import clordid_order_key, is_valid_derivatives_clordid
from krakenfix_cli.settings.journal import (
    OrderJournal,
    SessionRef,
    state_from_ord_status,
)

T = 1_700_000_000.0
CONN1 = SessionRef.from_logon("KFXCLIENT", "KRAKEN-TRD", T)
CONN2 = SessionRef.from_logon("KFXCLIENT", "KRAKEN-TRD", T + 3600)


def test_placed_order_is_found_by_clordid_with_its_session(tmp_path: Path) -> None:
    j = OrderJournal(tmp_path)
    j.record_placed("1700000000000001", CONN1, T, symbol="BTC/USD", side="1", profile="sim")
    rec = j.find(clordid="1700000000000001")
    assert rec is not None
    assert (rec.session, rec.symbol, rec.state, rec.profile) == (CONN1, "BTC/USD", "pending-new", "sim")
    assert rec.session.connection_id == "20231114-22:13:20.000"


def test_updates_fold_into_the_latest_state_and_order_id(tmp_path: Path) -> None:
    j = OrderJournal(tmp_path)
    j.record_placed("1", CONN1, T)
    j.record_update("1", T + 1, order_id="OABC-123", state=state_from_ord_status("0"))
    j.record_update("1", T + 2, state=state_from_ord_status("1"))
    rec = j.find(order_id="OABC-123")
    assert rec is not None and (rec.state, rec.order_id, rec.updated) == ("partially-filled", "OABC-123", T + 2)
    assert rec.is_open


def test_amends_move_the_latest_clordid_and_keep_the_order(tmp_path: Path) -> None:
    j = OrderJournal(tmp_path)
    j.record_placed("1", CONN1, T)
    j.record_update("1", T + 1, new_clordid="2")
    j.record_update("2", T + 2, new_clordid="3")
    j.record_update("3", T + 3, state="canceled")
    rec = j.find(clordid="2")
    assert rec is not None and (rec.clordid, rec.latest_clordid, rec.state) == ("1", "3", "canceled")
    assert not rec.is_open
    assert j.open_orders() == []


def test_open_orders_filter_by_connection(tmp_path: Path) -> None:
    j = OrderJournal(tmp_path)
    j.record_placed("1", CONN1, T)
    j.record_placed("2", CONN2, T + 3600)
    j.record_placed("3", CONN2, T + 3601)
    j.record_update("3", T + 3602, state="filled")
    assert [r.clordid for r in j.open_orders(CONN2)] == ["2"]
    assert [r.clordid for r in j.open_orders()] == ["1", "2"]


def test_torn_last_line_is_skipped_and_does_not_swallow_the_next_record(tmp_path: Path) -> None:
    j = OrderJournal(tmp_path)
    j.record_placed("1", CONN1, T)
    with j.path.open("ab") as fh:
        fh.write(b'{"v":1,"ev":"placed","clordid":"2","sen')  # a crash mid-write
    j2 = OrderJournal(tmp_path)
    j2.record_placed("3", CONN1, T)
    assert sorted(j2.orders()) == ["1", "3"]


def test_journal_lines_are_json_for_jq(tmp_path: Path) -> None:
    j = OrderJournal(tmp_path, sync=False)
    j.record_placed("1", CONN1, T, symbol="BTC/USD")
    j.record_update("1", T, state="new")
    lines = [json.loads(line) for line in j.path.read_text().splitlines()]
    assert [r["ev"] for r in lines] == ["placed", "update"]
    assert j.path.stat().st_mode & 0o077 == 0


def _append_many(args: tuple[str, int]) -> None:
    state, worker = args
    j = OrderJournal(state, sync=False)
    conn = SessionRef.from_logon(f"W{worker}", "KRAKEN-TRD", T)
    for i in range(200):
        j.record_placed(f"{worker}{i:04d}", conn, T, symbol="BTC/USD" * 20)


def test_two_processes_appending_at_once_keep_every_line_whole(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(2) as pool:
        pool.map(_append_many, [(str(tmp_path), 1), (str(tmp_path), 2)])
    j = OrderJournal(tmp_path)
    assert len(j.orders()) == 400
    assert all(json.loads(line) for line in j.path.read_text().splitlines())


def test_clordids_increase_across_journal_instances(tmp_path: Path) -> None:
    first = OrderJournal(tmp_path).next_clordid(T)
    second = OrderJournal(tmp_path).next_clordid(T - 60)  # clock stepped back between runs
    assert int(second) == int(first) + 1
    assert OrderJournal(tmp_path).last_clordid() == second


def test_derivatives_watermark_is_separate_and_a_uuid(tmp_path: Path) -> None:
    j = OrderJournal(tmp_path)
    spot = j.next_clordid(T)
    drv = j.next_clordid(T, derivatives=True)
    assert is_valid_derivatives_clordid(drv)
    assert j.last_clordid() == spot and j.last_clordid(derivatives=True) == drv
    drv2 = OrderJournal(tmp_path).next_clordid(T - 5, derivatives=True)
    assert clordid_order_key(drv2) > clordid_order_key(drv)  # type: ignore[operator]


def test_user_chosen_clordid_raises_the_watermark(tmp_path: Path) -> None:
    j = OrderJournal(tmp_path)
    j.remember_clordid("999999999999999999")
    assert j.last_clordid() == "999999999999999999"
    j.remember_clordid("5")  # lower: ignored
    j.remember_clordid("0189c0b2-1a2b-4c3d-8e4f-0016d3cca427")  # a UUID cannot move the Spot mark
    assert j.last_clordid() == "999999999999999999"


def _allocate(state: str) -> list[str]:
    j = OrderJournal(state, sync=False)
    return [j.next_clordid(T) for _ in range(100)]


def test_two_processes_allocating_clordids_never_collide(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(2) as pool:
        a, b = pool.map(_allocate, [str(tmp_path), str(tmp_path)])
    assert len(set(a) | set(b)) == 200


# -- compaction -----------------------------------------------------------------------------------
DAY = 86400.0


def test_compaction_keeps_open_and_recent_orders_and_drops_old_finished_ones(tmp_path: Path) -> None:
    j = OrderJournal(tmp_path)
    j.record_placed("1", CONN1, T, symbol="BTC/USD", side="1")  # old, still open: kept
    j.record_update("1", T + 1, order_id="O1", state="new")
    j.record_placed("2", CONN1, T)  # old and filled: dropped
    j.record_update("2", T + 1, order_id="O2", state="filled")
    j.record_placed("3", CONN2, T + 9 * DAY)  # recent and cancelled, amended twice on the way: kept
    j.record_update("3", T + 9 * DAY, new_clordid="4")
    j.record_update("4", T + 9 * DAY, new_clordid="5")
    j.record_update("5", T + 9 * DAY + 1, order_id="O3", state="canceled")
    before = j.orders()

    assert j.compact(T + 10 * DAY) == 1
    after = OrderJournal(tmp_path)
    assert sorted(after.orders()) == ["1", "3"]
    assert after.orders()["1"] == before["1"]
    assert after.orders()["3"] == before["3"]
    found = after.find(clordid="4")  # an intermediate ClOrdID still leads to its order
    assert found is not None and (found.clordid, found.latest_clordid) == ("3", "5")
    assert after.find(order_id="O2") is None
    assert j.path.stat().st_mode & 0o077 == 0


def test_a_journal_past_the_size_limit_is_compacted_when_opened(tmp_path: Path) -> None:
    j = OrderJournal(tmp_path)
    for i in range(300):
        j.record_placed(f"{i}", CONN1, T)
        j.record_update(f"{i}", T + 1, state="filled")
    j.record_placed("open", CONN1, T)
    size = j.path.stat().st_size
    OrderJournal(tmp_path, compact_bytes=size + 1)  # under the limit: untouched
    assert j.path.stat().st_size == size
    reopened = OrderJournal(tmp_path, compact_bytes=size)  # at the limit: compacted (T is long ago)
    assert list(reopened.orders()) == ["open"]
    assert j.path.stat().st_size < size // 100


def _append_while_compacting(args: tuple[str, int]) -> None:
    state, worker = args
    j = OrderJournal(state, sync=False)
    conn = SessionRef.from_logon(f"W{worker}", "KRAKEN-TRD", T)
    if worker == 0:
        for _ in range(40):
            j.compact(T)  # every order is open: each compaction keeps them all
        return
    for i in range(500):
        j.record_placed(f"{worker}{i:04d}", conn, T)


def test_no_line_appended_during_a_compaction_is_lost(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(3) as pool:
        pool.map(_append_while_compacting, [(str(tmp_path), 0), (str(tmp_path), 1), (str(tmp_path), 2)])
    assert len(OrderJournal(tmp_path).orders()) == 1000


def test_a_compaction_that_fails_leaves_the_journal_whole_and_the_command_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    j = OrderJournal(tmp_path)
    j.record_placed("1", CONN1, T)
    j.record_update("1", T + 1, state="filled")
    before = j.path.read_bytes()

    def full(*_: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("krakenfix_cli.settings.journal.os.replace", full)
    reopened = OrderJournal(tmp_path, compact_bytes=1)  # would compact, cannot: goes on
    assert j.path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    assert list(reopened.orders()) == ["1"]


def test_a_torn_tail_made_while_the_journal_is_open_does_not_swallow_the_next_record(tmp_path: Path) -> None:
    """The REPL keeps one journal open: a tear after it opened must not glue its next order on."""
    j = OrderJournal(tmp_path)
    j.record_placed("1", CONN1, T)
    with j.path.open("ab") as fh:
        fh.write(b'{"v":1,"ev":"placed","clordid":"2","sen')  # another process died mid-write
    j.record_placed("3", CONN1, T, symbol="BTC/USD")
    j.record_update("3", T + 1, order_id="O-3", state="new")
    rec = j.find(order_id="O-3")
    assert rec is not None and rec.clordid == "3"
    assert sorted(j.orders()) == ["1", "3"]


def test_a_record_glued_behind_a_torn_line_is_still_read(tmp_path: Path) -> None:
    """Files written before appends started on a fresh line: readers resynchronise."""
    j = OrderJournal(tmp_path)
    j.record_placed("1", CONN1, T)
    whole = j.path.read_bytes()
    j.path.write_bytes(b'{"v":1,"ev":"placed","clordid":"2","sen' + whole)
    assert sorted(OrderJournal(tmp_path).orders()) == ["1"]


def test_a_short_write_on_a_full_disk_leaves_no_partial_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    j = OrderJournal(tmp_path)
    j.record_placed("1", CONN1, T)
    before = j.path.read_bytes()
    import os as real_os

    real_write = real_os.write

    def half(fd: int, data: bytes) -> int:
        return real_write(fd, bytes(data)[: len(data) // 2])  # the disk filled mid-record

    monkeypatch.setattr("krakenfix_cli.session.appendonly.os.write", half)
    with pytest.raises(OSError) as info:
        j.record_update("1", T + 1, state="new")
    assert info.value.errno == errno.ENOSPC
    monkeypatch.undo()
    assert j.path.read_bytes() == before
    j.record_update("1", T + 2, state="filled")
    assert j.find(clordid="1").state == "filled"  # type: ignore[union-attr]


@pytest.mark.parametrize("line", [
    b'{"v":1,"ev":"update","t":"abc","clordid":"1"}',
    b'{"v":1,"ev":"placed","t":1,"clordid":"9","u":"x"}',
    b'{"v":1,"ev":"placed","t":1,"clordid":"9","symbol":["BTC/USD"]}',
    b'{"v":1,"ev":"update","t":1,"clordid":"1","state":{"a":1}}',
    b'{"v":1,"ev":"update","t":1,"clordid":"1","new_clordid":5}',
    b'{"v":1,"ev":"update","t":1e999,"clordid":"1"}',
    b'[1,2,3]',
    b'\xff\xfe garbage',
])
def test_a_line_of_the_wrong_shape_is_skipped_counted_and_warned_once(tmp_path: Path, line: bytes) -> None:
    warnings: list[str] = []
    j = OrderJournal(tmp_path, warn=warnings.append)
    j.record_placed("1", CONN1, T, symbol="BTC/USD")
    with j.path.open("ab") as fh:
        fh.write(line + b"\n")
    j.record_placed("2", CONN1, T + 1)
    assert sorted(r.clordid for r in j.open_orders()) == ["1", "2"]
    assert j.skipped == 1
    assert j.find(clordid="1") is not None and j.find(order_id="nope") is None
    assert len(warnings) == 1 and "skipped 1 unreadable line" in warnings[0] and str(j.path) in warnings[0]


def test_an_amend_cycle_in_a_hand_edited_journal_does_not_recurse(tmp_path: Path) -> None:
    j = OrderJournal(tmp_path)
    j.record_update("A", T, new_clordid="B")
    j.record_update("B", T, new_clordid="A")
    assert j.find(clordid="A") is None and j.find(clordid="C") is None


def test_a_spot_watermark_past_18_digits_goes_on_with_uuids_until_a_reset(tmp_path: Path) -> None:
    j = OrderJournal(tmp_path)
    j.remember_clordid("999999999999999999")
    first = j.next_clordid(T)
    assert is_valid_derivatives_clordid(first)
    j.remember_clordid("5")  # a number cannot pull a Spot generator on UUIDs back
    later = "ffffffff-ffff-4fff-bfff-ffffffffffff"
    j.remember_clordid(later)  # a higher UUID (--raw) moves it
    assert j.last_clordid() == later
    j.reset_clordid()
    assert j.last_clordid() is None and j.next_clordid(T) == str(int(T * 1_000_000))
    j.reset_clordid()
    j.remember_clordid(later)
    with pytest.raises(ValueError, match="--reset-clordid"):
        j.next_clordid(T)  # nothing above the largest UUID: a usage error with the way out


def test_a_watermark_that_cannot_be_written_leaves_the_old_one_and_no_temporary(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    j = OrderJournal(tmp_path)
    j.remember_clordid("1700000000000001")

    def full(*_: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("krakenfix_cli.settings.journal.os.replace", full)
    with pytest.raises(OSError):
        j.remember_clordid("1700000000000009")
    monkeypatch.undo()
    assert j.last_clordid() == "1700000000000001"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
