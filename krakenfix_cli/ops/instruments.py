"""Ask a market-data session for the InstrumentList(y): which pairs the gateway really lists.

Kraken serves InstrumentList only on the market-data session (SPEC §7, §7.6), which needs no
credentials (the SenderCompID alone, §3.1), so a trading session learns its tradable symbols
through a short second connection: log on to the market-data twin, send
InstrumentListRequest(x) for all pairs, read the answer, log out. That connection is a
separate CompID pair (``KRAKEN-MD``), so it never collides with the trading logon, and its
session store lives in memory (nothing of it needs to outlive the request).

:class:`InstrumentInfo` is the one home of what an entry of y says (its precisions, tick,
minimum and increment, status); ``ops.instruments_cache`` keeps them on disk and
``ops.precheck`` checks orders against them.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from krakenfix_cli.client_types import ClientSpec
from krakenfix_cli.fix.message import Field, Message
from krakenfix_cli.kraken import builders
from krakenfix_cli.kraken.profiles import target_comp_id
from krakenfix_cli.transport import clock


class InstrumentListError(Exception):
    """The market-data session refused or did not answer the request."""


#: AssetPairStatus(5032) → its name (SPEC §7.6).
PAIR_STATUS: Mapping[str, str] = {
    "0": "hidden", "1": "online", "2": "maintenance", "3": "cancel-only", "4": "post-only",
    "5": "limit-only", "6": "delisted", "7": "reduce-only",
}  # fmt: skip


@dataclass(frozen=True)
class InstrumentInfo:
    """One entry of InstrumentList(y) (SPEC §6.3, §7.6): what an order on the pair must respect.

    Numbers stay Decimal (never float): a tick of 0.1 must divide 50000.1 exactly.
    """

    symbol: str
    tick: Decimal | None
    "TickSize(5022): the price increment."
    price_precision: int | None
    "PricePrecision(2349): price decimals."
    qty_precision: int | None
    "QtyPrecision(5010): quantity decimals."
    qty_increment: Decimal | None
    "minTradeVol(562): the quantity increment."
    qty_min: Decimal | None
    "QtyMin(5011): the smallest order."
    qty_max: Decimal | None = None
    "QtyMax(5012)."
    min_cost: Decimal | None = None
    "MinimumCost(5013): price × quantity at least this."
    status: str | None = None
    "AssetPairStatus(5032)."

    @property
    def status_name(self) -> str:
        """``online``, ``cancel-only``, ...; the raw value when Kraken sends one we do not know."""
        if self.status is None:
            return ""
        return PAIR_STATUS.get(self.status, self.status)

    def to_json(self) -> dict[str, Any]:
        """Plain strings for the decimals (exactly as listed), ints for the precisions."""
        return {
            "symbol": self.symbol, "tick_size": _text(self.tick), "price_decimals": self.price_precision,
            "lot_decimals": self.qty_precision, "qty_min": _text(self.qty_min),
            "qty_increment": _text(self.qty_increment), "qty_max": _text(self.qty_max),
            "min_cost": _text(self.min_cost), "status": self.status, "status_name": self.status_name,
        }  # fmt: skip

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> InstrumentInfo:
        """The inverse of :meth:`to_json`; ValueError/TypeError/KeyError on a damaged object."""
        symbol = obj["symbol"]
        if not isinstance(symbol, str) or not symbol:
            raise ValueError("an instrument without a symbol")
        return cls(
            symbol=symbol, tick=_dec(obj.get("tick_size")), price_precision=_int(obj.get("price_decimals")),
            qty_precision=_int(obj.get("lot_decimals")), qty_increment=_dec(obj.get("qty_increment")),
            qty_min=_dec(obj.get("qty_min")), qty_max=_dec(obj.get("qty_max")),
            min_cost=_dec(obj.get("min_cost")), status=_str(obj.get("status")),
        )  # fmt: skip


def _text(d: Decimal | None) -> str | None:
    return None if d is None else format(d, "f")


def _dec(value: object) -> Decimal | None:
    """A positive finite Decimal from the wire or the cache, or None (absent or unusable)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise TypeError(f"not a decimal string: {value!r}")
    try:
        d = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"not a decimal: {value!r}") from None
    if not d.is_finite() or d < 0:
        raise ValueError(f"not a usable amount: {value!r}")
    return d


