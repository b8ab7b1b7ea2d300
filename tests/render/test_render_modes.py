"""Every output mode: what a line or panel says, colour only on a colour TTY, secrets never."""

from __future__ import annotations

import io
import json

import pytest

from krakenfix_cli.fix.encode import encode_fields
from krakenfix_cli.fix.message import Message, decode
from krakenfix_cli.render import Env, MessageWriter, Mode, default_dictionary, render_message
from krakenfix_cli.render.compact import render_compact
from krakenfix_cli.render.theme import Kind, classify

WHEN = 1_700_000_523.123  # 2023-11-14 22:22:03.123 UTC


def frame(*fields: tuple[int, str]) -> Message:
    return decode(encode_fields(fields))


FILL = frame(
    (35, "8"), (49, "KRAKEN-TRD"), (56, "ME"), (34, "12"), (52, "20231114-22:22:03.120"),
    (37, "O-1"), (11, "A1"), (17, "E-9"), (150, "F"), (39, "2"), (55, "BTC/USD"), (54, "1"),
    (38, "0.01"), (44, "50000"), (32, "0.01"), (31, "50000"), (151, "0"), (14, "0.01"), (6, "50000"),
)
LOGON = frame((35, "A"), (34, "1"), (49, "ME"), (56, "KRAKEN-TRD"), (52, "20231114-22:22:03.000"),
              (98, "0"), (108, "30"), (553, "key"), (554, "s3cr3t-signature"), (96, "rawsecret"))
MD = frame((35, "W"), (34, "7"), (49, "KRAKEN-MD"), (56, "ME"), (52, "20231114-22:22:03.000"),
           (262, "r1"), (55, "BTC/USD"), (268, "2"), (269, "0"), (270, "49999"), (271, "1"),
           (269, "1"), (270, "50001"), (271, "2"))


def env(*, tty: bool = False, no_color: bool = False) -> tuple[Env, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    e = Env(stdout=out, stderr=err, stdin=io.StringIO(), stdout_isatty=tty, stderr_isatty=tty,
            no_color=no_color, width=100)
    return e, out, err


def test_compact_execution_report_reads_like_a_trade_line() -> None:
    e, _, _ = env()
    line = render_message(FILL, Mode.COMPACT, e, direction="in", when=WHEN)
    assert isinstance(line, str)
    assert line.startswith("22:22:03.123 < ExecutionReport 34=12 ")
    assert "BUY 0.01 BTC/USD @ 50000 cum=0.01 leaves=0" in line
    assert "11=A1" in line and "37=O-1" in line and "17=E-9" in line
    assert "\n" not in line and "\x1b" not in line


def test_compact_without_time_uses_sending_time() -> None:
    line = render_compact(FILL, default_dictionary())
    assert line.startswith("22:22:03.120 ExecutionReport")


def test_compact_is_coloured_only_on_a_colour_tty() -> None:
    tty, _, _ = env(tty=True)
    no_color, _, _ = env(tty=True, no_color=True)
    pipe, _, _ = env()
    assert str(render_message(FILL, "compact", tty)).startswith("\x1b[1;32m")
    assert "\x1b" not in str(render_message(FILL, "compact", no_color))
    assert "\x1b" not in str(render_message(FILL, "compact", pipe))


def test_raw_is_tag_value_pipe_as_on_the_wire() -> None:
    e, _, _ = env()
    line = render_message(FILL, Mode.RAW, e)
    assert isinstance(line, str)
    assert line.startswith("8=FIX.4.4|9=") and line.endswith("|") and "|35=8|" in line


def test_json_has_tags_names_and_enum_names() -> None:
    e, _, _ = env()
    obj = json.loads(str(render_message(FILL, Mode.JSON, e, direction="in", when=WHEN)))
    assert obj["msg_type"] == "8" and obj["msg_name"] == "ExecutionReport" and obj["seq"] == 12
    assert obj["direction"] == "in" and obj["kind"] == "fill"
    side = next(f for f in obj["fields"] if f["tag"] == 54)
    assert side["name"] == "Side" and side["value"] == "1" and side["enum"].lower() == "buy"


def test_json_nests_repeating_groups() -> None:
    e, _, _ = env()
    obj = json.loads(str(render_message(MD, Mode.JSON, e)))
    group = next(f for f in obj["fields"] if f["tag"] == 268)
    assert len(group["entries"]) == 2
    assert [f["value"] for f in group["entries"][1] if f["tag"] == 270] == ["50001"]


def test_pretty_panel_shows_names_meanings_and_indented_groups() -> None:
    e, out, _ = env()
    MessageWriter(e, Mode.PRETTY).write(MD, "in", WHEN)
    text = out.getvalue()
    assert "MarketDataSnapshotFullRefresh" in text and "22:22:03.123 <" in text
    assert "NoMDEntries" in text and "- MDEntryType" in text
    assert "\x1b" not in text


@pytest.mark.parametrize("mode", list(Mode))
def test_secrets_are_redacted_in_every_mode(mode: Mode) -> None:
    e, out, _ = env()
    MessageWriter(e, mode).write(LOGON, "out", WHEN)
    text = out.getvalue()
    assert "s3cr3t-signature" not in text and "rawsecret" not in text
    assert "***" in text


@pytest.mark.parametrize(
    ("fields", "kind"),
    [
        (((35, "8"), (150, "F"), (39, "2")), Kind.FILL),
        (((35, "8"), (150, "8"), (39, "8")), Kind.REJECT),
        (((35, "8"), (150, "4"), (39, "4")), Kind.CANCEL),
        (((35, "3"), (45, "2")), Kind.REJECT),
        (((35, "j"), (380, "3")), Kind.REJECT),
        (((35, "0"),), Kind.ADMIN),
        (((35, "8"), (150, "0"), (39, "0")), Kind.NEW),
    ],
)
def test_messages_are_classified_by_meaning(fields: tuple[tuple[int, str], ...], kind: Kind) -> None:
    assert classify(Message(fields)) is kind
