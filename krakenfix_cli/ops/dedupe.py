"""ExecID(17) deduplication: a report resent as PossDup after a gap or a crash is shown once.

Kept apart from ``tail`` so the REPL can use it without importing tail's machinery.
"""

from __future__ import annotations

from collections import OrderedDict

#: How many ExecIDs are remembered for deduplication (a busy day fits; memory stays bounded).
DEDUPE_CAPACITY = 2_000_000


class ExecIdSet:
    """Seen ExecID(17)s, bounded, oldest forgotten first."""

    def __init__(self, capacity: int = DEDUPE_CAPACITY) -> None:
        self.capacity = capacity
        self._seen: OrderedDict[str, None] = OrderedDict()

    def first_time(self, exec_id: str) -> bool:
        """True the first time ``exec_id`` is offered."""
        if exec_id in self._seen:
            return False
        self._seen[exec_id] = None
        if len(self._seen) > self.capacity:
            self._seen.popitem(last=False)
        return True
