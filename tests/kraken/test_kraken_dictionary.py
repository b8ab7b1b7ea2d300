"""Kraken's dialect: its examples validate cleanly with kraken(), and plain FIX 4.4 says why not."""

from __future__ import annotations

import pytest

from krakenfix_cli.fix.dictionary import fix44
from krakenfix_cli.fix.message import Message, parse_fields
from krakenfix_cli.fix.validate import first_problem, validate
from krakenfix_cli.kraken import dictionary as kd
from krakenfix_cli.kraken.dictionary import kraken

TS = "20230707-13:56:08.000"


def msg(text: str) -> Message:
    return Message(parse_fields(text.replace("|", "\x01")))


def problems(m: Message, *, body_only: bool = True) -> list[tuple[int, int | None]]:
    return [(p.reason, p.ref_tag) for p in validate(m, kraken(), body_only=body_only, strict_groups=True)]


# Kraken's own examples (SPEC.md), "…" parts filled in; their 9/10 may be wrong, which is framing's business.
FULL_EXAMPLES = {
    "md logon": "8=FIX.4.4|9=76|35=A|49=MYCOMPID|56=KRAKEN-MD|34=1|52=20230707-13:31:03.000|98=0|108=60|141=Y|"
                "10=011|",
    "trading logon": "8=FIX.4.4|9=250|35=A|49=MYCOMPID|56=KRAKEN-TRD|34=1|52=20230707-13:21:15.000|98=0|108=60|"
                     "141=N|553=<API_KEY>|554=<PASSWORD>|5025=1688736075072|10=215|",
}
BODY_EXAMPLES = {
    "nos spot": f"35=D|34=2|49=MYCOMPID|52={TS}|56=KRAKEN-TRD|11=1688738168|38=0.01|40=2|44=1000|54=1|"
                "55=BTC/USD|59=1|60=20230707-13:56:08.277|",
    "nos derivatives": "35=D|34=2|49=damien2_DRV|52=20250303-14:09:32.902|56=KRAKEN-DRV-TRD|"
                       "11=9e58120f-182b-4dce-9609-8ca7cdd174f0|18=s|38=0.1|40=2|44=1000|54=1|55=PF_ETHUSD|59=1|"
                       "60=20250303-14:09:32.896|",
    "nos broker alloc": f"35=D|11=1|38=1|40=1|54=1|55=BTC/USD|59=1|60={TS}|78=1|79=SUBACCOUNT|",
    "cancel": f"35=F|34=5|49=MYCOMPID|52={TS}|56=KRAKEN-TRD|11=1688738340|37=OKWUQF-YPJM2-DTAJHH|54=1|"
              f"55=BTC/USD|60={TS}|",
    "amend": f"35=G|34=3|49=damien_dlt|52={TS}|56=KRAKEN-TRD|11=1719305825|37=OTHB2F-BNGUH-2CMLPT|38=0.2|40=2|"
             f"41=1719305784|44=71000|54=1|55=BTC/USD|59=1|60={TS}|",
    "mass cancel": f"35=q|34=6|49=MYCOMPID|52={TS}|56=KRAKEN-TRD|11=1688738376|55=BTC/USD|60={TS}|530=1|",
    "bmr": "35=j|45=0|58=1688738737 : EOrder:Insufficient funds|372=D|379=1688738737|380=0|",
    "md request": "35=V|56=KRAKEN-MD|146=1|55=BTC/USD|262=1|263=1|264=0|265=1|267=3|269=0|269=1|269=2|",
    "md request l3": "35=V|56=KRAKEN-DRV-MD|146=1|55=PF_ETHUSD|262=1|263=1|264=0|265=1|266=N|267=2|269=0|269=1|",
    "incremental": "35=X|55=PF_ETHUSD|262=1|268=1|279=0|269=0|278=B2372.7|270=2372.7|271=0.084|273=14:13:24.859|"
                   "5041=3254665545|",
    "instrument list": "35=y|49=KRAKEN-MD|56=CLIENT|34=3|320=SLS1000002|322=1697104455317568799|560=0|146=1|"
                       "55=BTC/USD|562=0.00000001|5010=8|5011=0.0001|2349=1|5022=0.1|5032=1|",
    "instrument list request": "35=x|320=1|263=0|559=4|",
    "reject": "35=3|34=14|49=KRAKEN-TRD|56=CLIENT|45=12|371=54|372=D|373=1|58=Missing mandatory field: Side (54)|",
    "gap fill": "35=4|34=8|49=CLIENT|56=KRAKEN-MD|123=Y|36=14|",
    "hard reset": "35=4|34=1|49=CLIENT|56=KRAKEN-TRD|123=N|36=1|",
    "resend request": "35=2|34=114|49=KRAKEN-MD|7=8|16=0|",
    "session status request": "35=g|335=1|336=SESSION|263=1|",
}
# Messages the simulator and client exchange that Kraken documents field by field (no full example).
KRAKEN_MESSAGES = {
    "nos with every kraken option": f"35=D|11=1688738168000000|38=0.5|40=4|44=1000|99=990|54=2|55=BTC/USD|59=6|"
                                    f"60={TS}|126=20230807-13:56:08|168={TS}|18=P s|388=1|5001=1|7928=2|"
                                    f"62={TS}|1138=0.1|",
    "amend with kraken options": f"35=G|11=2|37=O|41=1|38=0.2|40=2|44=71000|54=1|55=BTC/USD|59=1|60={TS}|"
                                 f"18=P|62={TS}|1138=0.05|",
    "take profit order types": f"35=D|11=3|38=1|40=T|44=1|99=2|54=1|55=BTC/USD|59=1|60={TS}|",
    "full trading logon": f"8=FIX.4.4|9=1|35=A|34=1|49=CLIENT|52={TS}|56=KRAKEN-TRD|98=0|108=60|141=Y|"
                          "553=KEY|554=SIG|5025=1688736075072|8674=1|5030=N|5051=Y|109=7|10=000|",
    "execution report fill": f"35=8|11=1|17=E1|37=OKWUQF-YPJM2-DTAJHH|527=42|60={TS}|40=2|54=1|55=BTC/USD|44=1000|"
                             f"31=1000|6=1000|14=0.01|32=0.01|151=0|38=0.01|1138=0.01|150=F|39=2|59=1|18=P s|"
                             "5050=M|1003=T42|851=1|136=1|137=0.0026|138=USD|139=4|",
    "execution report status": "35=8|11=1|17=E2|37=O|40=2|54=1|55=BTC/USD|14=0|151=1|150=I|39=0|6=0|",
    "snapshot l3": "35=W|262=1|55=PF_ETHUSD|268=2|269=0|278=3f2a-uuid|270=2372.7|271=0.084|273=14:13:24.859|"
                   "5060=2026-02-03T10:24:34.650069468Z|5273=2026-02-03T10:24:30.000000001Z|269=1|278=B2372.8|"
                   "270=2372.8|271=1|273=14:13:24.860|",
    "trade incremental": "35=X|55=BTC/USD|262=1|268=1|279=0|269=2|278=T1|270=30000.1|271=0.5|273=14:13:24.859|"
                         "40=1|2446=2|",
    "md reject level3": "35=Y|58=Level3 only on derivatives|262=1|281=B|",
    "trading session status": "35=h|335=1|336=SESSION|340=101|",
    "session status reject": "35=h|335=1|336=SESSION|340=0|567=103|",
    "bmr unknown order": "35=j|45=5|58=EOrder:Unknown order|372=F|379=1688738340|380=101|",
    "tokenized stock list request": "35=x|320=2|559=1|167=TS|",
    "cancel by original clordid": f"35=F|11=2|41=1|54=1|55=BTC/USD|60={TS}|",
    "status request": "35=H|11=1|37=OKWUQF-YPJM2-DTAJHH|55=BTC/USD|",
    "execution report new": "35=8|11=1|17=E0|37=O|40=2|54=1|55=BTC/USD|44=1000|38=1|14=0|151=1|150=0|39=0|",
}


