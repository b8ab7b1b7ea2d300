"""How fast ``krakenfix log stats`` and ``log orders`` read a long log, and what memory they take.

A QuickFIX-style message log (``timestamp : frame`` lines, as krakenfix writes them) of
``--count`` messages: NewOrderSingle(D) out, then its ExecutionReport New in, every third
order also filled, every tenth cancelled with an F and its report. Each row runs in its
own process (peak RSS is its own, from ``getrusage(RUSAGE_CHILDREN)`` of a fresh child):

* ``log stats`` / ``log orders -o json > /dev/null``: the real ``krakenfix`` command;
* ``grep -c`` on the same file: the floor (reads the bytes, parses nothing);
* ``simplefix``: a parser a user might script with: each line's ``timestamp : `` cut off,
  the frame fed to FixParser, each MsgType counted (checks neither BodyLength nor CheckSum).

    python bench/log.py [--count 1000000] [--keep]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

_SIMPLEFIX = (
    "import collections, simplefix, sys\n"
    "p = simplefix.FixParser(); counts = collections.Counter()\n"
    "with open(sys.argv[1], 'rb') as fh:\n"
    "    for line in fh:\n"
    "        p.append_buffer(line.split(b' : ', 1)[-1])\n"
    "        while (m := p.get_message()) is not None:\n"
    "            counts[m.get(35)] += 1\n"
    "print(sum(counts.values()))\n"
)


def make_log(path: str, count: int) -> int:
    """Write about ``count`` messages; returns how many."""
    from krakenfix_cli.fix.encode import encode_fields
    from krakenfix_cli.session.msglog import format_log_timestamp

    written = 0
    t = 1_796_000_000.0
    with open(path, "wb") as fh:
        buf: list[bytes] = []
        seq_out = seq_in = 1
        i = 0
        while written < count:
            i += 1
            cl = str(1_700_000_000_000_000 + i)
            stamp = "20261202-09:00:00.000"
            head_out = ((49, "BENCH"), (52, stamp), (56, "KRAKEN-TRD"))
            head_in = ((49, "KRAKEN-TRD"), (52, stamp), (56, "BENCH"))
            frames = []
            seq_out += 1
            frames.append(((35, "D"), (34, str(seq_out)), *head_out, (11, cl), (55, "BTC/USD"), (54, "1"),
                           (38, "0.01"), (40, "2"), (44, "50000"), (59, "1"), (60, stamp)))
            seq_in += 1
            frames.append(((35, "8"), (34, str(seq_in)), *head_in, (37, f"O{i}"), (11, cl), (17, f"E{i}a"),
                           (150, "0"), (39, "0"), (55, "BTC/USD"), (54, "1"), (38, "0.01"), (14, "0"),
                           (151, "0.01"), (6, "0")))
            if i % 3 == 0:
                seq_in += 1
                frames.append(((35, "8"), (34, str(seq_in)), *head_in, (37, f"O{i}"), (11, cl), (17, f"E{i}b"),
                               (150, "F"), (39, "2"), (55, "BTC/USD"), (54, "1"), (38, "0.01"), (14, "0.01"),
                               (151, "0"), (6, "50000"), (31, "50000"), (32, "0.01")))
            elif i % 10 == 1:
                seq_out += 1
                frames.append(((35, "F"), (34, str(seq_out)), *head_out, (11, f"{cl}c"), (41, cl),
                               (37, f"O{i}"), (55, "BTC/USD"), (54, "1"), (60, stamp)))
                seq_in += 1
                frames.append(((35, "8"), (34, str(seq_in)), *head_in, (37, f"O{i}"), (11, f"{cl}c"),
                               (41, cl), (17, f"E{i}c"), (150, "4"), (39, "4"), (55, "BTC/USD"), (54, "1"),
                               (38, "0.01"), (14, "0"), (151, "0"), (6, "0")))
            for fields in frames:
                t += 0.0004
                buf.append(format_log_timestamp(t).encode() + b" : " + encode_fields(fields) + b"\n")
                written += 1
            if len(buf) >= 10_000:
                fh.write(b"".join(buf))
                buf.clear()
        fh.write(b"".join(buf))
    return written


def timed(argv: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS MiB) of ``argv`` run in a fresh child of a fresh child."""
    probe = ("import resource, subprocess, sys, time\n"
             "t = time.perf_counter()\n"
             "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)\n"
             "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)\n")
    out = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True, check=True)
    seconds, rss = out.stdout.split()
    return float(seconds), float(rss)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=1_000_000)
    ap.add_argument("--keep", action="store_true", help="leave the log in the temp dir")
    args = ap.parse_args()
    fd, path = tempfile.mkstemp(prefix="FIX.4.4-BENCH-KRAKEN-TRD.", suffix=".messages.current.log")
    os.close(fd)
    try:
        t = time.perf_counter()
        n = make_log(path, args.count)
        print(f"{n} messages, {os.path.getsize(path) / 2**20:.0f} MiB, written in {time.perf_counter() - t:.1f} s")
        kfx = [sys.executable, "-m", "krakenfix_cli", "log"]
        rows = [("krakenfix log stats", [*kfx, "stats", path]),
                ("krakenfix log orders -o json", [*kfx, "orders", "-o", "json", path]),
                ("grep -c (floor)", ["grep", "-c", "8=FIX", path])]
        try:
            import simplefix  # noqa: F401

            rows.append(("simplefix FixParser + MsgType count", [sys.executable, "-c", _SIMPLEFIX, path]))
        except ImportError:
            print("simplefix not installed: its row is left out")
        results = []
        for label, argv in rows:
            seconds, rss = timed(argv)
            results.append((label, seconds, rss))
        floor = next(s for label, s, _ in results if label.startswith("grep"))
        print(f"{'':38} {'msg/s':>10} {'seconds':>8} {'x grep':>7} {'peak RSS MiB':>13}")
        for label, seconds, rss in results:
            print(f"{label:38} {n / seconds:>10,.0f} {seconds:>8.2f} {seconds / floor:>7.1f} {rss:>13.1f}")
    finally:
        if args.keep:
            print(f"kept {path}")
        else:
            os.unlink(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
