"""``krakenfix log``: grep, stats and orders over FIX logs (any file ``decode`` reads)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from krakenfix_cli.cli.options import Output
from krakenfix_cli.render import Mode

if TYPE_CHECKING:
    from collections.abc import Iterator
    from contextlib import ExitStack

    from krakenfix_cli.ops.logq.reader import BadFrames, Record
    from krakenfix_cli.render.env import Env

HELP = """Answer what happened, from FIX logs: grep, stats, orders.

Reads QuickFIX file logs, raw SOH streams and `|` text (gzip too), several files merged
in time order, `-` or a pipe for stdin. Frames that cannot be read are counted, never fatal.
"""

Files = Annotated[list[Path] | None, typer.Argument(
    metavar="[FILE]...", show_default=False, dir_okay=False,
    help="FIX logs (QuickFIX file logs, SOH or `|` text, .gz); `-` is stdin.")]
Since = Annotated[str | None, typer.Option(
    "--since", metavar="TIME", show_default=False,
    help="From this UTC time: HH:MM[:SS] (time of day) or YYYYMMDD-HH:MM:SS.")]
Until = Annotated[str | None, typer.Option(
    "--until", metavar="TIME", show_default=False, help="Up to this UTC time (same forms as --since).")]

app = typer.Typer(help=HELP, rich_markup_mode=None, invoke_without_command=True)


@app.callback()
def _group(ctx: typer.Context) -> None:
    """Bare ``krakenfix log`` prints its help and exits 0, as bare ``krakenfix`` does."""
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(0)


def _records(stack: ExitStack, env: Env, files: list[Path] | None, bad: BadFrames,
             since: str | None = None, until: str | None = None, follow: bool = False) -> Iterator[Record]:
    """Open ``files`` (or stdin) and read them, in time order, within --since/--until."""
    import sys

    from krakenfix_cli.cli.errors import CliError
    from krakenfix_cli.ops.logq.reader import LogSource, follow_source, read_sources
    from krakenfix_cli.ops.logq.timerange import TimeError, TimeRange, parse_bound

    try:
        window = TimeRange(parse_bound(since) if since else None, parse_bound(until) if until else None)
    except TimeError as exc:
        raise CliError(str(exc), "give HH:MM[:SS] or YYYYMMDD-HH:MM:SS (UTC)") from None
    sources: list[LogSource] = []
    names = [str(p) for p in files or []]
    if not names:
        if env.stdin_isatty:
            raise CliError("no log to read", "give FILE arguments, or pipe a log on stdin")
        names = ["-"]
    if names.count("-") > 1:
        raise CliError("stdin given twice", "pass `-` only once")
    for name in names:
        if name == "-":
            sources.append(LogSource("<stdin>", getattr(env.stdin, "buffer", sys.stdin.buffer)))
        else:
            sources.append(LogSource(name, stack.enter_context(open(name, "rb"))))  # noqa: SIM115
    if follow:
        if len(sources) != 1 or names[0] == "-":
            raise CliError("--follow reads one file", "give exactly one FILE (not stdin) with --follow")
        import time

        def wait() -> None:
            env.stdout.flush()  # what matched so far is on screen before the wait
            time.sleep(0.2)

        records = follow_source(sources[0], bad, wait)
    else:
        records = read_sources(sources, bad)
    if window.since is None and window.until is None:
        return records
    return (r for r in records if r.when in window)


def _warn_bad(env: Env, bad: BadFrames) -> None:
    from krakenfix_cli.render.console import write_warning

    if bad.count:
        write_warning(env, f"{bad.count} frame{'s' if bad.count != 1 else ''} could not be read; first: "
                           + safe("; ".join(bad.reasons)))


def safe(text: str) -> str:
    """Wire text for a terminal: control characters shown as escapes, never interpreted."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _clock(when: float | None) -> str:
    if when is None:
        return "-"
    import datetime as dt

    return dt.datetime.fromtimestamp(when, dt.UTC).strftime("%Y%m%d-%H:%M:%S.%f")[:-3]