@pytest.mark.parametrize("name", sorted(FULL_EXAMPLES))
def test_full_kraken_example_validates_cleanly(name: str) -> None:
    assert problems(msg(FULL_EXAMPLES[name]), body_only=False) == []


@pytest.mark.parametrize("name", sorted(BODY_EXAMPLES))
def test_kraken_example_body_validates_cleanly(name: str) -> None:
    assert problems(msg(BODY_EXAMPLES[name])) == []


@pytest.mark.parametrize("name", sorted(KRAKEN_MESSAGES))
def test_documented_kraken_message_validates_cleanly(name: str) -> None:
    text = KRAKEN_MESSAGES[name]
    assert problems(msg(text), body_only=not text.startswith("8=")) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (KRAKEN_MESSAGES["nos with every kraken option"], (5, 18)),  # "s" is not FIX 4.4's
        (f"35=D|11=1|40=2|54=1|60={TS}|62={TS}|", (2, 62)),  # ValidUntilTime is a Quote field in FIX 4.4
        (f"35=D|11=1|40=2|54=1|60={TS}|1138=1|", (0, 1138)),  # FIX 5.0 tag
        (f"35=D|11=1|40=2|54=1|60={TS}|7928=1|", (0, 7928)),
        (f"35=D|11=1|40=R|54=1|60={TS}|", (5, 40)),  # take-profit
        ("35=A|98=0|108=60|5025=1688736075072|", (0, 5025)),
        (BODY_EXAMPLES["incremental"], (2, 55)),  # Symbol at the top of X
        (BODY_EXAMPLES["instrument list"], (0, 2349)),
        ("35=Y|262=1|281=B|", None),  # B is a FIX value too, with another meaning
        ("35=h|336=SESSION|340=101|", (5, 340)),
        ("35=j|45=5|372=F|380=101|", (5, 380)),
        (BODY_EXAMPLES["cancel"], (1, 41)),  # Kraken: 37 or 41
        ("35=H|11=1|37=O|55=BTC/USD|", (1, 54)),
        ("35=8|11=1|17=E0|37=O|54=1|14=0|151=1|150=0|39=0|", (1, 6)),
    ],
)
def test_plain_fix44_refuses_kraken_extensions(text: str, expected: tuple[int, int] | None) -> None:
    p = first_problem(msg(text), fix44(), body_only=True)
    assert (None if p is None else (p.reason, p.ref_tag)) == expected
    assert problems(msg(text)) == []


