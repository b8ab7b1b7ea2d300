"""Highlighting for REPL input: verbs, numbers, symbols, options, and ``tag=value`` pairs.

``tokenize(line)`` is pure and returns ``(style class, text)`` pairs whose texts join back
to the line exactly, so a test checks the colours without a terminal. In a ``raw`` line
a known tag is one colour and an unknown one another, an enum value the dictionary knows
is marked as such (``54=1``) and the value of Password(554)/RawData(96) is shown as a
secret while it is typed. :func:`build_lexer` wraps it for prompt_toolkit.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from krakenfix_cli.fix.redact import SECRET_TAGS
from krakenfix_cli.repl import commands as c

if TYPE_CHECKING:
    from prompt_toolkit.document import Document
    from prompt_toolkit.formatted_text import StyleAndTextTuples

Token = tuple[str, str]

_WORD = re.compile(r"\s+|[^\s]+")
_RAW_ITEM = re.compile(r"[|\x01\s]+|[^|\x01\s]+")
_NUMBER = re.compile(r"@?[0-9][0-9_,]*(\.[0-9]+)?\Z|@?\.[0-9]+\Z")
_KEYWORDS = frozenset(c.SHORT_KEYWORDS) | frozenset(c.TIFS) | frozenset(c.ORDER_TYPES) | frozenset(
    ("post", "reduce", "trigger", "qty", "price", "open", "in", "out", *c.MASS_SCOPES, *c.FILTER_ACTIONS)
)


def _dictionary() -> Any:
    from krakenfix_cli.render import default_dictionary

    return default_dictionary()


def tokenize(line: str, dictionary: Any = None) -> list[Token]:
    """Style classes for every piece of ``line`` (``class:verb``, ``class:tag``, ...)."""
    m = re.match(r"\s*", line)
    lead = m.group(0) if m else ""
    out: list[Token] = [("", lead)] if lead else []
    body = line[len(lead) :]
    if not body:
        return out
    head = re.match(r"\S+", body)
    assert head is not None
    verb = head.group(0)
    known = c.verb(verb) is not None or verb.lower() in ("buy", "sell")
    style = "class:verb" if known else "class:error"
    if verb.lower() == "buy":
        style = "class:verb.buy"
    elif verb.lower() == "sell":
        style = "class:verb.sell"
    elif verb.lower() in ("mass-cancel", "cancel"):
        style = "class:verb.danger"
    out.append((style, verb))
    rest = body[len(verb) :]
    if verb.lower() == "raw":
        out += _raw_tokens(rest, dictionary if dictionary is not None else _dictionary())
    else:
        out += [_word_token(w) for w in _WORD.findall(rest)]
    return out


def _word_token(w: str) -> Token:
    if w.isspace():
        return ("", w)
    low = w.lower()
    if w.startswith("--"):
        return ("class:option", w)
    if w == "@":
        return ("class:punct", w)
    if _NUMBER.match(w):
        return ("class:number", w)
    if w.startswith("#") and w[1:].isdigit():
        return ("class:ref", w)
    if low in _KEYWORDS:
        return ("class:keyword", w)
    if "/" in w or w.startswith(("PF_", "PI_", "FI_", "FF_")):
        return ("class:symbol", w)
    return ("class:text", w)


def _raw_tokens(rest: str, d: Any) -> list[Token]:
    out: list[Token] = []
    for piece in _RAW_ITEM.findall(rest):
        if not piece.strip() or set(piece) <= {"|", "\x01", " ", "\t"}:
            out.append(("class:punct", piece) if piece.strip() else ("", piece))
            continue
        name, eq, value = piece.partition("=")
        tag = d.tag_for(name) if name else None
        tag_style = "class:tag" if tag is not None and d.field(tag) is not None else "class:tag.unknown"
        if tag is not None and tag in c._ENGINE_TAGS:
            tag_style = "class:tag.header"
        out.append((tag_style, name))
        if not eq:
            continue
        out.append(("class:punct", "="))
        if not value:
            continue
        if tag is not None and tag in SECRET_TAGS:
            out.append(("class:secret", value))
        elif tag is not None and d.enum_meaning(tag, value) is not None:
            out.append(("class:enum", value))
        elif tag is not None and d.enum_values(tag):
            out.append(("class:error", value))  # a value this enum does not have
        else:
            out.append(("class:value", value))
    return out


#: prompt_toolkit style rules for the classes above, the toolbar and the completion menu.
STYLE_RULES: dict[str, str] = {
    "verb": "bold ansicyan",
    "verb.buy": "bold ansigreen",
    "verb.sell": "bold ansired",
    "verb.danger": "bold ansiyellow",
    "error": "ansired underline",
    "option": "ansiblue",
    "number": "ansimagenta",
    "ref": "bold ansimagenta",
    "keyword": "ansiyellow",
    "symbol": "bold",
    "punct": "ansigray",
    "tag": "ansicyan",
    "tag.header": "ansigray italic",
    "tag.unknown": "ansiyellow",
    "value": "",
    "enum": "ansigreen",
    "secret": "reverse ansired",
    "text": "",
    "prompt": "bold",
    "prompt.prod": "bold ansired",
    "bottom-toolbar": "noreverse bg:#303030 #d0d0d0",
    "toolbar.profile": "bold bg:#005f87 #ffffff",
    "toolbar.profile.prod": "bold bg:#af0000 #ffffff",
    "toolbar.up": "bold ansigreen",
    "toolbar.down": "bold ansired",
    "toolbar.pending": "bold ansiyellow",
    "toolbar.dim": "#8a8a8a",
    "toolbar.value": "bold",
    "toolbar.warn": "bold ansiyellow",
    "toolbar.notice": "italic ansiyellow",
}


def build_lexer(dictionary: Any = None) -> Any:
    """A prompt_toolkit ``Lexer`` over :func:`tokenize` (one line at a time)."""
    from prompt_toolkit.lexers import Lexer

    class _Lexer(Lexer):
        def lex_document(self, document: Document) -> Any:
            lines = document.lines

            def get_line(n: int) -> StyleAndTextTuples:
                if n >= len(lines):
                    return []
                return list(tokenize(lines[n], dictionary))

            return get_line

    return _Lexer()
