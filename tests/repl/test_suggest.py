"""suggest(): what Tab offers at the cursor, checked without a terminal."""

from __future__ import annotations

from krakenfix_cli.repl.completer import Suggestion, suggest
from krakenfix_cli.repl.state import ReplState


def texts(items: list[Suggestion]) -> list[str]:
    return [s.text for s in items]


def test_first_word_completes_verbs_with_their_summary() -> None:
    got = suggest("ca")
    assert texts(got) == ["cancel"]
    assert got[0].replace == 2 and "OrderCancelRequest" not in got[0].display and got[0].meta


def test_empty_line_offers_every_verb() -> None:
    assert {"buy", "sell", "raw", "mass-cancel", "quit"} <= set(texts(suggest("")))


def test_raw_tag_number_prefix_completes_to_tag_equals() -> None:
    got = suggest("raw 35=D|5")
    assert got[0].text in ("55=", "54=")
    assert {"55=", "54=", "58="} <= set(texts(got))
    assert all(s.replace == 1 for s in got)
    assert any(s.display == "54 Side" for s in got)


def test_raw_tag_name_prefix_completes_to_its_number() -> None:
    got = suggest("raw 35=D|Ord")
    assert "40=" in texts(got) and "38=" in texts(got)
    assert next(s for s in got if s.text == "40=").display == "40 OrdType"


def test_raw_enum_values_of_the_tag_being_typed() -> None:
    got = suggest("raw 54=")
    assert got[0] == Suggestion("1", 0, "1 (Buy)", "Side")
    assert got[1].display == "2 (Sell)"


def test_raw_enum_values_filtered_by_prefix_and_by_name() -> None:
    assert texts(suggest("raw 35=D|Side=2")) == ["2"]
    assert texts(suggest("raw 35=D 59=")) == ["1", "3", "4", "6"]  # Kraken's, not FIX 4.4's Day/OPG/…


def test_raw_side_offers_only_what_kraken_takes() -> None:
    assert texts(suggest("raw 35=D|54=")) == ["1", "2"]  # no Cross, Lend, Borrow (SPEC §6.4)


def test_raw_msgtype_values_name_the_message() -> None:
    got = suggest("raw 35=")
    d = next(s for s in got if s.text == "D")
    assert d.display == "D (NewOrderSingle)"


def test_symbols_complete_after_quantity_and_in_raw() -> None:
    state = ReplState()
    assert "BTC/USD" in texts(suggest("buy 0.01 BT", state))
    assert texts(suggest("raw 35=D|55=ETH/U", state)) == ["ETH/USD"]


def test_symbols_come_from_the_instrument_list_when_known() -> None:
    state = ReplState()
    state.learn_symbols(["DOGE/USD", "BTC/USD"])
    assert texts(suggest("sell 5 D", state)) == ["DOGE/USD"]


def test_keywords_after_symbol_skip_those_used() -> None:
    got = texts(suggest("buy 0.01 BTC/USD @ 50000 p", ReplState()))
    assert got == ["post-only"]
    assert "ioc" in texts(suggest("sell 1 ETH/USD market ", ReplState()))
    assert "market" not in texts(suggest("sell 1 ETH/USD market ", ReplState()))


def test_long_form_option_names_and_values() -> None:
    state = ReplState()
    assert texts(suggest("order --si", state)) == ["--side"]
    assert texts(suggest("order --side ", state)) == ["buy", "sell"]
    assert "--side" not in texts(suggest("order --side buy --", state))
    assert texts(suggest("order --side buy --tif i", state)) == ["ioc"]


def test_cancel_offers_open_orders_by_index_and_clordid() -> None:
    state = ReplState()
    state.add_order("1700000000000001", "BTC/USD", "1", "0.01", "2", "50000")
    done = state.add_order("1700000000000002", "ETH/USD", "2", "1", "1")
    done.state = "filled"
    got = suggest("cancel ", state)
    assert texts(got) == ["#1", "1700000000000001"]
    assert got[0].meta == "buy 0.01 BTC/USD @ 50000 [pending-new]"
    assert texts(suggest("raw 35=F|41=17", state)) == ["1700000000000001"]


def test_mass_cancel_scope_then_symbol() -> None:
    assert texts(suggest("mass-cancel ")) == ["symbol", "session", "all"]
    assert "BTC/USD" in texts(suggest("mass-cancel symbol "))


def test_output_filter_seq_help_arguments() -> None:
    assert texts(suggest("output c")) == ["compact"]
    assert texts(suggest("filter ty")) == ["type"]
    assert "8" in texts(suggest("filter type "))
    assert texts(suggest("seq ")) == ["in", "out"]
    assert "keys" in texts(suggest("help k"))


def test_unknown_verb_offers_nothing() -> None:
    assert suggest("frob x") == []
