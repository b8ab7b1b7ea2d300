"""The one escaping function for text that reaches a terminal from the wire, a log or a user.

A value is data, never terminal control: ``ESC ] 0 ; … BEL`` would retitle the window,
``ESC [ 2 J`` clear it, and a ``CR`` or ``LF`` in Text(58) would forge a line of its own
("… accepted"). Every human-facing mode (pretty, compact, raw) and every error, warning and
note line passes text through :func:`escape_text`; JSON escapes by its own rules.
"""

from __future__ import annotations

import re

#: C0 and C1 controls, DEL, and the Unicode line separators and bidi overrides that reorder
#: or break a terminal line.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _visible(m: re.Match[str]) -> str:
    o = ord(m.group(0))
    return f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}"


def escape_text(text: str) -> str:
    """``text`` with every control character spelled out (``\\x1b``, ``\\r``, ``\\u202e``)."""
    if text.isascii() and text.isprintable():  # the usual case: one C-level scan
        return text
    return _UNSAFE.sub(_visible, text)
