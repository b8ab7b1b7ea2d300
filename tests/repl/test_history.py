"""History written to disk never holds Password(554) or RawData(96)."""

from __future__ import annotations

from pathlib import Path

from krakenfix_cli.repl.history import build_history, redact_line


def test_redacts_secret_tags_by_number_and_name() -> None:
    assert redact_line("raw 35=A|554=hunter2|96=abc|58=x") == "raw 35=A|554=***|96=***|58=x"
    assert redact_line("raw 35=A Password=hunter2 rawdata=zz") == "raw 35=A Password=*** rawdata=***"


def test_leaves_other_tags_alone() -> None:
    for line in ("raw 35=D|1554=5|9554=1|196=2", "buy 0.01 BTC/USD @ 554", "raw 35=A|554="):
        assert redact_line(line) == line


def test_file_history_writes_redacted_lines(tmp_path: Path) -> None:
    path = tmp_path / "state" / "history"
    history = build_history(path)
    history.append_string("raw 35=A|554=hunter2")
    content = path.read_text()
    assert "hunter2" not in content and "554=***" in content
    assert path.stat().st_mode & 0o777 == 0o600
    assert list(history.load_history_strings()) == ["raw 35=A|554=***"]
