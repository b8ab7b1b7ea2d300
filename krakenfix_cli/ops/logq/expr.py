"""The filter language of ``krakenfix log grep`` (and, later, ``tail --where`` and the REPL).

Grammar (keywords case-insensitive; a hand-written recursive-descent parser)::

    expr    := and ("or" and)*
    and     := unary ("and" unary)*
    unary   := "not" unary | "(" expr ")" | test
    test    := field ("=" | "!=") value
             | field "in" "(" value ("," value)* ")"
             | field "~" value                       # re.search on the field's value
             | field "exists"
    field   := a tag number (35), a FIX name (ExecType, case-insensitive), or "direction"
    value   := a bare word, or a "quoted" / 'quoted' string

A value of a field with enums may be its code or its name: ``ExecType in (Trade,
Canceled)``, ``35=ExecutionReport``, ``Side=buy`` (spaces and case ignored). A field that
repeats in a message (a group) matches when any occurrence does. ``direction`` is ``in``
or ``out``. A malformed expression raises :class:`ExprError` with its 1-based column.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from krakenfix_cli.fix.message import Message

#: A compiled filter: (message, direction) → matches.
Predicate = Callable[[Message, "str | None"], bool]
_KEYWORDS = frozenset({"and", "or", "not", "in", "exists"})
_PUNCT = "()=,~"


class ExprError(ValueError):
    """A malformed filter expression; ``column`` is 1-based."""

    def __init__(self, text: str, column: int) -> None:
        self.text = text
        self.column = column
        super().__init__(f"{text} (column {column})")


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "word", "string", "op", "end"
    text: str
    column: int

    def keyword(self, word: str) -> bool:
        return self.kind == "word" and self.text.lower() == word


def tokenize(text: str) -> list[_Token]:
    """Words, quoted strings and the operators ``( ) = != , ~``, each with its column."""
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c == "!" and text[i + 1 : i + 2] == "=":
            tokens.append(_Token("op", "!=", i + 1))
            i += 2
        elif c in _PUNCT:
            tokens.append(_Token("op", c, i + 1))
            i += 1
        elif c in "\"'":
            end = i + 1
            chars: list[str] = []
            while end < n and text[end] != c:
                if text[end] == "\\" and end + 1 < n:
                    end += 1
                chars.append(text[end])
                end += 1
            if end >= n:
                raise ExprError(f"unterminated string starting with {c}", i + 1)
            tokens.append(_Token("string", "".join(chars), i + 1))
            i = end + 1
        else:
            start = i
            while i < n and not text[i].isspace() and text[i] not in _PUNCT and text[i] not in "\"'" \
                    and not (text[i] == "!" and text[i + 1 : i + 2] == "="):
                i += 1
            if i == start:  # a lone "!"
                raise ExprError(f"unexpected {text[i]!r}", i + 1)
            tokens.append(_Token("word", text[start:i], start + 1))
    tokens.append(_Token("end", "", n + 1))
    return tokens


def _norm(name: str) -> str:
    return re.sub(r"[\s_-]", "", name).lower()


class _Parser:
    def __init__(self, text: str, dictionary: Any) -> None:
        self.tokens = tokenize(text)
        self.pos = 0
        self.d = dictionary

    # -- tokens --------------------------------------------------------------------------------
    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def take(self) -> _Token:
        tok = self.tokens[self.pos]
        if tok.kind != "end":
            self.pos += 1
        return tok

    def expect_op(self, op: str, what: str) -> _Token:
        tok = self.take()
        if tok.kind != "op" or tok.text != op:
            raise ExprError(f"expected {what}, found {_describe(tok)}", tok.column)
        return tok

    # -- grammar -------------------------------------------------------------------------------
    def parse(self) -> Predicate:
        if self.peek().kind == "end":
            raise ExprError("empty expression; give a test such as 35=8", 1)
        pred = self.or_()
        tok = self.peek()
        if tok.kind != "end":
            hint = " (missing `and`/`or`?)" if tok.kind in ("word", "string") else ""
            raise ExprError(f"unexpected {_describe(tok)}{hint}", tok.column)
        return pred

    def or_(self) -> Predicate:
        parts = [self.and_()]
        while self.peek().keyword("or"):
            self.take()
            parts.append(self.and_())
        if len(parts) == 1:
            return parts[0]
        return lambda m, d: any(p(m, d) for p in parts)

    def and_(self) -> Predicate:
        parts = [self.unary()]
        while self.peek().keyword("and"):
            self.take()
            parts.append(self.unary())
        if len(parts) == 1:
            return parts[0]
        return lambda m, d: all(p(m, d) for p in parts)

    def unary(self) -> Predicate:
        tok = self.peek()
        if tok.keyword("not"):
            self.take()
            inner = self.unary()
            return lambda m, d: not inner(m, d)
        if tok.kind == "op" and tok.text == "(":
            self.take()
            inner = self.or_()
            self.expect_op(")", "`)` to close the `(` at column " + str(tok.column))
            return inner
        return self.test()

    def test(self) -> Predicate:
        tok = self.take()
        if tok.kind != "word" or tok.text.lower() in _KEYWORDS - {"in"}:
            raise ExprError(f"expected a field (a tag number or name), found {_describe(tok)}", tok.column)
        field = tok.text
        is_direction = field.lower() == "direction"
        tag = None if is_direction else self.d.tag_for(field)
        if not is_direction and tag is None:
            raise ExprError(f"unknown field {field!r}; use a tag number or a FIX field name", tok.column)
        op = self.take()
        if op.keyword("exists"):
            if is_direction:
                return lambda m, d: d is not None
            return lambda m, d: tag in m
        if op.keyword("in"):
            self.expect_op("(", "`(` after `in`")
            values = [self.value(tag, is_direction)]
            while self.peek().kind == "op" and self.peek().text == ",":
                self.take()
                values.append(self.value(tag, is_direction))
            self.expect_op(")", "`,` or `)` in the `in (...)` list")
            return self._equals(tag, frozenset(values))
        if op.kind == "op" and op.text in ("=", "!="):
            want = self._equals(tag, frozenset([self.value(tag, is_direction)]))
            if op.text == "=":
                return want
            return lambda m, d: not want(m, d)
        if op.kind == "op" and op.text == "~":
            vtok = self.take()
            if vtok.kind not in ("word", "string"):
                raise ExprError(f"expected a regular expression after `~`, found {_describe(vtok)}",
                                vtok.column)
            try:
                rx = re.compile(vtok.text)
            except re.error as exc:
                raise ExprError(f"bad regular expression: {exc}", vtok.column) from None
            if is_direction:
                return lambda m, d: d is not None and rx.search(d) is not None
            assert tag is not None
            return lambda m, d: any(rx.search(v) is not None for v in m.get_all(tag))
        raise ExprError(f"expected =, !=, in, ~ or exists after {field!r}, found {_describe(op)}", op.column)

    def value(self, tag: int | None, is_direction: bool) -> str:
        tok = self.take()
        if tok.kind not in ("word", "string"):
            raise ExprError(f"expected a value, found {_describe(tok)}", tok.column)
        if is_direction:
            text = tok.text.lower()
            if text not in ("in", "out"):
                raise ExprError(f"direction is `in` or `out`, not {tok.text!r}", tok.column)
            return text
        assert tag is not None
        return self._code(tag, tok.text) if tok.kind == "word" else tok.text

    def _code(self, tag: int, text: str) -> str:
        """The enum code a name stands for (``Trade`` → ``F`` for 150); else the text itself."""
        if tag == 35:
            if self.d.has_message(text):
                return text
            return self.d.msg_type_for(text) or self._enum(tag, text) or text
        enums = self.d.field_enums(tag)
        if not enums or text in enums:
            return text
        return self._enum(tag, text) or text

    def _enum(self, tag: int, text: str) -> str | None:
        key = _norm(text)
        for code, meaning in (self.d.field_enums(tag) or {}).items():
            if _norm(meaning) == key:
                return str(code)
        return None

    @staticmethod
    def _equals(tag: int | None, values: frozenset[str]) -> Predicate:
        if tag is None:
            return lambda m, d: d in values
        return lambda m, d: any(v in values for v in m.get_all(tag))


def _describe(tok: _Token) -> str:
    if tok.kind == "end":
        return "the end of the expression"
    return f"{tok.text!r}" if tok.kind != "string" else f"the string {tok.text!r}"


def compile_expr(text: str, dictionary: Any = None) -> Predicate:
    """``text`` as a predicate over ``(message, direction)``; raises :class:`ExprError`.

    ``dictionary`` resolves field and enum names (the Kraken dictionary by default).
    """
    if dictionary is None:
        from krakenfix_cli.kraken.dictionary import kraken

        dictionary = kraken()
    return _Parser(text, dictionary).parse()
