"""logfile: QuickFIX logs, raw SOH streams and | lines, streamed; follow mode without a clock."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from krakenfix_cli.fix.encode import frame_text
from krakenfix_cli.fix.errors import FrameProblem, FramingError
from krakenfix_cli.fix.logfile import LogReader, follow, read_log

FRAMES = [frame_text(f"35=8|34={i}|49=K|56=C|17=E{i}|") for i in range(1, 40)]


def stamp(i: int) -> str:
    return f"20240513-09:31:{i % 60:02d}.{i:03d}"


def quickfix_log() -> bytes:
    return b"".join(stamp(i).encode() + b" : " + f + b"\n" for i, f in enumerate(FRAMES))


@pytest.mark.parametrize("chunk_size", [1, 3, 50, 4096])
def test_quickfix_log_lines_give_timestamp_and_frame(chunk_size: int) -> None:
    entries = list(read_log(io.BytesIO(quickfix_log()), chunk_size=chunk_size))
    assert entries == [(stamp(i), f) for i, f in enumerate(FRAMES)]


@pytest.mark.parametrize("chunk_size", [1, 7, 4096])
def test_raw_soh_stream_has_no_timestamps(chunk_size: int) -> None:
    entries = list(read_log(io.BytesIO(b"".join(FRAMES)), chunk_size=chunk_size))
    assert entries == [(None, f) for f in FRAMES]


def test_pipe_separated_lines_are_framed_as_soh() -> None:
    text = b"".join(stamp(i).encode() + b" : " + f.replace(b"\x01", b"|") + b"\n" for i, f in enumerate(FRAMES))
    assert list(read_log(io.BytesIO(text), chunk_size=64)) == [(stamp(i), f) for i, f in enumerate(FRAMES)]


def test_bad_lines_are_reported_and_good_ones_kept() -> None:
    bad = FRAMES[0][:-4] + b"999\x01"
    data = b"hello\n" + FRAMES[1] + b"\n" + bad + b"\n" + FRAMES[2] + b"\n" + FRAMES[3][:20]
    items = [x for _, x in read_log(io.BytesIO(data))]
    kinds = [x.problem if isinstance(x, FramingError) else x for x in items]
    assert kinds == [FrameProblem.GARBAGE, FRAMES[1], FrameProblem.BAD_CHECKSUM, FRAMES[2], FrameProblem.TRUNCATED]


def test_memory_stays_flat_on_a_long_log(tmp_path: Path) -> None:
    path = tmp_path / "big.log"
    line = quickfix_log()
    with path.open("wb") as f:
        for _ in range(300):
            f.write(line)
    reader_max = 0
    count = 0
    with path.open("rb") as f:
        reader = LogReader(f, chunk_size=8192)
        for _ts, item in reader.poll():
            assert isinstance(item, bytes)
            count += 1
            reader_max = max(reader_max, len(reader._window), reader.framer.buffered)
    assert count == 300 * len(FRAMES)
    assert reader_max < 8192 + 1024


def test_follow_yields_only_new_entries_and_never_waits(tmp_path: Path) -> None:
    path = tmp_path / "live.log"
    path.write_bytes(quickfix_log()[:-1])
    with path.open("ab") as w, path.open("rb") as r:
        tail = follow(r, from_start=True)
        first = next(tail)
        assert [f for _, f in first] == FRAMES
        assert next(tail) == []
        half = len(FRAMES[0]) // 2
        w.write(b"\n20240513-10:00:00.000 : " + FRAMES[0][:half])
        w.flush()
        assert next(tail) == []
        w.write(FRAMES[0][half:] + b"\n")
        w.flush()
        assert next(tail) == [("20240513-10:00:00.000", FRAMES[0])]


def test_follow_starts_at_the_end_and_restarts_after_truncation(tmp_path: Path) -> None:
    path = tmp_path / "rot.log"
    path.write_bytes(quickfix_log())
    with path.open("rb") as r:
        tail = follow(r)
        assert next(tail) == []
        path.write_bytes(b"20240513-11:00:00.000 : " + FRAMES[5] + b"\n")
        assert next(tail) == [("20240513-11:00:00.000", FRAMES[5])]


def test_feed_lets_callers_read_the_stream_themselves() -> None:
    reader = LogReader(io.BytesIO(b""))
    data = quickfix_log()
    got: list[tuple[str | None, bytes | FramingError]] = []
    for i in range(0, len(data), 100):
        got.extend(reader.feed(data[i : i + 100]))
    got.extend(reader.close())
    assert got == [(stamp(i), f) for i, f in enumerate(FRAMES)]
