"""pretty: a panel per message, for people reading a handful of messages.

The title is the header line (time, direction, MsgType name, MsgSeqNum(34)); each row is
tag, name, value, enum meaning. Repeating-group entries are indented under their
NumInGroup field, ``-`` marking the start of each entry. The border colour says what
the message means (theme.classify): fills green, rejects red, cancels yellow, admin dim.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from krakenfix_cli.fix.message import Message
from krakenfix_cli.fix.redact import MASK, redact_fields
from krakenfix_cli.render.compact import clock_text
from krakenfix_cli.render.escape import escape_text
from krakenfix_cli.render.theme import STYLES, classify

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.table import Table

_ARROW = {"in": "<", "out": ">"}


def header_line(msg: Message, d: Any, direction: str | None, when: float | None) -> str:
    """``14:02:03.123 < ExecutionReport(8) 34=12``: the panel title."""
    parts = []
    t = clock_text(when, msg)
    if t:
        parts.append(t)
    if direction is not None:
        parts.append(_ARROW.get(direction, direction))
    mt = msg.msg_type
    parts.append(f"{d.msg_name(mt)}({mt})")
    seq = msg.get(34)
    if seq is not None:
        parts.append(f"34={seq}")
    return escape_text(" ".join(parts))


def _add_rows(table: Table, nodes: list[Any], d: Any, depth: int) -> None:
    from rich.text import Text

    from krakenfix_cli.fix.groups import GroupNode

    for entry_start, node in _with_entry_marks(nodes):
        indent = "" if depth == 0 else "  " * (depth - 1) + ("- " if entry_start else "  ")
        if isinstance(node, GroupNode):
            tag, value = node.count_tag, str(getattr(node, "value", None) or len(node.entries))
        else:
            tag, value = node.tag, node.value
        meaning = d.enum_meaning(tag, value) if value != MASK else None
        table.add_row(
            Text(str(tag), style=STYLES["tag"], justify="right"),
            Text(indent + d.field_name(tag), style=STYLES["name"]),
            Text(escape_text(value), style=STYLES["secret"] if value == MASK else STYLES["value"]),
            Text(escape_text(meaning or ""), style=STYLES["enum"]),
        )
        if isinstance(node, GroupNode):
            for entry in node.entries:
                _add_rows(table, list(entry), d, depth + 1)


def _with_entry_marks(nodes: list[Any]) -> list[tuple[bool, Any]]:
    return [(i == 0, n) for i, n in enumerate(nodes)]


def render_pretty(msg: Message, d: Any, direction: str | None = None,
                  when: float | None = None) -> RenderableType:
    """A rich Panel for ``msg`` (secrets masked before anything else sees the fields)."""
    from rich import box
    from rich.panel import Panel
    from rich.table import Table

    from krakenfix_cli.fix.groups import group_tree

    safe = Message(redact_fields(msg.fields))
    table = Table.grid(padding=(0, 1))
    table.add_column(justify="right", no_wrap=True)
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")
    table.add_column()
    try:
        nodes = list(group_tree(safe, d))
    except Exception:  # a malformed group must not hide the message: show it flat
        from krakenfix_cli.fix.groups import FieldNode

        nodes = [FieldNode(t, v) for t, v in safe.fields]
    _add_rows(table, nodes, d, 0)
    kind = classify(safe)
    return Panel(
        table,
        title=header_line(safe, d, direction, when),
        title_align="left",
        border_style=STYLES[kind.value],
        box=box.ROUNDED,
        expand=False,
    )
