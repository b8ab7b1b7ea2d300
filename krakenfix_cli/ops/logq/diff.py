"""``log diff A B``: two messages field by field.

Fields are paired by tag and, for a tag that repeats (a group), by occurrence: the 2nd
269= of A faces the 2nd 269= of B. Rows follow A's field order; fields only B has come
after them, in B's order.
"""

from __future__ import annotations

from dataclasses import dataclass

from krakenfix_cli.fix.message import Message


@dataclass(frozen=True, slots=True)
class DiffRow:
    tag: int
    a: str | None  # None: A does not have this occurrence
    b: str | None

    @property
    def same(self) -> bool:
        return self.a == self.b


def diff_messages(a: Message, b: Message) -> list[DiffRow]:
    """One row per (tag, occurrence) present in either message."""
    b_values: dict[int, list[str]] = {}
    for tag, value in b:
        b_values.setdefault(tag, []).append(value)
    seen: dict[int, int] = {}
    rows: list[DiffRow] = []
    for tag, value in a:
        n = seen.get(tag, 0)
        seen[tag] = n + 1
        others = b_values.get(tag, [])
        rows.append(DiffRow(tag, value, others[n] if n < len(others) else None))
    used: dict[int, int] = {}
    for tag, value in b:
        n = used.get(tag, 0)
        used[tag] = n + 1
        if n >= seen.get(tag, 0):
            rows.append(DiffRow(tag, None, value))
    return rows
