"""Market-data session of the simulator: InstrumentList, W snapshot + X increments, 5041 (SPEC §7)."""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from simclient import FixClient, is_er, is_type, order

from krakenfix_cli.fix.message import Message
from krakenfix_cli.kraken.book_checksum import book_checksum, checksum_text
from krakenfix_cli.sim.gateway import SPOT_INSTRUMENTS
from krakenfix_cli.sim.runner import RunningSimulator, start_simulator

D = Decimal
BTC = SPOT_INSTRUMENTS[0]

# SPEC §7.4: the guide's BTC/USD book after the update 279=1|269=1|278=O28013.0|270=28013.0|271=0.00096506
VECTOR_ASKS = [(D("28013.0"), D("0.00096506"))] + [
    (D(p), D("0.001")) for p in ("28039.8", "28066.5", "28093.3", "28120.0", "28146.7", "28173.5", "28200.2",
                                 "28227.0", "28253.7")
]
VECTOR_BIDS = [
    (D("28003.0"), D("0.001")), (D("27999.9"), D("0.00096375")), (D("27969.9"), D("0.73860423")),
    (D("27700.1"), D("0.0035")), (D("27573.2"), D("0.0032")), (D("27137.4"), D("0.01")),
    (D("27091.3"), D("0.004")), (D("26729.4"), D("0.001")), (D("26702.6"), D("0.001")),
    (D("26675.9"), D("0.001")),
]  # fmt: skip
VECTOR_TEXT = (
    "2801309650628039810000028066510000028093310000028120010000028146710000028173510000028200210000028227010000"
    "028253710000028003010000027999996375279699738604232770013500002757323200002713741000000270913400000267294"
    "100000267026100000266759100000"
)


def test_book_checksum_matches_the_spec_vector() -> None:
    assert checksum_text(BTC.price_precision, BTC.qty_precision, VECTOR_ASKS, VECTOR_BIDS) == VECTOR_TEXT
    assert book_checksum(BTC.price_precision, BTC.qty_precision, VECTOR_ASKS, VECTOR_BIDS) == 3341325816


def md_request(req_id: str = "1", *, symbol: str = "BTC/USD", depth: str = "10",
               types: tuple[str, ...] = ("0", "1", "2"), sub: str = "1", aggregated: str | None = None) -> Message:
    fields: list[tuple[int, object]] = [(146, "1"), (55, symbol), (262, req_id), (263, sub), (264, depth), (265, "1")]
    if aggregated is not None:
        fields.append((266, aggregated))
    fields.append((267, str(len(types))))
    fields += [(269, t) for t in types]
    return Message.new("V", *fields)


def run_md(test: Callable[[RunningSimulator], Awaitable[None]], **kw: Any) -> None:
    async def main() -> None:
        sim = await start_simulator(tls=False, flow_interval=None, **kw)
        try:
            await test(sim)
        finally:
            await sim.close()

    asyncio.run(main())


def entries(msg: Message, first: int) -> list[dict[int, str]]:
    """Split a group by its delimiter tag."""
    out: list[dict[int, str]] = []
    for t, v in msg.fields:
        if t == first:
            out.append({})
        if out and t not in (10, 5041):
            out[-1][t] = v
    return out


def apply(book: dict[str, tuple[str, Decimal, Decimal]], x: Message) -> None:
    for e in entries(x, 279):
        if e[269] == "2":
            continue
        if e[279] == "2":
            book.pop(e[278], None)
        else:
            book[e[278]] = (e[269], D(e[270]), D(e[271]))


def checksum_of(book: dict[str, tuple[str, Decimal, Decimal]]) -> int:
    bids = sorted(((p, q) for t, p, q in book.values() if t == "0"), reverse=True)
    asks = sorted((p, q) for t, p, q in book.values() if t == "1")
    return zlib.crc32(checksum_text(BTC.price_precision, BTC.qty_precision, asks, bids).encode())


