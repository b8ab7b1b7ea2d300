"""Decode a generated QuickFIX-style log of ExecutionReports; compare with the peers, same run.

    python bench/codec.py [--count 1000000] [--simplefix-sample 100000] [--keep]

Writes ``--count`` realistic ExecutionReports(8) (four shapes: new, partial fill, cancel,
reject with Text(58)), each as a QuickFIX file-log line ``timestamp : frame``, to a temp
file, then reads it back in 1 MiB chunks (flat memory) and measures:

* ours frame+verify: ``Framer.frames()`` (8/9/35 order, BodyLength(9), CheckSum(10));
* ours frame+verify+decode: the same plus ``decode()``, reading MsgType(35) and
  ExecID(17) and iterating every field (a full decode, not a lazy one);
* ours logfile: ``fix.logfile.read_log`` (framing plus each line's timestamp);
* quickfix: ``quickfix.Message(str, False)`` on the same frames, already cut and
  decoded to ``str`` outside the timer (its best case: it neither reads the log, frames
  nor verifies here), over the whole log;
* simplefix: ``FixParser`` fed one frame at a time (its best case: bigger buffers make
  it re-slice more) over the first ``--simplefix-sample`` frames, scaled to a rate;
* encode: ``encode_fields`` against ``FixMessage`` build + ``encode()`` from the same
  field lists.

Peak RSS is read with ``resource.getrusage`` right after our runs (before the peers
load anything) and at the end.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from krakenfix_cli.fix import _simplefix
from krakenfix_cli.fix.encode import encode_fields
from krakenfix_cli.fix.framing import Framer
from krakenfix_cli.fix.logfile import read_log
from krakenfix_cli.fix.message import Field, decode

CHUNK = 1 << 20


def er_fields(i: int, rnd: random.Random) -> list[Field]:
    """One ExecutionReport as Kraken's gateway would send it (header from MsgType on)."""
    ts = f"20240513-{9 + i // 3_600_000 % 10:02d}:{i // 60_000 % 60:02d}:{i // 1000 % 60:02d}.{i % 1000:03d}"
    order_id = f"O{rnd.getrandbits(20):05X}-{rnd.getrandbits(20):05X}-{rnd.getrandbits(24):06X}"
    shape = i % 10
    fields: list[Field] = [
        (35, "8"), (34, str(1000 + i)), (49, "KRAKEN"), (52, ts), (56, "CLIENT-UAT-7"),
        (11, f"{rnd.getrandbits(64):016x}"),
        (17, f"T{rnd.getrandbits(20):05X}-{rnd.getrandbits(20):05X}-{rnd.getrandbits(24):06X}"),
        (37, order_id), (38, "1.25000000"), (40, "2"), (44, f"{60000 + rnd.randrange(10000) / 10:.1f}"),
        (54, "1" if rnd.random() < 0.5 else "2"), (55, "BTC/USD"), (59, "1"), (60, ts),
    ]
    if shape < 6:  # partial or full fill
        qty = rnd.randrange(1, 125_000_000)
        fields += [(150, "F"), (39, "1"), (31, "60012.5"), (32, f"0.{qty:08d}"[:10]),
                   (14, f"0.{qty:08d}"[:10]), (151, "1.24000000"), (6, "60012.5")]
    elif shape < 8:  # new
        fields += [(150, "0"), (39, "0"), (14, "0"), (151, "1.25000000"), (6, "0")]
    elif shape < 9:  # cancelled
        fields += [(150, "4"), (39, "4"), (41, f"{rnd.getrandbits(64):016x}"), (14, "0"),
                   (151, "0"), (6, "0")]
    else:  # rejected, with a Text(58)
        fields += [(150, "8"), (39, "8"), (103, "99"), (58, "EOrder:Insufficient funds"),
                   (14, "0"), (151, "0"), (6, "0")]
    return fields


def write_log(path: Path, count: int) -> int:
    """Write ``count`` QuickFIX file-log lines; returns the file size."""
    rnd = random.Random(20240513)
    with path.open("wb") as out:
        lines: list[bytes] = []
        for i in range(count):
            fields = er_fields(i, rnd)
            lines.append(fields[3][1].encode() + b" : " + encode_fields(fields) + b"\n")
            if len(lines) == 10_000:
                out.write(b"".join(lines))
                lines.clear()
        out.write(b"".join(lines))
    return path.stat().st_size


def chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            yield chunk


def timed(fn: Callable[[], int]) -> tuple[int, float]:
    t0 = time.perf_counter()
    n = fn()
    return n, time.perf_counter() - t0


def ours_frame(path: Path) -> int:
    framer = Framer()
    n = 0
    for chunk in chunks(path):
        framer.feed(chunk)
        for _frame in framer.frames():
            n += 1
    return n


def ours_decode(path: Path) -> int:
    framer = Framer()
    n = 0
    for chunk in chunks(path):
        framer.feed(chunk)
        for frame in framer.frames():
            msg = decode(frame)
            if msg.msg_type != "8" or msg.get(17) is None:
                raise SystemExit(f"bad decode: {frame!r}")
            for _tag, _value in msg:
                pass
            n += 1
    return n


