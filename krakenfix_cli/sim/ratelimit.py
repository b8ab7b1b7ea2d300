"""Kraken's Spot trading limits (SPEC §9): a decaying rate counter and an open-order cap per pair.

One counter per account and pair, shared by every session of the account (Kraken shares it
across REST, WebSocket and FIX). It decays continuously at the tier's rate. Each transaction
adds a fixed count on receipt, even when it is refused, plus a count that depends on how long
the order has rested since it was placed or last amended:

    add +1; amend +1, and +3/+2/+1 under 5/10/15 s; cancel +8/+6/+5/+4/+2/+1 under 5/10/15/45/90/300 s

A transaction that would take the counter past the tier's threshold is refused with
``EOrder:Rate limit exceeded``. Kraken does not say whether a cancel can be refused; here it
can (the stricter reading), so a rehearsal on the simulator teaches what a strategy must
survive: OrderMassCancelRequest(q) is not in Kraken's table and is never counted or refused.
Derivatives document no FIX limit (§9) and get none here.
"""

from __future__ import annotations

from dataclasses import dataclass

E_RATE = "EOrder:Rate limit exceeded"
E_ORDERS = "EOrder:Orders limit exceeded"

#: (age under, extra count) by transaction, from SPEC §9's table.
_AMEND_EXTRA = ((5.0, 3), (10.0, 2), (15.0, 1))
_CANCEL_EXTRA = ((5.0, 8), (10.0, 6), (15.0, 5), (45.0, 4), (90.0, 2), (300.0, 1))


@dataclass(frozen=True)
class Tier:
    """One account verification level's limits."""

    name: str
    threshold: float
    decay_per_s: float
    max_open_orders: int


TIERS: dict[str, Tier] = {
    "starter": Tier("starter", 60, 1.0, 60),
    "intermediate": Tier("intermediate", 125, 2.34, 80),
    "pro": Tier("pro", 180, 3.75, 225),
}
#: SPEC §12: the simulator's default.
DEFAULT_TIER = "intermediate"
#: ``--rate-limit`` choices: the tiers, and ``off``.
CHOICES = (*TIERS, "off")


def _extra(table: tuple[tuple[float, int], ...], age: float) -> int:
    for under, count in table:
        if age < under:
            return count
    return 0


class RateLimiter:
    """The counters of every (account, pair); ``None`` tier means limits are off."""

    def __init__(self, tier: Tier | None) -> None:
        self.tier = tier
        #: (account, pair) → (counter value, when it was last brought up to date).
        self._counters: dict[tuple[str, str], tuple[float, float]] = {}

    @classmethod
    def named(cls, name: str | None) -> RateLimiter:
        """From a ``--rate-limit`` value (a tier name or ``off``; None = the default tier)."""
        key = (name or DEFAULT_TIER).strip().lower()
        if key == "off":
            return cls(None)
        tier = TIERS.get(key)
        if tier is None:
            raise ValueError(f"unknown rate-limit tier {name!r}; choose one of {', '.join(CHOICES)}")
        return cls(tier)

    def counter(self, account: str, pair: str, now: float) -> float:
        """The counter as it stands at ``now`` (after decay)."""
        tier = self.tier
        if tier is None:
            return 0.0
        value, since = self._counters.get((account, pair), (0.0, now))
        return max(0.0, value - (now - since) * tier.decay_per_s)

    def _charge(self, account: str, pair: str, fixed: int, extra: int, now: float) -> bool:
        tier = self.tier
        if tier is None:
            return True
        value = self.counter(account, pair, now) + fixed  # the fixed count is charged on receipt, always
        ok = value + extra <= tier.threshold
        if ok:
            value += extra
        self._counters[(account, pair)] = (value, now)
        return ok

    def add_order(self, account: str, pair: str, now: float) -> bool:
        """NewOrderSingle(D): False when it must be refused (``E_RATE``)."""
        return self._charge(account, pair, 1, 0, now)

    def amend(self, account: str, pair: str, rested: float, now: float) -> bool:
        """OrderCancelReplaceRequest(G) of an order that rested ``rested`` seconds."""
        return self._charge(account, pair, 1, _extra(_AMEND_EXTRA, rested), now)

    def cancel(self, account: str, pair: str, rested: float, now: float) -> bool:
        """OrderCancelRequest(F) of an order that rested ``rested`` seconds."""
        return self._charge(account, pair, 0, _extra(_CANCEL_EXTRA, rested), now)

    def open_orders_allowed(self, open_orders: int) -> bool:
        """False when an account already has the tier's maximum of open orders on the pair."""
        return self.tier is None or open_orders < self.tier.max_open_orders
