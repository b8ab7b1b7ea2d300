"""``krakenfix log`` end to end, on the message log krakenfix itself wrote against a simulator.

One module-scoped order day against ``krakenfix sim --cancel-scope account`` (so a later
connection may cancel): a market buy that fills, a resting limit order cancelled by
``krakenfix cancel``, an order the gateway rejects. Every figure checked below is
derived from what those commands sent and were answered.
"""

from __future__ import annotations

import gzip
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "ops"))
from cli_harness import kfx, spawn, start_sim_proc

from krakenfix_cli.fix.message import decode


@dataclass(frozen=True)
class Day:
    log: Path
    env: dict[str, str]
    filled: str  # ClOrdID of the market order that filled
    fill_px: str
    resting: str  # ClOrdID of the limit order later cancelled
    cancel: str  # ClOrdID of the OrderCancelRequest
    rejected: str  # ClOrdID of the order the gateway refused


def _last_json(out: str) -> dict[str, object]:
    obj = json.loads(out.strip().splitlines()[-1])
    assert isinstance(obj, dict)
    return obj


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Day]:
    work = tmp_path_factory.mktemp("logday")
    sim = start_sim_proc(work / "sim", "--cancel-scope", "account")
    env = sim.env(work)
    try:
        r = kfx("send", "-s", "BTC/USD", "--side", "buy", "-q", "0.01", "-t", "market", "--wait", "fill",
                "-o", "raw", env=env)
        assert r.exit_status == 0, r.output
        fill = next(decode(line.replace("|", "\x01").encode()) for line in r.stdout.splitlines()
                    if "35=8|" in line and "|150=F|" in line)
        r = kfx("send", "-s", "BTC/USD", "--side", "buy", "-q", "0.02", "--price", "1000.0", "-o", "json", env=env)
        assert r.exit_status == 0, r.output
        resting = str(_last_json(r.stdout)["clordid"])
        r = kfx("cancel", "--clordid", resting, "--force", "-o", "raw", env=env)
        assert r.exit_status == 0, r.output
        cancel = next(line for line in r.stdout.splitlines() if line.startswith("35=F|") or "|35=F|" in line)
        cancel_id = next(f[3:] for f in cancel.split("|") if f.startswith("11="))
        r = kfx("send", "-s", "BTC/USD", "--side", "sell", "-q", "0.01", "--price", "10", "-o", "json", env=env)
        assert r.exit_status == 1, r.output
        rejected = str(_last_json(r.stdout)["clordid"])
    finally:
        sim.stop()
    logs = list((work / "state" / "logs").glob("*.messages.current.log"))
    assert len(logs) == 1, logs
    yield Day(logs[0], env, fill.get(11) or "", fill.get(31) or "", resting, cancel_id, rejected)


def log(day: Day, *args: str, input: str | None = None) -> tuple[int, str, str]:
    r = kfx("log", *args, env=day.env, input=input)
    return r.exit_status, r.stdout, r.stderr


# -- grep ---------------------------------------------------------------------------------------
def test_grep_finds_the_one_fill_by_enum_name(day: Day) -> None:
    status, out, err = log(day, "grep", "ExecType in (Trade, Canceled)", str(day.log), "-o", "json")
    assert status == 0, err
    objs = [json.loads(line) for line in out.splitlines()]
    exec_types = sorted(next(f["value"] for f in o["fields"] if f["tag"] == 150) for o in objs)
    assert exec_types == ["4", "F"]
    assert all(o["direction"] == "in" for o in objs)


def test_grep_direction_and_msgtype_count_what_was_sent(day: Day) -> None:
    status, out, _ = log(day, "grep", "direction=out and 35=NewOrderSingle", str(day.log), "-o", "raw")
    assert status == 0
    sent = [line for line in out.splitlines() if line]
    assert len(sent) == 3
    assert {day.filled, day.resting, day.rejected} == {
        next(f[3:] for f in line.split("|") if f.startswith("11=")) for line in sent}


