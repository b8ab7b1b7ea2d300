"""Typed builders for the messages a Kraken client sends (D, F, G, H, q, V, x, g).

Each returns a ``fix.message.Message`` holding MsgType(35) and the body only; the session
engine adds the header. Arguments are checked against Kraken's rules (kraken-fix/SPEC.md
§6.4-§6.8, §7, §10.9) before anything is built, so a user hears "a limit order needs a
price" from us rather than a Reject(3) from the gateway. Use ``send --raw`` to send a
message these rules would refuse.

Times (TransactTime(60) and friends) are POSIX seconds passed in; nothing reads a clock.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Self

from krakenfix_cli.fix.errors import FixError
from krakenfix_cli.fix.message import Message
from krakenfix_cli.fix.values import format_decimal, format_utc_timestamp, parse_amount
from krakenfix_cli.kraken.clordid import is_valid_derivatives_clordid, is_valid_spot_clordid


class OrderArgumentError(ValueError):
    """The order's arguments break a Kraken rule; the text says which and what to do."""


class _Choice(enum.StrEnum):
    """A FIX enum value with user-facing spellings (``"buy"`` → ``"1"``)."""

    @classmethod
    def _aliases(cls) -> dict[str, str]:
        return {}

    @classmethod
    def parse(cls, text: str | _Choice) -> Self:
        """The member for a user spelling, a member name or the wire value."""
        if isinstance(text, cls):
            return text
        key = str(text).strip().lower().replace("_", "-")
        for member in cls:
            if key in (member.value.lower(), member.name.lower().replace("_", "-")):
                return member
        alias = cls._aliases().get(key)
        if alias is not None:
            return cls(alias)
        names = ", ".join(m.name.lower().replace("_", "-") for m in cls)
        raise OrderArgumentError(f"unknown {cls._label()} {text!r}; choose one of: {names}")

    @classmethod
    def _label(cls) -> str:
        return cls.__name__


def side_word(code: str | None) -> str:
    """``buy``/``sell`` for a Side(54) code; any other code as it is (empty for none)."""
    return {Side.BUY.value: "buy", Side.SELL.value: "sell"}.get(code or "", code or "")


class Side(_Choice):
    """Side(54)."""

    BUY = "1"
    SELL = "2"

    @classmethod
    def _aliases(cls) -> dict[str, str]:
        return {"b": "1", "s": "2", "bid": "1", "ask": "2", "offer": "2"}

    @classmethod
    def _label(cls) -> str:
        return "side"


class OrdType(_Choice):
    """OrdType(40) as Kraken uses it (SPEC §6.4)."""

    MARKET = "1"
    LIMIT = "2"
    STOP_LOSS = "3"
    STOP_LOSS_LIMIT = "4"
    TAKE_PROFIT = "R"
    TAKE_PROFIT_LIMIT = "T"
    TRAILING_STOP = "U"
    TRAILING_STOP_LIMIT = "V"

    @classmethod
    def _aliases(cls) -> dict[str, str]:
        return {
            "mkt": "1",
            "lmt": "2",
            "stop": "3",
            "stop-limit": "4",
            "tp": "R",
            "tp-limit": "T",
            "trailing": "U",
            "trailing-limit": "V",
            "r": "R",
            "t": "T",
            "u": "U",
            "v": "V",
        }

    @classmethod
    def _label(cls) -> str:
        return "order type"

    @property
    def needs_price(self) -> bool:
        """Price(44) is required (the limit variants)."""
        return self in _PRICED

    @property
    def needs_stop_px(self) -> bool:
        """StopPx(99) is required (every triggered type)."""
        return self in _TRIGGERED


_PRICED = frozenset({OrdType.LIMIT, OrdType.STOP_LOSS_LIMIT, OrdType.TAKE_PROFIT_LIMIT, OrdType.TRAILING_STOP_LIMIT})
_TRIGGERED = frozenset(
    {
        OrdType.STOP_LOSS,
        OrdType.STOP_LOSS_LIMIT,
        OrdType.TAKE_PROFIT,
        OrdType.TAKE_PROFIT_LIMIT,
        OrdType.TRAILING_STOP,
        OrdType.TRAILING_STOP_LIMIT,
    }
)


class TimeInForce(_Choice):
    """TimeInForce(59)."""

    GTC = "1"
    IOC = "3"
    FOK = "4"
    GTD = "6"

    @classmethod
    def _aliases(cls) -> dict[str, str]:
        return {"good-till-cancel": "1", "immediate-or-cancel": "3", "fill-or-kill": "4", "good-till-date": "6"}

    @classmethod
    def _label(cls) -> str:
        return "time in force"


