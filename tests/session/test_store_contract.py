"""One MessageStore contract, run against MemoryStore and FileStore (QuickFIX's MessageStoreTestCase).

FileStore-only tests below prove STYLE.md rule 5: whatever ``save`` returned from survives
the process dying, a torn trailing record is cut off on restart, and a frame saved right
before a crash is resent with PossDupFlag(43)=Y after a restart from the same directory.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pair import SessionPair

from krakenfix_cli.fix.encode import frame_text
from krakenfix_cli.fix.message import Message, decode
from krakenfix_cli.session.events import MessageReceived
from krakenfix_cli.session.filestore import (
    BODY_FILE,
    SEQNUMS_FILE,
    FileStore,
    StoreError,
    StoreLockedError,
    session_dir,
)
from krakenfix_cli.session.store import MemoryStore, MessageStore

StoreFactory = Callable[[], MessageStore]


def _frame(seq: int, text: str = "x") -> bytes:
    return frame_text(f"35=D|34={seq}|49=A|56=B|52=20231114-22:13:20.000|11={seq}|58={text}")


@pytest.fixture(params=["memory", "file"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    opened: list[MessageStore] = []

    def factory() -> MessageStore:
        store: MessageStore = MemoryStore() if request.param == "memory" else FileStore(tmp_path / "s")
        opened.append(store)
        return store

    yield factory
    for s in opened:
        s.close()


# -- the contract, both stores ----------------------------------------------------------------------
def test_new_store_starts_both_sequence_numbers_at_one(make_store: StoreFactory) -> None:
    store = make_store()
    assert (store.next_sender_seq, store.next_target_seq) == (1, 1)


def test_save_stores_frame_and_advances_next_sender_seq(make_store: StoreFactory) -> None:
    store = make_store()
    store.save(1, _frame(1))
    assert store.next_sender_seq == 2
    assert store.get(1, 1) == [(1, _frame(1))]


def test_get_returns_the_range_inclusive_in_ascending_order(make_store: StoreFactory) -> None:
    store = make_store()
    for seq in range(1, 6):
        store.save(seq, _frame(seq))
    assert [s for s, _ in store.get(2, 4)] == [2, 3, 4]
    assert store.get(4, 100) == [(4, _frame(4)), (5, _frame(5))]


def test_get_skips_sequence_numbers_that_were_never_stored(make_store: StoreFactory) -> None:
    store = make_store()
    store.save(1, _frame(1))
    store.set_next_sender_seq(5)  # 2..4 were admin messages or a SequenceReset jumped them
    store.save(5, _frame(5))
    assert [s for s, _ in store.get(1, 5)] == [1, 5]
    assert store.get(2, 4) == []


def test_set_next_target_seq_moves_only_the_inbound_number(make_store: StoreFactory) -> None:
    store = make_store()
    store.save(1, _frame(1))
    store.set_next_target_seq(42)
    assert (store.next_sender_seq, store.next_target_seq) == (2, 42)


def test_set_next_sender_seq_moves_only_the_outbound_number(make_store: StoreFactory) -> None:
    store = make_store()
    store.set_next_sender_seq(10)
    assert (store.next_sender_seq, store.next_target_seq) == (10, 1)


def test_saving_a_sequence_number_again_replaces_its_frame(make_store: StoreFactory) -> None:
    store = make_store()
    store.save(1, _frame(1, "old"))
    store.set_next_sender_seq(1)
    store.save(1, _frame(1, "new"))
    assert store.get(1, 1) == [(1, _frame(1, "new"))]


def test_reset_sets_both_numbers_to_one_and_drops_frames(make_store: StoreFactory) -> None:
    store = make_store()
    for seq in range(1, 4):
        store.save(seq, _frame(seq))
    store.set_next_target_seq(9)
    store.reset()
    assert (store.next_sender_seq, store.next_target_seq) == (1, 1)
    assert store.get(1, 100) == []
    store.save(1, _frame(1, "after"))
    assert store.get(1, 100) == [(1, _frame(1, "after"))]


def test_frames_with_any_bytes_round_trip_unchanged(make_store: StoreFactory) -> None:
    store = make_store()
    frame = bytes(range(256)) * 3
    store.save(1, frame)
    assert store.get(1, 1) == [(1, frame)]


# -- FileStore: durability and recovery -------------------------------------------------------------
def test_file_store_restart_keeps_numbers_and_frames(tmp_path: Path) -> None:
    d = tmp_path / "s"
    store = FileStore(d)
    for seq in range(1, 4):
        store.save(seq, _frame(seq))
    store.set_next_target_seq(7)
    store.close()
    again = FileStore(d)
    assert (again.next_sender_seq, again.next_target_seq) == (4, 7)
    assert [s for s, _ in again.get(1, 3)] == [1, 2, 3]
    assert again.recovery_note is None
    again.close()


def test_file_store_process_dying_after_save_loses_nothing(tmp_path: Path) -> None:
    d = tmp_path / "s"
    store = FileStore(d)
    store.set_next_target_seq(3)
    store.save(1, _frame(1))
    store.save(2, _frame(2))
    # The process dies here (kill -9): no close(), nothing else written. The OS keeps what
    # os.write handed it; fdatasync made it durable against power loss too.
    os.close(store._lock_fd)  # what the kernel does for a dead process: the lock goes away
    store._lock_fd = -1
    again = FileStore(d)
    assert (again.next_sender_seq, again.next_target_seq) == (3, 3)
    assert again.get(2, 2) == [(2, _frame(2))]
    again.close()
    store.close()


def test_file_store_sender_number_from_records_after_the_last_seqnums_write(tmp_path: Path) -> None:
    d = tmp_path / "s"
    with FileStore(d) as store:
        store.set_next_sender_seq(100)  # seqnums slot written
        store.save(100, _frame(100))  # only the body is written
        store.save(101, _frame(101))
    with FileStore(d) as again:
        assert again.next_sender_seq == 102


@pytest.mark.parametrize("cut", [1, 10, 23, 24, 30, -1])
def test_file_store_ignores_a_torn_final_record(tmp_path: Path, cut: int) -> None:
    d = tmp_path / "s"
    with FileStore(d) as store:
        store.save(1, _frame(1))
        store.save(2, _frame(2))
    body = d / BODY_FILE
    good = body.stat().st_size
    # A third record written by hand, cut off mid-write as a crash would leave it.
    f3 = _frame(3)
    head = struct.pack("<4sIQII", b"KFXR", 0, 3, len(f3), 0)
    record = head + f3
    torn = record[:cut] if cut > 0 else record[:-1]
    with body.open("ab") as fh:
        fh.write(torn)
    with FileStore(d) as again:
        assert again.next_sender_seq == 3
        assert [s for s, _ in again.get(1, 3)] == [1, 2]
        assert again.recovery_note is not None and "incomplete" in again.recovery_note
        assert body.stat().st_size == good
        again.save(3, _frame(3))
    with FileStore(d) as third:
        assert third.get(3, 3) == [(3, _frame(3))]
        assert third.recovery_note is None


def test_file_store_ignores_a_final_record_with_a_bad_checksum(tmp_path: Path) -> None:
    d = tmp_path / "s"
    with FileStore(d) as store:
        store.save(1, _frame(1))
        store.save(2, _frame(2))
    body = d / BODY_FILE
    data = bytearray(body.read_bytes())
    data[-3] ^= 0xFF  # a flipped byte inside the last frame
    body.write_bytes(bytes(data))
    with FileStore(d) as again:
        assert again.next_sender_seq == 2
        assert [s for s, _ in again.get(1, 2)] == [1]


def test_file_store_falls_back_to_the_other_slot_when_one_is_torn(tmp_path: Path) -> None:
    d = tmp_path / "s"
    with FileStore(d) as store:
        store.set_next_target_seq(5)
        store.set_next_target_seq(6)
        gen = store._generation
    seqnums = d / SEQNUMS_FILE
    data = bytearray(seqnums.read_bytes())
    slot = (gen % 2) * 64
    data[slot + 20] ^= 0xFF  # the newest slot is torn
    seqnums.write_bytes(bytes(data))
    with FileStore(d) as again:
        assert again.next_target_seq == 5


def test_file_store_reset_survives_a_crash_before_the_body_is_truncated(tmp_path: Path) -> None:
    d = tmp_path / "s"
    with FileStore(d) as store:
        store.save(1, _frame(1))
        store.save(2, _frame(2))
    old_body = (d / BODY_FILE).read_bytes()
    with FileStore(d) as store:
        store.reset()
    (d / BODY_FILE).write_bytes(old_body)  # as if the crash came between the two writes
    with FileStore(d) as again:
        assert (again.next_sender_seq, again.next_target_seq) == (1, 1)
        assert again.get(1, 10) == []
        assert again.recovery_note is not None


def test_file_store_refuses_a_second_opener_of_the_same_session(tmp_path: Path) -> None:
    d = tmp_path / "s"
    with FileStore(d), pytest.raises(StoreLockedError, match="in use"):
        FileStore(d)


def test_file_store_use_after_close_raises(tmp_path: Path) -> None:
    store = FileStore(tmp_path / "s")
    store.close()
    store.close()
    with pytest.raises(StoreError):
        store.save(1, _frame(1))


def test_file_store_without_sync_still_round_trips(tmp_path: Path) -> None:
    d = tmp_path / "s"
    with FileStore(d, sync=False) as store:
        store.save(1, _frame(1))
        store.set_next_target_seq(2)
    with FileStore(d) as again:
        assert (again.next_sender_seq, again.next_target_seq) == (2, 2)


def test_session_dirs_are_distinct_per_sender_target_and_profile(tmp_path: Path) -> None:
    dirs = {
        session_dir(tmp_path, "A", "B", "sim"),
        session_dir(tmp_path, "A", "B", "uat-spot"),
        session_dir(tmp_path, "B", "A", "sim"),
        session_dir(tmp_path, "A/..", "B", "sim"),
        session_dir(tmp_path, "A", "B", "../sim"),
    }
    assert len(dirs) == 5
    assert all(p.parent == tmp_path / "sessions" for p in dirs)


def test_frame_saved_before_a_crash_is_resent_with_possdup_after_restart(tmp_path: Path) -> None:
    """STYLE.md rule 5 in its own words: store fails after saving, restart, ResendRequest, 43=Y."""
    d = tmp_path / "client"
    acc_store = MemoryStore()
    pair = SessionPair(init_store=FileStore(d), acc_store=acc_store, reset=True)
    pair.connect()
    assert pair.init.session.is_logged_on
    order = Message.new("D", (11, "1700000000000001"), (55, "BTC/USD"), (54, "1"), (38, "1"), (40, "1"))
    pair.deliver["init"] = False  # the bytes never reach the wire: the process dies first
    seq = pair.send(pair.init, order)
    pair.init.session.store.close()  # the dead process's descriptors (and lock) are gone

    restarted = SessionPair(init_store=FileStore(d), acc_store=acc_store, reset=False)
    restarted.connect()
    resent = [e.message for e in restarted.acc.events if isinstance(e, MessageReceived) and e.message.msg_type == "D"]
    assert len(resent) == 1
    msg = resent[0]
    assert msg.get(34) == str(seq)
    assert msg.get(43) == "Y"
    assert msg.get(11) == "1700000000000001"
    assert restarted.init.session.store.get(seq, seq)[0][1] == pair.init.wire_out[-1]
    restarted.init.session.store.close()


def test_stored_frame_decodes_back_to_the_message(tmp_path: Path) -> None:
    with FileStore(tmp_path / "s") as store:
        store.save(1, _frame(1, "hello"))
        assert decode(store.get(1, 1)[0][1]).get(58) == "hello"


@pytest.mark.parametrize("damage", ["seqnums", "body"])
def test_file_store_moves_a_corrupt_store_aside_and_says_so(tmp_path: Path, damage: str) -> None:
    with FileStore(tmp_path) as s:
        for seq in (1, 2, 3):
            s.save(seq, _frame(seq))
    target = tmp_path / (SEQNUMS_FILE if damage == "seqnums" else BODY_FILE)
    garbage = os.urandom(target.stat().st_size) if damage == "seqnums" else b"\xff" * 200
    target.write_bytes(b"\0" + garbage if damage == "seqnums" else garbage + target.read_bytes())
    damaged = target.read_bytes()
    with FileStore(tmp_path) as s:
        assert s.next_sender_seq == 1 and s.get(1, 9) == []
        assert s.warning is not None and str(tmp_path) in s.warning and "corrupt" in s.warning
        aside = sorted(p.name for p in tmp_path.iterdir() if ".corrupt-" in p.name)
        assert {n.split(".corrupt-")[0] for n in aside} == {BODY_FILE, SEQNUMS_FILE}
        assert all(n in s.warning for n in aside)
        kept = tmp_path / next(n for n in aside if n.startswith(target.name + "."))
        assert kept.read_bytes() == damaged  # kept for inspection, untouched
        s.save(1, _frame(1))
    with FileStore(tmp_path) as s:  # the new store is a sound one
        assert s.warning is None and s.next_sender_seq == 2


def test_a_torn_tail_is_no_corruption_warning(tmp_path: Path) -> None:
    with FileStore(tmp_path) as s:
        s.save(1, _frame(1))
    with (tmp_path / BODY_FILE).open("ab") as fh:
        fh.write(b"KFXR\x00\x00")
    with FileStore(tmp_path) as s:
        assert s.warning is None and s.next_sender_seq == 2


def test_a_locked_store_names_the_process_holding_it(tmp_path: Path) -> None:
    import subprocess
    import sys

    script = tmp_path.parent / f"{tmp_path.name}-holder.py"
    script.write_text("import sys, time\nfrom krakenfix_cli.session.filestore import FileStore\n"
                      "s = FileStore(sys.argv[1])\nprint('open', flush=True)\ntime.sleep(60)\n")
    holder = subprocess.Popen([sys.executable, str(script), str(tmp_path), "--raw", "554=SECRETSIG|96=RAWSECRET"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(StoreLockedError) as info:
            FileStore(tmp_path)
        text = str(info.value)
        assert f"PID {holder.pid}:" in text and "--raw" in text
        assert "SECRETSIG" not in text and "RAWSECRET" not in text and "554=***" in text
    finally:
        holder.kill()
        holder.wait()
