"""FIX 4.4 metadata: field names and types, enum meanings, message layouts, repeating groups.

The data comes from QuickFIX's ``FIX44.xml`` (``data/fix44.json``, made by
``python -m krakenfix_cli.fix.data.generate``), so that :mod:`krakenfix_cli.fix.validate`
accepts and refuses exactly what QuickFIX does. Kraken's additions live one layer up
(``krakenfix_cli.kraken.dictionary``) and are applied with :meth:`Dictionary.extended`:
``fix/`` knows nothing about Kraken.

Loading is lazy and cheap because ``krakenfix decode`` and the REPL import it: one
``json.loads`` (~3 ms), then definitions are built on first use and cached. The
definition classes are small immutable slotted classes rather than dataclasses: importing
:mod:`dataclasses` alone costs ~10 ms cold (it pulls in :mod:`inspect`).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType

# typing costs ~4 ms to import; annotations are strings (PEP 563), so only mypy needs it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar

    # Raw layouts as stored in fix44.json: [name, admin 0/1, {tag: 0/1}, {count_tag: group index}]
    _RawLayout = list[Any]
    # Raw group: [count_tag, delimiter, [members], [required], {nested count_tag: group index}]
    _RawGroup = list[Any]
    _RawField = list[Any]

_DATA_FILE = os.path.join(os.path.dirname(__file__), "data", "fix44.json")
_EMPTY_ENUMS: Mapping[str, str] = MappingProxyType({})
_NO_GROUPS: Mapping[int, GroupDef] = MappingProxyType({})

#: Value types whose text is several space-separated enum values (ExecInst(18) "P s").
MULTI_VALUE_TYPES = frozenset({"MULTIPLEVALUESTRING", "MULTIPLESTRINGVALUE", "MULTIPLECHARVALUE"})

#: MsgType "name" keys used for the header and trailer layouts (as QuickFIX does).
HEADER_KEY = "_header_"
TRAILER_KEY = "_trailer_"


class _Frozen:
    """Immutable, slotted value object: equality and repr over ``__slots__``."""

    __slots__ = ()
    #: Attribute order for repr and equality (``__slots__`` must stay sorted for ruff).
    _order: ClassVar[tuple[str, ...]] = ()

    def _set(self, **values: object) -> None:
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self._order)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(tuple(v for v in self._values() if isinstance(v, int | str | tuple)))

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._order)
        return f"{type(self).__name__}({inner})"


class FieldDef(_Frozen):
    """One field: ``FieldDef(54, "Side", "CHAR", {"1": "Buy", ...})``.

    ``type`` is the FIX44.xml type name (``INT``, ``QTY``, ``UTCTIMESTAMP``, ...);
    ``aliases`` are other labels for the same tag (Kraken's "OrderType" for 40).
    """

    __slots__ = ("aliases", "enums", "name", "tag", "type")
    _order = ("tag", "name", "type", "enums", "aliases")
    tag: int
    name: str
    type: str
    enums: Mapping[str, str]
    aliases: tuple[str, ...]

    def __init__(
        self,
        tag: int,
        name: str,
        type: str,
        enums: Mapping[str, str] = _EMPTY_ENUMS,
        aliases: tuple[str, ...] = (),
    ) -> None:
        self._set(tag=tag, name=name, type=type, enums=enums, aliases=tuple(aliases))


class GroupDef(_Frozen):
    """A repeating group: its NumInGroup tag, delimiter (first field of each entry) and members.

    ``members`` lists every tag that may appear directly in an entry (nested groups
    appear as their count tag; their own members live in ``groups``). ``required`` are
    the members every entry must carry.
    """

    __slots__ = ("count_tag", "delimiter", "groups", "member_set", "members", "required")
    _order = ("count_tag", "delimiter", "members", "required", "groups")
    count_tag: int
    delimiter: int
    members: tuple[int, ...]
    required: frozenset[int]
    groups: Mapping[int, GroupDef]
    member_set: frozenset[int]

    def __init__(
        self,
        count_tag: int,
        delimiter: int,
        members: tuple[int, ...],
        required: frozenset[int] = frozenset(),
        groups: Mapping[int, GroupDef] = _NO_GROUPS,
    ) -> None:
        self._set(
            count_tag=count_tag,
            delimiter=delimiter,
            members=tuple(members),
            required=frozenset(required),
            groups=groups,
            member_set=frozenset(members),
        )


class MessageDef(_Frozen):
    """A message layout: top-level fields (tag → required, group count tags included) and groups."""

    __slots__ = ("admin", "aliases", "fields", "groups", "msg_type", "name", "required")
    _order = ("msg_type", "name", "admin", "fields", "groups", "aliases")
    msg_type: str
    name: str
    admin: bool
    fields: Mapping[int, bool]
    groups: Mapping[int, GroupDef]
    aliases: tuple[str, ...]
    #: The required top-level tags, ascending (QuickFIX reports the lowest missing one).
    required: tuple[int, ...]

    def __init__(
        self,
        msg_type: str,
        name: str,
        admin: bool,
        fields: Mapping[int, bool],
        groups: Mapping[int, GroupDef] = _NO_GROUPS,
        aliases: tuple[str, ...] = (),
    ) -> None:
        self._set(
            msg_type=msg_type,
            name=name,
            admin=admin,
            fields=fields,
            groups=groups,
            aliases=tuple(aliases),
            required=tuple(sorted(t for t, r in fields.items() if r)),
        )


class Dictionary:
    """FIX metadata with lookups by tag, name and MsgType; immutable once built.

    Build one with :func:`fix44` or :meth:`extended`; everything is computed lazily.
    """

    def __init__(
        self,
        begin_string: str,
        fields: dict[int, _RawField],
        groups: list[_RawGroup],
        layouts: dict[str, _RawLayout],
        aliases: dict[int, tuple[str, ...]] | None = None,
        msg_aliases: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.begin_string = begin_string
        self._raw_fields = fields
        self._raw_groups = groups
        self._layouts = layouts  # msg types plus HEADER_KEY / TRAILER_KEY
        self._aliases = aliases or {}
        self._msg_aliases = msg_aliases or {}
        self._field_cache: dict[int, FieldDef] = {}
        self._group_cache: dict[int, GroupDef] = {}
        self._msg_cache: dict[str, MessageDef] = {}
        self._names: dict[str, int] | None = None
        self._msg_names: dict[str, str] | None = None
        header = layouts[HEADER_KEY][2]
        trailer = layouts[TRAILER_KEY][2]
        assert isinstance(header, dict) and isinstance(trailer, dict)
        #: Tags of the StandardHeader / StandardTrailer (group count tags included).
        self.header_tags: frozenset[int] = frozenset(int(t) for t in header)
        self.trailer_tags: frozenset[int] = frozenset(int(t) for t in trailer)

    # -- fields -----------------------------------------------------------------------------------
    def field(self, tag: int) -> FieldDef | None:
        """The definition of ``tag``, or None when the dictionary does not know it."""
        fd = self._field_cache.get(tag)
        if fd is None:
            raw = self._raw_fields.get(tag)
            if raw is None:
                return None
            enums = raw[2] if len(raw) > 2 else _EMPTY_ENUMS
            assert isinstance(enums, Mapping)
            fd = FieldDef(tag, str(raw[0]), str(raw[1]), MappingProxyType(dict(enums)),
                          self._aliases.get(tag, ()))
            self._field_cache[tag] = fd
        return fd

    def has_field(self, tag: int) -> bool:
        """True when ``tag`` is defined (QuickFIX: otherwise "Invalid tag number")."""
        return tag in self._raw_fields

    def field_type(self, tag: int) -> str | None:
        """The FIX44.xml type of ``tag`` (``"QTY"``), None when unknown."""
        raw = self._raw_fields.get(tag)
        return None if raw is None else str(raw[1])

    def field_enums(self, tag: int) -> Mapping[str, str] | None:
        """``{value: meaning}`` for an enumerated field, None when any value is allowed."""
        raw = self._raw_fields.get(tag)
        if raw is None or len(raw) < 3:
            return None
        enums = raw[2]
        assert isinstance(enums, dict)
        return enums

    def field_name(self, tag: int) -> str:
        """``"MsgSeqNum"`` for 34; the number as text when the tag is unknown."""
        raw = self._raw_fields.get(tag)
        return str(tag) if raw is None else str(raw[0])

    def tag_for(self, name_or_number: str) -> int | None:
        """A tag from a FIX name, an alias (case-insensitive) or digits (``"34"`` → 34)."""
        text = name_or_number.strip()
        if text.isdigit() and text.isascii():
            return int(text)
        names = self._names
        if names is None:
            names = {}
            for tag, raw in self._raw_fields.items():
                names.setdefault(str(raw[0]).lower(), tag)
            for tag, labels in self._aliases.items():
                for label in labels:
                    names.setdefault(label.lower(), tag)
            self._names = names
        return names.get(text.lower())

    def enum_meaning(self, tag: int, value: str) -> str | None:
        """``"Buy"`` for (54, ``"1"``); None when the field has no such enum value."""
        enums = self.field_enums(tag)
        return None if enums is None else enums.get(value)

    def enum_values(self, tag: int) -> list[tuple[str, str]]:
        """``[(value, meaning), ...]`` in dictionary order, for REPL completion; [] if free text."""
        enums = self.field_enums(tag)
        return [] if enums is None else list(enums.items())

    def all_fields(self) -> Iterable[FieldDef]:
        """Every field definition, by ascending tag."""
        for tag in sorted(self._raw_fields):
            fd = self.field(tag)
            assert fd is not None
            yield fd

    # -- messages ---------------------------------------------------------------------------------
    def _group(self, index: int) -> GroupDef:
        gd = self._group_cache.get(index)
        if gd is None:
            count, delim, members, required, nested = self._raw_groups[index]
            assert isinstance(members, list) and isinstance(required, list) and isinstance(nested, dict)
            groups = {int(t): self._group(g) for t, g in nested.items()}
            gd = GroupDef(int(count), int(delim), tuple(members), frozenset(required),
                          MappingProxyType(groups) if groups else _NO_GROUPS)
            self._group_cache[index] = gd
        return gd

    def _layout(self, key: str) -> MessageDef | None:
        md = self._msg_cache.get(key)
        if md is None:
            raw = self._layouts.get(key)
            if raw is None:
                return None
            name, admin, fields, groups = raw
            assert isinstance(fields, dict) and isinstance(groups, dict)
            gmap = {int(t): self._group(g) for t, g in groups.items()}
            md = MessageDef(
                key,
                str(name),
                bool(admin),
                MappingProxyType({int(t): bool(r) for t, r in fields.items()}),
                MappingProxyType(gmap) if gmap else _NO_GROUPS,
                self._msg_aliases.get(key, ()),
            )
            self._msg_cache[key] = md
        return md

    def message(self, msg_type: str) -> MessageDef | None:
        """The layout of ``msg_type`` (``"D"``), None when the dictionary has no such message."""
        if msg_type in (HEADER_KEY, TRAILER_KEY):
            return None
        return self._layout(msg_type)

    def has_message(self, msg_type: str) -> bool:
        """True when ``msg_type`` is defined (QuickFIX: otherwise "Invalid MsgType")."""
        return msg_type in self._layouts and msg_type not in (HEADER_KEY, TRAILER_KEY)

    def msg_name(self, msg_type: str) -> str:
        """``"ExecutionReport"`` for ``"8"``; ``"MsgType(<x>)"`` when unknown."""
        raw = self._layouts.get(msg_type)
        if raw is None or msg_type in (HEADER_KEY, TRAILER_KEY):
            return f"MsgType({msg_type})"
        return str(raw[0])

    def msg_type_for(self, name_or_type: str) -> str | None:
        """A MsgType from a message name or alias (case-insensitive) or the MsgType itself."""
        text = name_or_type.strip()
        if self.has_message(text):
            return text
        names = self._msg_names
        if names is None:
            names = {}
            for key, raw in self._layouts.items():
                if key not in (HEADER_KEY, TRAILER_KEY):
                    names.setdefault(str(raw[0]).lower(), key)
            for key, labels in self._msg_aliases.items():
                for label in labels:
                    names.setdefault(label.lower(), key)
            self._msg_names = names
        return names.get(text.lower())

    @property
    def header(self) -> MessageDef:
        """The StandardHeader layout (required: 8, 9, 35, 49, 56, 34, 52)."""
        md = self._layout(HEADER_KEY)
        assert md is not None
        return md

    @property
    def trailer(self) -> MessageDef:
        """The StandardTrailer layout (93, 89, 10)."""
        md = self._layout(TRAILER_KEY)
        assert md is not None
        return md

    def all_messages(self) -> Iterable[MessageDef]:
        """Every message layout, in dictionary order."""
        for key in self._layouts:
            if key not in (HEADER_KEY, TRAILER_KEY):
                md = self._layout(key)
                assert md is not None
                yield md

    def __iter__(self) -> Iterator[FieldDef]:
        return iter(self.all_fields())

    def __repr__(self) -> str:
        return f"<Dictionary {self.begin_string}: {len(self._raw_fields)} fields, {len(self._layouts) - 2} messages>"

    # -- extension --------------------------------------------------------------------------------
    def extended(
        self,
        *,
        fields: Iterable[FieldDef] = (),
        enums: Mapping[int, Mapping[str, str]] | None = None,
        message_fields: Mapping[str, Mapping[int, bool]] | None = None,
        group_fields: Mapping[tuple[str, int], Iterable[int]] | None = None,
        aliases: Mapping[int, Iterable[str]] | None = None,
        msg_aliases: Mapping[str, Iterable[str]] | None = None,
    ) -> Dictionary:
        """A new dictionary with additions; this one is left unchanged.

        - ``fields``: new fields, or redefinitions of existing ones (name and type are
          replaced; the FieldDef's enums and aliases are added to the existing ones).
        - ``enums``: ``{tag: {value: meaning}}`` added to a field's values; an existing value
          gets the new meaning (a venue that repurposes a value).
        - ``message_fields``: ``{msg_type: {tag: required}}`` allowed at the top level of a
          message (``HEADER_KEY`` / ``TRAILER_KEY`` for the header and trailer).
        - ``group_fields``: ``{(msg_type, count_tag): [tags]}`` extra members of a top-level
          repeating group (never required; the delimiter does not change).
        - ``aliases`` / ``msg_aliases``: extra labels for ``tag_for`` / ``msg_type_for``.

        Every tag used must be defined (here or already); otherwise ``ValueError``.
        """
        new_fields = dict(self._raw_fields)
        new_aliases = dict(self._aliases)
        for fd in fields:
            old = new_fields.get(fd.tag)
            old_enums = dict(old[2]) if old is not None and len(old) > 2 else {}
            merged = {**old_enums, **fd.enums}
            new_fields[fd.tag] = [fd.name, fd.type, merged] if merged else [fd.name, fd.type]
            if fd.aliases:
                new_aliases[fd.tag] = (*new_aliases.get(fd.tag, ()), *fd.aliases)
        for tag, values in (enums or {}).items():
            old = new_fields.get(tag)
            if old is None:
                raise ValueError(f"enums for undefined tag {tag}")
            old_enums = dict(old[2]) if len(old) > 2 else {}
            new_fields[tag] = [old[0], old[1], {**old_enums, **values}]
        for tag, labels in (aliases or {}).items():
            if tag not in new_fields:
                raise ValueError(f"alias for undefined tag {tag}")
            new_aliases[tag] = (*new_aliases.get(tag, ()), *labels)

        layouts = dict(self._layouts)
        groups = list(self._raw_groups)
        for msg_type, extra in (message_fields or {}).items():
            raw = layouts.get(msg_type)
            if raw is None:
                raise ValueError(f"fields for undefined MsgType {msg_type!r}")
            name, admin, old_fields, old_groups = raw
            assert isinstance(old_fields, dict)
            merged_fields = dict(old_fields)
            for tag, required in extra.items():
                if tag not in new_fields:
                    raise ValueError(f"field {tag} for {msg_type!r} is not defined")
                merged_fields[str(tag)] = 1 if required else 0
            layouts[msg_type] = [name, admin, merged_fields, old_groups]
        for (msg_type, count_tag), members in (group_fields or {}).items():
            raw = layouts.get(msg_type)
            if raw is None:
                raise ValueError(f"group fields for undefined MsgType {msg_type!r}")
            name, admin, old_fields, old_groups = raw
            assert isinstance(old_groups, dict)
            index = old_groups.get(str(count_tag))
            if index is None:
                raise ValueError(f"{msg_type!r} has no repeating group {count_tag}")
            g_count, g_delim, g_members, g_required, g_nested = groups[index]
            assert isinstance(g_members, list)
            added = [t for t in members if t not in g_members]
            for tag in added:
                if tag not in new_fields:
                    raise ValueError(f"group member {tag} is not defined")
            groups.append([g_count, g_delim, [*g_members, *added], g_required, g_nested])
            layouts[msg_type] = [name, admin, old_fields, {**old_groups, str(count_tag): len(groups) - 1}]

        new_msg_aliases = dict(self._msg_aliases)
        for msg_type, labels in (msg_aliases or {}).items():
            if msg_type not in layouts:
                raise ValueError(f"alias for undefined MsgType {msg_type!r}")
            new_msg_aliases[msg_type] = (*new_msg_aliases.get(msg_type, ()), *labels)
        return Dictionary(self.begin_string, new_fields, groups, layouts, new_aliases, new_msg_aliases)


def load(path: str = _DATA_FILE) -> Dictionary:
    """A fresh :class:`Dictionary` from a generated JSON file (``fix44.json`` by default)."""
    with open(path, encoding="utf-8") as fh:
        doc = json.load(fh)
    fields = {int(t): v for t, v in doc["fields"].items()}
    layouts: dict[str, _RawLayout] = dict(doc["messages"])
    layouts[HEADER_KEY] = doc["header"]
    layouts[TRAILER_KEY] = doc["trailer"]
    return Dictionary(doc["begin_string"], fields, doc["groups"], layouts)


@functools.cache
def fix44() -> Dictionary:
    """Plain FIX 4.4 as QuickFIX's FIX44.xml defines it (cached).

    The QuickFIX conformance session validates with this one; Kraken sessions use
    ``krakenfix_cli.kraken.dictionary.kraken()``.
    """
    return load()
