"""``log stats``: counts, sequence events, answer latency, rejects and message rate, in one pass.

Memory stays flat whatever the log's length: counts are keyed by session, direction and
MsgType; latencies go into log-spaced buckets (:class:`Histogram`, 1 % wide, so a
percentile is exact to 1 %; max is exact); the rate series doubles its bucket width
whenever it would hold more than :data:`MAX_RATE_BUCKETS`; at most
:data:`MAX_PENDING` requests wait for an answer (the oldest are dropped and counted),
and at most :data:`MAX_EVENTS` gaps / resets are listed (all are counted).
"""

from __future__ import annotations

import math
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

from krakenfix_cli.ops.logq.reader import Record

MAX_RATE_BUCKETS = 2048
MAX_PENDING = 100_000
MAX_EVENTS = 200
MAX_REJECT_TEXTS = 1000
#: Requests whose first answer is timed: NewOrderSingle, cancel, amend, mass cancel.
REQUESTS = frozenset({"D", "F", "G", "q"})
_GROWTH = 1.01


class Histogram:
    """Log-spaced buckets of positive durations (seconds): flat memory, 1 % resolution."""

    def __init__(self) -> None:
        self.buckets: Counter[int] = Counter()
        self.count = 0
        self.max = 0.0

    def add(self, seconds: float) -> None:
        self.count += 1
        self.max = max(self.max, seconds)
        self.buckets[self._bucket(seconds)] += 1

    @staticmethod
    def _bucket(seconds: float) -> int:
        return math.floor(math.log(max(seconds, 1e-7) / 1e-7, _GROWTH))

    def percentile(self, p: float) -> float:
        """The smallest bucket bound with at least ``p`` % of the values at or below it."""
        if self.count == 0:
            return 0.0
        want = max(1, math.ceil(self.count * p / 100))
        seen = 0
        for b in sorted(self.buckets):
            seen += self.buckets[b]
            if seen >= want:
                return min(1e-7 * _GROWTH ** (b + 1), self.max)
        return self.max

    def merged(self, other: Histogram) -> Histogram:
        """A histogram of both (for the all-requests chart)."""
        out = Histogram()
        out.buckets = self.buckets + other.buckets
        out.count, out.max = self.count + other.count, max(self.max, other.max)
        return out

    def coarse(self) -> list[tuple[float, int]]:
        """(upper bound in seconds, count) over doubling ranges from 1 ms: what a chart shows."""
        counts: Counter[int] = Counter()
        for b, n in self.buckets.items():
            upper = 1e-7 * _GROWTH ** (b + 1)
            counts[max(0, math.ceil(math.log2(upper / 1e-3)))] += n
        if not counts:
            return []
        return [(1e-3 * 2 ** k, counts.get(k, 0)) for k in range(min(counts), max(counts) + 1)]


@dataclass
class SeqEvent:
    """A gap, a resend, a reset or a rollover, with when and where it happened."""

    when: float | None
    session: str
    direction: str | None
    kind: str  # "gap", "too-low", "reset", "rollover", "sequence-reset", "gap-fill", "resend-request"
    text: str


@dataclass
class _Stream:
    expected: int | None = None


