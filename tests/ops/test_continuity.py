"""ops.continuity: reset (141=Y) or continue (141=N), from the store's period stamp and a clock.

The clock is a number passed in: "a new day" is a time after the next 22:00 UTC, never a
real wait. What the store says is read from real FileStores in a temporary directory.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from krakenfix_cli.fix.encode import frame_text
from krakenfix_cli.kraken.schedule import DAY, ROLLOVER_AT, period_start
from krakenfix_cli.ops.continuity import decide_reset, store_facts
from krakenfix_cli.session.filestore import FileStore
from krakenfix_cli.session.texts import seq_too_low
from krakenfix_cli.sim.rollover import RolloverSchedule


def _utc(text: str) -> float:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC).timestamp()


# -- the period ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("now", "start"), [
    ("2026-12-02 14:00:00", "2026-12-01 22:00:00"),
    ("2026-12-02 21:59:59", "2026-12-01 22:00:00"),
    ("2026-12-02 22:00:00", "2026-12-02 22:00:00"),
    ("2026-12-02 23:30:00", "2026-12-02 22:00:00"),
    ("2026-12-03 00:00:00", "2026-12-02 22:00:00"),
])
def test_the_period_starts_at_the_last_22_00_utc(now: str, start: str) -> None:
    assert period_start(_utc(now)) == _utc(start)


@given(st.floats(min_value=0, max_value=4e9, allow_nan=False))
def test_the_period_holds_now_and_the_simulator_rolls_over_at_its_end(now: float) -> None:
    start = period_start(now)
    assert start <= now < start + DAY
    assert start % DAY == ROLLOVER_AT
    assert RolloverSchedule().next_after(now) == start + DAY


# -- the decision ------------------------------------------------------------------------------------------------
NOW = _utc("2026-12-02 14:00:00")
THIS = period_start(NOW)
YESTERDAY = THIS - DAY


@pytest.mark.parametrize(("kwargs", "reset", "words"), [
    ({"stamp_period": THIS}, False, "belong to this rollover period"),
    ({"stamp_period": THIS, "forced": True}, True, "--reset"),
    ({"stamp_period": YESTERDAY}, True, "first logon of this rollover period"),
    ({"stamp_period": THIS + DAY}, True, "first logon of this rollover period"),  # the clock went back
    ({"stamp_period": None}, True, "does not say which rollover period"),
    ({"stamp_period": None, "empty": True}, True, "no sequence numbers yet"),
    ({"stamp_period": THIS, "gateway_restarted": True}, True, "the gateway restarted"),
    ({"stamp_period": YESTERDAY, "may_reset": False}, False, "a reset would make the earlier messages unreachable"),
    ({"stamp_period": None, "may_reset": False, "gateway_restarted": True}, False, "unreachable"),
    ({"stamp_period": THIS, "may_reset": False, "forced": True}, True, "--reset"),
])
def test_decide_reset_table(kwargs: dict[str, object], reset: bool, words: str) -> None:
    args = {"forced": False, **kwargs}
    decision = decide_reset(args.pop("stamp_period"), NOW, **args)  # type: ignore[arg-type]
    assert decision.reset is reset
    assert words in decision.reason
    assert decision.period == THIS


def test_a_store_from_before_22_00_resets_on_the_first_logon_after_it() -> None:
    before = _utc("2026-12-02 21:59:30")
    after = _utc("2026-12-02 22:00:31")
    stamped = decide_reset(None, before, forced=False).period
    assert decide_reset(stamped, before + 20, forced=False).reset is False
    first = decide_reset(stamped, after, forced=False)
    assert first.reset is True and first.period == _utc("2026-12-02 22:00:00")
    assert decide_reset(first.period, after + 3600, forced=False).reset is False


@given(stamp=st.one_of(st.none(), st.integers(0, 60).map(lambda n: n * DAY + ROLLOVER_AT)),
       now=st.floats(min_value=0, max_value=61 * DAY, allow_nan=False),
       forced=st.booleans(), may_reset=st.booleans(), empty=st.booleans(), restarted=st.booleans())
def test_decide_reset_continues_only_within_the_stamped_period(stamp: int | None, now: float, forced: bool,
                                                             may_reset: bool, empty: bool, restarted: bool) -> None:
    d = decide_reset(stamp, now, forced=forced, may_reset=may_reset, empty=empty, gateway_restarted=restarted)
    if forced:
        assert d.reset
    elif not may_reset:
        assert not d.reset
    else:
        assert d.reset == (restarted or empty or stamp != period_start(now))
    assert d.reason


# -- what a store says -----------------------------------------------------------------------------------------
def _frame(seq: int, body: str) -> bytes:
    return frame_text(f"35={body.split('|', 1)[0]}|34={seq}|49=A|56=B|52=20261202-14:00:00.000|"
                      + body.split("|", 1)[1])


def test_store_facts_of_a_new_store_and_a_stamped_one(tmp_path: Path) -> None:
    with FileStore(tmp_path / "s") as store:
        facts = store_facts(store)
        assert (facts.period, facts.empty, facts.gateway_restarted) == (None, True, False)
        store.save(1, _frame(1, "A|98=0|108=30|141=Y"))
        store.set_next_target_seq(2)
        store.stamp_period(THIS)
        facts = store_facts(store)
        assert (facts.period, facts.empty, facts.gateway_restarted) == (THIS, False, False)


def test_a_session_that_ended_with_our_too_low_logout_means_the_gateway_restarted(tmp_path: Path) -> None:
    with FileStore(tmp_path / "s") as store:
        store.save(1, _frame(1, "A|98=0|108=30"))
        store.save(2, _frame(2, f"5|58={seq_too_low(9, 1)}"))
        store.stamp_period(THIS)
        facts = store_facts(store)
        assert facts.gateway_restarted
        assert decide_reset(facts.period, NOW, forced=False, gateway_restarted=facts.gateway_restarted).reset
        store.save(3, _frame(3, "5|58=bye"))  # a later session that ended normally
        assert not store_facts(store).gateway_restarted
