"""The ``krakenfix log grep`` filter language: what each form matches, and where a bad one is wrong."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from krakenfix_cli.fix.message import Message
from krakenfix_cli.ops.logq.expr import ExprError, compile_expr

FILL = Message([(35, "8"), (34, "7"), (150, "F"), (39, "2"), (55, "BTC/USD"), (54, "1"), (11, "A1")])
CANCELED = Message([(35, "8"), (34, "8"), (150, "4"), (39, "4"), (55, "ETH/USD"), (58, "by user")])
RESENT = Message([(35, "D"), (34, "3"), (43, "Y"), (11, "B2"), (55, "BTC/EUR")])
GROUP = Message([(35, "W"), (268, "2"), (269, "0"), (270, "1"), (269, "1"), (270, "2")])


def matches(expr: str, msg: Message, direction: str | None = "in") -> bool:
    return compile_expr(expr)(msg, direction)


@pytest.mark.parametrize(("expr", "fill", "canceled", "resent"), [
    ("35=8", True, True, False),
    ("35=8 and 55=BTC/USD", True, False, False),
    ("35=ExecutionReport", True, True, False),
    ("MsgType = NewOrderSingle", False, False, True),
    ("ExecType in (Trade, Canceled)", True, True, False),
    ("ExecType in (F)", True, False, False),
    ("exectype = pending_cancel", False, False, False),
    ("OrdStatus=filled", True, False, False),
    ("Symbol ~ ^BTC", True, False, True),
    ("55 ~ 'USD$'", True, True, False),
    ("58 exists", False, True, False),
    ("not 58 exists", True, False, True),
    ("not 43=Y", True, True, False),
    ("43 != Y", True, True, False),
    ("35=D or 150=4", False, True, True),
    ("(35=D or 150=4) and Symbol ~ BTC", False, False, True),
    ("35=8 and (150=F or 150=4) and not 55=ETH/USD", True, False, False),
    ("Side=buy", True, False, False),
    ("58 = 'by user'", False, True, False),
    ("NOT 35=8 OR 55 = BTC/USD", True, False, True),
])
def test_each_form_matches_what_it_says(expr: str, fill: bool, canceled: bool, resent: bool) -> None:
    assert (matches(expr, FILL), matches(expr, CANCELED), matches(expr, RESENT)) == (fill, canceled, resent)


def test_direction_is_a_pseudo_field() -> None:
    assert matches("direction=in", FILL, "in") and not matches("direction=in", FILL, "out")
    assert matches("direction = out and 35=D", RESENT, "out")
    assert not matches("direction exists", FILL, None)


def test_a_repeated_field_matches_when_any_occurrence_does() -> None:
    assert matches("270=2", GROUP) and matches("MDEntryType in (1)", GROUP) and not matches("270=3", GROUP)


def test_and_binds_tighter_than_or() -> None:
    # a or (b and c): with a true, the whole is true whatever b and c are.
    assert matches("35=8 or 35=D and 55=nothing", FILL)
    assert not matches("(35=8 or 35=D) and 55=nothing", FILL)


@pytest.mark.parametrize(("expr", "column", "words"), [
    ("", 1, "empty expression"),
    ("35=8 55=BTC/USD", 6, "missing `and`/`or`"),
    ("35=8 and", 9, "expected a field"),
    ("35 in (8, D", 12, "`,` or `)`"),
    ("35 in 8", 7, "`(` after `in`"),
    ("(35=8 or 35=D", 14, "`)` to close the `(` at column 1"),
    ("NoSuchField=1", 1, "unknown field 'NoSuchField'"),
    ("58 ~ '('", 6, "bad regular expression"),
    ("58 = 'open", 6, "unterminated string"),
    ("35 > 8", 4, "expected =, !=, in, ~ or exists"),
    ("direction=sideways", 11, "direction is `in` or `out`"),
    ("35=", 4, "expected a value"),
    ("and 35=8", 1, "expected a field"),
])
def test_a_bad_expression_names_what_is_wrong_and_its_column(expr: str, column: int, words: str) -> None:
    with pytest.raises(ExprError) as err:
        compile_expr(expr)
    assert err.value.column == column and words in err.value.text, str(err.value)


_TAGS = st.sampled_from(["35", "55", "150", "58", "Symbol", "ExecType"])
_VALUES = st.sampled_from(["8", "D", "F", "4", "BTC/USD", "Trade", "Y"])


@st.composite
def _exprs(draw: st.DrawFn, depth: int = 0) -> tuple[str, object]:
    """A random expression, and a tiny model of it to evaluate on FILL independently."""
    if depth >= 3 or draw(st.booleans()):
        tag, value = draw(_TAGS), draw(_VALUES)
        return f"{tag}={value}", ("eq", tag, value)
    kind = draw(st.sampled_from(["and", "or", "not"]))
    if kind == "not":
        text, model = draw(_exprs(depth + 1))
        return f"not ({text})", ("not", model)
    (lt, lm), (rt, rm) = draw(_exprs(depth + 1)), draw(_exprs(depth + 1))
    return f"({lt}) {kind} ({rt})", (kind, lm, rm)


_NAMES = {"Symbol": "55", "ExecType": "150"}
_CODES = {("150", "Trade"): "F"}


def _evaluate(model: object, msg: Message) -> bool:
    assert isinstance(model, tuple)
    if model[0] == "eq":
        tag = _NAMES.get(model[1], model[1])
        value = _CODES.get((tag, model[2]), model[2])
        return value in msg.get_all(int(tag))
    if model[0] == "not":
        return not _evaluate(model[1], msg)
    left, right = _evaluate(model[1], msg), _evaluate(model[2], msg)
    return left and right if model[0] == "and" else left or right


@given(_exprs())
def test_random_expressions_agree_with_a_model(case: tuple[str, object]) -> None:
    text, model = case
    for msg in (FILL, CANCELED, RESENT):
        assert compile_expr(text)(msg, "in") == _evaluate(model, msg), text


@given(st.text(max_size=30))
def test_any_text_either_compiles_or_raises_expr_error(text: str) -> None:
    try:
        compile_expr(text)
    except ExprError as exc:
        assert 1 <= exc.column <= len(text) + 1
