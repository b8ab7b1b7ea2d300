"""Message + dictionary → problems, with QuickFIX's decisions, order and Text(58) wording.

The checks and their order copy QuickFIX's ``DataDictionary::validate`` (with
ValidateFieldsOutOfOrder, ValidateFieldsHaveValues and ValidateUserDefinedFields on, as in
its acceptance-test acceptor), so ``validate(...)[0]`` is the problem QuickFIX would reject
with and the simulator's conformance session answers exactly as QuickFIX does:

1. BeginString(8) differs from the dictionary's → :data:`UNSUPPORTED_VERSION` (not a 373
   value: QuickFIX logs out with "Incorrect BeginString", scenario 2i). Stops.
2. Structure: the first header field after a body/trailer field, or body field after the
   trailer → 373=14 with that tag (14g). Body field *order* is never checked (SPEC §10.18).
3. MsgType(35) missing → 373=1; not in the dictionary → 373=11 without RefTagID (2q). Stops.
4. Required fields, lowest tag first: header, trailer, body, then each group entry → 373=1.
5. Header fields (8, 9, 35, then ascending tag), then trailer, then top-level body fields
   (ascending tag); for each: repeated tag 13, empty value 4, data format 6, enum value 5,
   unknown tag 0; for body fields also not-in-message 2 and NumInGroup count 16.

Repeating groups are parsed by :mod:`krakenfix_cli.fix.groups` (delimiter and member set
only). Like QuickFIX, group *entries* are only checked for required members unless
``strict_groups=True``, which also checks their values, formats and nested counts.

Every problem is collected (decode shows them all); the engine rejects with the first.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Collection, Iterable

from krakenfix_cli.fix.dictionary import MULTI_VALUE_TYPES, Dictionary, GroupDef, MessageDef
from krakenfix_cli.fix.groups import tree_items
from krakenfix_cli.fix.message import Message
from krakenfix_cli.fix.tags import HEADER_TAGS
from krakenfix_cli.fix.values import FIX_FLOAT_RE

TYPE_CHECKING = False
if TYPE_CHECKING:
    from krakenfix_cli.fix.groups import Item

# SessionRejectReason (373) values this module produces.
INVALID_TAG_NUMBER = 0
REQUIRED_TAG_MISSING = 1
TAG_NOT_DEFINED_FOR_MESSAGE = 2
TAG_WITHOUT_VALUE = 4
VALUE_OUT_OF_RANGE = 5
INCORRECT_DATA_FORMAT = 6
INVALID_MSG_TYPE = 11
TAG_APPEARS_MORE_THAN_ONCE = 13
TAG_OUT_OF_ORDER = 14
INCORRECT_NUM_IN_GROUP = 16
#: Not a SessionRejectReason: BeginString(8) is wrong; answer with Logout, not Reject.
UNSUPPORTED_VERSION = -1

#: QuickFIX's Text(58) for each SessionRejectReason(373) (``SessionRejectReason_*_TEXT``).
REASON_TEXTS: dict[int, str] = {
    0: "Invalid tag number",
    1: "Required tag missing",
    2: "Tag not defined for this message type",
    3: "Undefined Tag",
    4: "Tag specified without a value",
    5: "Value is incorrect (out of range) for this tag",
    6: "Incorrect data format for value",
    7: "Decryption problem",
    8: "Signature problem",
    9: "CompID problem",
    10: "SendingTime accuracy problem",
    11: "Invalid MsgType",
    13: "Tag appears more than once",
    14: "Tag specified out of required order",
    15: "Repeating group fields out of order",
    16: "Incorrect NumInGroup count for repeating group",
    17: "Non Data value includes field delimiter (SOH character)",
    99: "Other",
    UNSUPPORTED_VERSION: "Incorrect BeginString",
}

#: Header/trailer tags QuickFIX requires without any dictionary.
_BASIC_HEADER_REQUIRED = (8, 9, 34, 35, 49, 52, 56)
_BASIC_TRAILER_TAGS = frozenset({93, 89, 10})
_HEADER_FIRST = {8: -3, 9: -2, 35: -1}
_TRAILER_ORDER = {93: 0, 89: 1, 10: 2}


class Problem(tuple[int, int | None, str]):
    """``(reason373, ref_tag, text)``: one validation failure, ready for a Reject(3).

    ``ref_tag`` is the RefTagID(371) to send, or None when QuickFIX sends none (373=11).
    """

    __slots__ = ()

    def __new__(cls, reason: int, ref_tag: int | None, text: str | None = None) -> Problem:
        return tuple.__new__(cls, (reason, ref_tag, REASON_TEXTS.get(reason, "Other") if text is None else text))

    @property
    def reason(self) -> int:
        """SessionRejectReason(373)."""
        return self[0]

    @property
    def ref_tag(self) -> int | None:
        """RefTagID(371), or None."""
        return self[1]

    @property
    def text(self) -> str:
        """QuickFIX's Text(58)."""
        return self[2]

    def reject_fields(self) -> list[tuple[int, str]]:
        """Text(58), RefTagID(371) when set and SessionRejectReason(373), ascending by tag."""
        out = [(58, self.text)]
        if self.ref_tag is not None:
            out.append((371, str(self.ref_tag)))
        out.append((373, str(self.reason)))
        return out

    def __repr__(self) -> str:
        return f"Problem(reason={self.reason}, ref_tag={self.ref_tag}, text={self.text!r})"


