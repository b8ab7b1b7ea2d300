"""Kraken's FIX 4.4 dialect as data: custom tags, repurposed values, Kraken's labels.

A stock FIX 4.4 dictionary refuses much of what Kraken sends and accepts (SPEC §10.19):
62 ValidUntilTime on D/G, FIX 5.0 tags (1003, 1138, 2349, 2446), custom tags (5001,
5010-5013, 5022, 5025, 5030, 5032, 5041, 5050, 5051, 5060, 5273, 7928, 8674, 109 on
Logon), 55 at the top of MarketDataIncrementalRefresh, Kraken values of 18, 40, 167, 281,
340, 380, 567. Rather than loosening validation, :func:`extend` adds exactly these to
the plain dictionary, so a Kraken session validates as strictly as QuickFIX does.

Kraken's own labels (SPEC §10.17) are aliases only; names stay FIX 4.4's ("OrdType", with
"OrderType" as an alias), as do MsgType names (x is SecurityListRequest, alias
InstrumentListRequest).

``fix/`` must not import this module (layering); it lives here with the cached
:func:`kraken` accessor.
"""

from __future__ import annotations

import functools

from krakenfix_cli.fix.dictionary import HEADER_KEY, Dictionary, FieldDef, fix44

#: Tags FIX44.xml does not define (custom, FIX 5.0-era or dropped after 4.2).
FIELDS: tuple[FieldDef, ...] = (
    FieldDef(109, "ClientID", "STRING"),
    FieldDef(1003, "TradeID", "STRING"),
    FieldDef(1138, "DisplayQty", "QTY"),
    FieldDef(2349, "PricePrecision", "INT"),
    FieldDef(2446, "AggressorSide", "CHAR", {"1": "Buy", "2": "Sell"}),
    FieldDef(5001, "Leverage", "STRING", {"0": "Margin Off", "1": "Margin On"}),
    FieldDef(5010, "QtyPrecision", "INT"),
    FieldDef(5011, "QtyMin", "QTY"),
    FieldDef(5012, "QtyMax", "QTY"),
    FieldDef(5013, "MinimumCost", "AMT"),
    FieldDef(5022, "TickSize", "PRICE"),
    FieldDef(5025, "Nonce", "STRING"),
    FieldDef(5030, "ForceResetClOrdID", "BOOLEAN", {"Y": "Yes", "N": "No"}),
    FieldDef(
        5032,
        "AssetPairStatus",
        "INT",
        {
            "0": "Hidden",
            "1": "Online",
            "2": "Maintenance",
            "3": "Cancel Only",
            "4": "Post Only",
            "5": "Limit Only",
            "6": "Delisted",
            "7": "Reduce Only",
        },
    ),
    FieldDef(5041, "ChecksumOrderBook", "INT"),
    # [3P] clients read a liquidity indicator from 5050; its values are not documented.
    FieldDef(5050, "LiquidityIndicator", "STRING"),
    FieldDef(5051, "Rebased", "BOOLEAN", {"Y": "Yes", "N": "No"}),
    # ISO 8601 with nanoseconds ("2026-02-03T10:24:34.650069468Z"), not a FIX UTCTimestamp.
    FieldDef(5060, "MDEntryTimestamp", "STRING"),
    FieldDef(5273, "MDEntryTimeQueue", "STRING"),
    FieldDef(7928, "SelfTradePrevention", "INT",
             {"0": "Cancel Both", "1": "Cancel Newest", "2": "Cancel Oldest"}),
    FieldDef(8674, "CancelOrdersOnDisconnect", "INT",
             {"0": "Cancel On Disconnect", "1": "Keep Orders On Disconnect"}),
)

