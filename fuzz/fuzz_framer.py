"""Fuzz target for the Framer and decode: no input may raise anything but a FixError.

    python fuzz/fuzz_framer.py --iterations 100000     # bounded, no atheris needed
    python fuzz/fuzz_framer.py -atheris_runs=0 corpus/ # coverage-guided (pip install atheris)

Each input is split into a recover flag, chunk cut points and a stream made of valid
frames, log prefixes and the fuzzer's bytes, so the search starts near real FIX. The
checks: every refusal is a FramingError value (never raised), decode raises only
FixError subclasses, and iteration agrees with next_frame().
"""

from __future__ import annotations

import argparse
import importlib
import random
import sys
from collections.abc import Callable

from krakenfix_cli.fix.encode import encode_fields
from krakenfix_cli.fix.errors import FixError, FramingError
from krakenfix_cli.fix.framing import Framer
from krakenfix_cli.fix.message import decode, parse_fields

SEEDS = [
    encode_fields([(35, "8"), (34, "1"), (49, "KRAKEN"), (56, "C"), (17, "T1"), (58, "a=b")]),
    encode_fields([(35, "A"), (95, "3"), (96, "a\x01b"), (108, "30")]),
    b"20240513-09:31:00.123 : ",
    b"\n",
    b"8=FIX.4.4\x019=",
    b"\x0110=000\x01",
]


def build(data: bytes) -> tuple[bool, list[int], bytes]:
    """Turn fuzzer bytes into (recover, cut points, stream)."""
    if not data:
        return False, [], b""
    head, rest = data[0], data[1:]
    recover = bool(head & 1)
    cuts = [b * 7 for b in rest[:4]] if head & 2 else []
    pieces: list[bytes] = []
    for i, part in enumerate(rest[4:].split(b"\xff")):
        if i and part:
            pieces.append(SEEDS[part[0] % len(SEEDS)])
            part = part[1:]
        pieces.append(part)
    return recover, cuts, b"".join(pieces)


def check(data: bytes) -> None:
    """One fuzz case; raises AssertionError (or anything unexpected) on a bug."""
    recover, cuts, stream = build(data)
    fast, slow = Framer(recover=recover), Framer(recover=recover)
    prev = 0
    got_fast: list[object] = []
    got_slow: list[object] = []
    for cut in [*sorted(c % (len(stream) + 1) for c in cuts), len(stream)]:
        fast.feed(stream[prev:cut])
        slow.feed(stream[prev:cut])
        prev = cut
        for item in fast:
            if isinstance(item, bytes):
                got_fast.append(item)
                try:
                    msg = decode(item)
                    _ = msg.msg_type, msg.get(17), list(msg), msg.fields
                except FixError:
                    pass
            else:
                assert isinstance(item, FramingError), item
                got_fast.append((item.problem, item.offset))
        while (x := slow.next_frame()) is not None:
            got_slow.append(x if isinstance(x, bytes) else (x.problem, x.offset))
    assert got_fast == got_slow, (got_fast, got_slow)
    tail = fast.close()
    assert tail is None or isinstance(tail, FramingError)
    try:
        parse_fields(stream.decode("latin-1"))
    except FixError:
        pass


def random_case(rnd: random.Random) -> bytes:
    """A plain random input that often contains the seeds (the no-atheris loop)."""
    out = bytearray([rnd.randrange(256)] + [rnd.randrange(256) for _ in range(4)])
    for _ in range(rnd.randrange(1, 8)):
        if rnd.random() < 0.6:
            out += b"\xff" + bytes([rnd.randrange(len(SEEDS))])
        seed = bytearray(SEEDS[rnd.randrange(len(SEEDS))])
        if rnd.random() < 0.5:
            for _ in range(rnd.randrange(1, 4)):
                if seed:
                    seed[rnd.randrange(len(seed))] = rnd.randrange(256)
        out += seed if rnd.random() < 0.7 else rnd.randbytes(rnd.randrange(40))
    return bytes(out)


def run_bounded(iterations: int, seed: int = 0, on_case: Callable[[int], None] | None = None) -> int:
    """Run ``iterations`` random cases; returns how many ran (raises on the first bug)."""
    rnd = random.Random(seed)
    for i in range(iterations):
        case = random_case(rnd)
        try:
            check(case)
        except Exception as exc:
            raise AssertionError(f"case {i} (seed {seed}) failed: {case!r}") from exc
        if on_case is not None:
            on_case(i)
    return iterations


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description="Fuzz the Framer and decode.")
    ap.add_argument("--iterations", type=int, help="bounded random loop, no atheris needed")
    ap.add_argument("--seed", type=int, default=0)
    args, rest = ap.parse_known_args(argv[1:])
    if args.iterations is not None:
        n = run_bounded(args.iterations, args.seed)
        print(f"{n} cases, no failures")
        return 0
    try:
        atheris = importlib.import_module("atheris")
    except ImportError:
        print("atheris is not installed: pip install atheris, or use --iterations N", file=sys.stderr)
        return 2
    atheris.instrument_all()
    atheris.Setup([argv[0], *rest], check)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
