"""The order journal: which connection placed which ClOrdID, and the last ClOrdID handed out.

Kraken's OrderCancelRequest(F) only reaches orders placed on the same FIX session, and
"after any reconnect" counts as another one (kraken-fix/SPEC.md §6.5, §10.4). So
``cancel`` must know which connection (SenderCompID, TargetCompID, logon time) placed an
order before it sends an F that Kraken would refuse with a BusinessMessageReject(j).

``<state dir>/orders.jsonl``: append-only JSON lines, one event each (``placed`` or
``update``); the latest state of an order is the fold of its events. Every line is one
``os.write`` on an ``O_APPEND`` descriptor under an exclusive ``flock``, so two krakenfix
processes appending at once write whole lines. A write that comes up short (a full disk) is
truncated back, so no partial record stays behind; a torn last line left by a crash
mid-write is skipped on read, and the next append starts on a fresh line, so it cannot
swallow the next record. A line of the wrong shape (not JSON, or a field of the wrong type)
is skipped and counted (:attr:`OrderJournal.skipped`), never raised: no content of the
journal may stop ``cancel`` or ``mass-cancel``.

A line may carry ``"d"``, the order's details as text by name (OrdType, Price, OrderQty,
TimeInForce, ExpireTime, ExecInst, ... as ``ops.outcomes.order_details`` names them): what
``amend`` must repeat and ``orders`` shows. Lines written before details existed have none
and load as before; a ``"d"`` of the wrong shape is dropped, the line kept.

The journal would grow forever, and every ``cancel`` folds all of it. When it passes
:data:`COMPACT_BYTES`, opening it rewrites it with one snapshot per order that is still open
or was touched in the last :data:`KEEP_DAYS` days (and the ClOrdIDs each carried), then
renames it into place. Appenders and the compaction hold an exclusive ``flock`` on
``orders.lock``, so no line lands in the old file after it was read.

``<state dir>/clordid.json``: the last ClOrdID per kind (Spot number, Derivatives UUID),
read-modified-written under ``flock`` so IDs keep increasing across runs and processes
(SPEC §10.6).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from krakenfix_cli.fix.values import format_utc_timestamp
from krakenfix_cli.kraken.clordid import (
    clordid_order_key,
    is_increasing_number_clordid,
    is_valid_derivatives_clordid,
    next_clordid,
)
from krakenfix_cli.session.appendonly import append_record

try:  # POSIX only
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

JOURNAL_FILE = "orders.jsonl"
JOURNAL_LOCK = "orders.lock"
#: Compact the journal once it is this large (about 60,000 orders' worth of lines).
COMPACT_BYTES = 16 * 1024 * 1024
#: Finished orders untouched for longer than this are dropped by a compaction.
KEEP_DAYS = 7.0
CLORDID_FILE = "clordid.json"
CLORDID_LOCK = "clordid.lock"
FORMAT_VERSION = 1

#: OrdStatus(39) → the state name the journal records.
ORD_STATUS_STATES: dict[str, str] = {
    "0": "new",
    "1": "partially-filled",
    "2": "filled",
    "3": "done-for-day",
    "4": "canceled",
    "5": "replaced",
    "6": "pending-cancel",
    "7": "stopped",
    "8": "rejected",
    "9": "suspended",
    "A": "pending-new",
    "C": "expired",
    "E": "pending-replace",
}
TERMINAL_STATES = frozenset({"filled", "canceled", "rejected", "expired", "done-for-day"})


def state_from_ord_status(code: str) -> str:
    """The journal's name for an OrdStatus(39) value (unknown codes kept as ``status-<x>``)."""
    return ORD_STATUS_STATES.get(code, f"status-{code}")


class ClOrdIdExhaustedError(ValueError):
    """The ClOrdID watermark is at the top of its format; the text says the way out."""


@dataclass(frozen=True)
class SessionRef:
    """One FIX connection: the CompIDs plus the logon time that tells reconnects apart."""

    sender: str
    target: str
    connection_id: str
    "UTC logon time, ``YYYYMMDD-HH:MM:SS.sss``; a reconnect is a new connection."

    @classmethod
    def from_logon(cls, sender: str, target: str, logon_time: float) -> SessionRef:
        """The connection that logged on at ``logon_time`` (POSIX seconds)."""
        return cls(sender, target, format_utc_timestamp(logon_time))

    def describe(self) -> str:
        """``SENDER→TARGET logged on at <time>`` for messages to the user."""
        return f"{self.sender}→{self.target} logged on at {self.connection_id}"


