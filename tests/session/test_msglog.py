"""MessageLog writes QuickFIX's file-log layout, one line per message, secrets redacted."""

from __future__ import annotations

from pathlib import Path

from krakenfix_cli.fix.encode import frame_text
from krakenfix_cli.fix.values import parse_utc_timestamp
from krakenfix_cli.session.msglog import MessageLog, NullLog, format_log_timestamp

T = 1_700_000_000.25  # 2023-11-14T22:13:20.25Z

LOGON = frame_text(
    "35=A|34=1|49=KFXCLIENT|52=20231114-22:13:20.000|56=KRAKEN-TRD|98=0|108=60|553=key|554=SIGNATURE|5025=1"
)


def test_timestamp_has_quickfix_nine_digit_fraction() -> None:
    assert format_log_timestamp(T) == "20231114-22:13:20.250000000"
    assert format_log_timestamp(1_700_000_000.000001) == "20231114-22:13:20.000001000"


def test_timestamp_parses_back_with_fix_utc_timestamp_rules() -> None:
    assert abs(parse_utc_timestamp(format_log_timestamp(T)) - T) < 1e-6


def test_files_are_named_like_quickfix_file_log(tmp_path: Path) -> None:
    with MessageLog(tmp_path, "KFXCLIENT", "KRAKEN-TRD") as log:
        log.event("Created session", T)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "FIX.4.4-KFXCLIENT-KRAKEN-TRD.event.current.log",
        "FIX.4.4-KFXCLIENT-KRAKEN-TRD.messages.current.log",
    ]


def test_each_message_is_one_timestamped_line_with_raw_soh(tmp_path: Path) -> None:
    hb = frame_text("35=0|34=2|49=KRAKEN-TRD|52=20231114-22:13:20.000|56=KFXCLIENT")
    with MessageLog(tmp_path, "KFXCLIENT", "KRAKEN-TRD") as log:
        log.outgoing(hb, T)
        log.incoming(hb, T + 1)
    lines = log.messages_path.read_bytes().split(b"\n")
    assert lines[0] == b"20231114-22:13:20.250000000 : " + hb
    assert lines[1] == b"20231114-22:13:21.250000000 : " + hb
    assert lines[2] == b""


def test_password_never_reaches_the_message_log(tmp_path: Path) -> None:
    with MessageLog(tmp_path, "KFXCLIENT", "KRAKEN-TRD") as log:
        log.outgoing(LOGON, T)
        log.incoming(LOGON, T)
    data = log.messages_path.read_bytes()
    assert b"SIGNATURE" not in data
    assert data.count(b"\x01554=***\x01") == 2


def test_event_lines_stay_single_lines(tmp_path: Path) -> None:
    with MessageLog(tmp_path, "S", "T") as log:
        log.event("first\nsecond", T)
    assert log.event_path.read_text() == "20231114-22:13:20.250000000 : first second\n"


def test_log_appends_across_reopen(tmp_path: Path) -> None:
    for i in range(2):
        with MessageLog(tmp_path, "S", "T") as log:
            log.event(f"run {i}", T)
    assert log.event_path.read_text().count("\n") == 2


def test_log_lines_are_visible_before_close(tmp_path: Path) -> None:
    log = MessageLog(tmp_path, "S", "T")
    log.event("tail -f sees this", T)
    assert "tail -f sees this" in log.event_path.read_text()
    log.close()
    log.close()


def test_log_files_are_private_to_the_owner(tmp_path: Path) -> None:
    with MessageLog(tmp_path / "logs", "S", "T") as log:
        pass
    assert log.messages_path.stat().st_mode & 0o077 == 0


def test_null_log_accepts_everything_and_writes_nothing(tmp_path: Path) -> None:
    log = NullLog()
    log.incoming(LOGON, T)
    log.outgoing(LOGON, T)
    log.event("x", T)
    log.close()
    assert list(tmp_path.iterdir()) == []


def test_a_torn_tail_gets_a_fresh_line_and_a_short_write_leaves_none(tmp_path: Path, monkeypatch) -> None:
    """The log is a record: a write failure is cut back, reported once, and never raised."""
    import errno
    import os as real_os

    failures: list[OSError] = []
    log = MessageLog(tmp_path, "KFXCLIENT", "KRAKEN-TRD")
    log.on_failure = lambda exc, path: failures.append(exc)
    log.incoming(LOGON, T)
    with log.messages_path.open("ab") as fh:
        fh.write(b"20231114-22:13:20.250000000 : 8=FIX.4.4\x019=")  # another writer died mid-line
    log.incoming(LOGON, T)
    before = log.messages_path.read_bytes()
    real_write = real_os.write

    def half(fd: int, data: bytes) -> int:
        return real_write(fd, bytes(data)[: len(data) // 2])

    monkeypatch.setattr("krakenfix_cli.session.appendonly.os.write", half)
    log.incoming(LOGON, T)
    log.outgoing(LOGON, T)
    monkeypatch.undo()
    assert log.messages_path.read_bytes() == before
    assert len(failures) == 1 and failures[0].errno == errno.ENOSPC and log.failure is failures[0]
    lines = before.splitlines()
    assert len(lines) == 3 and lines[0].endswith(b"\x01") and lines[2] == lines[0]  # the torn one is alone
    log.close()