def _int(value: object) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"not an integer: {value!r}")
    n = int(value)
    if not 0 <= n <= 30:
        raise ValueError(f"not a precision: {value!r}")
    return n


def _str(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"not a string: {value!r}")
    return value


_TAGS = {562: "qty_increment", 5010: "qty_precision", 5011: "qty_min", 5012: "qty_max", 5013: "min_cost",
         2349: "price_precision", 5022: "tick", 5032: "status"}


def parse_instrument_list(msg: Message) -> list[InstrumentInfo]:
    """The NoRelatedSym(146) entries of one InstrumentList(y), each starting at Symbol(55).

    A field the gateway sends garbled is left out of that entry (its checks are skipped),
    rather than losing the whole list.
    """
    entries: list[dict[int, str]] = []
    for tag, value in _body(msg.fields):
        if tag == 55:
            entries.append({55: value})
        elif entries and tag in _TAGS:
            entries[-1][tag] = value
    out: list[InstrumentInfo] = []
    for e in entries:
        if not e[55]:
            continue
        values: dict[str, Any] = {}
        for tag, name in _TAGS.items():
            raw = e.get(tag)
            try:
                if name == "status":
                    values[name] = raw
                elif name.endswith("precision"):
                    values[name] = _int(raw)
                else:
                    values[name] = _dec(raw)
            except (ValueError, TypeError):
                values[name] = None
        out.append(InstrumentInfo(symbol=e[55], **values))
    return out


def _body(fields: Iterable[Field]) -> Iterable[Field]:
    """The fields after NoRelatedSym(146): the repeating group and what follows it."""
    seen = False
    for tag, value in fields:
        if seen:
            yield tag, value
        elif tag == 146:
            seen = True


def market_data_twin(spec: ClientSpec, port: int | None = None) -> ClientSpec:
    """``spec`` (a trading session) turned into its market-data twin: same host, TLS and
    SenderCompID, the MD TargetCompID, no credentials, a memory store; ``port`` if it differs."""
    return dataclasses.replace(
        spec, target_comp_id=target_comp_id(derivatives=spec.derivatives, market_data=True), market_data=True,
        api_key=None, secret=None, state_dir=None, memory_store=True, port=spec.port if port is None else port,
        checkpoint=False,
    )


async def fetch_symbols(spec: ClientSpec, timeout: float = 10.0) -> list[str]:
    """The symbols of InstrumentList(y) from the market-data session ``spec`` (in the gateway's order)."""
    return [i.symbol for i in await fetch_instruments(spec, timeout)]


async def fetch_instruments(spec: ClientSpec, timeout: float = 10.0) -> list[InstrumentInfo]:
    """Every instrument of InstrumentList(y) from the market-data session ``spec``, in the gateway's
    order (one per symbol: a symbol listed twice keeps its last entry)."""
    from krakenfix_cli.client import Client  # the engine only when fetching: the pre-send check reads a cache

    client = Client.from_spec(spec)
    leaving = False
    try:
        await client.connect(timeout)
        req_id = f"kfx-{int(clock.now() * 1000)}"
        await client.send(builders.instrument_list_request(req_id))
        deadline = clock.monotonic() + timeout
        found: dict[str, InstrumentInfo] = {}
        while (left := deadline - clock.monotonic()) > 0:
            msg = await client.next_message(left)
            if msg is None:
                break
            if msg.msg_type != "y" or msg.get(320) != req_id:
                continue
            if (msg.get(560) or "0") != "0":
                raise InstrumentListError(f"InstrumentList refused: {msg.get(58) or '560=' + (msg.get(560) or '')}")
            for info in parse_instrument_list(msg):
                found.pop(info.symbol, None)
                found[info.symbol] = info
            if msg.get(893) != "N":  # LastFragment: absent or Y ends the answer
                return list(found.values())
        raise InstrumentListError(f"no InstrumentList from {spec.host}:{spec.port} in {timeout:g} s")
    except asyncio.CancelledError:  # the caller is leaving (the REPL quits): nothing more to wait for
        leaving = True
        client.drop()
        raise
    finally:
        if not leaving:
            if client.is_logged_on:
                await client.logout(2.0)
            await client.close()