#: Enum values Kraken adds, or standard values Kraken gives another meaning.
ENUMS: dict[int, dict[str, str]] = {
    18: {  # ExecInst, space-separated ("P s")
        "E": "Reduce Only",
        "P": "Post Only",
        "v": "Quote Currency Quantity (viqc)",
        "f": "Fee In Base Currency",
        "q": "Fee In Quote Currency",
        "s": "Single Fee",
    },
    40: {  # OrdType
        "3": "Stop Loss",
        "4": "Stop Loss Limit",
        "R": "Take Profit",
        "T": "Take Profit Limit",
        "U": "Trailing Stop",
        "V": "Trailing Stop Limit",
    },
    167: {"CASH": "Spot", "TS": "Tokenized Stock"},  # SecurityType; FUT/OPT are FIX's
    281: {"B": "Level3 Not Available", "C": "Trade Not Available On This Request"},  # MDReqRejReason
    340: {"1": "Maintenance", "2": "Online", "101": "Cancel Only", "102": "Post Only"},  # TradSesStatus
    380: {"101": "Unknown Order", "104": "Order Too Old"},  # BusinessRejectReason
    388: {"1": "Index Price", "5": "Last Trade Price"},  # DiscretionInst = trigger reference
    567: {  # TradSesStatusRejReason
        "100": "Invalid Request ID",
        "101": "Invalid Subscription Type",
        "102": "Duplicate Request ID",
        "103": "Already Subscribed",
    },
}

#: Top-level fields Kraken adds to FIX 4.4 message layouts (tag → required). None is made
#: required; three FIX 4.4 requirements Kraken does not have are relaxed (False):
#: F needs OrigClOrdID(41) *or* OrderID(37) (SPEC §6.5), H has no Side(54) (§6.7), and an
#: ExecutionReport carries AvgPx(6) only on fills (§6.9).
MESSAGE_FIELDS: dict[str, dict[int, bool]] = {
    "A": {109: False, 5025: False, 5030: False, 5051: False, 8674: False},
    "D": {62: False, 1138: False, 5001: False, 7928: False},
    "F": {41: False},
    "G": {62: False, 1138: False},
    "H": {54: False},
    "8": {6: False, 1003: False, 1138: False, 5050: False},
    "X": {55: False, 5041: False},
}

#: Members Kraken adds to repeating groups: (MsgType, NumInGroup tag) → tags.
GROUP_FIELDS: dict[tuple[str, int], tuple[int, ...]] = {
    ("W", 268): (278, 5060, 5273),
    ("X", 268): (40, 2446, 5060, 5273),
    ("y", 146): (2349, 5010, 5011, 5012, 5013, 5022, 5032),
}

#: Kraken's documentation labels (SPEC §10.17 and the field tables), as aliases.
ALIASES: dict[int, tuple[str, ...]] = {
    17: ("ExecId",),
    40: ("OrderType",),
    41: ("OrigClordid",),
    123: ("SequenceReset",),
    320: ("InstrumentReqID",),
    322: ("InstrumentResponseID",),
    559: ("InstrumentListRequestType",),
    560: ("InstrumentRequestResult",),
}

#: Kraken's names for FIX 4.4 messages.
MSG_ALIASES: dict[str, tuple[str, ...]] = {
    "x": ("InstrumentListRequest",),
    "y": ("InstrumentList",),
}

# Kraken's header is standard FIX 4.4; listed so a future header addition has a place.
HEADER_FIELDS: dict[int, bool] = {}


def extend(base: Dictionary) -> Dictionary:
    """``base`` (normally :func:`fix44`) plus every Kraken tag, value, layout change and label."""
    message_fields = dict(MESSAGE_FIELDS)
    if HEADER_FIELDS:
        message_fields[HEADER_KEY] = HEADER_FIELDS
    return base.extended(
        fields=FIELDS,
        enums=ENUMS,
        message_fields=message_fields,
        group_fields=GROUP_FIELDS,
        aliases=ALIASES,
        msg_aliases=MSG_ALIASES,
    )


@functools.cache
def kraken() -> Dictionary:
    """FIX 4.4 + every Kraken custom tag and value (cached); Kraken sessions validate with it."""
    return extend(fix44())