# -- value formats (QuickFIX's field convertors) -------------------------------------------------
_INT_RE = re.compile(r"-?[0-9]+\Z")
_TIMESTAMP_RE = re.compile(r"[0-9]{4}([0-9]{2})([0-9]{2})-([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]{0,9})?\Z")
_TIME_RE = re.compile(r"([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]{0,9})?\Z")
_DATE_RE = re.compile(r"[0-9]{4}([0-9]{2})([0-9]{2})\Z")


def _is_timestamp(value: str) -> bool:
    m = _TIMESTAMP_RE.match(value)
    if m is None:
        return False
    mon, day, hour, minute, sec = (int(x) for x in m.groups())
    return 1 <= mon <= 12 and 1 <= day <= 31 and hour <= 23 and minute <= 59 and sec <= 60


def _is_time(value: str) -> bool:
    m = _TIME_RE.match(value)
    if m is None:
        return False
    hour, minute, sec = (int(x) for x in m.groups())
    return hour <= 23 and minute <= 59 and sec <= 60


def _is_date(value: str) -> bool:
    m = _DATE_RE.match(value)
    if m is None:
        return False
    mon, day = (int(x) for x in m.groups())
    return 1 <= mon <= 12 and 1 <= day <= 31


def _is_int(value: str) -> bool:
    return _INT_RE.match(value) is not None


def _is_float(value: str) -> bool:
    return FIX_FLOAT_RE.match(value) is not None


#: FIX44.xml type → format check; types not listed (STRING, CURRENCY, LOCALMKTDATE, DATA,
#: MONTHYEAR, EXCHANGE, COUNTRY, MULTIPLEVALUESTRING, ...) accept any text, as in QuickFIX.
FORMAT_CHECKS: dict[str, Callable[[str], bool]] = {
    "INT": _is_int,
    "LENGTH": _is_int,
    "NUMINGROUP": _is_int,
    "SEQNUM": _is_int,
    "DAYOFMONTH": _is_int,
    "PRICE": _is_float,
    "AMT": _is_float,
    "QTY": _is_float,
    "FLOAT": _is_float,
    "PRICEOFFSET": _is_float,
    "PERCENTAGE": _is_float,
    "CHAR": lambda v: len(v) == 1,
    "BOOLEAN": lambda v: v in ("Y", "N"),
    "UTCTIMESTAMP": _is_timestamp,
    "UTCTIMEONLY": _is_time,
    "UTCDATE": _is_date,
    "UTCDATEONLY": _is_date,
}


def is_valid_format(field_type: str, value: str) -> bool:
    """True when ``value`` parses as ``field_type`` the way QuickFIX's convertors do."""
    check = FORMAT_CHECKS.get(field_type)
    return check is None or check(value)


class _Done(Exception):
    """Raised by the collector to stop after the first problem."""


class _Collector:
    __slots__ = ("first_only", "problems")

    def __init__(self, first_only: bool) -> None:
        self.first_only = first_only
        self.problems: list[Problem] = []

    def add(self, reason: int, ref_tag: int | None) -> None:
        self.problems.append(Problem(reason, ref_tag))
        if self.first_only:
            raise _Done


