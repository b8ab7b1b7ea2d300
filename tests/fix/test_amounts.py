"""One rule for typed quantities and prices, and ASCII-only FIX decimals on the wire."""

from __future__ import annotations

from decimal import Decimal

import pytest

from krakenfix_cli.fix.errors import FixError
from krakenfix_cli.fix.values import parse_amount, parse_decimal
from krakenfix_cli.repl.commands import CommandError, parse


@pytest.mark.parametrize("text", ["\uff11\uff10", "\u0661", "1_0", "1e3", "nan", "inf"])
def test_wire_decimals_take_ascii_digits_only(text: str) -> None:
    with pytest.raises(FixError):
        parse_decimal(text)


def test_wire_decimals_keep_the_fix_forms() -> None:
    assert [parse_decimal(t) for t in ("-1.5", "1.", ".5", "7")] == [Decimal("-1.5"), Decimal("1"),
                                                                       Decimal(".5"), Decimal(7)]


@pytest.mark.parametrize("text", ["0_01", "1,000", "\uff11", "1e3", "-1", "+1", "1.", ".5", "nan", ""])
def test_typed_amounts_are_plain_decimals(text: str) -> None:
    with pytest.raises(FixError):
        parse_amount(text)
    assert parse_amount("0.01") == Decimal("0.01")


@pytest.mark.parametrize("qty", ["0_01", "1,000", "\uff11"])
def test_the_repl_uses_the_same_rule(qty: str) -> None:
    with pytest.raises(CommandError, match="plain decimal"):
        parse(f"order --side buy --qty {qty} --symbol BTC/USD --price 50000")
