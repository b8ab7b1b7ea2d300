"""The FIX 4.4 dictionary: lookups, layouts as QuickFIX reads them, extension, generated data."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import krakenfix_cli.fix.data.generate as generate
from krakenfix_cli.fix.dictionary import HEADER_KEY, Dictionary, FieldDef, GroupDef, fix44, load

DATA = Path(generate.__file__).resolve().parent
XML = generate.DEFAULT_XML


def test_fix44_is_cached_and_knows_its_version() -> None:
    assert fix44() is fix44()
    assert fix44().begin_string == "FIX.4.4"


def test_field_lookups_by_tag() -> None:
    d = fix44()
    side = d.field(54)
    assert side is not None
    assert (side.tag, side.name, side.type) == (54, "Side", "CHAR")
    assert side.enums["1"] == "Buy"
    assert d.field_name(34) == "MsgSeqNum"
    assert d.field_name(99999) == "99999"
    assert d.field(99999) is None
    assert d.field_type(38) == "QTY"
    assert d.field_type(18) == "MULTIPLEVALUESTRING"


def test_tag_for_accepts_names_case_insensitively_and_digits() -> None:
    d = fix44()
    assert d.tag_for("MsgSeqNum") == 34
    assert d.tag_for("msgseqnum") == 34
    assert d.tag_for(" OrdType ") == 40
    assert d.tag_for("34") == 34
    assert d.tag_for("5000") == 5000  # digits pass through even when undefined
    assert d.tag_for("NoSuchField") is None
    assert d.tag_for("OrderType") is None  # Kraken's label is only an alias in kraken()


def test_enum_meanings_and_values_for_completion() -> None:
    d = fix44()
    assert d.enum_meaning(54, "1") == "Buy"
    assert d.enum_meaning(54, "Z") is None
    assert d.enum_meaning(11, "x") is None
    values = d.enum_values(150)
    assert ("F", "Trade") in values and ("0", "New") in values
    assert d.enum_values(11) == []
    assert d.enum_meaning(39, "1") == "Partially Filled"


def test_message_names_and_types() -> None:
    d = fix44()
    assert d.msg_name("8") == "ExecutionReport"
    assert d.msg_name("*") == "MsgType(*)"
    assert d.msg_type_for("NewOrderSingle") == "D"
    assert d.msg_type_for("executionreport") == "8"
    assert d.msg_type_for("D") == "D"
    assert d.msg_type_for("Nope") is None
    assert not d.has_message("*") and d.has_message("y")


def test_new_order_single_layout_matches_quickfix() -> None:
    nos = fix44().message("D")
    assert nos is not None
    assert nos.name == "NewOrderSingle" and not nos.admin
    # Instrument and OrderQtyData are required components without required fields:
    # QuickFIX requires neither Symbol(55) nor OrderQty(38) (14b)
    assert nos.required == (11, 40, 54, 60)
    assert nos.fields[55] is False and nos.fields[38] is False
    assert 386 in nos.fields and 336 not in nos.fields  # count tag at the top, members in the group
    sessions = nos.groups[386]
    assert (sessions.count_tag, sessions.delimiter, sessions.members) == (386, 336, (336, 625))


def test_group_layouts_come_from_components_and_nest() -> None:
    d = fix44()
    v = d.message("V")
    assert v is not None
    assert v.groups[267].delimiter == 269 and v.groups[267].required == frozenset({269})
    assert v.groups[146].delimiter == 55  # from the Instrument component
    parties = d.message("D").groups[453]  # type: ignore[union-attr]
    assert parties.delimiter == 448 and 802 in parties.member_set
    assert parties.groups[802].delimiter == 523


def test_header_and_trailer() -> None:
    d = fix44()
    assert d.header.required == (8, 9, 34, 35, 49, 52, 56)
    assert {115, 128, 43, 97, 122, 627} <= d.header_tags
    assert d.header.groups[627].delimiter == 628
    assert d.trailer_tags == frozenset({93, 89, 10})
    assert d.message(HEADER_KEY) is None


def test_all_fields_and_messages_are_iterable() -> None:
    d = fix44()
    fields = list(d.all_fields())
    assert len(fields) == len({f.tag for f in fields}) > 900
    assert [f.tag for f in fields] == sorted(f.tag for f in fields)
    messages = {m.msg_type: m for m in d.all_messages()}
    assert len(messages) == 93 and messages["A"].admin and not messages["D"].admin


def test_definitions_are_immutable_values() -> None:
    d = fix44()
    side = d.field(54)
    assert side is not None
    with pytest.raises(AttributeError):
        side.__setattr__("name", "x")
    with pytest.raises(TypeError):
        side.enums["Z"] = "Zed"  # type: ignore[index]
    assert FieldDef(1, "A", "STRING") == FieldDef(1, "A", "STRING")
    assert hash(FieldDef(1, "A", "STRING")) == hash(FieldDef(1, "A", "STRING"))
    assert GroupDef(1, 2, (2, 3)).member_set == frozenset({2, 3})
    assert "tag=54" in repr(side)


def test_extended_adds_without_touching_the_base() -> None:
    base = fix44()
    ext = base.extended(
        fields=[FieldDef(7000, "Custom", "INT", {"1": "One"}, ("MyLabel",))],
        enums={54: {"Z": "Zed", "1": "Purchase"}},
        message_fields={"D": {7000: True}},
        group_fields={("V", 267): [7000]},
        aliases={40: ["OrderKind"]},
        msg_aliases={"D": ["Order"]},
    )
    assert base.field(7000) is None and base.enum_meaning(54, "Z") is None
    assert ext.field(7000) == FieldDef(7000, "Custom", "INT", {"1": "One"}, ("MyLabel",))
    assert ext.enum_meaning(54, "Z") == "Zed" and ext.enum_meaning(54, "1") == "Purchase"
    assert ext.enum_meaning(54, "2") == "Sell"
    assert ext.message("D").fields[7000] is True  # type: ignore[union-attr]
    assert 7000 in ext.message("D").required  # type: ignore[union-attr]
    assert 7000 not in base.message("D").fields  # type: ignore[union-attr]
    assert 7000 in ext.message("V").groups[267].member_set  # type: ignore[union-attr]
    assert 7000 not in base.message("V").groups[267].member_set  # type: ignore[union-attr]
    assert ext.tag_for("orderkind") == 40 and ext.tag_for("mylabel") == 7000
    assert ext.msg_type_for("order") == "D"


def test_extended_refuses_undefined_tags_and_types() -> None:
    d = fix44()
    with pytest.raises(ValueError):
        d.extended(message_fields={"D": {7001: False}})
    with pytest.raises(ValueError):
        d.extended(message_fields={"??": {11: False}})
    with pytest.raises(ValueError):
        d.extended(group_fields={("D", 146): [11]})
    with pytest.raises(ValueError):
        d.extended(enums={7001: {"1": "x"}})
    with pytest.raises(ValueError):
        d.extended(aliases={7001: ["x"]})


def test_extended_field_redefinition_merges_enums() -> None:
    ext = fix44().extended(fields=[FieldDef(40, "OrdType", "CHAR", {"R": "Take Profit"})])
    assert ext.enum_meaning(40, "R") == "Take Profit" and ext.enum_meaning(40, "2") == "Limit"


def test_load_reads_a_generated_file(tmp_path: Path) -> None:
    doc = json.loads((DATA / "fix44.json").read_text(encoding="utf-8"))
    doc["begin_string"] = "FIX.4.4-test"
    path = tmp_path / "d.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    d = load(str(path))
    assert isinstance(d, Dictionary) and d.begin_string == "FIX.4.4-test"


def test_data_files_ship_with_the_quickfix_licence() -> None:
    assert "QuickFIX Software License" in (DATA / "LICENSE-quickfix").read_text(encoding="utf-8")
    doc = json.loads((DATA / "fix44.json").read_text(encoding="utf-8"))
    assert "LICENSE-quickfix" in doc["about"] and "quickfixengine.org" in doc["about"]


def test_enum_descriptions_are_title_cased() -> None:
    assert generate.pretty("PARTIALLY_FILLED") == "Partially Filled"
    assert generate.pretty("GOOD_TILL_CANCEL_GTC") == "Good Till Cancel GTC"
    assert generate.pretty("") == ""


@pytest.mark.skipif(not XML.exists(), reason="tests/conformance/suite/quickfix-fix44/FIX44.xml not available")
def test_generated_json_is_up_to_date_with_the_xml() -> None:
    assert generate.main(["--xml", str(XML), "--check"]) == 0


@pytest.mark.skipif(not XML.exists(), reason="tests/conformance/suite/quickfix-fix44/FIX44.xml not available")
def test_generator_runs_as_a_module(tmp_path: Path) -> None:
    out = tmp_path / "fix44.json"
    done = subprocess.run(
        [sys.executable, "-m", "krakenfix_cli.fix.data.generate", "--xml", str(XML), "--output", str(out)],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8") == (DATA / "fix44.json").read_text(encoding="utf-8")


def test_fix_layer_does_not_import_kraken_typing_or_dataclasses() -> None:
    code = (
        "import sys, krakenfix_cli.fix.dictionary as d, krakenfix_cli.fix.validate as v;"
        "d.fix44().message('D');"
        "print(sorted(m for m in ('typing', 'dataclasses', 'krakenfix_cli.kraken', 'rich', 'typer')"
        " if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