def validate(
    msg: Message,
    dictionary: Dictionary | None,
    *,
    body_only: bool = False,
    strict_groups: bool = False,
    first_only: bool = False,
) -> list[Problem]:
    """Every problem in ``msg``, in the order QuickFIX would find them ([] when valid).

    - ``dictionary=None``: only the checks QuickFIX makes without a data dictionary
      (structure 14, MsgType and header fields present 1, empty values 4, repeated header
      tags 13). Repeated body tags need a dictionary to tell group members apart.
    - ``body_only``: skip the header and trailer (required fields and values), like
      QuickFIX's ``validate(bodyOnly)``; for messages built with ``Message.new`` before the
      engine fills the header (REPL, builders).
    - ``strict_groups``: also check values, formats and nested counts inside group entries
      (QuickFIX does not; ``krakenfix decode`` does).
    - ``first_only``: stop at the first problem (the engine's fast path).
    """
    out = _Collector(first_only)
    try:
        _validate(msg, dictionary, body_only, strict_groups, out)
    except _Done:
        pass
    return out.problems


def first_problem(msg: Message, dictionary: Dictionary | None, *, body_only: bool = False) -> Problem | None:
    """The problem QuickFIX would reject ``msg`` with, or None when it is valid."""
    found = validate(msg, dictionary, body_only=body_only, first_only=True)
    return found[0] if found else None


def _validate(
    msg: Message, d: Dictionary | None, body_only: bool, strict_groups: bool, out: _Collector
) -> None:
    fields = msg.fields
    msg_type = msg.get(35)
    if d is not None:
        begin = msg.get(8)
        if begin is not None and begin != d.begin_string:
            out.add(UNSUPPORTED_VERSION, 8)
            return
        items: list[Item] = tree_items(fields, d, msg_type or "")
        header_tags, trailer_tags = d.header_tags, d.trailer_tags
    else:
        items = list(fields)
        header_tags, trailer_tags = HEADER_TAGS, _BASIC_TRAILER_TAGS

    # Structure: header, then body, then trailer (QuickFIX Message::hasValidStructure).
    section = 0
    for item in items:
        tag = item[0]
        if tag in header_tags:
            if section:
                out.add(TAG_OUT_OF_ORDER, tag)
                break
        elif tag in trailer_tags:
            section = 2
        else:
            if section == 2:
                out.add(TAG_OUT_OF_ORDER, tag)
                break
            section = 1

    if msg_type is None:
        out.add(REQUIRED_TAG_MISSING, 35)
        return
    mdef: MessageDef | None = None
    if d is not None:
        mdef = d.message(msg_type)
        if mdef is None:
            out.add(INVALID_MSG_TYPE, None)
            return

    header = [it for it in items if it[0] in header_tags]
    trailer = [it for it in items if it[0] in trailer_tags]
    body = [it for it in items if it[0] not in header_tags and it[0] not in trailer_tags]

    # Required fields.
    if not body_only:
        present = {it[0] for it in header}
        for tag in d.header.required if d is not None else _BASIC_HEADER_REQUIRED:
            if tag not in present:
                out.add(REQUIRED_TAG_MISSING, tag)
        present = {it[0] for it in trailer}
        for tag in d.trailer.required if d is not None else (10,):
            if tag not in present:
                out.add(REQUIRED_TAG_MISSING, tag)
    if d is not None and mdef is not None:
        present = {it[0] for it in body}
        for tag in mdef.required:
            if tag not in present:
                out.add(REQUIRED_TAG_MISSING, tag)
        for item in sorted((it for it in body if len(it) == 3), key=_tag):
            _group_required(item, mdef.groups[item[0]], out)

    # Field by field: header, trailer, body.
    if not body_only:
        _iterate(sorted(header, key=_header_key), d, None, out, repeats=True)
        _iterate(sorted(trailer, key=_trailer_key), d, None, out, repeats=True)
    _iterate(sorted(body, key=_tag), d, mdef, out, repeats=d is not None)
    if strict_groups and d is not None and mdef is not None:
        for item in sorted((it for it in body if len(it) == 3), key=_tag):
            _strict_group(item, mdef.groups[item[0]], d, out)


def _tag(item: Item) -> int:
    return item[0]


def _header_key(item: Item) -> int:
    return _HEADER_FIRST.get(item[0], item[0])


def _trailer_key(item: Item) -> int:
    return _TRAILER_ORDER.get(item[0], 3 + item[0])