@dataclass
class Stats:
    """What ``log stats`` reports; fold records in with :meth:`add`."""

    counts: Counter[tuple[str, str, str]] = field(default_factory=Counter)  # session, dir, MsgType
    messages: int = 0
    first: float | None = None
    last: float | None = None
    events: list[SeqEvent] = field(default_factory=list)
    event_counts: Counter[str] = field(default_factory=Counter)
    resends: int = 0  # messages with PossDupFlag(43)=Y
    latency: dict[str, Histogram] = field(default_factory=dict)  # request MsgType → histogram
    latency_by_symbol: dict[tuple[str, str], Histogram] = field(default_factory=dict)  # (MsgType, Symbol)
    unanswered_dropped: int = 0
    rejects: Counter[str] = field(default_factory=Counter)
    rate_width: float = 1.0
    rate: Counter[int] = field(default_factory=Counter)
    _streams: dict[tuple[str, str | None], _Stream] = field(default_factory=dict)
    _pending: OrderedDict[tuple[str, str], tuple[str, str, float, str]] = field(default_factory=OrderedDict)

    @property
    def unanswered(self) -> int:
        """Requests with no answer in the log (each waits under two keys, see :meth:`_latency`)."""
        return (len(self._pending) + self.unanswered_dropped) // 2

    def add(self, rec: Record) -> None:
        msg, when = rec.msg, rec.when
        mt = msg.msg_type
        self.messages += 1
        self.counts[(rec.session, rec.direction or "?", mt)] += 1
        if when is not None:
            self.first = when if self.first is None else min(self.first, when)
            self.last = when if self.last is None else max(self.last, when)
            self._rate(when)
        self._sequence(rec, mt)
        if when is not None:
            self._latency(rec, mt, when)
        self._reject(rec, mt)

    # -- sequence numbers ---------------------------------------------------------------------
    def _event(self, rec: Record, kind: str, text: str) -> None:
        self.event_counts[kind] += 1
        if len(self.events) < MAX_EVENTS:
            self.events.append(SeqEvent(rec.when, rec.session, rec.direction, kind, text))

    def _sequence(self, rec: Record, mt: str) -> None:
        msg = rec.msg
        stream = self._streams.setdefault((rec.session, rec.direction), _Stream())
        seq = msg.get_int(34) if (msg.get(34) or "").isdigit() else None
        possdup = msg.get(43) == "Y"
        if possdup:
            self.resends += 1
        if mt == "A" and msg.get(141) == "Y":
            self._event(rec, "reset", f"Logon with ResetSeqNumFlag(141)=Y, MsgSeqNum {seq}")
            stream.expected = None
        if mt == "2":
            self._event(rec, "resend-request", f"ResendRequest {msg.get(7)}..{msg.get(16)}")
        if seq is not None and not possdup:
            if stream.expected is not None and seq > stream.expected:
                self._event(rec, "gap", f"expected MsgSeqNum {stream.expected}, got {seq} "
                                        f"({seq - stream.expected} missing)")
            elif stream.expected is not None and seq < stream.expected:
                if mt == "A":  # a new session without 141=Y: the counterparty reset (a rollover)
                    self._event(rec, "rollover", f"Logon at MsgSeqNum {seq} after {stream.expected - 1}")
                else:
                    self._event(rec, "too-low", f"expected MsgSeqNum {stream.expected}, got {seq} "
                                                "without PossDupFlag(43)=Y")
            if stream.expected is None or seq >= stream.expected or mt == "A":
                stream.expected = seq + 1
        if mt == "4":
            new = msg.get_int(36) if (msg.get(36) or "").isdigit() else None
            kind = "gap-fill" if msg.get(123) == "Y" else "sequence-reset"
            self._event(rec, kind, f"SequenceReset{' (gap fill)' if kind == 'gap-fill' else ''} "
                                   f"{seq} → NewSeqNo {new}")
            if new is not None:
                stream.expected = new

    # -- latency ------------------------------------------------------------------------------
    def _latency(self, rec: Record, mt: str, when: float) -> None:
        """A request waits under its ClOrdID(11) and its MsgSeqNum(34) (a Reject(3) names
        only the latter); the first answer under either ends both."""
        msg = rec.msg
        if rec.direction == "out" and mt in REQUESTS:
            by_id, by_seq = f"id:{msg.get(11) or ''}", f"seq:{msg.get(34) or ''}"
            symbol = msg.get(55) or ""
            self._pending[(rec.session, by_id)] = (mt, symbol, when, by_seq)
            self._pending[(rec.session, by_seq)] = (mt, symbol, when, by_id)
            while len(self._pending) > MAX_PENDING:
                self._pending.popitem(last=False)
                self.unanswered_dropped += 1
            return
        if rec.direction != "in":
            return
        if mt in ("8", "9", "r"):
            keys = [f"id:{msg.get(11) or ''}"]
        elif mt == "j":
            keys = [f"id:{msg.get(379) or ''}", f"seq:{msg.get(45) or ''}"]
        elif mt == "3":
            keys = [f"seq:{msg.get(45) or ''}"]
        else:
            return
        for key in keys:
            hit = self._pending.pop((rec.session, key), None)
            if hit is not None:
                req, symbol, sent, twin = hit
                self._pending.pop((rec.session, twin), None)
                took = max(when - sent, 0.0)
                self.latency.setdefault(req, Histogram()).add(took)
                if len(self.latency_by_symbol) < MAX_REJECT_TEXTS or (req, symbol) in self.latency_by_symbol:
                    self.latency_by_symbol.setdefault((req, symbol), Histogram()).add(took)
                return

    # -- rejects ------------------------------------------------------------------------------
    def _reject(self, rec: Record, mt: str) -> None:
        msg = rec.msg
        rejected = mt in ("3", "j", "9") or (mt == "8" and (msg.get(150) == "8" or msg.get(39) == "8"))
        if not rejected:
            return
        text = msg.get(58) or "(no Text)"
        if text in self.rejects or len(self.rejects) < MAX_REJECT_TEXTS:
            self.rejects[text] += 1
        else:
            self.rejects["(other texts)"] += 1

    # -- rate ---------------------------------------------------------------------------------
    def _rate(self, when: float) -> None:
        self.rate[int(when // self.rate_width)] += 1
        if len(self.rate) > MAX_RATE_BUCKETS:
            self.rate_width *= 2
            merged: Counter[int] = Counter()
            for b, n in self.rate.items():
                merged[b // 2] += n
            self.rate = merged


def collect(records: Iterable[Record]) -> Stats:
    """Fold every record into one :class:`Stats`."""
    stats = Stats()
    for rec in records:
        stats.add(rec)
    return stats


def rate_series(stats: Stats, rows: int = 20) -> tuple[float, list[tuple[float, int]]]:
    """At most ``rows`` (start time, messages) bars covering the log; and the bar width in seconds."""
    if not stats.rate:
        return stats.rate_width, []
    lo, hi = min(stats.rate), max(stats.rate)
    span = hi - lo + 1
    group = max(1, math.ceil(span / rows))
    bars: list[tuple[float, int]] = []
    for start in range(lo, hi + 1, group):
        n = sum(stats.rate.get(b, 0) for b in range(start, min(start + group, hi + 1)))
        bars.append((start * stats.rate_width, n))
    return stats.rate_width * group, bars
