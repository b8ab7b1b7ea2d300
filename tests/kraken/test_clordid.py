"""ClOrdID generation (SPEC §6.2): Spot numbers and timestamp-first v4 UUIDs, always increasing."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from krakenfix_cli.kraken.clordid import (
    ClOrdIdGenerator,
    clordid_order_key,
    is_increasing_number_clordid,
    is_valid_derivatives_clordid,
    is_valid_spot_clordid,
    next_derivatives_clordid,
    next_spot_clordid,
    uuid_timestamp,
)

T = 1_700_000_000.0
times = st.floats(min_value=1_500_000_000.0, max_value=2_500_000_000.0, allow_nan=False)


def test_spot_clordid_is_the_microsecond_timestamp() -> None:
    assert next_spot_clordid(T + 0.123456) == "1700000000123456"


def test_spot_clordid_steps_past_the_last_when_the_clock_lags() -> None:
    assert next_spot_clordid(T, last="1700000000000000") == "1700000000000001"
    assert next_spot_clordid(T - 10, last=1700000000000000) == "1700000000000001"


def test_derivatives_clordid_is_a_v4_uuid_with_the_time_first() -> None:
    cid = next_derivatives_clordid(T + 0.12345, random_bytes=lambda n: b"\xff" * n)
    u = uuid.UUID(cid)
    assert u.version == 4
    assert u.variant == uuid.RFC_4122
    assert abs(uuid_timestamp(cid) - (T + 0.12345)) < 1e-5  # type: ignore[operator]
    assert is_valid_derivatives_clordid(cid)


def test_derivatives_clordid_timestamp_uses_ten_microsecond_units() -> None:
    cid = next_derivatives_clordid(1623448294.234, random_bytes=lambda n: bytes(n))
    assert int(cid[:8] + cid[9:13], 16) == 162344829423400  # the value in Kraken's example


def test_shape_checks() -> None:
    assert is_increasing_number_clordid("1")
    assert is_increasing_number_clordid("9" * 18)
    assert not is_increasing_number_clordid("9" * 19)
    assert not is_increasing_number_clordid("0123")
    assert not is_increasing_number_clordid("abc")
    v4 = "0189c0b2-1a2b-4c3d-8e4f-0016d3cca427"
    assert is_valid_derivatives_clordid(v4)
    assert is_valid_derivatives_clordid(v4.upper())
    assert not is_valid_derivatives_clordid("1b4e28ba-2fa1-11d2-883f-0016d3cca427")  # v1
    assert not is_valid_derivatives_clordid("0189c0b2-1a2b-4c3d-7e4f-0016d3cca427")  # bad variant
    assert not is_valid_derivatives_clordid("0189c0b21a2b4c3d8e4f0016d3cca427")  # no dashes
    assert is_valid_spot_clordid("1700000000000000") and is_valid_spot_clordid(v4)
    assert not is_valid_spot_clordid("my-order")
    assert uuid_timestamp("123") is None


@given(st.lists(times, min_size=1, max_size=40))
def test_spot_ids_strictly_increase_whatever_the_clock_does(clock: list[float]) -> None:
    gen = ClOrdIdGenerator()
    ids = [gen.next(t) for t in clock]
    values = [int(i) for i in ids]
    assert values == sorted(values) and len(set(values)) == len(values)
    assert all(len(i) <= 18 and is_valid_spot_clordid(i) for i in ids)


@given(st.lists(times, min_size=1, max_size=40))
def test_derivatives_ids_strictly_increase_whatever_the_clock_does(clock: list[float]) -> None:
    gen = ClOrdIdGenerator(derivatives=True)
    ids = [gen.next(t) for t in clock]
    keys = [clordid_order_key(i) for i in ids]
    assert all(k is not None for k in keys)
    assert keys == sorted(keys) and len(set(keys)) == len(keys)  # type: ignore[type-var]
    assert all(is_valid_derivatives_clordid(i) for i in ids)


@given(times, times)
def test_generator_resumed_from_a_persisted_last_value_stays_above_it(t1: float, t2: float) -> None:
    first = ClOrdIdGenerator().next(t1)
    resumed = ClOrdIdGenerator(last=first).next(t2)
    assert int(resumed) > int(first)


def test_spot_numbers_at_18_digits_go_on_with_timestamp_first_uuids() -> None:
    """Spot takes both formats (SPEC §6.2): the generator recovers instead of refusing every send."""
    from krakenfix_cli.kraken.clordid import clordid_order_key, is_valid_derivatives_clordid, next_clordid

    t = 1_700_000_000.0
    after = next_clordid(t, "999999999999999999")
    assert is_valid_derivatives_clordid(after)
    later = next_clordid(t - 10, after)  # stays on UUIDs, and they keep increasing
    assert is_valid_derivatives_clordid(later)
    assert clordid_order_key(later) > clordid_order_key(after)  # type: ignore[operator]
    assert next_clordid(t, "1700000000000005") == "1700000000000006"  # numbers as before below the limit