def test_kraken_dictionary_still_validates_strictly() -> None:
    # extended, not loosened: unknown tags, bad Kraken enum values and formats are refused
    assert problems(msg(f"35=D|11=1|40=2|54=1|60={TS}|5000=x|")) == [(0, 5000)]
    assert problems(msg(f"35=D|11=1|40=2|54=1|60={TS}|7928=3|")) == [(5, 7928)]
    assert problems(msg(f"35=D|11=1|40=2|54=1|60={TS}|18=P x|")) == [(5, 18)]
    assert problems(msg(f"35=D|11=1|40=2|54=1|60={TS}|62=2023-07-07T13:56:08Z|")) == [(6, 62)]
    assert problems(msg("35=A|98=0|108=60|5030=true|")) == [(6, 5030)]
    assert problems(msg("35=y|320=1|322=2|560=0|146=1|55=X|5032=9|")) == [(5, 5032)]
    assert problems(msg("35=0|5025=1|")) == [(2, 5025)]  # custom tags only where Kraken uses them


def test_kraken_labels_are_aliases_of_fix_names() -> None:
    k = kraken()
    for label, tag in [("OrderType", 40), ("OrigClordid", 41), ("ExecId", 17), ("SequenceReset", 123),
                       ("InstrumentReqID", 320), ("InstrumentResponseID", 322),
                       ("InstrumentListRequestType", 559), ("InstrumentRequestResult", 560)]:
        assert k.tag_for(label) == tag
        assert k.tag_for(label.lower()) == tag
    assert k.field_name(40) == "OrdType" and "OrderType" in k.field(40).aliases  # type: ignore[union-attr]
    assert k.field_name(123) == "GapFillFlag"
    assert k.tag_for("Nonce") == 5025 and k.tag_for("CancelOrdersOnDisconnect") == 8674


def test_kraken_message_names_are_aliases() -> None:
    k = kraken()
    assert k.msg_type_for("InstrumentListRequest") == "x"
    assert k.msg_type_for("instrumentlist") == "y"
    assert k.msg_name("y") == "SecurityList"
    assert k.message("x").aliases == ("InstrumentListRequest",)  # type: ignore[union-attr]


def test_kraken_meanings_for_repurposed_values() -> None:
    k = kraken()
    assert k.enum_meaning(40, "R") == "Take Profit"
    assert k.enum_meaning(40, "3") == "Stop Loss"
    assert k.enum_meaning(18, "s") == "Single Fee"
    assert k.enum_meaning(388, "5") == "Last Trade Price"
    assert k.enum_meaning(281, "C") == "Trade Not Available On This Request"
    assert k.enum_meaning(380, "104") == "Order Too Old"
    assert k.enum_meaning(5032, "3") == "Cancel Only"
    assert ("0", "Cancel Both") in k.enum_values(7928)
    assert fix44().enum_meaning(40, "3") == "Stop"  # the plain dictionary keeps FIX's meaning


def test_every_custom_tag_of_spec_10_19_is_defined() -> None:
    k = kraken()
    tags = [62, 388, 1003, 1138, 2349, 2446, 5001, 5010, 5011, 5012, 5013, 5022, 5025, 5030, 5032, 5041,
            5050, 5051, 5060, 5273, 7928, 8674, 553, 554, 562, 851, 136, 137, 138, 109]
    assert [t for t in tags if k.field(t) is None] == []
    assert k.field_type(1138) == "QTY" and k.field_type(5030) == "BOOLEAN" and k.field_type(62) == "UTCTIMESTAMP"


def test_groups_gain_kraken_members_but_keep_their_delimiter() -> None:
    k = kraken()
    y = k.message("y").groups[146]  # type: ignore[union-attr]
    assert y.delimiter == 55 and {2349, 5010, 5011, 5012, 5013, 5022, 5032} <= y.member_set
    x = k.message("X").groups[268]  # type: ignore[union-attr]
    assert x.delimiter == 279 and {40, 2446, 5060, 5273} <= x.member_set
    assert 278 in k.message("W").groups[268].member_set  # type: ignore[union-attr]


def test_kraken_is_cached_and_extend_builds_fresh() -> None:
    assert kraken() is kraken()
    again = kd.extend(fix44())
    assert again is not kraken() and again.field(5025) == kraken().field(5025)
    assert fix44().field(5025) is None
