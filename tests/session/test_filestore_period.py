"""FileStore's period stamp: which rollover period its sequence numbers were set in.

The stamp rides in the seqnums slots' tail, so it has the slots' crash safety: it survives
restarts and every later slot write, reads as unknown after a reset, and a torn stamp (or
one left from an older write of the same slot) is never paired with the wrong numbers.
"""

from __future__ import annotations

import zlib
from pathlib import Path

from krakenfix_cli.session.filestore import _SLOT, SEQNUMS_FILE, FileStore

PERIOD = 1_764_712_800  # some rollover's start, UTC epoch seconds


def test_a_new_store_has_no_period(tmp_path: Path) -> None:
    with FileStore(tmp_path / "s") as store:
        assert store.reset_period is None


def test_the_stamp_survives_a_restart_and_later_number_writes(tmp_path: Path) -> None:
    d = tmp_path / "s"
    with FileStore(d) as store:
        store.stamp_period(PERIOD)
        store.set_next_target_seq(7)
        store.set_next_target_seq(8)  # both slots rewritten after the stamp
        store.save(1, b"frame")
    with FileStore(d) as again:
        assert again.reset_period == PERIOD
        assert (again.next_sender_seq, again.next_target_seq) == (2, 8)


def test_a_reset_makes_the_period_unknown_until_stamped_again(tmp_path: Path) -> None:
    d = tmp_path / "s"
    with FileStore(d) as store:
        store.stamp_period(PERIOD)
        store.reset()
        assert store.reset_period is None
    with FileStore(d) as again:
        assert again.reset_period is None
        again.stamp_period(PERIOD + 86400)
    with FileStore(d) as third:
        assert third.reset_period == PERIOD + 86400


def test_a_stamp_for_the_next_epoch_counts_only_once_that_reset_happened(tmp_path: Path) -> None:
    d = tmp_path / "s"
    with FileStore(d) as store:
        store.stamp_period(PERIOD, epoch=store.epoch + 1)
        assert store.reset_period is None
        store.reset()
        assert store.reset_period == PERIOD
        store.reset()
        assert store.reset_period is None


def test_a_torn_stamp_reads_as_unknown_and_keeps_the_numbers(tmp_path: Path) -> None:
    d = tmp_path / "s"
    with FileStore(d) as store:
        store.set_next_target_seq(5)
        store.stamp_period(PERIOD)
        gen = store._generation
    seqnums = d / SEQNUMS_FILE
    data = bytearray(seqnums.read_bytes())
    data[(gen % 2) * 64 + 52] ^= 0xFF  # inside the newest slot's stamp
    seqnums.write_bytes(bytes(data))
    with FileStore(d) as again:
        assert again.reset_period is None
        assert again.next_target_seq == 5


def test_a_stamp_is_not_taken_with_numbers_it_was_not_written_with(tmp_path: Path) -> None:
    d = tmp_path / "s"
    with FileStore(d) as store:
        store.stamp_period(PERIOD)
        store.set_next_target_seq(3)
        gen = store._generation
    seqnums = d / SEQNUMS_FILE
    data = bytearray(seqnums.read_bytes())
    newest = (gen % 2) * 64
    # The numbers part rewritten whole and valid (target 9), the tail still the old stamp: what a
    # write by an older krakenfix, which knows no stamp, leaves behind.
    magic, epoch, g, sender, _target, offset, _crc = _SLOT.unpack(bytes(data[newest : newest + 44]))
    raw = _SLOT.pack(magic, epoch, g, sender, 9, offset, 0)[:-4]
    data[newest : newest + 44] = raw + zlib.crc32(raw).to_bytes(4, "little")
    seqnums.write_bytes(bytes(data))
    with FileStore(d) as again:
        assert again.next_target_seq == 9
        assert again.reset_period is None


def test_a_store_written_without_stamps_reads_as_unknown(tmp_path: Path) -> None:
    d = tmp_path / "s"
    with FileStore(d) as store:
        store.set_next_target_seq(4)
    data = bytearray((d / SEQNUMS_FILE).read_bytes())
    assert data[44:64] == bytes(20) and data[108:128] == bytes(20)  # what an older krakenfix wrote
    with FileStore(d) as again:
        assert again.reset_period is None and again.next_target_seq == 4
