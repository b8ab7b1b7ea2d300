"""ops.marketdata: W/X applied in order, 5041 verified (SPEC §7.2–§7.4), a wrong checksum counted."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from krakenfix_cli.fix.message import Message
from krakenfix_cli.kraken.book_checksum import book_checksum
from krakenfix_cli.ops.marketdata import BookDataError, OrderBook, Precision, precisions

D = Decimal
BTC = Precision(1, 8)
ASKS = ["28013.0", "28039.8", "28066.5", "28093.3", "28120.0", "28146.7", "28173.5", "28200.2", "28227.0", "28253.7"]
BIDS = [("28003.0", "0.001"), ("27999.9", "0.00096375"), ("27969.9", "0.73860423"), ("27700.1", "0.0035"),
        ("27573.2", "0.0032"), ("27137.4", "0.01"), ("27091.3", "0.004"), ("26729.4", "0.001"),
        ("26702.6", "0.001"), ("26675.9", "0.001")]


def snapshot(bids: list[tuple[str, str]], asks: list[tuple[str, str]], req: str = "1") -> Message:
    fields: list[tuple[int, object]] = [(262, req), (55, "BTC/USD"), (268, len(bids) + len(asks))]
    for side, letter, levels in (("0", "B", bids), ("1", "O", asks)):
        for px, qty in levels:
            fields += [(269, side), (278, letter + px), (270, px), (271, qty), (273, "14:13:24.859")]
    return Message.new("W", *fields)


def update(entries: list[tuple[str, str, str, str]], checksum: int | None, req: str = "1") -> Message:
    """entries: (279 action, 269 side, price, size)."""
    fields: list[tuple[int, object]] = [(262, req), (55, "BTC/USD"), (268, len(entries))]
    for action, side, px, qty in entries:
        letter = "B" if side == "0" else "O"
        fields += [(279, action), (269, side), (278, letter + px), (270, px), (271, qty), (273, "14:13:24.859")]
    if checksum is not None:
        fields.append((5041, checksum))
    return Message.new("X", *fields)


def vector_book() -> OrderBook:
    book = OrderBook("BTC/USD", BTC)
    book.apply_snapshot(snapshot(BIDS, [(px, "0.001") for px in ASKS]))
    return book


def test_the_spec_vector_update_verifies() -> None:
    book = vector_book()
    applied = book.apply_incremental(update([("1", "1", "28013.0", "0.00096506")], 3341325816))
    assert applied.verified is True and applied.computed == 3341325816 > 2**31
    assert book.verified == 1 and book.mismatches == 0
    assert book.asks(1) == [(D("28013.0"), D("0.00096506"))]
    assert book.best_bid == D("28003.0") and book.spread == D("10.0")


def test_a_corrupted_checksum_is_counted_not_trusted() -> None:
    book = vector_book()
    applied = book.apply_incremental(update([("1", "1", "28013.0", "0.00096506")], 3341325817))
    assert applied.verified is False and applied.computed == 3341325816
    assert book.mismatches == 1 and book.verified == 0


def test_entries_apply_in_order_created_and_deleted_in_one_message() -> None:
    book = vector_book()
    before = book.checksum()
    applied = book.apply_incremental(update([("0", "0", "28010.0", "0.5"), ("2", "0", "28010.0", "0")], None))
    assert applied.entries == 2 and applied.verified is None
    assert book.checksum() == before and book.best_bid == D("28003.0")


def test_trades_are_kept_apart_from_the_book() -> None:
    book = vector_book()
    msg = Message.new("X", (262, "1"), (55, "BTC/USD"), (268, 1), (279, "0"), (269, "2"), (278, "77"),
                      (270, "28013.0"), (271, "0.25"), (273, "14:13:25.000"), (40, "1"), (2446, "2"))
    applied = book.apply_incremental(msg)
    assert applied.entries == 0 and [(t.side, t.price, t.size) for t in applied.trades] == [
        ("sell", D("28013.0"), D("0.25"))]
    assert book.last_trade is not None and book.last_trade.trade_id == "77"


def test_garbage_is_an_error_not_a_crash() -> None:
    book = vector_book()
    with pytest.raises(BookDataError):
        book.apply_incremental(update([("1", "1", "28013.0", "lots")], None))
    with pytest.raises(BookDataError):
        book.apply_incremental(update([("9", "1", "28013.0", "1")], None))


def test_precisions_come_from_the_instrument_list() -> None:
    msg = Message.new("y", (320, "r"), (322, "1"), (560, "0"), (146, 2), (55, "BTC/USD"), (562, "0.00000001"),
                      (5010, "8"), (5011, "0.0001"), (2349, "1"), (5022, "0.1"), (5032, "1"), (55, "ETH/USD"),
                      (562, "0.00000001"), (5010, "8"), (5011, "0.001"), (2349, "2"), (5022, "0.01"), (5032, "1"))
    assert precisions(msg) == {"BTC/USD": Precision(1, 8), "ETH/USD": Precision(2, 8)}


# -- any sequence of valid updates -----------------------------------------------------------------------
_bid_px = st.integers(1, 999).map(lambda n: D(n) / 10)          # 0.1 .. 99.9
_ask_px = st.integers(1000, 1999).map(lambda n: D(n) / 10)      # 100.0 .. 199.9
_size = st.integers(1, 10**6).map(lambda n: D(n) / 10**4)
_op = st.one_of(
    st.tuples(st.just("0"), _bid_px, _size), st.tuples(st.just("1"), _ask_px, _size),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.lists(st.tuples(_op, st.booleans()), min_size=1, max_size=6)), max_size=30))
def test_any_valid_sequence_keeps_the_book_uncrossed_and_the_checksum_recomputable(
        batches: list[tuple[list[tuple[tuple[str, Decimal, Decimal], bool]]]]) -> None:
    book = OrderBook("BTC/USD", Precision(1, 4))
    book.apply_snapshot(snapshot([], []))
    naive: dict[str, dict[Decimal, Decimal]] = {"0": {}, "1": {}}
    for (batch,) in batches:
        entries: list[tuple[str, str, str, str]] = []
        for (side, px, size), delete in batch:
            levels = naive[side]
            if delete and px in levels:
                entries.append(("2", side, f"{px:.1f}", "0"))
                del levels[px]
            else:
                entries.append(("1" if px in levels else "0", side, f"{px:.1f}", f"{size:.4f}"))
                levels[px] = size
        asks = sorted(naive["1"].items())
        bids = sorted(naive["0"].items(), reverse=True)
        want = book_checksum(1, 4, asks, bids)
        applied = book.apply_incremental(update(entries, want))
        assert applied.verified is True
        assert book.asks() == asks and book.bids() == bids
        if book.best_bid is not None and book.best_ask is not None:
            assert book.best_bid < book.best_ask
    assert book.mismatches == 0


# -- the feed repairs a wrong book ----------------------------------------------------------------------
class _Channel:
    """What BookFeed sends through: it records the messages."""

    def __init__(self) -> None:
        self.sent: list[Message] = []

    async def send(self, msg: Message) -> object:
        self.sent.append(msg)
        return None


def test_a_corrupted_checksum_triggers_a_fresh_snapshot() -> None:
    import asyncio

    from krakenfix_cli.ops.bookfeed import BookFeed, FeedEvent, FeedState

    events: list[str] = []
    chan = _Channel()

    def on_event(state: FeedState, ev: FeedEvent) -> None:
        events.append(ev.kind)

    feed = BookFeed(None, chan, "BTC/USD", 10, l3=False, on_event=on_event)  # type: ignore[arg-type]

    async def main() -> None:
        await feed.logged_on()
        il = chan.sent[-1]
        assert il.msg_type == "x" and il.get(55) == "BTC/USD"
        await feed.handle(Message.new("y", (320, il.get(320)), (322, "1"), (560, "0"), (146, 1), (55, "BTC/USD"),
                                      (562, "0.00000001"), (5010, "8"), (5011, "0.0001"), (2349, "1"),
                                      (5022, "0.1"), (5032, "1")))
        first = feed.state.req_id
        assert chan.sent[-1].msg_type == "V" and chan.sent[-1].get(262) == first
        await feed.handle(snapshot(BIDS, [(px, "0.001") for px in ASKS], req=first))
        await feed.handle(update([("1", "1", "28013.0", "0.00096506")], 3341325816, req=first))
        assert feed.state.book.verified == 1
        await feed.handle(update([("1", "1", "28013.0", "0.002")], 12345, req=first))
        unsub, resub = chan.sent[-2:]
        assert (unsub.get(262), unsub.get(263)) == (first, "2")
        assert resub.get(263) == "1" and resub.get(262) == feed.state.req_id != first
        assert feed.state.book.mismatches == 1 and feed.state.resubscribes == 1
        # the old subscription's traffic is ignored; the new snapshot replaces the book
        await feed.handle(update([("0", "0", "1.0", "9")], 1, req=first))
        assert feed.state.book.mismatches == 1
        await feed.handle(snapshot(BIDS, [(px, "0.001") for px in ASKS], req=feed.state.req_id))
        assert feed.state.book.asks(1) == [(D("28013.0"), D("0.001"))] and feed.state.book.snapshots == 2

    asyncio.run(main())
    assert events == ["snapshot", "update", "update", "mismatch", "snapshot"]
