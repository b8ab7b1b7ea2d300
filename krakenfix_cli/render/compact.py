"""compact: one line per message, for streams (``tail``, big mass cancels) and for grep.

    14:02:03.123 < ExecutionReport 34=12 Trade BUY 0.01 BTC/USD @ 50000 cum=0.01 leaves=0 \
status=Filled 11=A1 37=O-1 17=E-9

This is the hot path of ``tail`` (goal: 20,000 msg/s to a pipe, bench/tail.py): no rich,
no per-line dictionary search (names and enum meanings are memoised per renderer), and
colour as a single ANSI prefix when the stream is a colour TTY.
"""

from __future__ import annotations

from typing import Any

from krakenfix_cli.fix.message import Message
from krakenfix_cli.fix.redact import MASK, SECRET_TAGS
from krakenfix_cli.render.escape import escape_text
from krakenfix_cli.render.theme import ANSI, ANSI_RESET, Kind, classify

_ARROW = {"in": "<", "out": ">"}
#: Header/trailer tags left out of the generic body listing.
_SKIP = frozenset({8, 9, 35, 34, 49, 56, 52, 10, 50, 57, 142, 143, 115, 128, 122, 43, 97})
_MAX_GENERIC = 14


def clock_text(when: float | None, msg: Message) -> str:
    """``HH:MM:SS.mmm`` (UTC) of ``when``, else SendingTime(52)'s time of day, else ``""``."""
    if when is not None:
        ms_total = int(when * 1000) % 86_400_000
        s, ms = divmod(ms_total, 1000)
        h, rem = divmod(s, 3600)
        m, sec = divmod(rem, 60)
        return f"{h:02d}:{m:02d}:{sec:02d}.{ms:03d}"
    st = msg.get(52)
    if st and len(st) >= 17:
        return st[9:21]
    return ""


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class CompactRenderer:
    """Renders compact lines with memoised dictionary lookups (one per dictionary + colour)."""

    __slots__ = ("_color", "_dict", "_enum", "_names")

    def __init__(self, dictionary: Any, color: bool = False) -> None:
        self._dict = dictionary
        self._color = color
        self._names: dict[str, str] = {}
        self._enum: dict[tuple[int, str], str] = {}

    def msg_name(self, msg_type: str) -> str:
        name = self._names.get(msg_type)
        if name is None:
            name = self._names[msg_type] = str(self._dict.msg_name(msg_type))
        return name

    def meaning(self, tag: int, value: str) -> str:
        """The enum meaning of ``value`` (the value itself when the dictionary has none)."""
        key = (tag, value)
        text = self._enum.get(key)
        if text is None:
            found = self._dict.enum_meaning(tag, value)
            text = self._enum[key] = str(found) if found else value
        return text

    def line(self, msg: Message, direction: str | None = None, when: float | None = None) -> str:
        """One line for ``msg``, without a trailing newline."""
        get = msg.get
        mt = get(35) or ""
        parts: list[str] = []
        t = clock_text(when, msg)
        if t:
            parts.append(t)
        if direction is not None:
            parts.append(_ARROW.get(direction, direction))
        parts.append(self.msg_name(mt))
        seq = get(34)
        if seq is not None:
            parts.append("34=" + seq)
        if mt == "8":
            self._execution_report(msg, parts)
        elif mt in ("3", "j"):
            self._reject(msg, parts)
        else:
            self._generic(msg, parts)
        text = escape_text(" ".join(parts))
        if self._color:
            sgr = ANSI[classify(msg)]
            if sgr:
                return sgr + text + ANSI_RESET
        return text

    def _execution_report(self, msg: Message, parts: list[str]) -> None:
        get = msg.get
        et = get(150)
        if et is not None:
            parts.append(self.meaning(150, et))
        side = get(54)
        if side is not None:
            parts.append(self.meaning(54, side).upper())
        last_qty = get(32)
        qty: str | None
        px: str | None
        if et == "F" and last_qty is not None:
            qty, px = last_qty, get(31)
        else:
            qty, px = get(38), get(44)
        if qty is not None:
            parts.append(qty)
        sym = get(55)
        if sym is not None:
            parts.append(sym)
        if px is not None:
            parts.append("@")
            parts.append(px)
        cum = get(14)
        if cum is not None:
            parts.append("cum=" + cum)
        leaves = get(151)
        if leaves is not None:
            parts.append("leaves=" + leaves)
        st = get(39)
        if st is not None:
            parts.append("status=" + self.meaning(39, st))
        for tag, label in ((11, "11="), (41, "41="), (37, "37="), (17, "17=")):
            v = get(tag)
            if v is not None:
                parts.append(label + v)
        reason = get(103)
        if reason is not None:
            parts.append("103=" + self.meaning(103, reason))
        text = get(58)
        if text is not None:
            parts.append("58=" + _quote(text))

    def _reject(self, msg: Message, parts: list[str]) -> None:
        get = msg.get
        for tag in (45, 372, 371, 379):
            v = get(tag)
            if v is not None:
                parts.append(f"{tag}={v}")
        for tag in (373, 380):
            v = get(tag)
            if v is not None:
                parts.append(f"{tag}={self.meaning(tag, v)}")
        text = get(58)
        if text is not None:
            parts.append("58=" + _quote(text))

    def _generic(self, msg: Message, parts: list[str]) -> None:
        shown = 0
        text: str | None = None
        for tag, value in msg.fields:
            if tag in _SKIP:
                continue
            if tag == 58:
                text = value
                continue
            if shown == _MAX_GENERIC:
                parts.append("…")
                break
            parts.append(f"{tag}={MASK if tag in SECRET_TAGS else value}")
            shown += 1
        if text is not None:
            parts.append("58=" + _quote(text))


_RENDERERS: dict[tuple[int, bool], CompactRenderer] = {}


def renderer_for(dictionary: Any, color: bool) -> CompactRenderer:
    """The cached renderer for ``dictionary`` (so memoised lookups survive across calls)."""
    key = (id(dictionary), color)
    r = _RENDERERS.get(key)
    if r is None or r._dict is not dictionary:
        r = _RENDERERS[key] = CompactRenderer(dictionary, color)
    return r


def render_compact(
    msg: Message, dictionary: Any, direction: str | None = None, when: float | None = None,
    color: bool = False,
) -> str:
    """One compact line for ``msg`` (see the module docstring for the layout)."""
    return renderer_for(dictionary, color).line(msg, direction, when)


__all__ = ["CompactRenderer", "Kind", "clock_text", "render_compact", "renderer_for"]
