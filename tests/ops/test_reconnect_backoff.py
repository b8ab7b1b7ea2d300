"""transport.reconnect.Backoff: a pure, seeded schedule."""

from __future__ import annotations

import pytest

from krakenfix_cli.transport.reconnect import Backoff


def test_same_seed_gives_the_same_schedule() -> None:
    a, b = Backoff(seed=7), Backoff(seed=7)
    assert [a.next_delay() for _ in range(8)] == [b.next_delay() for _ in range(8)]


def test_delays_grow_to_the_cap_and_stay_within_the_jitter_band() -> None:
    bo = Backoff(base=0.5, factor=2, cap=4, jitter=0.5, seed=1)
    for attempt in range(10):
        top = min(0.5 * 2**attempt, 4)
        assert top * 0.5 <= bo.next_delay() <= top


def test_reset_starts_again_from_base() -> None:
    bo = Backoff(base=1, cap=30, jitter=0, seed=1)
    assert [bo.next_delay() for _ in range(3)] == [1, 2, 4]
    bo.reset()
    assert bo.next_delay() == 1


def test_a_long_outage_does_not_overflow() -> None:
    bo = Backoff(base=1, factor=10, cap=30, jitter=0)
    assert bo.ceiling(10_000) == 30


def test_nonsense_parameters_are_refused() -> None:
    with pytest.raises(ValueError):
        Backoff(factor=0.5)