def test_instrument_list_describes_the_pairs() -> None:
    async def t(sim: RunningSimulator) -> None:
        c = await FixClient(sim, target="KRAKEN-MD", auth=False).connect()
        c.send(Message.new("x", (320, "R1"), (559, "4")))
        y = await c.wait_for(is_type("y"))
        assert y[560] == "0" and y[146] == "2"
        btc = entries(y, 55)[0]
        assert btc == {55: "BTC/USD", 562: "0.00000001", 5010: "8", 5011: "0.0001", 5012: "10000", 5013: "0.5",
                       2349: "1", 5022: "0.1", 5032: "1"}
        c.send(Message.new("x", (320, "R2"), (559, "0"), (55, "NOPE/USD")))
        y2 = await c.wait_for(lambda m: m.msg_type == "y" and m.get(320) == "R2")
        assert y2[560] == "2"
        d = await FixClient(sim, sender=sim.credentials.derivatives_sender_comp_id, target="KRAKEN-DRV-MD",
                            auth=False).connect()
        d.send(Message.new("x", (320, "R3"), (559, "1"), (167, "FUT")))
        yd = await d.wait_for(is_type("y"))
        assert {e[55] for e in entries(yd, 55)} == {"PF_ETHUSD", "PF_XBTUSD"}

    run_md(t)


def test_snapshot_then_increments_keep_a_client_book_whose_checksum_matches() -> None:
    async def t(sim: RunningSimulator) -> None:
        md = await FixClient(sim, target="KRAKEN-MD", auth=False).connect()
        md.send(md_request())
        w = await md.wait_for(is_type("W"))
        assert w[262] == "1" and w[55] == "BTC/USD" and w[268] == "20"
        book = {e[278]: (e[269], D(e[270]), D(e[271])) for e in entries(w, 269)}
        assert all(k[0] in "BO" for k in book)
        trd = await FixClient(sim).connect()
        m = order(ord_type="1", price=None, qty="0.3", side="1")  # takes asks: trades + book updates
        trd.send(m)
        await trd.wait_for(is_er("F", m[11]))
        x = await md.wait_for(is_type("X"))
        assert x[262] == "1" and 5041 in x
        apply(book, x)
        assert checksum_of(book) == int(x[5041])
        trades = [e for e in entries(x, 279) if e[269] == "2"]
        assert trades and trades[0][2446] == "1" and trades[0][40] == "1"
        rest = order(price="59999.8", qty="1.5")
        trd.send(rest)
        x2 = await md.wait_for(lambda m: m.msg_type == "X" and m is not x)
        apply(book, x2)
        assert checksum_of(book) == int(x2[5041])
        assert book["B59999.8"][2] == D("1.5")

    run_md(t)


def test_bad_market_data_requests_are_rejected_with_Y() -> None:
    async def t(sim: RunningSimulator) -> None:
        md = await FixClient(sim, target="KRAKEN-MD", auth=False).connect()
        cases = [
            (md_request("a", symbol="TEST/TEST"), "0"),
            (md_request("b", depth="7"), "5"),
            (md_request("c", types=("0",)), "8"),
            (md_request("d", aggregated="N", types=("0", "1")), "B"),
        ]
        for msg, _ in cases:
            md.send(msg)
        ys = await md.wait_count(is_type("Y"), len(cases))
        assert [(y[262], y[281]) for y in ys] == [(m[262], r) for m, r in cases]
        assert "unsupported symbol: TEST/TEST" in ys[0][58]
        md.send(md_request("e"))
        await md.wait_for(is_type("W"))
        md.send(md_request("e"))
        dup = await md.wait_for(lambda m: m.msg_type == "Y" and m.get(262) == "e")
        assert dup[281] == "1"

    run_md(t)


def test_level3_on_derivatives_lists_orders() -> None:
    async def t(sim: RunningSimulator) -> None:
        md = await FixClient(sim, sender=sim.credentials.derivatives_sender_comp_id, target="KRAKEN-DRV-MD",
                             auth=False).connect()
        md.send(md_request("L3", symbol="PF_ETHUSD", depth="0", aggregated="N", types=("0", "1")))
        w = await md.wait_for(is_type("W"))
        ids = [e[278] for e in entries(w, 269)]
        assert ids and not any(i.startswith(("B", "O")) and i[1:2].isdigit() for i in ids)

    run_md(t)


def test_trading_session_status_and_unsupported_md_messages() -> None:
    async def t(sim: RunningSimulator) -> None:
        md = await FixClient(sim, target="KRAKEN-MD", auth=False).connect()
        md.send(Message.new("g", (335, "S1"), (336, "SESSION"), (263, "0")))
        h = await md.wait_for(is_type("h"))
        assert h[335] == "S1" and h[340] == "2"
        md.send(Message.new("D", (11, "1")))
        j = await md.wait_for(is_type("j"))
        assert j[380] == "3"

    run_md(t)
