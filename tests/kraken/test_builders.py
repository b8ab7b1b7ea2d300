"""Kraken message builders: the fields Kraken's examples carry, and its rules as clear errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from krakenfix_cli.kraken.builders import (
    MassCancelType,
    OrderArgumentError,
    OrdType,
    Side,
    TimeInForce,
    instrument_list_request,
    market_data_request,
    new_order_single,
    order_cancel_replace,
    order_cancel_request,
    order_mass_cancel,
    order_status_request,
    trading_session_status_request,
)

T = 1_688_738_168.277  # 20230707-13:56:08.277
CID = "1688738168277000"
UUID = "0189c0b2-1a2b-4c3d-8e4f-0016d3cca427"


def test_limit_order_matches_kraken_spot_example() -> None:
    msg = new_order_single(CID, "BTC/USD", "buy", Decimal("0.01"), "limit", price="1000", transact_time=T)
    assert msg.to_text() == f"35=D|11={CID}|38=0.01|40=2|44=1000|54=1|55=BTC/USD|59=1|60=20230707-13:56:08.277|"


def test_derivatives_order_adds_single_fee_exec_inst() -> None:
    msg = new_order_single(
        UUID, "PF_ETHUSD", Side.BUY, "0.1", OrdType.LIMIT, price=1000, transact_time=T, derivatives=True
    )
    assert msg.get(18) == "s"
    post = new_order_single(
        UUID, "PF_ETHUSD", "sell", "0.1", "limit", price=1000, post_only=True, transact_time=T, derivatives=True
    )
    assert post.get(18) == "P s"


def test_market_order_has_no_price_and_decimals_are_plain() -> None:
    msg = new_order_single(CID, "BTC/USD", "sell", Decimal("1E-8"), "market", tif="ioc", transact_time=T)
    assert msg.get(38) == "0.00000001"
    assert 44 not in msg and msg.get(59) == "3"


def test_stop_loss_limit_carries_price_and_trigger() -> None:
    msg = new_order_single(
        CID, "BTC/USD", "sell", "1", "stop-loss-limit", price="29000", stop_px="29500", trigger_ref="index",
        transact_time=T,
    )  # fmt: skip
    assert (msg.get(40), msg.get(44), msg.get(99), msg.get(388)) == ("4", "29000", "29500", "1")


def test_all_optional_spot_fields_in_tag_order() -> None:
    msg = new_order_single(
        CID, "BTC/USD", "buy", "1.5", "limit", price="30000", tif="gtd", expire_time=T + 86400,
        effective_time=T + 10, valid_until=T + 30, display_qty="0.5", stp="oldest", leverage="1",
        alloc_account="sub-1", exec_inst=["q"], reduce_only=True, transact_time=T,
    )  # fmt: skip
    tags = [t for t, _ in msg.fields]
    assert tags == [35, 11, 18, 38, 40, 44, 54, 55, 59, 60, 62, 78, 79, 126, 168, 1138, 5001, 7928]
    assert msg.get(126) == "20230708-13:56:08"  # ExpireTime has no fraction
    assert msg.get(18) == "q E" and msg.get(7928) == "2" and msg.get(78) == "1"


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"ord_type": "limit"}, "needs a price"),
        ({"ord_type": "market", "price": "1"}, "takes no price"),
        ({"ord_type": "stop-loss"}, "needs a trigger price"),
        ({"ord_type": "limit", "price": "1", "stop_px": "1"}, "takes no trigger price"),
        ({"ord_type": "market", "post_only": True}, "post-only applies to limit"),
        ({"ord_type": "limit", "price": "1", "tif": "gtd"}, "needs an expiry"),
        ({"ord_type": "limit", "price": "1", "tif": "gtd", "expire_time": T + 40 * 86400}, "one month"),
        ({"ord_type": "limit", "price": "1", "expire_time": T + 60}, "needs time in force gtd"),
        ({"ord_type": "limit", "price": "1", "valid_until": T + 1}, "2 to 60 seconds"),
        ({"ord_type": "limit", "price": "1", "valid_until": T + 61}, "2 to 60 seconds"),
        ({"ord_type": "limit", "price": "1", "display_qty": "0.01"}, "1/15"),
        ({"ord_type": "market", "display_qty": "0.5"}, "limit orders only"),
        ({"ord_type": "limit", "price": "-1"}, "positive"),
        ({"ord_type": "limit", "price": "abc"}, "positive plain decimal"),
        ({"ord_type": "limit", "price": "1", "exec_inst": ["f", "q"]}, "exclude each other"),
        ({"ord_type": "limit", "price": "1", "exec_inst": ["Z"]}, "unknown ExecInst"),
        ({"ord_type": "limit", "price": "1", "leverage": "5"}, "Leverage"),
        ({"ord_type": "sideways"}, "unknown order type"),
        ({"ord_type": "market", "side": "hold"}, "unknown side"),
        ({"ord_type": "market", "tif": "forever"}, "unknown time in force"),
    ],
)
def test_spot_rule_violations_raise_clear_errors(kwargs: dict[str, object], words: str) -> None:
    args: dict[str, object] = {"side": "buy", **kwargs}
    side = args.pop("side")
    ord_type = args.pop("ord_type")
    with pytest.raises(OrderArgumentError, match=words):
        new_order_single(CID, "BTC/USD", side, "1", ord_type, transact_time=T, **args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"ord_type": "trailing-stop-limit", "price": "1", "stop_px": "1"}, "trailing-stop-limit"),
        ({"tif": "gtd", "expire_time": T + 60}, "good-till-date"),
        ({"stp": "both"}, "SelfTradePrevention"),
        ({"display_qty": "0.5"}, "DisplayQty"),
        ({"effective_time": T + 10}, "EffectiveTime"),
        ({"leverage": "1"}, "Leverage"),
        ({"exec_inst": ["v"]}, "Spot only"),
    ],
)
def test_derivatives_restrictions_raise(kwargs: dict[str, object], words: str) -> None:
    args: dict[str, object] = {"ord_type": "limit", "price": "1", **kwargs}
    ord_type = args.pop("ord_type")
    with pytest.raises(OrderArgumentError, match=words):
        new_order_single(UUID, "PF_ETHUSD", "buy", "1", ord_type, transact_time=T, derivatives=True, **args)  # type: ignore[arg-type]


def test_clordid_format_is_checked_per_venue() -> None:
    with pytest.raises(OrderArgumentError, match="UUID"):
        new_order_single(CID, "PF_ETHUSD", "buy", "1", "market", transact_time=T, derivatives=True)
    with pytest.raises(OrderArgumentError, match="18 digits"):
        new_order_single("my-order", "BTC/USD", "buy", "1", "market", transact_time=T)
    assert new_order_single(UUID, "BTC/USD", "buy", "1", "market", transact_time=T).get(11) == UUID


@pytest.mark.parametrize(
    ("enum", "text", "value"),
    [
        (Side, "BUY", "1"),
        (Side, "s", "2"),
        (Side, "2", "2"),
        (OrdType, "stop-loss", "3"),
        (OrdType, "stop_loss_limit", "4"),
        (OrdType, "take-profit", "R"),
        (OrdType, "tp-limit", "T"),
        (OrdType, "trailing-stop", "U"),
        (OrdType, "Trailing-Stop-Limit", "V"),
        (OrdType, "mkt", "1"),
        (TimeInForce, "gtc", "1"),
        (TimeInForce, "IOC", "3"),
        (TimeInForce, "fok", "4"),
        (TimeInForce, "gtd", "6"),
        (MassCancelType, "symbol", "1"),
        (MassCancelType, "session", "6"),
        (MassCancelType, "all", "7"),
    ],
)
def test_user_spellings_parse_to_wire_values(enum: type[Side], text: str, value: str) -> None:
    assert enum.parse(text).value == value


def test_cancel_request_matches_kraken_example_shape() -> None:
    msg = order_cancel_request(CID, "BTC/USD", "buy", order_id="OKWUQF-YPJM2-DTAJHH", transact_time=T)
    assert msg.to_text() == f"35=F|11={CID}|37=OKWUQF-YPJM2-DTAJHH|54=1|55=BTC/USD|60=20230707-13:56:08.277|"
    by_cid = order_cancel_request(CID, "BTC/USD", "sell", orig_clordid="1688738168", transact_time=T)
    assert by_cid.get(41) == "1688738168" and 37 not in by_cid


def test_cancel_request_needs_order_id_or_orig_clordid() -> None:
    with pytest.raises(OrderArgumentError, match="OrderID"):
        order_cancel_request(CID, "BTC/USD", "buy", transact_time=T)


def test_amend_carries_order_and_new_values() -> None:
    msg = order_cancel_replace(
        CID, "OTHB2F-BNGUH-2CMLPT", "1719305784", "BTC/USD", "buy", "0.2", "limit", price="71000",
        transact_time=T,
    )  # fmt: skip
    assert [t for t, _ in msg.fields] == [35, 11, 37, 38, 40, 41, 44, 54, 55, 59, 60]
    with pytest.raises(OrderArgumentError, match="Spot only"):
        order_cancel_replace(
            UUID, "X", UUID, "PF_ETHUSD", "buy", "1", "limit", price="1", transact_time=T, derivatives=True
        )


def test_amend_of_an_order_repeats_tif_expiry_post_only_stop_and_display_qty() -> None:
    from krakenfix_cli.fix.message import Message
    from krakenfix_cli.kraken.builders import amend_of

    order = Message.new("D", (11, "1719305784"), (18, "P"), (38, "0.3"), (40, "2"), (44, "70000"), (54, "2"),
                        (55, "BTC/USD"), (59, "6"), (126, "20261201-10:00:00"), (1138, "0.1"))
    msg = amend_of(order, CID, order_id="OTHB2F-BNGUH-2CMLPT", orig_clordid="1719305784", transact_time=T,
                   price="71000")
    assert (msg.get(18), msg.get(59), msg.get(126), msg.get(1138)) == ("P", "6", "20261201-10:00:00", "0.1")
    assert (msg.get(38), msg.get(44), msg.get(54), msg.get(41)) == ("0.3", "71000", "2", "1719305784")
    with pytest.raises(OrderArgumentError, match="ExpireTime"):
        order_cancel_replace(CID, "X", "1", "BTC/USD", "buy", "1", "limit", price="1", tif="gtd", transact_time=T)


def test_status_request_is_spot_only() -> None:
    msg = order_status_request(CID, "OKWUQF-YPJM2-DTAJHH", "BTC/USD", side="buy")
    assert msg.to_text() == f"35=H|11={CID}|37=OKWUQF-YPJM2-DTAJHH|54=1|55=BTC/USD|"
    with pytest.raises(OrderArgumentError, match="Spot only"):
        order_status_request(UUID, "X", "PF_ETHUSD", derivatives=True)


def test_mass_cancel_by_symbol_needs_a_symbol_and_others_refuse_one() -> None:
    msg = order_mass_cancel(CID, "symbol", "BTC/USD", transact_time=T)
    assert msg.to_text() == f"35=q|11={CID}|55=BTC/USD|60=20230707-13:56:08.277|530=1|"
    assert order_mass_cancel(CID, 7, transact_time=T).get(530) == "7"
    assert order_mass_cancel(CID, MassCancelType.SESSION, transact_time=T).get(530) == "6"
    with pytest.raises(OrderArgumentError, match="needs --symbol"):
        order_mass_cancel(CID, "1", transact_time=T)
    with pytest.raises(OrderArgumentError, match="drop --symbol"):
        order_mass_cancel(CID, "all", "BTC/USD", transact_time=T)


def test_market_data_request_layout() -> None:
    msg = market_data_request("1", ["BTC/USD"], depth=0)
    assert msg.to_text() == "35=V|262=1|263=1|264=0|265=1|266=Y|267=3|269=0|269=1|269=2|146=1|55=BTC/USD|"
    l3 = market_data_request("2", ["PF_ETHUSD"], depth=0, entry_types=["bid", "offer"], aggregated=False)
    assert l3.get(266) == "N" and l3.get_all(269) == ["0", "1"]
    unsub = market_data_request("1", ["BTC/USD"], subscribe=False)
    assert unsub.get(263) == "2" and 265 not in unsub


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"symbols": []}, "at least one symbol"),
        ({"depth": 7}, "market depth"),
        ({"entry_types": ["bid"]}, "bids and offers together"),
        ({"aggregated": False}, "no trades"),
    ],
)
def test_market_data_request_rules(kwargs: dict[str, object], words: str) -> None:
    args: dict[str, object] = {"symbols": ["BTC/USD"], **kwargs}
    with pytest.raises(OrderArgumentError, match=words):
        market_data_request("1", **args)  # type: ignore[arg-type]


def test_instrument_list_request_variants() -> None:
    assert instrument_list_request("r1").to_text() == "35=x|320=r1|559=4|"
    assert instrument_list_request("r2", "symbol", symbol="BTC/USD").to_text() == "35=x|320=r2|559=0|55=BTC/USD|"
    assert instrument_list_request("r3", 1, security_type="fut").get(167) == "FUT"
    with pytest.raises(OrderArgumentError, match="needs --symbol"):
        instrument_list_request("r4", "0")
    with pytest.raises(OrderArgumentError, match="security type"):
        instrument_list_request("r5", "1")


def test_trading_session_status_request() -> None:
    assert trading_session_status_request("t1").to_text() == "35=g|335=t1|336=SESSION|263=0|"
    with pytest.raises(OrderArgumentError, match="Spot only"):
        trading_session_status_request("t1", derivatives=True)
