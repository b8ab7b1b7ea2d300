"""No content of the order journal can make a reader raise (hypothesis: bytes and JSON)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from krakenfix_cli.settings.journal import JOURNAL_FILE, OrderJournal

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=8,
)
_ids = st.sampled_from(["1", "2", "x"])
#: Mostly well-keyed records (so the fold is reached) whose values may be of any type.
_records = st.fixed_dictionaries(
    {"clordid": _ids | _json, "ev": st.sampled_from(["placed", "update"]) | _json},
    optional={k: _ids | _json for k in ("v", "t", "u", "new_clordid", "state", "order_id", "symbol", "side",
                                        "sender", "target", "conn", "profile")},
)


def _read_all(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as d:
        Path(d, JOURNAL_FILE).write_bytes(data)
        j = OrderJournal(d, sync=False, compact_bytes=1 if len(data) % 2 else 1 << 30)
        j.orders()
        j.open_orders()
        for cid in ("1", "2", "x"):
            j.find(clordid=cid)
            j.find(order_id=cid)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    _read_all(data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_records | _json, max_size=8))
def test_arbitrary_json_lines_never_raise(records: list[object]) -> None:
    _read_all(b"".join(json.dumps(r).encode() + b"\n" for r in records))
