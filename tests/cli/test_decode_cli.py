"""``krakenfix decode`` end to end, as a subprocess: exit 0 when valid, 5 naming each problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from run import run_cli

from krakenfix_cli.fix.encode import encode_fields

ORDER = ((35, "D"), (49, "ME"), (56, "KRAKEN-TRD"), (34, "2"), (52, "20240101-12:00:00.000"),
         (11, "A1"), (55, "BTC/USD"), (54, "1"), (60, "20240101-12:00:00.000"), (38, "0.01"),
         (40, "2"), (44, "50000"))
HEARTBEAT = ((35, "0"), (49, "KRAKEN-TRD"), (56, "ME"), (34, "3"), (52, "20240101-12:00:01.000"))


def wire(fields: tuple[tuple[int, str], ...] = ORDER) -> bytes:
    return encode_fields(fields)


def piped(frame: bytes) -> str:
    return frame.decode("latin-1").replace("\x01", "|")


def test_valid_message_exits_0_with_names_and_meanings() -> None:
    r = run_cli("decode", "--output", "pretty", piped(wire()))
    assert r.exit_status == 0, r.stderr
    assert "NewOrderSingle" in r.stdout and "ClOrdID" in r.stdout and "BTC/USD" in r.stdout
    assert r.stderr == ""


def test_bad_checksum_exits_5_and_names_checksum() -> None:
    text = piped(wire())
    bad = text[: text.rindex("10=")] + "10=000|"
    r = run_cli("decode", bad)
    assert r.exit_status == 5
    assert "CheckSum(10) does not match" in r.stderr
    assert "krakenfix: error:" in r.stderr


def test_bad_body_length_exits_5_and_names_body_length() -> None:
    text = piped(wire())
    head, _, rest = text.partition("|9=")
    length, _, body = rest.partition("|")
    r = run_cli("decode", f"{head}|9={int(length) + 3}|{body}")
    assert r.exit_status == 5
    assert "BodyLength(9)" in r.stderr


def test_msg_type_out_of_order_exits_5() -> None:
    r = run_cli("decode", "8=FIX.4.4|9=20|49=ME|35=0|56=K|10=000|")
    assert r.exit_status == 5
    assert "MsgType(35) is not the third field" in r.stderr


def test_body_length_out_of_order_exits_5() -> None:
    r = run_cli("decode", "8=FIX.4.4|35=0|9=5|10=000|")
    assert r.exit_status == 5
    assert "BodyLength(9) is not the second field" in r.stderr


def test_garbage_exits_5_and_says_so() -> None:
    r = run_cli("decode", "--file", "-", input=b"hello world, no fix here\n")
    assert r.exit_status == 5
    assert "outside any message" in r.stderr


def test_garbage_between_frames_is_reported_and_good_frames_still_decode() -> None:
    data = wire() + b"JUNKJUNKJUNK" + wire(HEARTBEAT)
    r = run_cli("decode", "-o", "compact", input=data)
    assert r.exit_status == 5
    assert "NewOrderSingle" in r.stdout and "Heartbeat" in r.stdout
    assert "outside any message" in r.stderr


def test_pipe_text_without_9_and_10_is_framed_and_valid() -> None:
    r = run_cli("decode", "-o", "compact", "35=0|49=A|56=B|34=1|52=20240101-00:00:00.000")
    assert r.exit_status == 0, r.stderr
    assert "Heartbeat" in r.stdout


def test_strict_refuses_pipe_text_without_9_and_10() -> None:
    r = run_cli("decode", "--strict", "35=0|49=A|56=B|34=1|52=20240101-00:00:00.000")
    assert r.exit_status == 5
    assert "--strict" in r.stderr


def test_soh_argument_is_accepted() -> None:
    r = run_cli("decode", "-o", "raw", wire().decode("latin-1"))
    assert r.exit_status == 0, r.stderr
    assert r.stdout.startswith("8=FIX.4.4|9=")


def test_stdin_stream_of_raw_frames() -> None:
    r = run_cli("decode", "-o", "compact", input=wire() + wire(HEARTBEAT))
    assert r.exit_status == 0, r.stderr
    assert len(r.stdout.splitlines()) == 2


def test_quickfix_style_log_file(tmp_path: Path) -> None:
    log = tmp_path / "FIX.4.4-ME-KRAKEN-TRD.messages.current.log"
    log.write_bytes(
        b"20240101-12:00:00.000 : " + wire() + b"\n"
        + b"20240101-12:00:01.000 : " + wire(HEARTBEAT) + b"\n"
    )
    r = run_cli("decode", "--file", str(log), "--output", "json")
    assert r.exit_status == 0, r.stderr
    objs = [json.loads(line) for line in r.stdout.splitlines()]
    assert [o["msg_name"] for o in objs] == ["NewOrderSingle", "Heartbeat"]


def test_pipe_separated_log_lines(tmp_path: Path) -> None:
    log = tmp_path / "pasted.txt"
    log.write_text(f"20240101-12:00:00.000 : {piped(wire())}\n\n{piped(wire(HEARTBEAT))}\n")
    r = run_cli("decode", "-f", str(log), "-o", "compact")
    assert r.exit_status == 0, r.stderr
    assert len(r.stdout.splitlines()) == 2


def test_missing_file_is_a_usage_error() -> None:
    r = run_cli("decode", "--file", "/nonexistent/x.log")
    assert r.exit_status == 2
    assert r.stderr.startswith("krakenfix: error: no such file")


def test_dictionary_problem_is_invalid() -> None:
    fields = tuple(f for f in ORDER if f[0] != 11)  # NewOrderSingle without ClOrdID(11)
    r = run_cli("decode", piped(wire(fields)))
    assert r.exit_status == 5
    assert "11" in r.stderr


@pytest.mark.parametrize("mode", ["pretty", "compact", "raw", "json"])
def test_password_is_never_printed(mode: str) -> None:
    logon = ((35, "A"), (49, "ME"), (56, "KRAKEN-TRD"), (34, "1"), (52, "20240101-12:00:00.000"),
             (98, "0"), (108, "30"), (553, "key"), (554, "secretsig"))
    good = piped(wire(logon))
    broken = good[: good.rindex("10=")] + "10=999|"
    for text in (good, broken, "35=A|554=secretsig|98=0|108=30"):
        r = run_cli("decode", "--output", mode, text)
        assert "secretsig" not in r.output, (mode, text)
    r = run_cli("decode", "--output", mode, input=wire(logon) + b"xx554=secretsig\x01" + wire(logon))
    assert "secretsig" not in r.output


def test_to_a_pipe_the_default_mode_is_compact_and_an_explicit_mode_is_kept() -> None:
    default = run_cli("decode", piped(wire()))
    assert default.exit_status == 0, default.stderr
    lines = [line for line in default.stdout.splitlines() if line.strip()]
    assert len(lines) == 1 and " NewOrderSingle 34=2 " in lines[0] and "╭" not in default.stdout
    pretty = run_cli("decode", "-o", "pretty", piped(wire()))
    assert "╭" in pretty.stdout and "NewOrderSingle" in pretty.stdout
