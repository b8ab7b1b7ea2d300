"""Completion: a pure ``suggest(text_before_cursor)`` under a thin prompt_toolkit Completer.

``suggest`` knows the REPL grammar (``repl/commands.py``) and the FIX dictionary: verbs,
options, message types, tag names and numbers, the enum values of the tag being typed
(``raw 54=`` → ``1 (Buy)``), symbols, and the ClOrdIDs of this session's open orders.
It returns :class:`Suggestion` values that tests compare without a terminal (pgcli's
``suggest_type`` habit); :class:`ReplCompleter` only turns them into ``Completion``\\ s.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from krakenfix_cli.repl import commands as c
from krakenfix_cli.repl.state import OUTPUT_MODES, ReplState

if TYPE_CHECKING:
    from prompt_toolkit.completion import CompleteEvent, Completion
    from prompt_toolkit.document import Document


@dataclass(frozen=True)
class Suggestion:
    """One completion: insert ``text`` in place of the last ``replace`` characters."""

    text: str
    replace: int = 0
    "How many characters before the cursor ``text`` replaces (the word being typed)."
    display: str = ""
    "What the menu shows (``1 (Buy)``); ``text`` when empty."
    meta: str = ""
    "The grey right-hand column (``Side``, a command summary)."


#: Tags offered first after ``raw`` (what people type most), before the alphabetical rest.
COMMON_TAGS = (35, 11, 55, 54, 38, 40, 44, 59, 18, 41, 37, 60, 99, 530, 7928, 1138, 58)


def _dictionary() -> Any:
    from krakenfix_cli.render import default_dictionary

    return default_dictionary()


def _match(options: Iterable[tuple[str, str]], word: str, display: bool = False) -> list[Suggestion]:
    """Case-insensitive prefix matches of ``word`` among ``(text, meta)`` options."""
    low = word.lower()
    out = []
    for text, meta in options:
        if text.lower().startswith(low):
            out.append(Suggestion(text, len(word), f"{text} ({meta})" if display and meta else "", meta))
    return out


def suggest(text_before_cursor: str, state: ReplState | None = None, dictionary: Any = None) -> list[Suggestion]:
    """What may come at the cursor, given the line so far."""
    state = state if state is not None else ReplState()
    text = text_before_cursor.lstrip()
    if " " not in text:
        return _verbs(text)
    head, _, rest = text.partition(" ")
    name = head.lower()
    if name == "raw":
        return _raw(rest, state, dictionary if dictionary is not None else _dictionary())
    words = rest.split()
    word = "" if rest.endswith(" ") or not rest else words[-1]
    before = words if word == "" else words[:-1]
    v = c.verb(name)
    if v is None and name not in ("buy", "sell"):
        return []
    vname = v.name if v is not None else name
    if vname in ("buy", "sell"):
        return _short_order(before, word, state)
    if vname == "order":
        return _long_order(before, word, state)
    if vname in ("cancel", "status", "amend"):
        if not before:
            return _order_refs(word, state)
        if vname == "amend":
            return _match([("qty", "new OrderQty(38)"), ("price", "new Price(44)")], word)
        return []
    if vname == "mass-cancel":
        if not before:
            return _match(
                [("symbol", "530=1 this connection's, one symbol"), ("session", "530=6 this connection's"),
                 ("all", "530=7 every open order, any session")],
                word,
            )
        if before == ["symbol"]:
            return _symbols(word, state)
        return _match([("--yes", "do not ask")], word)
    if vname == "output" and not before:
        return _match([(m, "") for m in OUTPUT_MODES], word)
    if vname == "filter":
        if not before:
            return _match([(a, "") for a in c.FILTER_ACTIONS], word)
        if before[0] == "symbol":
            return _symbols(word, state)
        if before[0] == "type":
            d = dictionary if dictionary is not None else _dictionary()
            return _msg_types(word, d)
        return []
    if vname == "seq" and not before:
        return _match([("in", "next inbound MsgSeqNum(34)"), ("out", "next outbound MsgSeqNum(34)")], word)
    if vname == "help" and not before:
        return _match([(v.name, v.summary) for v in c.VERBS] + [("keys", "key bindings")], word)
    if vname == "orders" and not before:
        return _match([("open", "only open orders"), ("all", "every order")], word)
    return []


def _verbs(word: str) -> list[Suggestion]:
    return _match([(v.name, v.summary) for v in c.VERBS], word)


def _symbols(word: str, state: ReplState) -> list[Suggestion]:
    low = word.lower()
    return [Suggestion(s, len(word), "", "symbol") for s in state.symbols if s.lower().startswith(low)]


def _order_refs(word: str, state: ReplState) -> list[Suggestion]:
    out: list[Suggestion] = []
    for row in state.open_orders():
        label = row.describe()
        for text in (f"#{row.index}", row.latest_clordid):
            if text.lower().startswith(word.lower()) or (word.isdigit() and text == f"#{word}"):
                out.append(Suggestion(text, len(word), "", f"{label} [{row.state}]"))
    return out


def _short_order(before: list[str], word: str, state: ReplState) -> list[Suggestion]:
    if not before:
        return []  # the quantity: nothing sensible to offer
    if len(before) == 1:
        return _symbols(word, state)
    if before[-1] == "@" or before[-1].lower() in ("stop", "clordid", "until", "start"):
        return []
    used = {w.lower() for w in before}
    options = [
        ("@", "limit price follows"),
        ("market", "OrdType(40)=1"),
        ("post-only", "ExecInst(18)=P"),
        ("ioc", "TimeInForce(59)=3"),
        ("fok", "TimeInForce(59)=4"),
        ("gtc", "TimeInForce(59)=1"),
        ("reduce-only", "ExecInst(18)=E"),
        ("stop", "StopPx(99) follows"),
        ("clordid", "your own ClOrdID(11)"),
        ("until", "ExpireTime(126) follows: good-till-date (+2h, +1d, a UTC time)"),
        ("start", "EffectiveTime(168) follows: Pending New until then"),
    ]
    return _match([(t, m) for t, m in options if t not in used], word)


_OPTION_VALUES: dict[str, tuple[str, ...]] = {
    "--side": ("buy", "sell"),
    "--type": c.ORDER_TYPES,
    "--tif": c.TIFS,
}


def _long_order(before: list[str], word: str, state: ReplState) -> list[Suggestion]:
    last = before[-1] if before else ""
    if last == "--symbol":
        return _symbols(word, state)
    if last in _OPTION_VALUES:
        return _match([(v, "") for v in _OPTION_VALUES[last]], word)
    if last in c.ORDER_OPTIONS and last not in c.FLAG_OPTIONS:
        return []
    used = set(before)
    return _match([(o, "") for o in c.ORDER_OPTIONS if o not in used], word)


def _msg_types(word: str, d: Any) -> list[Suggestion]:
    out = []
    for md in d.all_messages():
        if md.msg_type.lower().startswith(word.lower()) or (word and md.name.lower().startswith(word.lower())):
            out.append(Suggestion(md.msg_type, len(word), f"{md.msg_type} ({md.name})", md.name))
    return sorted(out, key=lambda s: (len(s.text), s.text))


def _raw(rest: str, state: ReplState, d: Any) -> list[Suggestion]:
    """Complete the ``tag=value`` item under the cursor."""
    start = max(rest.rfind(sep) for sep in ("|", " ", "\x01"))
    item = rest[start + 1 :]
    name, eq, value = item.partition("=")
    if not eq:
        return _tags(name, d)
    tag = d.tag_for(name) if name else None
    if tag is None:
        return []
    if tag == 35:
        return _msg_types(value, d)
    if tag == 55:
        return _symbols(value, state)
    if tag in (11, 41):
        return [
            Suggestion(r.latest_clordid, len(value), "", r.describe())
            for r in state.open_orders()
            if r.latest_clordid.startswith(value)
        ]
    takes = kraken_values(tag)
    return [
        Suggestion(v, len(value), f"{v} ({meaning})", d.field_name(tag))
        for v, meaning in d.enum_values(tag)
        if v.lower().startswith(value.lower()) and (takes is None or v in takes)
    ]


def kraken_values(tag: int) -> frozenset[str] | None:
    """The values Kraken takes for ``tag`` (the builders' choices), or None: offer the FIX 4.4 list.

    FIX 4.4 lists Side(54) Cross, Lend, Borrow… that Kraken refuses; offering them invites a reject.
    """
    from krakenfix_cli.kraken import builders

    choices = {54: builders.Side, 40: builders.OrdType, 59: builders.TimeInForce, 530: builders.MassCancelType,
               7928: builders.SelfTradePrevention}
    kind = choices.get(tag)
    return frozenset(m.value for m in kind) if kind is not None else None


def _tags(word: str, d: Any) -> list[Suggestion]:
    """Tag numbers (``54`` → ``54=``) or names (``Sid`` → ``54=``), common ones first."""
    out: list[Suggestion] = []
    seen: set[int] = set()

    def add(tag: int, name: str) -> None:
        if tag not in seen:
            seen.add(tag)
            fd = d.field(tag)
            kind = str(getattr(fd, "type", "")).lower() if fd is not None else ""
            out.append(Suggestion(f"{tag}=", len(word), f"{tag} {name}", kind))

    if word.isdigit() or not word:
        for tag in COMMON_TAGS:
            if str(tag).startswith(word):
                add(tag, d.field_name(tag))
        for fd in d.all_fields():
            if str(fd.tag).startswith(word):
                add(fd.tag, fd.name)
        return out
    low = word.lower()
    contains: list[tuple[int, str]] = []
    for fd in d.all_fields():
        names = (fd.name, *getattr(fd, "aliases", ()))
        if any(n.lower().startswith(low) for n in names):
            add(fd.tag, fd.name)
        elif low in fd.name.lower():
            contains.append((fd.tag, fd.name))
    for tag, name in contains:
        add(tag, name)
    return out


class ReplCompleter:
    """prompt_toolkit Completer over :func:`suggest` (built by :func:`build_completer`)."""

    def __init__(self, state: ReplState) -> None:
        self.state = state

    def completions(self, text_before_cursor: str) -> Iterator[tuple[str, int, str, str]]:
        """``(text, start_position, display, meta)`` per suggestion."""
        for s in suggest(text_before_cursor, self.state):
            yield s.text, -s.replace, s.display or s.text, s.meta


def build_completer(state: ReplState) -> Any:
    """A prompt_toolkit ``Completer`` reading ``state`` for symbols and open orders."""
    from prompt_toolkit.completion import Completer

    inner = ReplCompleter(state)

    class _Completer(Completer):
        def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterator[Completion]:
            from prompt_toolkit.completion import Completion

            for text, start, display, meta in inner.completions(document.text_before_cursor):
                yield Completion(text, start_position=start, display=display, display_meta=meta)

    return _Completer()