class MassCancelType(_Choice):
    """MassCancelRequestType(530) values Kraken accepts (SPEC §6.8)."""

    SYMBOL = "1"
    SESSION = "6"
    ALL = "7"

    @classmethod
    def _aliases(cls) -> dict[str, str]:
        return {"by-symbol": "1", "this-session": "6", "all-orders": "7", "account": "7"}

    @classmethod
    def _label(cls) -> str:
        return "mass-cancel type"


class SelfTradePrevention(_Choice):
    """SelfTradePrevention(7928), Spot only."""

    CANCEL_BOTH = "0"
    CANCEL_NEWEST = "1"
    CANCEL_OLDEST = "2"

    @classmethod
    def _aliases(cls) -> dict[str, str]:
        return {"both": "0", "newest": "1", "oldest": "2", "cancel-arriving": "1", "cancel-resting": "2"}

    @classmethod
    def _label(cls) -> str:
        return "self-trade prevention"


class TriggerRef(_Choice):
    """DiscretionInst(388) as Kraken's trigger reference price."""

    INDEX = "1"
    LAST = "5"

    @classmethod
    def _aliases(cls) -> dict[str, str]:
        return {"index-price": "1", "last-trade": "5", "last-price": "5"}

    @classmethod
    def _label(cls) -> str:
        return "trigger reference"


class MDEntryType(_Choice):
    """MDEntryType(269)."""

    BID = "0"
    OFFER = "1"
    TRADE = "2"

    @classmethod
    def _aliases(cls) -> dict[str, str]:
        return {"bids": "0", "ask": "1", "asks": "1", "offers": "1", "trades": "2"}

    @classmethod
    def _label(cls) -> str:
        return "market-data entry type"


class InstrumentListType(_Choice):
    """InstrumentListRequestType(559) (FIX SecurityListRequestType)."""

    SINGLE = "0"
    BY_TYPE = "1"
    ALL = "4"

    @classmethod
    def _aliases(cls) -> dict[str, str]:
        return {"symbol": "0", "security-type": "1"}

    @classmethod
    def _label(cls) -> str:
        return "instrument list request type"


EXEC_INST_CHARS = frozenset("EPvfqs")
DERIVATIVES_FORBIDDEN_EXEC_INST = frozenset("vfq")
MARKET_DEPTHS = frozenset({0, 1, 10, 25, 100, 500, 1000})
SECURITY_TYPES = frozenset({"CASH", "FUT", "OPT", "TS"})
MAX_EXPIRE_AHEAD = 31 * 86400.0


# -- argument checks ----------------------------------------------------------------------------
def _dec(name: str, value: Decimal | int | str, *, positive: bool = True) -> Decimal:
    try:
        d = value if isinstance(value, Decimal) else parse_amount(str(value))
    except FixError:
        raise OrderArgumentError(
            f"{name} must be a positive plain decimal like 0.01 (ASCII digits, no sign, exponent or '_'), "
            f"got {value!r}"
        ) from None
    if not d.is_finite() or (positive and d <= 0):
        raise OrderArgumentError(f"{name} must be a positive number, got {value!r}")
    return d


def _text(name: str, value: str) -> str:
    if not value or "\x01" in value:
        raise OrderArgumentError(f"{name} must be non-empty text without SOH, got {value!r}")
    return value


def _check_clordid(clordid: str, derivatives: bool, label: str = "ClOrdID(11)") -> None:
    if derivatives:
        if not is_valid_derivatives_clordid(clordid):
            raise OrderArgumentError(
                f"{label} {clordid!r} is not a timestamp-first v4 UUID; Derivatives accepts no other "
                "format (omit it to have one generated)"
            )
    elif not is_valid_spot_clordid(clordid):
        raise OrderArgumentError(
            f"{label} {clordid!r} must be an increasing number of at most 18 digits or a "
            "timestamp-first v4 UUID (omit it to have one generated)"
        )


def _spot_only(derivatives: bool, what: str) -> None:
    if derivatives:
        raise OrderArgumentError(f"{what} is Spot only; Kraken Derivatives refuses it")


def _ts(epoch: float) -> str:
    return format_utc_timestamp(epoch)