def _group_required(item: Item, gdef: GroupDef, out: _Collector) -> None:
    if len(item) != 3:
        return
    required = sorted(gdef.required)
    for entry in item[2]:
        present = {e[0] for e in entry}
        for tag in required:
            if tag not in present:
                out.add(REQUIRED_TAG_MISSING, tag)
        for sub in sorted((e for e in entry if len(e) == 3), key=_tag):
            _group_required(sub, gdef.groups[sub[0]], out)


# Per dictionary and tag: (format check, enum values, multi-valued), or None for an unknown tag.
_Spec = tuple[Callable[[str], bool] | None, Collection[str] | None, bool] | None
_SPECS: weakref.WeakKeyDictionary[Dictionary, dict[int, _Spec]] = weakref.WeakKeyDictionary()


def _specs(d: Dictionary) -> dict[int, _Spec]:
    specs = _SPECS.get(d)
    if specs is None:
        specs = _SPECS[d] = {}
    return specs


def _spec(tag: int, d: Dictionary, specs: dict[int, _Spec]) -> _Spec:
    field_type = d.field_type(tag)
    spec: _Spec = None
    if field_type is not None:
        enums = d.field_enums(tag)
        spec = (FORMAT_CHECKS.get(field_type), None if enums is None else frozenset(enums),
                field_type in MULTI_VALUE_TYPES)
    specs[tag] = spec
    return spec


def _value_problem(tag: int, value: str, d: Dictionary, specs: dict[int, _Spec]) -> int | None:
    """Empty (4), format (6), enum (5) or unknown tag (0), in QuickFIX's order."""
    if not value:
        return TAG_WITHOUT_VALUE
    spec = specs[tag] if tag in specs else _spec(tag, d, specs)
    if spec is None:
        return INVALID_TAG_NUMBER
    check, enums, multi = spec
    if check is not None and not check(value):
        return INCORRECT_DATA_FORMAT
    if enums is not None:
        if multi:
            if not all(part in enums for part in value.split(" ")):
                return VALUE_OUT_OF_RANGE
        elif value not in enums:
            return VALUE_OUT_OF_RANGE
    return None


def _count_mismatch(item: Item, entries: int | None = None) -> bool:
    """NumInGroup value vs entries found (``entries``: QuickFIX's total over repeated count tags)."""
    if len(item) != 3:
        return False
    try:
        return int(item[1]) != (len(item[2]) if entries is None else entries)
    except ValueError:
        return True


def _iterate(
    seq: Iterable[Item], d: Dictionary | None, mdef: MessageDef | None, out: _Collector, *, repeats: bool
) -> None:
    """QuickFIX DataDictionary::iterate over one part; ``mdef`` is set for the body only."""
    items = list(seq)
    specs = _specs(d) if d is not None else {}
    # QuickFIX keeps one list of entries per count tag: a repeated NumInGroup tag is
    # compared with the entries of all its occurrences together.
    totals: dict[int, int] = {}
    for item in items if mdef is not None else ():
        if len(item) == 3:
            totals[item[0]] = totals.get(item[0], 0) + len(item[2])
    last = None
    for item in items:
        tag, value = item[0], item[1]
        if tag == last:
            if repeats:
                out.add(TAG_APPEARS_MORE_THAN_ONCE, tag)
            continue
        last = tag
        if d is None:
            if not value:
                out.add(TAG_WITHOUT_VALUE, tag)
            continue
        reason = _value_problem(tag, value, d, specs)
        if reason is not None:
            out.add(reason, tag)
        elif mdef is not None:
            if tag not in mdef.fields:
                out.add(TAG_NOT_DEFINED_FOR_MESSAGE, tag)
            elif _count_mismatch(item, totals.get(tag)):
                out.add(INCORRECT_NUM_IN_GROUP, tag)


def _strict_group(item: Item, gdef: GroupDef, d: Dictionary, out: _Collector) -> None:
    if len(item) != 3:
        return
    rank = {t: i for i, t in enumerate(gdef.members)}
    for entry in item[2]:
        for sub in sorted(entry, key=lambda e: rank.get(e[0], len(rank) + e[0])):
            reason = _value_problem(sub[0], sub[1], d, _specs(d))
            if reason is not None:
                out.add(reason, sub[0])
            elif len(sub) == 3:
                if _count_mismatch(sub):
                    out.add(INCORRECT_NUM_IN_GROUP, sub[0])
                _strict_group(sub, gdef.groups[sub[0]], d, out)
