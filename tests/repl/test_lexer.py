"""The input lexer: colours for verbs and tag=value pairs, and the line is never altered."""

from __future__ import annotations

import pytest

from krakenfix_cli.repl.lexer import tokenize


@pytest.mark.parametrize(
    "line",
    ["", "  buy 0.01 BTC/USD @ 50000 post-only", "raw 35=D|54=1|554=secret 99", "order --side buy", "frob |=",
     "raw ||==|"],
)
def test_tokens_join_back_to_the_line(line: str) -> None:
    assert "".join(t for _, t in tokenize(line)) == line


def styles(line: str) -> dict[str, str]:
    return {text: style for style, text in tokenize(line) if text.strip()}


def test_verbs_numbers_symbols_keywords() -> None:
    s = styles("buy 0.01 BTC/USD @ 50000 post-only")
    assert s == {"buy": "class:verb.buy", "0.01": "class:number", "BTC/USD": "class:symbol", "@": "class:punct",
                 "50000": "class:number", "post-only": "class:keyword"}


def test_unknown_verb_is_an_error() -> None:
    assert tokenize("frob 1")[0] == ("class:error", "frob")


def test_raw_tags_enums_and_secrets() -> None:
    toks = tokenize("raw 35=D|54=1|54=Z|9999=x|554=hunter2|34=5")
    assert ("class:tag", "35") in toks
    assert ("class:enum", "D") in toks
    assert ("class:enum", "1") in toks
    assert ("class:error", "Z") in toks  # not a Side(54) value
    assert ("class:tag.unknown", "9999") in toks
    assert ("class:secret", "hunter2") in toks
    assert ("class:tag.header", "34") in toks


def test_raw_tag_names_are_tags() -> None:
    toks = tokenize("raw Side=2")
    assert ("class:tag", "Side") in toks and ("class:enum", "2") in toks


def test_options_and_refs() -> None:
    s = styles("cancel #3")
    assert s == {"cancel": "class:verb.danger", "#3": "class:ref"}
    assert styles("order --side buy")["--side"] == "class:option"
