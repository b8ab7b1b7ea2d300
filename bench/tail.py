"""How fast ``tail``'s compact output goes to a pipe, and how much memory a long stream costs.

Each variant runs in its own interpreter (so peak RSS is its own) over the same file of
ExecutionReports framed as on the wire, read in 1 MiB chunks and written to a real pipe
(``cat > /dev/null``):

* ``ours``: fix.logfile.LogReader (Framer: BodyLength + CheckSum checked) → fix.message
  .decode → render compact line (what ``krakenfix tail --file LOG -o compact | ...`` does);
* ``ours-render``: the compact renderer alone over 1,000 pre-decoded messages, cycled;
* ``simplefix``: the peer: simplefix.FixParser (checks neither 9 nor 10) →
  ``str(FixMessage)`` (its ``tag=value|...`` text) to the same pipe;
* ``cat-lines``: the floor: the raw bytes with SOH → ``|``, written as they are (no parsing).

    python bench/tail.py [--count 1000000]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

CHUNK = 1 << 20


def make_file(path: str, count: int) -> None:
    from krakenfix_cli.fix.encode import encode_fields

    with open(path, "wb") as fh:
        buf = []
        for i in range(1, count + 1):
            fill = i % 3 == 0
            fields = (
                (35, "8"), (49, "KRAKEN-TRD"), (56, "BENCH"), (34, str(i)),
                (52, f"20240513-09:{(i // 60000) % 60:02d}:{(i // 1000) % 60:02d}.{i % 1000:03d}"),
                (37, f"OQCLML-BW3P3-{i:07d}"), (11, f"cl-{i}"), (17, f"TXID-{i:09d}"),
                (150, "F" if fill else "0"), (39, "2" if fill else "0"), (55, "BTC/USD"),
                (54, "1" if i % 2 else "2"), (38, "0.01"), (40, "2"), (44, "50000.5"),
                (59, "1"), (151, "0" if fill else "0.01"), (14, "0.01" if fill else "0"),
                (6, "50000.5" if fill else "0"), (60, "20240513-09:31:00.123"),
                *(((32, "0.01"), (31, "50000.5")) if fill else ()),
            )
            buf.append(encode_fields(fields))
            if len(buf) == 10000:
                fh.write(b"".join(buf))
                buf.clear()
        fh.write(b"".join(buf))


def _pipe() -> tuple[subprocess.Popen[bytes], io.TextIOWrapper]:
    sink = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    assert sink.stdin is not None
    return sink, io.TextIOWrapper(sink.stdin, encoding="latin-1", write_through=False)


def variant(name: str, path: str, count: int) -> dict[str, float]:
    sink, out = _pipe()
    n = 0
    t0 = time.perf_counter()
    if name == "ours":
        from krakenfix_cli.fix.logfile import LogReader
        from krakenfix_cli.fix.message import decode
        from krakenfix_cli.render import default_dictionary
        from krakenfix_cli.render.compact import renderer_for

        line = renderer_for(default_dictionary(), False).line
        t0 = time.perf_counter()  # the dictionary load is start-up, not throughput
        write = out.write
        with open(path, "rb") as fh:
            reader = LogReader(fh)
            for _stamp, item in reader.poll():
                if type(item) is bytes:
                    write(line(decode(item), "in") + "\n")
                    n += 1
    elif name == "simplefix":
        import simplefix

        parser = simplefix.FixParser()
        write = out.write
        with open(path, "rb") as fh:
            # 4 KiB reads: FixParser re-slices its whole buffer after every field, so 1 MiB
            # chunks would make it quadratic (about 1.2k msg/s); small reads are its best case.
            while chunk := fh.read(4096):
                parser.append_buffer(chunk)
                while (msg := parser.get_message()) is not None:
                    write(str(msg) + "\n")
                    n += 1
    elif name == "cat-lines":
        write = out.write
        with open(path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                text = chunk.decode("latin-1").replace("\x01", "|")
                write(text)
                n += text.count("|10=")
    out.flush()
    out.close()
    sink.wait()
    elapsed = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"messages": n, "seconds": elapsed, "rate": n / elapsed, "peak_mb": peak_mb}


def render_only(count: int) -> dict[str, float]:
    """The compact renderer alone (no framing or decoding), to the same kind of pipe."""
    from krakenfix_cli.fix.framing import Framer
    from krakenfix_cli.fix.message import decode
    from krakenfix_cli.render import default_dictionary
    from krakenfix_cli.render.compact import renderer_for

    framer = Framer()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "pool.fix")
        make_file(path, 1000)
        with open(path, "rb") as fh:
            framer.feed(fh.read())
    msgs = [decode(f) for f in framer.frames()]
    line = renderer_for(default_dictionary(), False).line
    sink, out = _pipe()
    write = out.write
    t0 = time.perf_counter()
    for i in range(count):
        write(line(msgs[i % 1000], "in") + "\n")
    out.flush()
    out.close()
    sink.wait()
    elapsed = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"messages": count, "seconds": elapsed, "rate": count / elapsed, "peak_mb": peak_mb}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=1_000_000)
    ap.add_argument("--variant", help=argparse.SUPPRESS)
    ap.add_argument("--file", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.variant:
        result = render_only(args.count) if args.variant == "ours-render" else \
            variant(args.variant, args.file, args.count)
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "ers.fix")
        make_file(path, args.count)
        size_mb = os.path.getsize(path) / 1e6
        print(f"{args.count:,} ExecutionReports, {size_mb:.0f} MB on the wire, compact lines to a pipe")
        print(f"{'variant':<13} {'msg/s':>10} {'seconds':>8} {'peak RSS MB':>12}  what")
        what = {
            "ours": "LogReader (9+10 checked) + decode + compact line",
            "ours-render": "compact line only (1,000 pre-decoded messages, cycled)",
            "simplefix": "peer: simplefix FixParser (4 KiB reads) + str(FixMessage), no 9/10 checks",
            "cat-lines": "floor: SOH->'|' and write, no parsing",
        }
        for name in ("ours", "ours-render", "simplefix", "cat-lines"):
            proc = subprocess.run(
                [sys.executable, __file__, "--variant", name, "--file", path, "--count", str(args.count)],
                capture_output=True, text=True, check=True,
            )
            r = json.loads(proc.stdout.splitlines()[-1])
            print(f"{name:<13} {r['rate']:>10,.0f} {r['seconds']:>8.1f} {r['peak_mb']:>12.1f}  {what[name]}")


if __name__ == "__main__":
    main()