def test_grep_regex_exists_not_and_parentheses(day: Day) -> None:
    status, out, _ = log(day, "grep", "58 exists and (35=j or 35=3) and not Text ~ ^$", str(day.log), "-o", "raw")
    assert status == 0
    assert len(out.splitlines()) == 1 and f"379={day.rejected}|" in out


def test_grep_with_no_match_exits_1_and_prints_nothing(day: Day) -> None:
    status, out, err = log(day, "grep", "55=NO/SUCH", str(day.log))
    assert (status, out, err) == (1, "", "")


def test_grep_bad_expression_is_a_usage_error_naming_the_column(day: Day) -> None:
    status, out, err = log(day, "grep", "35=8 and (55=BTC/USD", str(day.log))
    assert status == 2 and out == ""
    assert err.startswith("krakenfix: error: bad expression at column 21: expected `)`")
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_grep_since_until_keeps_only_the_window(day: Day) -> None:
    lines = day.log.read_bytes().splitlines()
    stamps = [line.split(b" : ", 1)[0].decode() for line in lines]
    mid = stamps[len(stamps) // 2]
    status, out, _ = log(day, "grep", "34 exists", str(day.log), "--since", mid, "-o", "raw")
    assert status == 0
    want = sum(1 for s in stamps if s[:21] >= mid[:21])
    assert len(out.splitlines()) == want and 0 < want < len(stamps)
    status, out, _ = log(day, "grep", "34 exists", str(day.log), "--until", "00:00:00.000")
    assert status == 1  # the day ran after midnight UTC, not at it


def test_several_files_gzip_and_stdin_merge_in_time_order(day: Day, tmp_path: Path) -> None:
    data = day.log.read_bytes().splitlines(keepends=True)
    half = len(data) // 2
    first, second = tmp_path / "a.log", tmp_path / "b.log.gz"
    first.write_bytes(b"".join(data[:half]))
    second.write_bytes(gzip.compress(b"".join(data[half:])))
    _, whole, _ = log(day, "grep", "34 exists", str(day.log), "-o", "raw")
    status, merged, err = log(day, "grep", "34 exists", str(second), str(first), "-o", "raw")
    assert status == 0, err
    assert merged == whole and len(whole.splitlines()) == len(data)
    status, piped, _ = log(day, "grep", "34 exists", "-o", "raw", input=day.log.read_text("latin-1"))
    assert piped == whole


def test_bad_frames_are_counted_never_fatal(day: Day, tmp_path: Path) -> None:
    data = day.log.read_bytes().splitlines(keepends=True)
    broken = tmp_path / "broken.log"
    torn = data[3][: len(data[3]) // 2] + b"\n"
    broken.write_bytes(b"".join([*data[:3], torn, *data[4:]]) + b"garbage line\n")
    status, out, err = log(day, "grep", "34 exists", str(broken), "-o", "raw")
    assert status == 0
    assert len(out.splitlines()) >= len(data) - 2
    assert "krakenfix: warning:" in err and "could not be read" in err


# -- stats --------------------------------------------------------------------------------------
def test_stats_counts_latency_rejects_and_resets_match_the_day(day: Day) -> None:
    status, out, err = log(day, "stats", str(day.log), "--json")
    assert status == 0, err
    s = json.loads(out)
    session = s["counts"]["KFXCLIENT→KRAKEN-TRD"]
    assert session["out"]["D"] == 3 and session["out"]["F"] == 1
    assert session["out"]["A"] == session["in"]["A"] == 4  # four commands, four connections
    assert session["in"]["j"] == 1
    assert s["messages"] == len(day.log.read_bytes().splitlines())
    assert s["latency"]["D"]["count"] == 3 and s["latency"]["F"]["count"] == 1
    assert {k: v["count"] for k, v in s["latency_by_symbol"].items()} == {"D BTC/USD": 3, "F BTC/USD": 1}
    d = s["latency"]["D"]
    assert 0 < d["p50"] <= d["p90"] <= d["p99"] <= d["max"]
    assert s["rejects"] == {"EOrder:Cost minimum not met": 1}
    # The period's first Logon, both ways, had 141=Y; the next three commands continued (141=N).
    assert s["events"] == {"reset": 2}
    assert s["resends"] == 0 and s["bad_frames"] == 0
    assert s["unanswered"] == 0


def test_stats_finds_a_gap_where_a_message_is_missing(day: Day, tmp_path: Path) -> None:
    lines = day.log.read_bytes().splitlines(keepends=True)
    # Drop the first inbound ExecutionReport: the next inbound message is one further on.
    drop = next(i for i, line in enumerate(lines) if b"\x0135=8\x01" in line)
    seq = int(decode(lines[drop].split(b" : ", 1)[1].rstrip(b"\n")).get(34) or 0)
    cut = tmp_path / "gap.log"
    cut.write_bytes(b"".join(lines[:drop] + lines[drop + 1 :]))
    status, out, _ = log(day, "stats", str(cut), "--json")
    assert status == 0
    gaps = [e for e in json.loads(out)["sequence"] if e["kind"] == "gap"]
    assert len(gaps) == 1 and gaps[0]["direction"] == "in"
    assert gaps[0]["text"] == f"expected MsgSeqNum {seq}, got {seq + 1} (1 missing)"


def test_stats_text_has_the_table_and_the_rate_chart(day: Day) -> None:
    status, out, _ = log(day, "stats", str(day.log))
    assert status == 0
    assert "NewOrderSingle(D)" in out and "First answer latency (ms):" in out
    assert "1 ×  EOrder:Cost minimum not met" in out
    chart = out.split("Messages per ", 1)[1].splitlines()[1:]
    assert chart and sum(int(line.split()[-1]) for line in chart) == len(day.log.read_bytes().splitlines())
    assert any("█" in line for line in chart)
    histogram = out.split("  all requests:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert sum(int(line.split()[-1]) for line in histogram) == 4  # three D and one F were answered


# -- orders -------------------------------------------------------------------------------------
def test_orders_one_row_per_order_following_the_cancel_chain(day: Day) -> None:
    status, out, err = log(day, "orders", str(day.log), "-o", "json")
    assert status == 0, err
    rows = {r["clordid"]: r for r in map(json.loads, out.splitlines())}
    assert set(rows) == {day.filled, day.resting, day.rejected}
    assert rows[day.filled]["state"] == "filled" and rows[day.filled]["filled"] == "0.01"
    assert rows[day.filled]["avg_px"] == day.fill_px
    assert rows[day.resting]["state"] == "canceled" and rows[day.resting]["clordids"] == [day.resting, day.cancel]
    assert rows[day.rejected]["state"] == "rejected" and rows[day.rejected]["side"] == "sell"
    # Each order was placed by its own `krakenfix send`: a connection of its own, named by its Logon time.
    stamps = [line.split(b" : ", 1)[0].decode() for line in day.log.read_bytes().splitlines()
              if b"\x0135=A\x01" in line and b"\x0149=KFXCLIENT\x01" in line]
    logons = {f"{stamp[:8]}-{stamp[9:21]}" for stamp in stamps}
    connections = [r["connection"] for r in rows.values()]
    assert len(set(connections)) == 3 and set(connections) <= logons


def test_orders_csv_has_a_header_and_a_row_each(day: Day) -> None:
    import csv
    import io

    status, out, _ = log(day, "orders", str(day.log), "--csv")
    assert status == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert sorted(r["state"] for r in rows) == ["canceled", "filled", "rejected"]


def test_order_timeline_by_the_cancel_clordid(day: Day) -> None:
    status, out, err = log(day, "order", day.cancel, str(day.log), "--json")
    assert status == 0, err
    steps = [json.loads(line) for line in out.splitlines()]
    assert [s["what"] for s in steps] == ["sent", "new", "cancel sent", "canceled"]
    assert steps[-1]["state"] == "canceled" and steps[-1]["clordid"] == day.cancel


def test_order_not_in_the_log_exits_1(day: Day) -> None:
    status, out, err = log(day, "order", "NOPE", str(day.log))
    assert status == 1 and out == "" and "no order with ClOrdID or OrderID NOPE" in err


# -- diff ---------------------------------------------------------------------------------------
def test_diff_two_messages_of_the_log_names_fields_and_enums(day: Day) -> None:
    lines = day.log.read_bytes().splitlines()
    orders = [i + 1 for i, line in enumerate(lines) if b"\x0135=D\x01" in line]
    status, out, err = log(day, "diff", f"{day.log}:{orders[0]}", f"{day.log}:{orders[-1]}", "--changed")
    assert status == 1, err
    rows = {line.split()[1]: line for line in out.splitlines()[1:]}
    assert rows["Side(54)"].split()[0] == "~" and "1 (Buy)" in rows["Side(54)"] and "2 (Sell)" in rows["Side(54)"]
    assert rows["ClOrdID(11)"].split()[2:] == [day.filled, day.rejected]
    assert "MsgType(35)" not in rows  # both are NewOrderSingle: --changed leaves it out
    status, _, _ = log(day, "diff", f"{day.log}:{orders[0]}", f"{day.log}:{orders[0]}")
    assert status == 0


def test_diff_of_a_message_past_the_end_is_a_usage_error(day: Day) -> None:
    status, out, err = log(day, "diff", f"{day.log}:100000", "35=0")
    assert status == 2 and out == "" and "fewer than 100000 messages" in err


# -- secrets ------------------------------------------------------------------------------------
def test_a_password_in_someone_elses_log_never_reaches_the_output(day: Day, tmp_path: Path) -> None:
    from krakenfix_cli.fix.encode import encode_fields

    logon = encode_fields([(35, "A"), (34, "1"), (49, "THEM"), (52, "20261202-10:00:00.000"), (56, "KRAKEN"),
                           (98, "0"), (108, "30"), (554, "hunter2"), (96, "rawsecret")])
    quickfix = tmp_path / "FIX.4.4-THEM-KRAKEN.messages.current.log"
    quickfix.write_bytes(b"20261202-10:00:00.000 : " + logon + b"\n")
    for args in (["grep", "35=A", "-o", "raw"], ["grep", "35=A", "-o", "json"], ["grep", "35=A", "-o", "pretty"],
                 ["stats"], ["diff", f"{quickfix}:1"]):
        target = [str(quickfix)] if args[0] != "diff" else [f"{quickfix}:1"]
        status, out, err = log(day, *args, *target)
        assert status in (0, 1), err
        assert "hunter2" not in out + err and "rawsecret" not in out + err, args
        assert args[0] == "stats" or "***" in out


def test_grep_follow_shows_a_matching_line_appended_later(day: Day, tmp_path: Path) -> None:
    import signal
    import threading

    lines = day.log.read_bytes().splitlines(keepends=True)
    orders = [line for line in lines if b"\x0135=D\x01" in line]
    growing = tmp_path / day.log.name
    growing.write_bytes(b"".join(line for line in lines if b"\x0135=D\x01" not in line))
    proc = spawn("log", "grep", "35=D", str(growing), "--follow", "-o", "raw", env=day.env)
    seen: list[str] = []
    got = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            seen.append(raw.decode())
            got.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        with growing.open("ab") as fh:  # nothing matched yet; then an order is appended
            fh.write(orders[0])
        assert got.wait(60), "no line within a minute"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
    reader.join(10)
    assert proc.returncode == 0
    assert len(seen) == 1 and seen[0].startswith("8=FIX.4.4|") and f"|11={day.filled}|" in seen[0]


def test_follow_needs_one_file(day: Day) -> None:
    status, _, err = log(day, "grep", "35=D", "--follow", "-", input="")
    assert status == 2 and "--follow reads one file" in err


def test_stats_names_a_request_left_without_an_answer(day: Day, tmp_path: Path) -> None:
    lines = day.log.read_bytes().splitlines(keepends=True)
    last_order = max(i for i, line in enumerate(lines) if b"\x0135=D\x01" in line)
    cut = tmp_path / "cut.log"  # the log ends right after the last NewOrderSingle went out
    cut.write_bytes(b"".join(lines[: last_order + 1]))
    status, out, _ = log(day, "stats", str(cut))
    assert status == 0
    assert "  1 request without any answer in the log" in out
