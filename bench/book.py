"""How fast `krakenfix book` applies and verifies MarketDataIncrementalRefresh(X) updates.

A generated stream of ``--count`` X messages on one BTC/USD book (200 levels a side,
tick 0.1): each changes, removes or adds a level and carries the ChecksumOrderBook(5041)
of the book after it. Both rows decode every frame, apply it and compare 5041:

* ``ours``: ``ops.marketdata.OrderBook`` (sorted price lists kept in place, bisect);
* ``naive rebuild``: a dict of levels, sorted again and the checksum recomputed from
  scratch on each update (what a quick script would do).

Each row runs in its own process and prints its own peak RSS. Goal: >= 100k updates/s,
>= 10x the naive rebuild, flat memory.

    python bench/book.py [--count 200000]
"""

from __future__ import annotations

import argparse
import os
import pickle
import random
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal

LEVELS = 200
TICK = Decimal("0.1")


def generate(count: int, path: str) -> None:
    """Frames of one snapshot then ``count`` updates, each with the checksum of the book after it."""
    from krakenfix_cli.fix.encode import encode_fields
    from krakenfix_cli.kraken.book_checksum import book_checksum

    rng = random.Random(7)
    mid = Decimal("50000.0")
    book = {"0": {mid - TICK * (i + 1): Decimal("0.5") for i in range(LEVELS)},
            "1": {mid + TICK * (i + 1): Decimal("0.5") for i in range(LEVELS)}}

    def header(msg_type: str, seq: int) -> list[tuple[int, object]]:
        return [(35, msg_type), (49, "KRAKEN-MD"), (56, "KFXDEMO"), (34, seq), (52, "20261202-12:00:00.000")]

    snap = [*header("W", 1), (262, "1"), (55, "BTC/USD"), (268, 2 * LEVELS)]
    for side in ("0", "1"):
        for px, qty in book[side].items():
            snap += [(269, side), (278, f"{side}{px}"), (270, px), (271, qty)]
    frames = [encode_fields(snap)]
    for n in range(count):
        side = rng.choice("01")
        levels = book[side]
        px = rng.choice(list(levels))
        action = rng.random()
        if action < 0.6:
            levels[px] = (Decimal(rng.randint(1, 99_999_999)) / Decimal(10**8)).quantize(Decimal("0.00000001"))
            entries = [(279, "1"), (269, side), (278, f"{side}{px}"), (270, px), (271, levels[px])]
        else:  # remove one, add another further out: the book keeps its depth
            del levels[px]
            far = (max(levels) + TICK) if side == "1" else (min(levels) - TICK)
            levels[far] = Decimal("0.25")
            entries = [(279, "2"), (269, side), (278, f"{side}{px}"), (270, px), (271, "0"),
                       (279, "0"), (269, side), (278, f"{side}{far}"), (270, far), (271, "0.25")]
        asks = sorted(book["1"].items())[:10]
        bids = sorted(book["0"].items(), reverse=True)[:10]
        fields = [*header("X", n + 2), (262, "1"), (55, "BTC/USD"), (268, len(entries) // 5), *entries,
                  (5041, book_checksum(1, 8, asks, bids))]
        frames.append(encode_fields(fields))
    with open(path, "wb") as fh:
        pickle.dump(frames, fh)


def run_ours(frames: list[bytes]) -> tuple[int, int]:
    from krakenfix_cli.fix.message import decode
    from krakenfix_cli.ops.marketdata import OrderBook, Precision

    book = OrderBook("BTC/USD", Precision(1, 8))
    book.apply_snapshot(decode(frames[0]))
    for frame in frames[1:]:
        book.apply_incremental(decode(frame))
    return book.verified, book.mismatches


def run_naive(frames: list[bytes]) -> tuple[int, int]:
    from krakenfix_cli.fix.message import decode
    from krakenfix_cli.kraken.book_checksum import book_checksum

    entries: dict[str, tuple[str, Decimal, Decimal]] = {}
    ok = bad = 0

    def rows(msg: object) -> list[dict[int, str]]:
        out: list[dict[int, str]] = []
        for tag, value in msg.fields:  # type: ignore[attr-defined]
            if tag in (269, 279) and (not out or tag in out[-1]):
                out.append({})
            if out:
                out[-1][tag] = value
        return out

    for row in rows(decode(frames[0])):
        entries[row[278]] = (row[269], Decimal(row[270]), Decimal(row[271]))
    for frame in frames[1:]:
        msg = decode(frame)
        for row in rows(msg):
            if row.get(279) == "2":
                entries.pop(row[278], None)
            else:
                entries[row[278]] = (row[269], Decimal(row[270]), Decimal(row[271]))
        sides: dict[str, dict[Decimal, Decimal]] = {"0": {}, "1": {}}
        for side, px, qty in entries.values():
            sides[side][px] = sides[side].get(px, Decimal(0)) + qty
        asks = sorted(sides["1"].items())[:10]
        bids = sorted(sides["0"].items(), reverse=True)[:10]
        if book_checksum(1, 8, asks, bids) == int(msg.get(5041) or -1):
            ok += 1
        else:
            bad += 1
    return ok, bad


def child(row: str, path: str) -> None:
    with open(path, "rb") as fh:
        frames = pickle.load(fh)
    t0 = time.perf_counter()
    verified, mismatches = (run_ours if row == "ours" else run_naive)(frames)
    elapsed = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{len(frames) - 1} {elapsed:.6f} {verified} {mismatches} {rss:.1f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=200_000)
    ap.add_argument("--row", choices=("ours", "naive"), help=argparse.SUPPRESS)
    ap.add_argument("--frames", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.row:
        child(a.row, a.frames)
        return 0
    with tempfile.TemporaryDirectory(prefix="kfx-bench-book-") as tmp:
        path = os.path.join(tmp, "frames.pickle")
        t0 = time.perf_counter()
        generate(a.count, path)
        print(f"{a.count:,} updates on a {LEVELS}-level-a-side book, generated in {time.perf_counter() - t0:.1f} s")
        print(f"{'':<20}{'updates/s':>12}{'seconds':>9}{'verified':>10}{'mismatches':>11}{'peak RSS MiB':>14}")
        rates = {}
        for row, label in (("ours", "krakenfix OrderBook"), ("naive", "naive rebuild")):
            out = subprocess.run([sys.executable, __file__, "--row", row, "--frames", path], capture_output=True,
                                 text=True, check=True).stdout.split()
            n, secs, ok, bad, rss = int(out[0]), float(out[1]), int(out[2]), int(out[3]), float(out[4])
            rates[row] = n / secs
            print(f"{label:<20}{n / secs:>12,.0f}{secs:>9.2f}{ok:>10,}{bad:>11,}{rss:>14.1f}")
    print(f"ours / naive {rates['ours'] / rates['naive']:.1f}x (goal >= 10x); ours {rates['ours']:,.0f}/s "
          "(goal >= 100,000/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