def _exec_inst(chars: Iterable[str], derivatives: bool) -> str | None:
    out: list[str] = []
    for ch in chars:
        for c in ch.split():
            if c not in EXEC_INST_CHARS:
                raise OrderArgumentError(
                    f"unknown ExecInst(18) value {c!r}; Kraken takes E (reduce-only), P (post-only), "
                    "v (qty in quote), f/q (fee in base/quote), s (single fee)"
                )
            if derivatives and c in DERIVATIVES_FORBIDDEN_EXEC_INST:
                raise OrderArgumentError(f"ExecInst(18) {c!r} is Spot only; Derivatives takes only E, P and s")
            if c not in out:
                out.append(c)
    if derivatives and "s" not in out:
        out.append("s")
    if "f" in out and "q" in out:
        raise OrderArgumentError("ExecInst(18) f (fee in base) and q (fee in quote) exclude each other")
    return " ".join(out) if out else None


# -- trading session ----------------------------------------------------------------------------
def new_order_single(
    clordid: str,
    symbol: str,
    side: Side | str,
    qty: Decimal | int | str,
    ord_type: OrdType | str,
    *,
    transact_time: float,
    price: Decimal | int | str | None = None,
    stop_px: Decimal | int | str | None = None,
    tif: TimeInForce | str = TimeInForce.GTC,
    post_only: bool = False,
    reduce_only: bool = False,
    exec_inst: Sequence[str] = (),
    stp: SelfTradePrevention | str | None = None,
    display_qty: Decimal | int | str | None = None,
    expire_time: float | None = None,
    effective_time: float | None = None,
    valid_until: float | None = None,
    trigger_ref: TriggerRef | str | None = None,
    leverage: str | None = None,
    alloc_account: str | None = None,
    derivatives: bool = False,
) -> Message:
    """NewOrderSingle(D), checked against SPEC §6.4 and the Derivatives limits of §10.9."""
    _check_clordid(clordid, derivatives)
    _text("symbol", symbol)
    side_v = Side.parse(side)
    type_v = OrdType.parse(ord_type)
    tif_v = TimeInForce.parse(tif)
    qty_d = _dec("quantity", qty)
    price_d = _dec("price", price) if price is not None else None
    stop_d = _dec("stop price", stop_px) if stop_px is not None else None
    name = type_v.name.lower().replace("_", "-")

    if type_v.needs_price and price_d is None:
        raise OrderArgumentError(f"a {name} order needs a price (--price)")
    if not type_v.needs_price and price_d is not None:
        raise OrderArgumentError(f"a {name} order takes no price; use a *-limit type to set one")
    if type_v.needs_stop_px and stop_d is None:
        raise OrderArgumentError(f"a {name} order needs a trigger price (--stop-price, StopPx(99))")
    if not type_v.needs_stop_px and stop_d is not None:
        raise OrderArgumentError(f"a {name} order takes no trigger price; use a stop-loss/take-profit type")
    if trigger_ref is not None and not type_v.needs_stop_px:
        raise OrderArgumentError("a trigger reference (DiscretionInst(388)) applies only to triggered orders")
    if post_only and type_v is not OrdType.LIMIT:
        raise OrderArgumentError("post-only applies to limit orders only")
    if type_v is OrdType.MARKET and tif_v is TimeInForce.GTD:
        raise OrderArgumentError("a market order cannot be good-till-date")

    if derivatives:
        if type_v is OrdType.TRAILING_STOP_LIMIT:
            _spot_only(True, "OrdType(40) V trailing-stop-limit")
        if tif_v is TimeInForce.GTD:
            _spot_only(True, "TimeInForce(59) 6 good-till-date")
        if stp is not None:
            _spot_only(True, "SelfTradePrevention(7928)")
        if display_qty is not None:
            _spot_only(True, "DisplayQty(1138) (iceberg)")
        if expire_time is not None:
            _spot_only(True, "ExpireTime(126)")
        if effective_time is not None:
            _spot_only(True, "EffectiveTime(168)")
        if leverage is not None:
            _spot_only(True, "Leverage(5001)")

    if tif_v is TimeInForce.GTD:
        if expire_time is None:
            raise OrderArgumentError("a good-till-date order needs an expiry time (ExpireTime(126))")
        if not transact_time < expire_time <= transact_time + MAX_EXPIRE_AHEAD:
            raise OrderArgumentError("the expiry time must be in the future and at most one month ahead")
    elif expire_time is not None:
        raise OrderArgumentError("an expiry time needs time in force gtd")
    if effective_time is not None and effective_time <= transact_time:
        raise OrderArgumentError("the effective (start) time must be in the future")
    if valid_until is not None and not 2.0 <= valid_until - transact_time <= 60.0:
        raise OrderArgumentError("ValidUntilTime(62) must be 2 to 60 seconds after the transaction time")
    disp_d = None
    if display_qty is not None:
        disp_d = _dec("display quantity", display_qty)
        if type_v is not OrdType.LIMIT:
            raise OrderArgumentError("a display quantity (iceberg) applies to limit orders only")
        if disp_d * 15 < qty_d or disp_d > qty_d:
            raise OrderArgumentError("the display quantity must be between 1/15 of the quantity and the quantity")
    stp_v = SelfTradePrevention.parse(stp) if stp is not None else None
    trig_v = TriggerRef.parse(trigger_ref) if trigger_ref is not None else None
    if leverage is not None and leverage not in ("0", "1"):
        raise OrderArgumentError("Leverage(5001) is 0 (margin off) or 1 (margin on)")

    flags = list(exec_inst)
    if post_only:
        flags.append("P")
    if reduce_only:
        flags.append("E")
    inst = _exec_inst(flags, derivatives)

    fields: list[tuple[int, object]] = [(11, clordid)]
    if inst:
        fields.append((18, inst))
    fields += [(38, format_decimal(qty_d)), (40, type_v.value)]
    if price_d is not None:
        fields.append((44, format_decimal(price_d)))
    fields += [(54, side_v.value), (55, symbol), (59, tif_v.value), (60, _ts(transact_time))]
    if valid_until is not None:
        fields.append((62, _ts(valid_until)))
    if alloc_account is not None:
        fields += [(78, "1"), (79, _text("allocation account", alloc_account))]
    if stop_d is not None:
        fields.append((99, format_decimal(stop_d)))
    if expire_time is not None:
        fields.append((126, format_utc_timestamp(expire_time, millis=False)))
    if effective_time is not None:
        fields.append((168, _ts(effective_time)))
    if trig_v is not None:
        fields.append((388, trig_v.value))
    if disp_d is not None:
        fields.append((1138, format_decimal(disp_d)))
    if leverage is not None:
        fields.append((5001, leverage))
    if stp_v is not None:
        fields.append((7928, stp_v.value))
    return Message.new("D", *fields)


