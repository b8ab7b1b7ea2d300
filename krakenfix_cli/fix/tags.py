"""Tag numbers the code refers to by name: ``Tag.MSG_SEQ_NUM == 34``.

The full FIX 4.4 + Kraken field list lives in :mod:`krakenfix_cli.fix.dictionary`;
this enum only names the tags that code (not data) needs.
"""

from __future__ import annotations

from enum import IntEnum


class Tag(IntEnum):
    """FIX 4.4 tags used by the engine, the builders and the simulator."""

    ACCOUNT = 1
    AVG_PX = 6
    BEGIN_SEQ_NO = 7
    BEGIN_STRING = 8
    BODY_LENGTH = 9
    CHECK_SUM = 10
    CL_ORD_ID = 11
    CUM_QTY = 14
    END_SEQ_NO = 16
    EXEC_ID = 17
    EXEC_INST = 18
    HANDL_INST = 21
    LAST_PX = 31
    LAST_QTY = 32
    MSG_SEQ_NUM = 34
    MSG_TYPE = 35
    NEW_SEQ_NO = 36
    ORDER_ID = 37
    ORDER_QTY = 38
    ORD_STATUS = 39
    ORD_TYPE = 40
    ORIG_CL_ORD_ID = 41
    POSS_DUP_FLAG = 43
    PRICE = 44
    REF_SEQ_NUM = 45
    SENDER_COMP_ID = 49
    SENDING_TIME = 52
    SIDE = 54
    SYMBOL = 55
    TARGET_COMP_ID = 56
    TEXT = 58
    TIME_IN_FORCE = 59
    TRANSACT_TIME = 60
    VALID_UNTIL_TIME = 62
    NO_ALLOCS = 78
    ALLOC_ACCOUNT = 79
    RAW_DATA_LENGTH = 95
    RAW_DATA = 96
    POSS_RESEND = 97
    ENCRYPT_METHOD = 98
    STOP_PX = 99
    HEART_BT_INT = 108
    TEST_REQ_ID = 112
    ON_BEHALF_OF_COMP_ID = 115
    ON_BEHALF_OF_SUB_ID = 116
    ORIG_SENDING_TIME = 122
    GAP_FILL_FLAG = 123
    EXPIRE_TIME = 126
    DELIVER_TO_COMP_ID = 128
    DELIVER_TO_SUB_ID = 129
    RESET_SEQ_NUM_FLAG = 141
    ON_BEHALF_OF_LOCATION_ID = 144
    DELIVER_TO_LOCATION_ID = 145
    NO_RELATED_SYM = 146
    EXEC_TYPE = 150
    LEAVES_QTY = 151
    EFFECTIVE_TIME = 168
    MD_REQ_ID = 262
    SUBSCRIPTION_REQUEST_TYPE = 263
    MARKET_DEPTH = 264
    MD_UPDATE_TYPE = 265
    AGGREGATED_BOOK = 266
    NO_MD_ENTRY_TYPES = 267
    NO_MD_ENTRIES = 268
    MD_ENTRY_TYPE = 269
    MD_ENTRY_PX = 270
    MD_ENTRY_SIZE = 271
    MD_ENTRY_TIME = 273
    MD_ENTRY_ID = 278
    MD_UPDATE_ACTION = 279
    MD_REQ_REJ_REASON = 281
    SECURITY_REQ_ID = 320
    SECURITY_RESPONSE_ID = 322
    REF_TAG_ID = 371
    REF_MSG_TYPE = 372
    SESSION_REJECT_REASON = 373
    BUSINESS_REJECT_REF_ID = 379
    BUSINESS_REJECT_REASON = 380
    DISCRETION_INST = 388
    SECONDARY_EXEC_ID = 527
    MASS_CANCEL_REQUEST_TYPE = 530
    USERNAME = 553
    PASSWORD = 554
    SECURITY_LIST_REQUEST_TYPE = 559
    SECURITY_REQUEST_RESULT = 560
    MIN_TRADE_VOL = 562
    DISPLAY_QTY = 1138
    PRICE_PRECISION = 2349
    QTY_PRECISION = 5010
    QTY_MIN = 5011
    TICK_SIZE = 5022
    NONCE = 5025
    FORCE_RESET_CL_ORD_ID = 5030
    ASSET_PAIR_STATUS = 5032
    CHECKSUM_ORDER_BOOK = 5041
    SELF_TRADE_PREVENTION = 7928
    CANCEL_ORDERS_ON_DISCONNECT = 8674


#: StandardHeader tags of FIX 4.4 (order irrelevant); everything else before 10 is body.
HEADER_TAGS: frozenset[int] = frozenset(
    {8, 9, 35, 49, 56, 115, 128, 90, 91, 34, 50, 142, 57, 143, 116, 144, 129, 145, 43, 97, 52, 122,
     212, 213, 347, 369, 627, 628, 629, 630}
)

#: Length(N) → Data(N+1) pairs whose data may contain SOH (FIX 4.4 "data" fields).
DATA_LENGTH_TAGS: dict[int, int] = {
    90: 91, 93: 89, 95: 96, 212: 213, 348: 349, 350: 351, 352: 353, 354: 355, 356: 357,
    358: 359, 360: 361, 362: 363, 364: 365, 445: 446, 618: 619, 621: 622,
}

#: Session-level (admin) MsgTypes: Heartbeat, TestRequest, ResendRequest, Reject,
#: SequenceReset, Logout, Logon.
ADMIN_MSG_TYPES: frozenset[str] = frozenset({"0", "1", "2", "3", "4", "5", "A"})
