"""Flat fields → repeating-group tree, using only the dictionary's NumInGroup layouts.

Entries are found the way QuickFIX's ``Message::setGroup`` finds them, which depends on
the group's delimiter and member set only, never on the order of the other members
(Kraken's messages do not follow the FIX 4.4 member order, SPEC §10.18):

- the delimiter starts a new entry;
- a member that is not yet in the current entry joins it; a member already in it starts a
  new entry (so does any member when no entry has started yet);
- the first non-member ends the group. The NumInGroup *value* is not used to parse:
  comparing it with the number of entries is :mod:`krakenfix_cli.fix.validate`'s job (373=16).

A NumInGroup tag is a group when it is a header tag with a header group, or a body tag
with a group in the message's layout; everything else stays a plain field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from krakenfix_cli.fix.dictionary import Dictionary, GroupDef, _Frozen
from krakenfix_cli.fix.message import Field, Message

TYPE_CHECKING = False
if TYPE_CHECKING:
    # An item is a plain field (tag, value) or a group (count_tag, count_value, entries).
    Item = tuple[int, str] | tuple[int, str, list[list["Item"]]]


class FieldNode(_Frozen):
    """One plain field of the tree."""

    __slots__ = ("tag", "value")
    _order = ("tag", "value")
    tag: int
    value: str

    def __init__(self, tag: int, value: str) -> None:
        self._set(tag=tag, value=value)


class GroupNode(_Frozen):
    """A repeating group: its NumInGroup tag, the entries found, and the count as sent."""

    __slots__ = ("count_tag", "entries", "value")
    _order = ("count_tag", "entries", "value")
    count_tag: int
    entries: list[list[Node]]
    #: The NumInGroup value as it appeared on the wire (may disagree with ``len(entries)``).
    value: str

    def __init__(self, count_tag: int, entries: list[list[Node]], value: str | None = None) -> None:
        self._set(count_tag=count_tag, entries=entries, value=str(len(entries)) if value is None else value)


Node = FieldNode | GroupNode


def tree_items(fields: Sequence[Field], dictionary: Dictionary, msg_type: str | None = None) -> list[Item]:
    """The tree as plain tuples (the fast form :mod:`validate` works on).

    ``msg_type`` defaults to the first MsgType(35) in ``fields``.
    """
    if msg_type is None:
        msg_type = next((v for t, v in fields if t == 35), "")
    mdef = dictionary.message(msg_type)
    body_groups: Mapping[int, GroupDef] = mdef.groups if mdef is not None else {}
    header_groups = dictionary.header.groups
    trailer_groups = dictionary.trailer.groups
    header_tags = dictionary.header_tags
    trailer_tags = dictionary.trailer_tags
    out: list[Item] = []
    i, n = 0, len(fields)
    while i < n:
        tag, value = fields[i]
        i += 1
        if tag in header_tags:
            gdef = header_groups.get(tag)
        elif tag in trailer_tags:
            gdef = trailer_groups.get(tag)
        else:
            gdef = body_groups.get(tag)
        if gdef is None:
            out.append((tag, value))
        else:
            item, i = _group(fields, i, tag, value, gdef)
            out.append(item)
    return out


def _group(fields: Sequence[Field], i: int, count_tag: int, value: str, gdef: GroupDef) -> tuple[Item, int]:
    entries: list[list[Item]] = []
    current: list[Item] | None = None
    seen: set[int] = set()
    members = gdef.member_set
    delimiter = gdef.delimiter
    nested = gdef.groups
    n = len(fields)
    while i < n:
        tag, v = fields[i]
        if tag == delimiter or (tag in members and (current is None or tag in seen)):
            current = []
            seen = set()
            entries.append(current)
        elif tag not in members:
            break
        assert current is not None  # a member always has an entry by now
        i += 1
        seen.add(tag)
        sub = nested.get(tag)
        if sub is None:
            current.append((tag, v))
        else:
            item, i = _group(fields, i, tag, v, sub)
            current.append(item)
    return (count_tag, value, entries), i


def _to_nodes(items: Iterable[Item]) -> list[Node]:
    out: list[Node] = []
    for item in items:
        if len(item) == 2:
            out.append(FieldNode(item[0], item[1]))
        else:
            out.append(GroupNode(item[0], [_to_nodes(e) for e in item[2]], item[1]))
    return out


def group_tree(msg: Message, dictionary: Dictionary) -> list[Node]:
    """The fields of ``msg`` in wire order, repeating groups nested as :class:`GroupNode`."""
    return _to_nodes(tree_items(msg.fields, dictionary))


def flatten(nodes: Iterable[Node]) -> list[Field]:
    """Back to flat fields: ``flatten(group_tree(m, d)) == list(m.fields)``."""
    out: list[Field] = []
    for node in nodes:
        if isinstance(node, FieldNode):
            out.append((node.tag, node.value))
        else:
            out.append((node.count_tag, node.value))
            for entry in node.entries:
                out.extend(flatten(entry))
    return out


def find_groups(nodes: Iterable[Node], count_tag: int) -> list[GroupNode]:
    """Every group with ``count_tag`` in ``nodes``, nested ones included (depth first)."""
    found: list[GroupNode] = []
    for node in nodes:
        if isinstance(node, GroupNode):
            if node.count_tag == count_tag:
                found.append(node)
            for entry in node.entries:
                found.extend(find_groups(entry, count_tag))
    return found