def order_cancel_request(
    clordid: str,
    symbol: str,
    side: Side | str,
    *,
    transact_time: float,
    orig_clordid: str | None = None,
    order_id: str | None = None,
    derivatives: bool = False,
) -> Message:
    """OrderCancelRequest(F): 11 is a new id; 37 wins over 41 when both are sent (SPEC §6.5)."""
    _check_clordid(clordid, derivatives)
    if orig_clordid is None and order_id is None:
        raise OrderArgumentError("a cancel needs the order's OrderID(37) or its latest ClOrdID (OrigClOrdID(41))")
    _text("symbol", symbol)
    fields: list[tuple[int, object]] = [(11, clordid)]
    if order_id is not None:
        fields.append((37, _text("order id", order_id)))
    if orig_clordid is not None:
        fields.append((41, _text("original ClOrdID", orig_clordid)))
    fields += [(54, Side.parse(side).value), (55, symbol), (60, _ts(transact_time))]
    return Message.new("F", *fields)


def order_cancel_replace(
    clordid: str,
    order_id: str,
    orig_clordid: str,
    symbol: str,
    side: Side | str,
    qty: Decimal | int | str,
    ord_type: OrdType | str,
    *,
    transact_time: float,
    price: Decimal | int | str | None = None,
    stop_px: Decimal | int | str | None = None,
    tif: TimeInForce | str = TimeInForce.GTC,
    post_only: bool = False,
    display_qty: Decimal | int | str | None = None,
    valid_until: float | None = None,
    expire_time: str | None = None,
    derivatives: bool = False,
) -> Message:
    """OrderCancelReplaceRequest(G), an amend of price/qty/trigger/display qty (Spot, SPEC §6.6).

    A G restates the order: whatever it leaves out (TimeInForce, ExpireTime, post-only) is not
    kept by the gateway, so a caller amending an existing order wants ``amend_of``.
    ``expire_time`` is the ExpireTime(126) text as the order carried it.
    """
    _spot_only(derivatives, "amending an order (OrderCancelReplaceRequest(G))")
    _check_clordid(clordid, False)
    type_v = OrdType.parse(ord_type)
    qty_d = _dec("quantity", qty)
    price_d = _dec("price", price) if price is not None else None
    stop_d = _dec("stop price", stop_px) if stop_px is not None else None
    name = type_v.name.lower().replace("_", "-")
    if type_v.needs_price and price_d is None:
        raise OrderArgumentError(f"a {name} order needs a price (--price)")
    if type_v.needs_stop_px and stop_d is None:
        raise OrderArgumentError(f"a {name} order needs a trigger price (--stop-price, StopPx(99))")
    if post_only and type_v is not OrdType.LIMIT:
        raise OrderArgumentError("post-only applies to limit orders only")
    if valid_until is not None and not 2.0 <= valid_until - transact_time <= 60.0:
        raise OrderArgumentError("ValidUntilTime(62) must be 2 to 60 seconds after the transaction time")
    disp_d = _dec("display quantity", display_qty) if display_qty is not None else None
    if disp_d is not None and (disp_d * 15 < qty_d or disp_d > qty_d):
        raise OrderArgumentError("the display quantity must be between 1/15 of the quantity and the quantity")
    tif_v = TimeInForce.parse(tif)
    if tif_v is TimeInForce.GTD and not expire_time:
        raise OrderArgumentError("a good-till-date order needs its expiry time (ExpireTime(126)) on the amend")
    fields: list[tuple[int, object]] = [(11, clordid)]
    if post_only:
        fields.append((18, "P"))
    fields += [
        (37, _text("order id", order_id)),
        (38, format_decimal(qty_d)),
        (40, type_v.value),
        (41, _text("original ClOrdID", orig_clordid)),
    ]
    if price_d is not None:
        fields.append((44, format_decimal(price_d)))
    fields += [
        (54, Side.parse(side).value),
        (55, _text("symbol", symbol)),
        (59, tif_v.value),
        (60, _ts(transact_time)),
    ]
    if valid_until is not None:
        fields.append((62, _ts(valid_until)))
    if stop_d is not None:
        fields.append((99, format_decimal(stop_d)))
    if expire_time and tif_v is TimeInForce.GTD:
        fields.append((126, _text("expire time", expire_time)))
    if disp_d is not None:
        fields.append((1138, format_decimal(disp_d)))
    return Message.new("G", *fields)


