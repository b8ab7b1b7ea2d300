"""Run every benchmark and print one table: metric, ours, peer, ratio, goal, met?

    python bench/run_all.py            # full sizes (the campaign: tens of minutes)
    python bench/run_all.py --quick    # bounded sizes for CI (about a minute)
    python bench/run_all.py --only codec,startup --quick

Each benchmark runs in its own interpreter (its own peak RSS, no warm caches shared) and
measures its peer in the same run; this script only chooses the sizes, reads their output
and puts the figures side by side. The goals are the issues' own: codec >= QuickFIX and
>= 10x simplefix; --help < 100 ms; round trip <= 1.2x QuickFIX's p50 and >= 15,000
orders/s; tail >= 20,000 msg/s and < 100 MB; REPL < 300 ms. Logon time has no stated goal,
so it is set against QuickFIX.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


@dataclass
class Row:
    metric: str
    ours: float | None
    peer: float | None
    peer_name: str
    unit: str
    goal: str
    met: bool | None
    "None: no goal, or the figure is missing."

    def ratio(self) -> str:
        if self.ours is None or self.peer is None or self.peer == 0:
            return "-"
        return f"{self.ours / self.peer:.2f}x"


QUICK_ARGS: dict[str, list[str]] = {
    "codec": ["--count", "100000", "--simplefix-sample", "20000", "--encode-sample", "20000"],
    "roundtrip": ["--count", "2000", "--warmup", "200", "--pipeline", "10000"],
    "logon": ["--runs", "3"], "tail": ["--count", "50000"], "repl": ["--runs", "3"], "startup": ["5"],
    "holder": ["--runs", "3"],
}
FULL_ARGS: dict[str, list[str]] = {
    "codec": ["--count", "1000000"],
    "roundtrip": ["--count", "5000", "--warmup", "1000", "--pipeline", "50000"],
    "logon": ["--runs", "15"], "tail": ["--count", "1000000"], "repl": ["--runs", "7"], "startup": ["15"],
    "holder": ["--runs", "15"],
}


def run(script: str, args: list[str], timeout: float) -> str:
    """Run ``bench/<script>``; its stdout (stderr is appended when it fails)."""
    proc = subprocess.run([sys.executable, str(HERE / script), *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout)
    if proc.returncode != 0:
        return proc.stdout + "\nFAILED: " + proc.stderr[-2000:]
    return proc.stdout


def num(text: str) -> float:
    return float(text.replace(",", ""))


def find(pattern: str, text: str) -> re.Match[str] | None:
    return re.search(pattern, text, re.MULTILINE)


def ge(value: float | None, bound: float) -> bool | None:
    return None if value is None else value >= bound


def le(value: float | None, bound: float) -> bool | None:
    return None if value is None else value <= bound


# -- one function per benchmark: run it, read its figures ------------------------------------------------
def codec(args: list[str]) -> list[Row]:
    out = run("codec.py", args, 3600)
    rate = r"\s+[\d,]+\s+[\d.]+\s+([\d,]+)"

    def get(label: str) -> float | None:
        m = find("^" + re.escape(label) + rate, out)
        return num(m.group(1)) if m else None

    qf, sf = get("quickfix Message(str, False)"), None
    m = find(r"^simplefix FixParser \([\d,]+ sample\)" + rate, out)
    if m:
        sf = num(m.group(1))
    verify, full = get("ours frame+verify"), get("ours frame+verify+decode")
    enc = find(r"^ours encode_fields" + rate, out)
    enc_sf = find(r"^simplefix FixMessage \+ encode\(\)" + rate, out)
    rss = find(r"peak RSS after our three runs: (\d+) MiB", out)
    return [
        Row("codec frame+verify msg/s", verify, qf, "QuickFIX Message(str)", "msg/s", ">= QuickFIX",
            None if verify is None or qf is None else verify >= qf),
        Row("codec frame+verify vs simplefix msg/s", verify, sf, "simplefix FixParser", "msg/s", ">= 10x simplefix",
            None if verify is None or sf is None else verify >= 10 * sf),
        Row("codec frame+verify+decode msg/s", full, qf, "QuickFIX Message(str)", "msg/s", ">= QuickFIX",
            None if full is None or qf is None else full >= qf),
        Row("codec decode vs simplefix msg/s", full, sf, "simplefix FixParser", "msg/s", ">= 10x simplefix",
            None if full is None or sf is None else full >= 10 * sf),
        Row("codec encode msg/s", num(enc.group(1)) if enc else None, num(enc_sf.group(1)) if enc_sf else None,
            "simplefix encode()", "msg/s", "-", None),
        Row("codec peak RSS MiB (streaming)", float(rss.group(1)) if rss else None, None, "-", "MiB",
            "flat", None),
    ]


def _time(argv: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, capture_output=True, check=True, cwd=ROOT)
    return (time.perf_counter() - t0) * 1000


PEER_TYPER = (
    "import typer\n"
    "app = typer.Typer(add_completion=False)\n"
    "@app.command()\n"
    "def main(name: str = 'x') -> None:\n"
    "    'A one-command typer app.'\n"
    "app()\n"
)


def startup(runs: int) -> list[Row]:
    ours, peer, floor = [], [], []
    for _ in range(runs):
        ours.append(_time([sys.executable, "-m", "krakenfix_cli", "--help"]))
        peer.append(_time([sys.executable, "-c", PEER_TYPER, "--help"]))
        floor.append(_time([sys.executable, "-c", "pass"]))
    o, p = statistics.median(ours), statistics.median(peer)
    return [Row("start-up `krakenfix --help` ms", o, p, "one-command typer app --help", "ms",
                "< 100 ms", o < 100),
            Row("start-up floor `python -c pass` ms", statistics.median(floor), None, "-", "ms", "-", None)]


def logon(args: list[str]) -> list[Row]:
    out = run("logon.py", args, 1800)

    def med(label: str) -> float | None:
        m = find("^" + re.escape(label) + r"\s+([\d.]+|nan)\s", out)
        return None if not m or m.group(1) == "nan" else float(m.group(1))

    qf = med("QuickFIX SocketInitiator (python -c)")
    client, cli = med("krakenfix Client (python -c)"), med("krakenfix logon (CLI)")
    return [Row("logon: process start -> logged on ms", client, qf, "QuickFIX SocketInitiator", "ms",
                "<= QuickFIX", None if client is None or qf is None else client <= qf),
            Row("logon: `krakenfix logon` CLI ms", cli, qf, "QuickFIX SocketInitiator", "ms", "-", None)]


def roundtrip(args: list[str], quickfix: bool) -> list[Row]:
    extra = [] if quickfix else ["--no-quickfix"]
    out = ""
    for _ in range(2):  # the QuickFIX Python binding sometimes crashes under load: one retry
        out = run("roundtrip.py", [*args, *extra], 3600)
        if not quickfix or find(r"^quickfix\s+[\d.]+", out):
            break
    ours = find(r"^krakenfix\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", out)
    peer = find(r"^quickfix\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", out)
    why = find(r"^quickfix\s+(skipped.*)$", out)
    name = "QuickFIX pair" if peer or not why else f"QuickFIX ({why.group(1)[:40]})"

    def col(m: re.Match[str] | None, i: int) -> float | None:
        return float(m.group(i)) if m else None

    p50, p50_peer = col(ours, 1), col(peer, 1)
    rate = col(ours, 3)
    return [
        Row("order->ack round trip p50 us", p50, p50_peer, name, "us", "<= 1.2x peer",
            None if p50 is None or p50_peer is None else p50 <= 1.2 * p50_peer),
        Row("order->ack round trip p99 us", col(ours, 2), col(peer, 2), name, "us", "-", None),
        Row("pipelined orders/s", rate, col(peer, 3), name, "orders/s", ">= 15000/s", ge(rate, 15000)),
    ]


def tail(args: list[str]) -> list[Row]:
    out = run("tail.py", args, 3600)
    cols = r"\s+([\d,]+)\s+([\d.]+)\s+([\d.]+)"
    ours, sf, render = find(r"^ours" + cols, out), find(r"^simplefix" + cols, out), find(r"^ours-render" + cols, out)
    rate = num(ours.group(1)) if ours else None
    return [
        Row("tail compact lines to a pipe msg/s", rate, num(sf.group(1)) if sf else None,
            "simplefix parse + str()", "msg/s", ">= 20000/s", ge(rate, 20000)),
        Row("tail peak RSS MiB", float(ours.group(3)) if ours else None, float(sf.group(3)) if sf else None,
            "simplefix", "MiB", "< 100 MB", le(float(ours.group(3)) if ours else None, 95)),
        Row("tail render only msg/s", num(render.group(1)) if render else None, None, "-", "msg/s", "-", None),
    ]


def repl(args: list[str]) -> list[Row]:
    out = run("repl_startup.py", args, 1800)

    def med(label: str) -> float | None:
        m = find(r"^\s+" + re.escape(label) + r"\s+([\d.]+) ms", out)
        return float(m.group(1)) if m else None

    ours, ptk = med("krakenfix repl (logged on, running sim)"), med("prompt_toolkit PromptSession")
    return [Row("REPL start-up to logged-on prompt ms", ours, ptk, "bare prompt_toolkit prompt", "ms",
                "< 300 ms", None if ours is None else ours < 300),
            Row("REPL --sim (embedded sim, TLS) ms", med("krakenfix repl --sim (embedded sim, TLS)"), ptk,
                "bare prompt_toolkit prompt", "ms", "-", None)]


def holder(args: list[str]) -> list[Row]:
    out = run("holder_send.py", args, 1800)

    def ms(label: str) -> float | None:
        m = find("^" + re.escape(label) + r"\s+([\d.]+)", out)
        return float(m.group(1)) if m else None

    through, one_shot, helps = ms("send through the holder"), ms("send one-shot"), ms("krakenfix --help")
    return [Row("send through a holder, start -> ack ms", through, one_shot, "one-shot `krakenfix send`", "ms",
                "<= 1/3 one-shot", None if through is None or one_shot is None else through <= one_shot / 3),
            Row("send through a holder vs --help ms", through, helps, "`krakenfix --help`", "ms", "<= --help + 80",
                None if through is None or helps is None else through <= helps + 80)]


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="bounded sizes for CI")
    ap.add_argument("--only", default="", help="comma list of: codec, startup, logon, roundtrip, tail, repl, holder")
    ap.add_argument("--no-quickfix", action="store_true", help="skip the QuickFIX round-trip peer")
    a = ap.parse_args(argv)
    sizes = QUICK_ARGS if a.quick else FULL_ARGS
    benches: dict[str, Callable[[], list[Row]]] = {
        "codec": lambda: codec(sizes["codec"]),
        "startup": lambda: startup(int(sizes["startup"][0])),
        "logon": lambda: logon(sizes["logon"]),
        "roundtrip": lambda: roundtrip(sizes["roundtrip"], not a.no_quickfix),
        "tail": lambda: tail(sizes["tail"]),
        "repl": lambda: repl(sizes["repl"]),
        "holder": lambda: holder(sizes["holder"]),
    }
    chosen = [n.strip() for n in a.only.split(",") if n.strip()] or list(benches)
    unknown = [n for n in chosen if n not in benches]
    if unknown:
        ap.error(f"unknown benchmark(s): {', '.join(unknown)}")
    rows: list[Row] = []
    t0 = time.perf_counter()
    for name in chosen:
        t = time.perf_counter()
        rows += benches[name]()
        print(f"# {name}: {time.perf_counter() - t:.1f} s", flush=True)
    head = ["metric", "ours", "peer", "ratio", "goal", "met?", "peer measured"]
    table = [[r.metric, fmt(r.ours), fmt(r.peer), r.ratio(), r.goal,
              "-" if r.met is None else ("yes" if r.met else "NO"), r.peer_name] for r in rows]
    widths = [max([len(h)] + [len(line[i]) for line in table]) for i, h in enumerate(head)]
    print(f"krakenfix benchmarks ({'quick' if a.quick else 'full'} sizes, Python {sys.version.split()[0]}), "
          f"{time.perf_counter() - t0:.0f} s")
    for line in [head, ["-" * w for w in widths], *table]:
        pairs = enumerate(zip(line, widths, strict=True))
        cells = [v.ljust(w) if i in (0, 4, 6) else v.rjust(w) for i, (v, w) in pairs]
        print("  ".join(cells).rstrip())
    missing = [r.metric for r in rows if r.ours is None]
    if missing:
        print(f"no figure for: {', '.join(missing)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