def _table(env: Env, columns: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(columns)]
    out = env.stdout
    out.write("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip() + "\n")
    for r in rows:
        out.write("  ".join(safe(v).ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() + "\n")


# -- grep ---------------------------------------------------------------------------------------
@app.command("grep")
def grep(
    expr: Annotated[str, typer.Argument(
        metavar="EXPR", help="A filter: `35=8 and 55=BTC/USD`, `ExecType in (Trade, Canceled)`, "
                             "`Symbol ~ ^BTC`, `58 exists`, `not 43=Y`, `direction=in`.")],
    files: Files = None,
    since: Since = None,
    until: Until = None,
    output: Output = Mode.COMPACT,
    follow: Annotated[bool, typer.Option(
        "--follow", "-F", help="Then wait for new lines of FILE (one file), until Ctrl-C.")] = False,
) -> None:
    """Show the messages that match EXPR; exit 1 when none does.

    EXPR tests fields by tag or name: `=`, `!=`, `in (a, b)`, `~ REGEX`, `exists`, joined
    with `and`, `or`, `not` and parentheses. Enum names stand for their codes
    (`ExecType=Trade`, `35=ExecutionReport`); `direction` is `in` or `out`.
    """
    from contextlib import ExitStack

    from krakenfix_cli.cli.errors import CliError
    from krakenfix_cli.cli.exit import ExitStatus
    from krakenfix_cli.cli.options import get_env
    from krakenfix_cli.ops.logq.expr import ExprError, compile_expr
    from krakenfix_cli.ops.logq.reader import BadFrames
    from krakenfix_cli.render import MessageWriter, default_dictionary

    env = get_env()
    dictionary = default_dictionary()
    try:
        pred = compile_expr(expr, dictionary)
    except ExprError as exc:
        raise CliError(f"bad expression at column {exc.column}: {exc.text}",
                       "see `krakenfix log grep --help`") from None
    bad = BadFrames()
    matched = 0
    with ExitStack() as stack:
        writer = MessageWriter(env, output, dictionary)
        try:
            for rec in _records(stack, env, files, bad, since, until, follow):
                if pred(rec.msg, rec.direction):
                    matched += 1
                    writer.write(rec.msg, rec.direction, rec.when)
        except KeyboardInterrupt:
            if not follow:
                raise  # Ctrl-C is how --follow ends: exit as grep would, by what matched
        writer.flush()
    _warn_bad(env, bad)
    raise typer.Exit(ExitStatus.OK if matched else ExitStatus.REJECTED)


# -- stats --------------------------------------------------------------------------------------
@app.command("stats")
def stats(
    files: Files = None,
    since: Since = None,
    until: Until = None,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object instead of text.")] = False,
) -> None:
    """Counts per session, direction and MsgType; gaps, resends, resets; answer latency; rejects; rate."""
    from contextlib import ExitStack

    from krakenfix_cli.cli.options import get_env
    from krakenfix_cli.ops.logq import stats as logstats
    from krakenfix_cli.ops.logq.reader import BadFrames
    from krakenfix_cli.render import default_dictionary

    env = get_env()
    bad = BadFrames()
    with ExitStack() as stack:
        result = logstats.collect(_records(stack, env, files, bad, since, until))
    d = default_dictionary()
    if json_out:
        import json

        env.stdout.write(json.dumps(_stats_object(result, bad), sort_keys=True) + "\n")
    else:
        _stats_text(env, result, bad, d)
    _warn_bad(env, bad)


def _stats_object(s: Any, bad: BadFrames) -> dict[str, Any]:
    counts: dict[str, dict[str, dict[str, int]]] = {}
    for (session, direction, mt), n in sorted(s.counts.items()):
        counts.setdefault(session, {}).setdefault(direction, {})[mt] = n
    return {
        "messages": s.messages, "bad_frames": bad.count, "first": _clock(s.first), "last": _clock(s.last),
        "counts": counts, "resends": s.resends, "events": dict(s.event_counts),
        "sequence": [{"time": _clock(e.when), "session": e.session, "direction": e.direction,
                      "kind": e.kind, "text": e.text} for e in s.events],
        "latency": {mt: {"count": h.count, "p50": h.percentile(50), "p90": h.percentile(90),
                         "p99": h.percentile(99), "max": h.max} for mt, h in sorted(s.latency.items())},
        "latency_by_symbol": {f"{mt} {sym}": {"count": h.count, "p50": h.percentile(50), "p90": h.percentile(90),
                                              "p99": h.percentile(99), "max": h.max}
                              for (mt, sym), h in sorted(s.latency_by_symbol.items())},
        "rejects": dict(s.rejects.most_common()),
        "unanswered": s.unanswered,
    }


def _bar(n: int, top: int) -> str:
    """A text bar up to 40 wide; any non-zero count shows at least one block."""
    return "█" * max(1 if n else 0, round(40 * n / top))


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f}"


def _stats_text(env: Env, s: Any, bad: BadFrames, d: Any) -> None:
    from krakenfix_cli.ops.logq.stats import rate_series

    out = env.stdout
    out.write(f"{s.messages} messages, {_clock(s.first)} .. {_clock(s.last)} UTC"
              f"{f', {bad.count} bad frames' if bad.count else ''}\n\n")
    rows = [[session, direction, f"{d.msg_name(mt)}({mt})", str(n)]
            for (session, direction, mt), n in sorted(s.counts.items())]
    _table(env, ["SESSION", "DIR", "MSGTYPE", "COUNT"], rows)
    out.write(f"\nSequence: {s.event_counts.get('gap', 0)} gaps, {s.resends} resent (43=Y), "
              f"{s.event_counts.get('reset', 0)} resets (141=Y), {s.event_counts.get('rollover', 0)} rollovers, "
              f"{s.event_counts.get('sequence-reset', 0) + s.event_counts.get('gap-fill', 0)} SequenceReset\n")
    for e in s.events:
        out.write(f"  {_clock(e.when)}  {safe(e.session)} {e.direction or '?':<3}  {e.kind:<14} {safe(e.text)}\n")
    if len(s.events) < sum(s.event_counts.values()):
        out.write(f"  ... {sum(s.event_counts.values()) - len(s.events)} more\n")
    out.write("\nFirst answer latency (ms):\n")
    if s.latency:
        def row(label: str, h: Any) -> list[str]:
            return [label, str(h.count), _ms(h.percentile(50)), _ms(h.percentile(90)), _ms(h.percentile(99)),
                    _ms(h.max)]

        rows = []
        for mt, h in sorted(s.latency.items()):
            rows.append(row(f"  {d.msg_name(mt)}({mt})", h))
            rows.extend(row(f"    {sym or '(no Symbol)'}", hs)
                        for (m, sym), hs in sorted(s.latency_by_symbol.items()) if m == mt)
        _table(env, ["  REQUEST", "COUNT", "P50", "P90", "P99", "MAX"], rows)
        everything = None
        for h in s.latency.values():
            everything = h if everything is None else everything.merged(h)
        coarse = everything.coarse() if everything is not None else []
        top = max((n for _, n in coarse), default=0) or 1
        out.write("  all requests:\n")
        for upper, n in coarse:
            out.write(f"  {'≤ ' + _ms(upper).rstrip('0').rstrip('.'):>10} ms  {_bar(n, top):<40} {n}\n")
    else:
        out.write("  (no request with an answer)\n")
    if s.unanswered:
        out.write(f"  {s.unanswered} request{'s' if s.unanswered != 1 else ''} without any answer in the log\n")
    out.write("\nRejects:\n")
    for text, n in s.rejects.most_common(20):
        out.write(f"  {n:>6} ×  {safe(text)}\n")
    if not s.rejects:
        out.write("  (none)\n")
    width, bars = rate_series(s)
    if bars:
        out.write(f"\nMessages per {width:g} s:\n")
        top = max(n for _, n in bars) or 1
        for start, n in bars:
            out.write(f"  {_clock(start)[9:17]}  {_bar(n, top):<40} {n}\n")


# -- orders -------------------------------------------------------------------------------------
def _order_row(o: Any) -> dict[str, Any]:
    return {"clordid": o.clordid, "clordids": list(o.clordids), "order_id": o.order_id, "session": o.session,
            "symbol": o.symbol, "side": o.side, "qty": o.qty, "price": o.price, "placed": _clock(o.placed),
            "connection": _clock(o.connection),
            "state": o.state, "filled": str(o.filled), "avg_px": o.avg_px,
            "changes": len(o.events) + o.events_dropped}


@app.command("orders")
def orders(
    files: Files = None,
    since: Since = None,
    until: Until = None,
    csv_out: Annotated[bool, typer.Option("--csv", help="CSV with a header row.")] = False,
    output: Annotated[str, typer.Option("--output", "-o", metavar="[table|json]",
                                        help="table, or json: one object per order per line.")] = "table",
) -> None:
    """One row per order, following ClOrdID chains through amends (G) and cancels (F)."""
    from contextlib import ExitStack

    from krakenfix_cli.cli.errors import CliError
    from krakenfix_cli.cli.options import get_env
    from krakenfix_cli.ops.logq.orders import collect
    from krakenfix_cli.ops.logq.reader import BadFrames
    from krakenfix_cli.render import default_dictionary

    env = get_env()
    if output not in ("table", "json"):
        raise CliError(f"unknown --output {output!r}", "use table or json")
    bad = BadFrames()
    with ExitStack() as stack:
        book = collect(_records(stack, env, files, bad, since, until), default_dictionary())
    rows = map(_order_row, book.orders)  # one row's dict at a time: json and csv stream
    if output == "json":
        import json

        for r in rows:
            env.stdout.write(json.dumps(r) + "\n")
    elif csv_out:
        import csv

        w = csv.writer(env.stdout, lineterminator="\n")
        cols = ["clordid", "order_id", "session", "connection", "symbol", "side", "qty", "price", "placed", "state",
                "filled", "avg_px", "changes", "clordids"]
        w.writerow(cols)
        for r in rows:
            w.writerow([" ".join(r[c]) if c == "clordids" else r[c] for c in cols])
    else:
        _table(env, ["PLACED", "CLORDID", "SYMBOL", "SIDE", "QTY", "PRICE", "STATE", "FILLED", "AVG PX", "CHAIN"],
               [[r["placed"][9:], r["clordid"], r["symbol"], r["side"], r["qty"], r["price"], r["state"],
                 r["filled"], r["avg_px"], str(len(r["clordids"]))] for r in rows])
    _warn_bad(env, bad)


@app.command("order")
def order(
    ident: Annotated[str, typer.Argument(metavar="ID", help="Any ClOrdID of the order's chain, or its OrderID.")],
    files: Files = None,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object per step.")] = False,
) -> None:
    """One order's timeline: every request and report, with the state after each; exit 1 if not found."""
    from contextlib import ExitStack

    from krakenfix_cli.cli.exit import ExitStatus
    from krakenfix_cli.cli.options import get_env
    from krakenfix_cli.ops.logq.orders import collect
    from krakenfix_cli.ops.logq.reader import BadFrames
    from krakenfix_cli.render import default_dictionary
    from krakenfix_cli.render.console import write_error

    env = get_env()
    bad = BadFrames()
    with ExitStack() as stack:
        book = collect(_records(stack, env, files, bad), default_dictionary())
    found = book.find(ident)
    _warn_bad(env, bad)
    if not found:
        write_error(env, f"no order with ClOrdID or OrderID {safe(ident)} in the log; "
                         "list them with `krakenfix log orders`")
        raise typer.Exit(ExitStatus.REJECTED)
    for o in found:
        if json_out:
            import json

            for e in o.events:
                env.stdout.write(json.dumps({"time": _clock(e.when), "direction": e.direction,
                                             "msg_type": e.msg_type, "clordid": e.clordid, "what": e.what,
                                             "state": e.state, "text": e.text}) + "\n")
            continue
        env.stdout.write(f"{safe(o.clordid)}  {safe(o.symbol)} {o.side} {safe(o.qty)} @ {safe(o.price) or '-'}"
                         f"  OrderID {safe(o.order_id) or '-'}  final: {o.state}, filled {o.filled}"
                         f"{' @ ' + safe(o.avg_px) if o.avg_px else ''}\n")
        _table(env, ["  TIME", "DIR", "MSG", "CLORDID", "WHAT", "STATE", "TEXT"],
               [[f"  {_clock(e.when)[9:]}", e.direction or "?", e.msg_type, e.clordid, e.what, e.state, e.text]
                for e in o.events])
        if o.events_dropped:
            env.stdout.write(f"  ... {o.events_dropped} more steps not kept\n")


# -- diff ---------------------------------------------------------------------------------------
def _one_message(stack: ExitStack, arg: str, which: str) -> Any:
    """``FILE:N`` (the file's message N, from 1), or a message as `|` or SOH text."""
    import os
    import re

    from krakenfix_cli.cli.errors import CliError
    from krakenfix_cli.fix.errors import MessageError
    from krakenfix_cli.fix.message import Message, parse_fields
    from krakenfix_cli.ops.logq.reader import BadFrames, LogSource, read_source, redacted

    m = re.fullmatch(r"(.+):(\d+)", arg)
    if m is not None and os.path.isfile(m.group(1)):
        path, n = m.group(1), int(m.group(2))
        src = LogSource(path, stack.enter_context(open(path, "rb")))  # noqa: SIM115
        for rec in read_source(src, BadFrames()):
            if rec.index == n:
                return rec.msg
        raise CliError(f"{which}: {path} has fewer than {n} messages", "count them with `krakenfix log stats`")
    if "=" not in arg:
        raise CliError(f"{which}: {arg!r} is neither FILE:N nor a message", "give LOG:3 or '35=D|11=...'")
    raw = arg.strip() if "\x01" in arg else arg.strip().replace("|", "\x01")
    try:
        return redacted(Message(parse_fields(raw if raw.endswith("\x01") else raw + "\x01")))
    except MessageError as exc:
        raise CliError(f"{which}: cannot split fields: {exc}", "check the separators (`|` or SOH)") from None


@app.command("diff")
def diff(
    a: Annotated[str, typer.Argument(metavar="A", help="FILE:N (message N of FILE, from 1) or a message.")],
    b: Annotated[str, typer.Argument(metavar="B", help="The same forms as A.")],
    changed: Annotated[bool, typer.Option("--changed", help="Show only the fields that differ.")] = False,
) -> None:
    """Two messages side by side, field by field, names and enums shown; exit 1 when they differ.

    Marks: `=` same, `~` different, `<` only in A, `>` only in B. A repeated tag (a group)
    is paired by occurrence.
    """
    from contextlib import ExitStack

    from krakenfix_cli.cli.exit import ExitStatus
    from krakenfix_cli.cli.options import get_env
    from krakenfix_cli.ops.logq.diff import diff_messages
    from krakenfix_cli.render import default_dictionary

    env = get_env()
    d = default_dictionary()
    with ExitStack() as stack:
        rows = diff_messages(_one_message(stack, a, "A"), _one_message(stack, b, "B"))

    def shown(tag: int, value: str | None) -> str:
        if value is None:
            return ""
        meaning = d.msg_name(value) if tag == 35 else d.enum_meaning(tag, value)
        return f"{value} ({meaning})" if meaning and meaning != value else value

    table = [["=" if r.same else "<" if r.b is None else ">" if r.a is None else "~",
              f"{d.field_name(r.tag)}({r.tag})", shown(r.tag, r.a), shown(r.tag, r.b)]
             for r in rows if not (changed and r.same)]
    _table(env, [" ", "FIELD", "A", "B"], table)
    raise typer.Exit(ExitStatus.OK if all(r.same for r in rows) else ExitStatus.REJECTED)


def register(main: typer.Typer) -> None:
    """Add the ``log`` group to ``main``."""
    main.add_typer(app, name="log", help=HELP)