def amend_of(
    order: Message,
    clordid: str,
    *,
    order_id: str,
    orig_clordid: str,
    transact_time: float,
    qty: Decimal | int | str | None = None,
    price: Decimal | int | str | None = None,
    stop_px: Decimal | int | str | None = None,
    display_qty: Decimal | int | str | None = None,
    derivatives: bool = False,
) -> Message:
    """A G amending ``order`` (its D or last G): new values where given, the rest repeated from it.

    Kraken takes a G as the whole new order (SPEC §6.6): 59 is required and a GTD needs its 126,
    a post-only order its ``18=P``, a stop its 99, an iceberg its 1138. Left out, a GTD would
    become GTC and a post-only order could take liquidity. ValidUntilTime(62) is not repeated:
    it is relative to the request it rode on.
    """
    exec_inst = (order.get(18) or "").split()
    return order_cancel_replace(
        clordid, order_id, orig_clordid, order.get(55) or "", order.get(54) or "",
        qty if qty is not None else order.get(38) or "", order.get(40) or "", transact_time=transact_time,
        price=price if price is not None else order.get(44),
        stop_px=stop_px if stop_px is not None else order.get(99),
        tif=order.get(59) or TimeInForce.GTC, post_only="P" in exec_inst,
        display_qty=display_qty if display_qty is not None else order.get(1138),
        expire_time=order.get(126), derivatives=derivatives,
    )  # fmt: skip


def order_status_request(
    clordid: str, order_id: str, symbol: str, side: Side | str | None = None, *, derivatives: bool = False
) -> Message:
    """OrderStatusRequest(H), answered by an ExecutionReport with 150=I (Spot only, SPEC §6.7)."""
    _spot_only(derivatives, "OrderStatusRequest(H)")
    fields: list[tuple[int, object]] = [
        (11, _text("ClOrdID", clordid)),
        (37, _text("order id", order_id)),
    ]
    if side is not None:
        fields.append((54, Side.parse(side).value))
    fields.append((55, _text("symbol", symbol)))
    return Message.new("H", *fields)


