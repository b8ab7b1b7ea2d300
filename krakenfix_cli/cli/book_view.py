"""What ``book`` and ``trades`` print: the live ladder (rich), compact lines and JSON objects.

The ladder is a renderable that sizes itself on every redraw from the space rich gives it,
so it follows the terminal when it is resized. Prices and sizes are formatted with the pair's
precisions; the only wire text shown (the symbol, a connection reason) is escaped.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from krakenfix_cli.render.escape import escape_text

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult

    from krakenfix_cli.ops.bookfeed import FeedEvent, FeedState
    from krakenfix_cli.ops.marketdata import Applied, OrderBook, Trade

#: Lines the ladder needs besides its rows: the status lines, the table's header and borders.
CHROME_LINES = 9


def _px(book: OrderBook, value: Decimal | None) -> str:
    if value is None:
        return "-"
    return f"{value:.{book.precision.price}f}" if book.precision else str(value)


def _qty(book: OrderBook, value: Decimal | None) -> str:
    if value is None:
        return "-"
    return f"{value:.{book.precision.qty}f}" if book.precision else str(value)


def _mid(book: OrderBook) -> str:
    """The mid price, one decimal finer than the price (a half tick), never in exponent form."""
    mid = book.mid
    if mid is None:
        return "-"
    return f"{mid:.{book.precision.price + 1}f}" if book.precision else f"{mid:f}"


def _levels(book: OrderBook, depth: int) -> list[tuple[tuple[Decimal, Decimal, Decimal] | None, ...]]:
    """Rows of (bid, ask), each (price, size, cumulative size) or None."""
    rows: list[tuple[tuple[Decimal, Decimal, Decimal] | None, ...]] = []
    bids, asks = book.bids(depth), book.asks(depth)
    cum_b = cum_a = Decimal(0)
    for i in range(max(len(bids), len(asks))):
        b = a = None
        if i < len(bids):
            cum_b += bids[i][1]
            b = (bids[i][0], bids[i][1], cum_b)
        if i < len(asks):
            cum_a += asks[i][1]
            a = (asks[i][0], asks[i][1], cum_a)
        rows.append((b, a))
    return rows


def status_lines(state: FeedState) -> list[str]:
    """The lines above the ladder: prices, trade, rate, checksum, connection."""
    book = state.book
    last = book.last_trade
    trade = f"{last.side or '?'} {_qty(book, last.size)} @ {_px(book, last.price)} ({last.time})" if last else "-"
    return [
        f"{escape_text(book.symbol)}  depth {state.depth}  spread {_px(book, book.spread)}  "
        f"mid {_mid(book)}  last trade {trade}",
        f"{state.rate:.1f} updates/s  checksum {state.checksum_status}",
        f"connection: {escape_text(state.connection)}",
    ]


class Ladder:
    """Bids and asks side by side, as many rows as fit."""

    def __init__(self, state: FeedState, *, fit: bool = True) -> None:
        self.state = state
        self.fit = fit
        "Show only as many rows as the terminal has room for (the live view); else the whole depth."

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.table import Table
        from rich.text import Text

        state, book = self.state, self.state.book
        height = options.height or options.max_height or console.size.height
        rows = max(1, min(state.depth, height - CHROME_LINES)) if self.fit else state.depth
        for line in status_lines(state):
            yield Text(line, overflow="ellipsis", no_wrap=True)
        wide = options.max_width >= 80
        table = Table(expand=False, pad_edge=False, box=None, show_edge=False)
        if wide:
            table.add_column("bid cum", justify="right")
        table.add_column("bid size", justify="right")
        table.add_column("bid", justify="right", style="green")
        table.add_column("ask", justify="right", style="red")
        table.add_column("ask size", justify="right")
        if wide:
            table.add_column("ask cum", justify="right")
        for b, a in _levels(book, rows):
            bid = [_qty(book, b[2]), _qty(book, b[1]), _px(book, b[0])] if b else ["", "", ""]
            ask = [_px(book, a[0]), _qty(book, a[1]), _qty(book, a[2])] if a else ["", "", ""]
            table.add_row(*(bid if wide else bid[1:]), *(ask if wide else ask[:2]))
        yield table


def ladder_lines(state: FeedState) -> list[str]:
    """The whole book, one level a line: bid size, bid, ask, ask size (``--once -o compact``)."""
    book = state.book
    out = []
    for b, a in _levels(book, state.depth):
        bid = f"{_qty(book, b[1])} {_px(book, b[0])}" if b else "-"
        ask = f"{_px(book, a[0])} {_qty(book, a[1])}" if a else "-"
        out.append(f"{bid}  |  {ask}")
    return out


def book_object(state: FeedState, kind: str = "book") -> dict[str, Any]:
    """The whole book (to the subscribed depth) as JSON."""
    book = state.book
    return {
        "type": kind, "symbol": book.symbol, "md_req_id": state.req_id,
        "bids": [[_px(book, p), _qty(book, q)] for p, q in book.bids(state.depth)],
        "asks": [[_px(book, p), _qty(book, q)] for p, q in book.asks(state.depth)],
        "checksum": book.checksum(), "verified": book.verified, "mismatches": book.mismatches,
    }


def trade_object(book: OrderBook, t: Trade) -> dict[str, Any]:
    """One trade as JSON."""
    return {"type": "trade", "symbol": book.symbol, "time": t.time, "side": t.side, "price": _px(book, t.price),
            "size": _qty(book, t.size), "trade_id": t.trade_id}


def update_object(state: FeedState, applied: Applied) -> dict[str, Any]:
    """An increment as JSON: its entries in order, the checksum verdict, the top of the book."""
    book = state.book
    return {
        "type": "update", "symbol": book.symbol, "md_req_id": state.req_id,
        "changes": [{"action": c.action, "side": c.side, "price": _px(book, c.price), "size": _qty(book, c.size)}
                    for c in applied.changes],
        "trades": [trade_object(book, t) for t in applied.trades],
        "checksum": applied.expected, "computed": applied.computed, "ok": applied.verified,
        "best_bid": _px(book, book.best_bid), "best_ask": _px(book, book.best_ask),
    }


def event_object(state: FeedState, ev: FeedEvent) -> dict[str, Any]:
    """What a feed event is as one JSON line."""
    if ev.kind == "snapshot":
        return book_object(state, "snapshot")
    if ev.kind == "update" and ev.applied is not None:
        return update_object(state, ev.applied)
    return {"type": ev.kind, "symbol": state.book.symbol, "text": ev.text}


def compact_line(state: FeedState, ev: FeedEvent) -> str:
    """One line per event (``-o compact``)."""
    book = state.book
    bid, ask = book.bids(1), book.asks(1)
    top = (f"bid {_px(book, book.best_bid)} x {_qty(book, bid[0][1] if bid else None)}  "
           f"ask {_px(book, book.best_ask)} x {_qty(book, ask[0][1] if ask else None)}")
    sym = escape_text(book.symbol)
    if ev.kind == "snapshot":
        return f"snapshot {sym}  {len(book.bids())} bid / {len(book.asks())} ask levels  {top}"
    if ev.kind == "update" and ev.applied is not None:
        a = ev.applied
        verdict = {True: "ok", False: "MISMATCH", None: "-"}[a.verified]
        trades = f"  {len(a.trades)} trade(s)" if a.trades else ""
        return f"update {sym}  {a.entries} entr{'y' if a.entries == 1 else 'ies'}{trades}  {top}  checksum {verdict}"
    return f"{ev.kind} {sym}  {escape_text(ev.text)}"


def trade_line(book: OrderBook, t: Trade) -> str:
    """``time side price size`` for ``trades -o compact``."""
    return f"{t.time}  {escape_text(book.symbol)}  {t.side or '?':<4}  {_px(book, t.price)}  {_qty(book, t.size)}"