def ours_logfile(path: Path) -> int:
    n = 0
    with path.open("rb") as f:
        for ts, item in read_log(f):
            if ts is None or type(item) is not bytes:
                raise SystemExit(f"bad entry: {ts!r} {item!r}")
            n += 1
    return n


def quickfix_rate(path: Path) -> tuple[int, float] | None:
    """Seconds spent inside ``quickfix.Message(str, False)`` only, over the whole log."""
    try:
        import quickfix
    except ImportError:
        return None
    framer = Framer()
    n = 0
    spent = 0.0
    make = quickfix.Message
    clock = time.perf_counter
    for chunk in chunks(path):
        framer.feed(chunk)
        batch = [f.decode("latin-1") for f in framer.frames()]
        t0 = clock()
        for s in batch:
            make(s, False)
        spent += clock() - t0
        n += len(batch)
    return n, spent


def sample_frames(path: Path, count: int) -> list[bytes]:
    framer = Framer()
    out: list[bytes] = []
    for chunk in chunks(path):
        framer.feed(chunk)
        out.extend(framer.frames())
        if len(out) >= count:
            break
    return out[:count]


def simplefix_rate(path: Path, count: int) -> tuple[int, int, float]:
    sample = sample_frames(path, count)
    n, t = timed(lambda: _simplefix.parse_count(sample))
    return len(sample), n, t


def encode_rates(count: int) -> tuple[tuple[int, float], tuple[int, float]]:
    """(ours, simplefix) over the same field lists; simplefix on a fifth of them."""
    rnd = random.Random(7)
    field_lists = [er_fields(i, rnd) for i in range(count)]
    ours = timed(lambda: sum(1 for f in field_lists if encode_fields(f)))
    sf_lists = field_lists[: max(1, count // 5)]
    peer = timed(lambda: sum(1 for f in sf_lists if _simplefix.fix_message(f).encode()))
    return ours, peer


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=1_000_000, help="ExecutionReports in the log")
    ap.add_argument("--simplefix-sample", type=int, default=100_000, help="frames timed for simplefix")
    ap.add_argument("--encode-sample", type=int, default=100_000, help="field lists timed for encode")
    ap.add_argument("--keep", action="store_true", help="keep the generated log (path printed)")
    args = ap.parse_args(argv)

    fd, name = tempfile.mkstemp(prefix="krakenfix-bench-", suffix=".log")
    os.close(fd)
    path = Path(name)
    try:
        t0 = time.perf_counter()
        size = write_log(path, args.count)
        print(f"log: {args.count:,} ExecutionReports, {size / 2**20:.1f} MiB, {size / args.count:.0f} B/line "
              f"(written in {time.perf_counter() - t0:.1f} s) at {path}")
        print(f"python {sys.version.split()[0]}, read in {CHUNK // 1024} KiB chunks\n")
        rows: list[tuple[str, int, float]] = []
        rows.append(("ours frame+verify", *timed(lambda: ours_frame(path))))
        rows.append(("ours frame+verify+decode", *timed(lambda: ours_decode(path))))
        rows.append(("ours logfile (frame+timestamp)", *timed(lambda: ours_logfile(path))))
        rss_ours = peak_rss_mib()
        qf = quickfix_rate(path)
        if qf is not None:
            rows.append(("quickfix Message(str, False)", *qf))
        n_sample, n_sf, t_sf = simplefix_rate(path, args.simplefix_sample)
        rows.append((f"simplefix FixParser ({n_sample:,} sample)", n_sf, t_sf))
        (n_enc, t_enc), (n_sfe, t_sfe) = encode_rates(args.encode_sample)

        rates = {name: n / t for name, n, t in rows}
        sf_rate = n_sf / t_sf
        qf_rate = qf[0] / qf[1] if qf is not None else None
        print(f"{'decode':40s} {'messages':>11s} {'seconds':>8s} {'msg/s':>10s} {'/simplefix':>10s} {'/quickfix':>9s}")
        for name, n, t in rows:
            rate = rates[name]
            vs_qf = f"{rate / qf_rate:8.2f}x" if qf_rate else "      n/a"
            print(f"{name:40s} {n:11,d} {t:8.2f} {rate:10,.0f} {rate / sf_rate:9.1f}x {vs_qf}")
        if qf is None:
            print("quickfix: not installed (pip install quickfix-tls) - skipped")
        print()
        print(f"{'encode':40s} {'messages':>11s} {'seconds':>8s} {'msg/s':>10s} {'/simplefix':>10s}")
        enc_sf = n_sfe / t_sfe
        print(f"{'ours encode_fields':40s} {n_enc:11,d} {t_enc:8.2f} {n_enc / t_enc:10,.0f} "
              f"{n_enc / t_enc / enc_sf:9.1f}x")
        print(f"{'simplefix FixMessage + encode()':40s} {n_sfe:11,d} {t_sfe:8.2f} {enc_sf:10,.0f} {1:9.1f}x")
        print()
        print(f"peak RSS after our three runs: {rss_ours:.0f} MiB; at the end: {peak_rss_mib():.0f} MiB")
    finally:
        if args.keep:
            print(f"kept {path}")
        else:
            path.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