def order_mass_cancel(
    clordid: str,
    request_type: MassCancelType | str | int,
    symbol: str | None = None,
    *,
    transact_time: float,
    derivatives: bool = False,
) -> Message:
    """OrderMassCancelRequest(q): 530=1 by symbol, 6 this session, 7 all open orders (SPEC §6.8)."""
    _check_clordid(clordid, derivatives)
    kind = MassCancelType.parse(str(request_type))
    if kind is MassCancelType.SYMBOL and not symbol:
        raise OrderArgumentError("a mass cancel by symbol (530=1) needs --symbol")
    if kind is not MassCancelType.SYMBOL and symbol:
        raise OrderArgumentError(
            f"a mass cancel of type {kind.name.lower()} (530={kind.value}) cancels every symbol; "
            "drop --symbol or use the symbol type (530=1)"
        )
    fields: list[tuple[int, object]] = [(11, clordid)]
    if symbol:
        fields.append((55, _text("symbol", symbol)))
    fields += [(60, _ts(transact_time)), (530, kind.value)]
    return Message.new("q", *fields)


# -- market-data session ------------------------------------------------------------------------
def market_data_request(
    req_id: str,
    symbols: Sequence[str],
    depth: int = 0,
    entry_types: Sequence[MDEntryType | str] = (MDEntryType.BID, MDEntryType.OFFER, MDEntryType.TRADE),
    *,
    subscribe: bool = True,
    aggregated: bool = True,
) -> Message:
    """MarketDataRequest(V) (SPEC §7.1); ``subscribe=False`` unsubscribes ``req_id`` (263=2)."""
    _text("MDReqID", req_id)
    if not symbols:
        raise OrderArgumentError("a market-data request needs at least one symbol")
    if depth not in MARKET_DEPTHS:
        raise OrderArgumentError(f"market depth must be one of {sorted(MARKET_DEPTHS)}, got {depth}")
    kinds: list[MDEntryType] = []
    for e in entry_types:
        k = MDEntryType.parse(e)
        if k not in kinds:
            kinds.append(k)
    if MDEntryType.BID not in kinds or MDEntryType.OFFER not in kinds:
        raise OrderArgumentError("Kraken subscribes bids and offers together; include both")
    if not aggregated and MDEntryType.TRADE in kinds:
        raise OrderArgumentError("a Level 3 (per-order) book carries no trades; drop the trade entry type")
    fields: list[tuple[int, object]] = [
        (262, req_id),
        (263, "1" if subscribe else "2"),
        (264, str(depth)),
    ]
    if subscribe:
        fields.append((265, "1"))
    fields.append((266, "Y" if aggregated else "N"))
    fields.append((267, str(len(kinds))))
    fields += [(269, k.value) for k in kinds]
    fields.append((146, str(len(symbols))))
    fields += [(55, _text("symbol", s)) for s in symbols]
    return Message.new("V", *fields)


def instrument_list_request(
    req_id: str,
    request_type: InstrumentListType | str | int = InstrumentListType.ALL,
    symbol: str | None = None,
    security_type: str | None = None,
    *,
    subscription: str | None = None,
) -> Message:
    """InstrumentListRequest(x) (FIX SecurityListRequest; SPEC §7.6)."""
    _text("InstrumentReqID", req_id)
    kind = InstrumentListType.parse(str(request_type))
    if kind is InstrumentListType.SINGLE and not symbol:
        raise OrderArgumentError("an instrument request for one pair (559=0) needs --symbol")
    if kind is InstrumentListType.BY_TYPE and (security_type is None or security_type.upper() not in SECURITY_TYPES):
        raise OrderArgumentError(
            f"an instrument request by type (559=1) needs a security type: {', '.join(sorted(SECURITY_TYPES))}"
        )
    if subscription is not None and subscription not in ("0", "1", "2"):
        raise OrderArgumentError("SubscriptionRequestType(263) is 0 (snapshot), 1 (+updates) or 2 (stop)")
    fields: list[tuple[int, object]] = [(320, req_id), (559, kind.value)]
    if symbol and kind is InstrumentListType.SINGLE:
        fields.append((55, _text("symbol", symbol)))
    if security_type and kind is InstrumentListType.BY_TYPE:
        fields.append((167, security_type.upper()))
    if subscription is not None:
        fields.append((263, subscription))
    return Message.new("x", *fields)


def trading_session_status_request(
    req_id: str, *, trading_session_id: str = "SESSION", subscribe: bool = False, derivatives: bool = False
) -> Message:
    """TradingSessionStatusRequest(g) (Spot only, SPEC §7.7)."""
    _spot_only(derivatives, "TradingSessionStatusRequest(g)")
    return Message.new(
        "g",
        (335, _text("TradSesReqID", req_id)),
        (336, _text("TradingSessionID", trading_session_id)),
        (263, "1" if subscribe else "0"),
    )
