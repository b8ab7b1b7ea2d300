"""The bottom toolbar: profile colour, state, seq numbers, last inbound, rollover countdown."""

from __future__ import annotations

from krakenfix_cli.repl.state import ReplState
from krakenfix_cli.repl.toolbar import build_toolbar, format_duration, seconds_to_rollover, toolbar_fragments

DAY = 1_700_006_400.0  # 2023-11-15 00:00:00 UTC


def text(frags: list[tuple[str, str]]) -> str:
    return "".join(t for _, t in frags)


def test_rollover_countdown_to_2200_utc() -> None:
    assert seconds_to_rollover(DAY) == 22 * 3600
    assert seconds_to_rollover(DAY + 21 * 3600 + 59 * 60) == 60
    assert seconds_to_rollover(DAY + 22 * 3600) == 86400
    assert seconds_to_rollover(DAY + 23 * 3600) == 23 * 3600


def test_durations() -> None:
    assert format_duration(7500) == "2h05m"
    assert format_duration(249) == "4m09s"
    assert format_duration(12.7) == "12s"


def test_logged_on_sim_toolbar() -> None:
    state = ReplState(profile="sim", status="logged on", seq_in=12, seq_out=7, last_received=DAY + 3,
                      heartbeat_interval=30)
    frags = toolbar_fragments(state, DAY + 6)
    line = text(frags)
    assert " sim " in line and "● logged on" in line and "seq in 12 out 7" in line
    assert "last in 3s ago (hb 30s)" in line and "rollover in 21h59m" in line
    assert frags[0][0] == "class:toolbar.profile"


def test_production_profile_is_red_and_named() -> None:
    frags = toolbar_fragments(ReplState(profile="prod-spot", production=True), DAY)
    assert frags[0] == ("class:toolbar.profile.prod", " PROD-SPOT PRODUCTION ")


def test_late_heartbeat_and_near_rollover_turn_yellow() -> None:
    state = ReplState(status="logged on", last_received=DAY, heartbeat_interval=30)
    frags = toolbar_fragments(state, DAY + 22 * 3600 - 120)
    assert ("class:toolbar.warn", "21h58m ago") in frags
    assert ("class:toolbar.warn", "2m00s") in frags


def test_reconnecting_notice_and_orders_count() -> None:
    state = ReplState(status="reconnecting", notice="reconnecting in 2 s")
    state.add_order("1", "BTC/USD", "1", "1", "2", "1")
    line = text(toolbar_fragments(state, DAY))
    assert "◌ reconnecting" in line and "orders 1/1" in line and line.endswith("reconnecting in 2 s")


def test_build_toolbar_syncs_state_before_drawing() -> None:
    state = ReplState()

    def sync(s: ReplState) -> None:
        s.status = "logged on"
        s.seq_out = 99

    state.sync = sync
    line = text(build_toolbar(state, clock=lambda: DAY)())
    assert "● logged on" in line and "out 99" in line