@dataclass(frozen=True)
class OrderRecord:
    """An order's latest known state, folded from its journal lines."""

    clordid: str
    "The ClOrdID(11) the order was placed with (the journal key)."
    latest_clordid: str
    "The ClOrdID to use as OrigClOrdID(41) now (changes after an amend)."
    session: SessionRef
    state: str
    placed: float
    updated: float
    symbol: str | None = None
    side: str | None = None
    order_id: str | None = None
    profile: str | None = None
    details: Mapping[str, str] = field(default_factory=dict)
    "Order details by name (``price``, ``tif``, ...), wire values; later reports' values win."

    @property
    def is_open(self) -> bool:
        """Not filled, canceled, rejected or expired (as far as the journal saw)."""
        return self.state not in TERMINAL_STATES


class OrderJournal:
    """Append-only order journal and ClOrdID watermark for one state dir."""

    def __init__(self, state_dir: str | os.PathLike[str], *, sync: bool = True,
                 compact_bytes: int = COMPACT_BYTES, warn: Callable[[str], None] | None = None) -> None:
        self.state_dir = Path(state_dir)
        self.sync = sync
        self.path = self.state_dir / JOURNAL_FILE
        self.skipped = 0
        "Lines of the wrong shape the last read skipped."
        self._warn = warn
        self._warned = False
        self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            big = self.path.stat().st_size >= compact_bytes
        except FileNotFoundError:
            big = False
        if big:
            from krakenfix_cli.transport.clock import now

            with contextlib.suppress(OSError):  # a full disk: keep the long journal, run the command
                self.compact(now())

    # -- writing ----------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _journal_lock(self, exclusive: bool) -> Iterator[None]:
        """Shared for an append, exclusive for a compaction (see the module docstring)."""
        fd = os.open(self.state_dir / JOURNAL_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)  # closing releases the flock

    def _append_raw(self, data: bytes, *, sync: bool) -> None:
        """Append ``data`` whole or not at all, on a fresh line if the file ends torn."""
        with self._journal_lock(exclusive=True):
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                append_record(fd, data, self.path)
                if sync:
                    os.fsync(fd)
            finally:
                os.close(fd)

    def compact(self, now: float, keep_days: float = KEEP_DAYS) -> int:
        """Rewrite the journal with the orders worth keeping; returns how many were dropped.

        Kept: every open order, and every order updated within ``keep_days``. Each becomes
        one ``placed`` line with its folded state, then one ``update`` per later ClOrdID it
        carried (so cancel by an amended ClOrdID still finds it).
        """
        cutoff = now - keep_days * 86400.0
        with self._journal_lock(exclusive=True):
            orders, chains = self._fold()
            kept = [r for r in orders.values() if r.is_open or r.updated >= cutoff]
            lines: list[str] = []
            for rec in sorted(kept, key=lambda r: r.placed):
                lines.append(json.dumps({
                    "v": FORMAT_VERSION, "ev": "placed", "t": rec.placed, "u": rec.updated, "clordid": rec.clordid,
                    "sender": rec.session.sender, "target": rec.session.target, "conn": rec.session.connection_id,
                    "symbol": rec.symbol, "side": rec.side, "order_id": rec.order_id, "state": rec.state,
                    "profile": rec.profile, **({"d": dict(rec.details)} if rec.details else {}),
                }, separators=(",", ":"), ensure_ascii=False))  # fmt: skip
                for new_cid in chains.get(rec.clordid, ()):
                    lines.append(json.dumps({"v": FORMAT_VERSION, "ev": "update", "t": rec.updated,
                                             "clordid": rec.clordid, "new_clordid": new_cid},
                                            separators=(",", ":"), ensure_ascii=False))
            tmp = self.path.with_name(f"{JOURNAL_FILE}.{os.getpid()}.tmp")
            data = "".join(line + "\n" for line in lines).encode("utf-8")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
                os.close(fd)
                fd = -1
                os.replace(tmp, self.path)  # the old journal stays whole until this rename
            except OSError:
                if fd >= 0:
                    os.close(fd)
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        return len(orders) - len(kept)

    def _append(self, record: dict[str, Any], *, sync: bool) -> None:
        line = json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n"
        self._append_raw(line.encode("utf-8"), sync=sync)

    def record_placed(
        self,
        clordid: str,
        session: SessionRef,
        now: float,
        *,
        symbol: str | None = None,
        side: str | None = None,
        order_id: str | None = None,
        state: str = "pending-new",
        profile: str | None = None,
        details: Mapping[str, str] | None = None,
    ) -> None:
        """Note that ``session`` sent a NewOrderSingle(D) with ``clordid`` (durable when sync)."""
        record: dict[str, Any] = {
            "v": FORMAT_VERSION,
            "ev": "placed",
            "t": now,
            "clordid": clordid,
            "sender": session.sender,
            "target": session.target,
            "conn": session.connection_id,
            "symbol": symbol,
            "side": side,
            "order_id": order_id,
            "state": state,
            "profile": profile,
        }
        if details:
            record["d"] = dict(details)
        self._append(record, sync=self.sync)

    def record_update(
        self,
        clordid: str,
        now: float,
        *,
        order_id: str | None = None,
        state: str | None = None,
        new_clordid: str | None = None,
        details: Mapping[str, str] | None = None,
    ) -> None:
        """Note what an ExecutionReport(8) said about the order known by ``clordid``.

        Not fsynced: the state can always be re-learned from the gateway's reports, and a
        mass cancel writes thousands of these.
        """
        record: dict[str, Any] = {"v": FORMAT_VERSION, "ev": "update", "t": now, "clordid": clordid}
        if order_id is not None:
            record["order_id"] = order_id
        if state is not None:
            record["state"] = state
        if new_clordid is not None:
            record["new_clordid"] = new_clordid
        if details:
            record["d"] = dict(details)
        self._append(record, sync=False)

    # -- reading ----------------------------------------------------------------------------------
    def _lines(self) -> Iterator[dict[str, Any]]:
        self.skipped = 0
        try:
            fh = self.path.open("rb")
        except FileNotFoundError:
            return
        with fh:
            for raw in fh:
                record = _record(raw)
                if record is None:
                    if raw.strip():
                        self.skipped += 1
                    continue
                yield record
        if self.skipped and self._warn is not None and not self._warned:
            self._warned = True
            self._warn(f"skipped {self.skipped} unreadable line(s) in the order journal {self.path}; "
                       "orders they recorded are unknown to cancel (mass-cancel --all still reaches them)")

    def orders(self) -> dict[str, OrderRecord]:
        """Every journalled order by its original ClOrdID, folded to its latest state."""
        return self._fold()[0]

    def _fold(self) -> tuple[dict[str, OrderRecord], dict[str, list[str]]]:
        """The orders, and the later ClOrdIDs each carried (in order), by original ClOrdID."""
        orders: dict[str, OrderRecord] = {}
        alias: dict[str, str] = {}  # any ClOrdID the order has carried -> original ClOrdID
        chains: dict[str, list[str]] = {}
        for r in self._lines():
            cid = r["clordid"]
            t = float(r.get("t") or 0.0)
            if r.get("ev") == "placed":
                session = SessionRef(str(r.get("sender", "")), str(r.get("target", "")), str(r.get("conn", "")))
                orders[cid] = OrderRecord(
                    clordid=cid,
                    latest_clordid=cid,
                    session=session,
                    state=str(r.get("state") or "pending-new"),
                    placed=t,
                    updated=float(r.get("u") or t),  # a compaction's snapshot carries its last update
                    symbol=r.get("symbol"),
                    side=r.get("side"),
                    order_id=r.get("order_id"),
                    profile=r.get("profile"),
                    details=r.get("d") or {},
                )
                alias[cid] = cid
                continue
            key = alias.get(cid)
            if key is None or key not in orders:
                continue
            rec = orders[key]
            new_cid = r.get("new_clordid")
            rec = replace(
                rec,
                updated=t,
                state=str(r.get("state") or rec.state),
                order_id=r.get("order_id") or rec.order_id,
                latest_clordid=new_cid if isinstance(new_cid, str) else rec.latest_clordid,
                details={**rec.details, **r["d"]} if r.get("d") else rec.details,
            )
            if isinstance(new_cid, str):
                alias[new_cid] = key
                chains.setdefault(key, []).append(new_cid)
            orders[key] = rec
        return orders, chains

    def find(self, *, clordid: str | None = None, order_id: str | None = None) -> OrderRecord | None:
        """The order with this OrderID(37), or that carried this ClOrdID (original or later)."""
        orders = self.orders()
        for rec in orders.values():
            if order_id is not None and rec.order_id == order_id:
                return rec
            if clordid is not None and clordid in (rec.clordid, rec.latest_clordid):
                return rec
        if clordid is None:
            return None
        # An intermediate ClOrdID of an order amended twice: walk back to the original
        # (a set of seen IDs, as a hand-edited journal may hold a cycle).
        back = {r["new_clordid"]: r["clordid"] for r in self._lines() if r.get("new_clordid")}
        seen = {clordid}
        while clordid in back and back[clordid] not in seen:
            clordid = back[clordid]
            seen.add(clordid)
            if clordid in orders:
                return orders[clordid]
        return None

    def open_orders(self, session: SessionRef | None = None) -> list[OrderRecord]:
        """Orders not known to be finished, optionally only those ``session`` placed."""
        return [rec for rec in self.orders().values() if rec.is_open and (session is None or rec.session == session)]

    # -- ClOrdID watermark ------------------------------------------------------------------------
    @contextlib.contextmanager
    def _clordid_lock(self) -> Iterator[None]:
        fd = os.open(self.state_dir / CLORDID_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the flock

    def _read_watermarks(self) -> dict[str, str]:
        try:
            data = json.loads((self.state_dir / CLORDID_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}

    def _write_watermarks(self, marks: dict[str, str]) -> None:
        path = self.state_dir / CLORDID_FILE
        tmp = path.with_name(f"{CLORDID_FILE}.{os.getpid()}.tmp")
        data = json.dumps(marks, sort_keys=True).encode("utf-8")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            try:
                if os.write(fd, data) != len(data):
                    raise OSError(errno.ENOSPC, f"short write to {tmp}")
                if self.sync:
                    os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)  # the old watermark file stays whole; leave no stray temporary
            raise

    @staticmethod
    def _kind(derivatives: bool) -> str:
        return "derivatives" if derivatives else "spot"

    def last_clordid(self, *, derivatives: bool = False) -> str | None:
        """The last ClOrdID handed out or remembered for this kind of session."""
        return self._read_watermarks().get(self._kind(derivatives))

    def next_clordid(self, now: float, *, derivatives: bool = False) -> str:
        """A new ClOrdID above every earlier one from this state dir, in any process."""
        with self._clordid_lock():
            marks = self._read_watermarks()
            kind = self._kind(derivatives)
            try:
                value = next_clordid(now, marks.get(kind), derivatives=derivatives)
            except ValueError as exc:  # the largest UUID was used: nothing is above it
                raise ClOrdIdExhaustedError(
                    f"no ClOrdID can be generated above {marks.get(kind)} ({exc}); give one with --clordid, "
                    "or log on with --reset-clordid (ForceResetClOrdID(5030)=Y) to start afresh") from None
            marks[kind] = value
            self._write_watermarks(marks)
            return value

    def remember_clordid(self, clordid: str, *, derivatives: bool = False) -> None:
        """Raise the watermark to a ClOrdID the user chose (``--clordid``, ``--raw``, ``--file``),
        so generated ones stay above it.

        Numbers and UUIDs are two sequences (Spot takes both): a ClOrdID moves the watermark
        only when it has the watermark's format (or none is set yet), except that a Spot
        number raises a Spot watermark still on numbers.
        """
        if is_valid_derivatives_clordid(clordid):
            uuid = True
        elif is_increasing_number_clordid(clordid) and not derivatives:
            uuid = False
        else:
            return  # a shape this kind's generator cannot follow
        key = clordid_order_key(clordid)
        assert key is not None
        with self._clordid_lock():
            marks = self._read_watermarks()
            kind = self._kind(derivatives)
            current = marks.get(kind)
            if current is not None and is_valid_derivatives_clordid(current) != uuid:
                return  # the other sequence
            current_key = clordid_order_key(current) if current else None
            if current_key is None or key > current_key:
                marks[kind] = clordid
                self._write_watermarks(marks)

    def reset_clordid(self, *, derivatives: bool = False) -> None:
        """Forget this kind's watermark: Kraken's ClOrdID sequence was reset (5030=Y)."""
        with self._clordid_lock():
            marks = self._read_watermarks()
            if marks.pop(self._kind(derivatives), None) is not None:
                self._write_watermarks(marks)


#: Fields a journal line may carry, and the types each must have (None allowed for all but
#: ``clordid``): a record of another shape is skipped, never folded.
_NUMBER_FIELDS = ("t", "u")
_TEXT_FIELDS = ("sender", "target", "conn", "symbol", "side", "order_id", "state", "profile", "new_clordid")
_GLUE = b'{"v":'


def _record(raw: bytes) -> dict[str, Any] | None:
    """One journal line as a record of the right shape, or None.

    A line that is not JSON may be a torn record with a whole one glued on behind it (a
    file written before appends started on a fresh line): the last record start is tried.
    """
    try:
        record = json.loads(raw)
    except ValueError:
        start = raw.rfind(_GLUE)
        if start <= 0:
            return None
        try:
            record = json.loads(raw[start:])
        except ValueError:
            return None
    if not isinstance(record, dict) or not isinstance(record.get("clordid"), str):
        return None
    if record.get("ev") not in ("placed", "update"):
        return None
    for name in _NUMBER_FIELDS:
        value = record.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                  or value != value or value in (float("inf"), float("-inf"))):
            return None
    for name in _TEXT_FIELDS:
        value = record.get(name)
        if value is not None and not isinstance(value, str):
            return None
    details = record.get("d")
    if details is not None and not (isinstance(details, dict)
                                    and all(isinstance(k, str) and isinstance(v, str) for k, v in details.items())):
        del record["d"]  # the order is worth more than its details: keep the line
    return record

