"""Message and decode: field access, order-sensitive equality, fast and slow splitting agree."""

from __future__ import annotations

from decimal import Decimal

import pytest

from krakenfix_cli.fix import message as message_mod
from krakenfix_cli.fix.encode import encode, encode_fields
from krakenfix_cli.fix.errors import MessageError
from krakenfix_cli.fix.message import Message, decode, parse_fields

ER = [(35, "8"), (34, "5"), (49, "KRAKEN"), (56, "ME"), (17, "T1"), (150, "F"), (58, "a=b"), (17, "T2")]


def test_decode_gives_every_field_in_wire_order_with_latin1_values() -> None:
    frame = encode_fields([(35, "8"), (17, "X"), (58, "caf\xe9")])
    msg = decode(frame)
    body = frame[frame.index(b"35=") : -7]
    assert msg.fields == ((8, "FIX.4.4"), (9, str(len(body))), (35, "8"), (17, "X"),
                          (58, "caf\xe9"), (10, frame[-4:-1].decode()))
    assert msg.msg_type == "8"
    assert msg[58] == "caf\xe9"
    assert list(msg) == list(msg.fields)
    assert len(msg) == 6


def test_get_returns_the_first_occurrence_and_get_all_every_one() -> None:
    msg = Message(ER)
    assert msg.get(17) == "T1"
    assert msg.get_all(17) == ["T1", "T2"]
    assert msg.get(999) is None and msg.get(999, "d") == "d"
    assert 17 in msg and 999 not in msg and "17" not in msg
    with pytest.raises(KeyError):
        msg[999]


def test_get_int_is_lenient() -> None:
    msg = Message([(35, "0"), (34, "12"), (58, "x")])
    assert msg.get_int(34) == 12
    assert msg.get_int(58) is None and msg.get_int(58, -1) == -1
    assert msg.get_int(7, 3) == 3


def test_equality_is_order_sensitive_and_matches_hash() -> None:
    a = Message([(35, "D"), (11, "A"), (55, "X")])
    b = Message([(35, "D"), (55, "X"), (11, "A")])
    assert a != b
    assert a == Message([(35, "D"), (11, "A"), (55, "X")])
    assert hash(a) == hash(Message(list(a.fields)))
    assert decode(encode(a)) == decode(encode(Message(list(a.fields))))
    assert (a == 1) is False


def test_decoded_and_constructed_messages_compare_equal() -> None:
    frame = encode_fields([(35, "D"), (11, "A")])
    assert decode(frame) == Message(decode(frame).fields)


def test_non_str_values_are_formatted() -> None:
    msg = Message.new("D", (38, Decimal("1.50")), (54, 1))
    assert msg.fields[0] == (35, "D")
    assert msg.get(54) == "1"


def test_derived_copies_leave_the_original_alone() -> None:
    msg = Message(ER)
    assert msg.replace(17, "Z").get_all(17) == ["Z", "T2"]
    assert msg.replace(1, "acct").fields[-1] == (1, "acct")
    assert 17 not in msg.without(17, 58)
    assert msg.with_fields((1, "x")).fields[-1] == (1, "x")
    assert msg.get_all(17) == ["T1", "T2"]


def test_header_body_and_redacted_text() -> None:
    msg = Message([(8, "FIX.4.4"), (35, "A"), (49, "S"), (554, "secret"), (98, "0"), (10, "000")])
    assert [t for t, _ in msg.header()] == [8, 35, 49]
    assert [t for t, _ in msg.body()] == [554, 98]
    assert "secret" not in msg.to_text() and "secret" not in repr(msg)
    assert msg.to_text() == "8=FIX.4.4|35=A|49=S|554=***|98=0|10=000|"


def test_equals_sign_inside_a_value_takes_the_slow_path_correctly() -> None:
    assert parse_fields("35=8\x0158=a=b=c\x0111=x\x01") == ((35, "8"), (58, "a=b=c"), (11, "x"))


def test_length_prefixed_data_may_hold_soh() -> None:
    text = "35=A\x0195=5\x0196=a\x01b=c\x01108=30\x01"
    assert parse_fields(text) == ((35, "A"), (95, "5"), (96, "a\x01b=c"), (108, "30"))
    assert parse_fields("35=A\x0195=3\x0196=abc\x01") == ((35, "A"), (95, "3"), (96, "abc"))
    with pytest.raises(MessageError):
        parse_fields("35=A\x0195=9\x0196=abc\x01")


@pytest.mark.parametrize(
    "text",
    [
        "35=D\x0111=A",  # last field not terminated
        "35=D\x01oops\x01",  # no '='
        "35=D\x01x1=A\x01",  # tag not a number
        "35=D\x01=A\x01",  # empty tag
        "35=D=5\x01X\x0111=A\x01",  # delimiters look balanced but a field has no '='
        "35=D\x01\u0661=A\x01",  # non-ASCII digit
        "35=D\x01" + "1" * 5000 + "=A\x01",  # absurd tag
        "35=D\x0195=x\x0196=a\x01",  # length not a number
    ],
)
def test_malformed_fields_raise_message_error(text: str) -> None:
    with pytest.raises(MessageError):
        parse_fields(text)


def test_leading_zero_tags_mean_the_same_tag_on_both_paths() -> None:
    assert parse_fields("035=D\x01") == ((35, "D"),)
    assert parse_fields("035=D\x0158=a=b\x01") == ((35, "D"), (58, "a=b"))


def test_empty_text_has_no_fields() -> None:
    assert parse_fields("") == ()
    assert len(decode(b"")) == 0


def test_layout_cache_stays_bounded() -> None:
    for i in range(message_mod._MAX_LAYOUTS + 10):
        decode(encode_fields([(35, "0"), (5000 + i, "x")]))
    assert len(message_mod._WIRE_LAYOUTS) <= message_mod._MAX_LAYOUTS
    assert len(message_mod._LAYOUTS) <= message_mod._MAX_LAYOUTS
    assert decode(encode_fields([(35, "0"), (17, "x")])).get(17) == "x"


@pytest.mark.parametrize(("text", "tag"), [("35=0\x010=HI\x01", 0), ("35=0\x01-1=HI\x01", -1)])
def test_zero_and_negative_tags_parse_for_validation_to_reject(text: str, tag: int) -> None:
    """QuickFIX parses them and rejects with 373=0 (scenario 14a); a garbled tag stays an error."""
    assert parse_fields(text)[1] == (tag, "HI")
