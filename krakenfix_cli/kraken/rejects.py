"""What to do about Kraken's refusal texts (SPEC §8.5, §9): one line of advice per known text.

The gateway's Text(58) names the engine's error; the ops engineer reading it at 3 a.m.
needs the next step, not the code. Matched by prefix, so a text with detail appended
still matches.
"""

from __future__ import annotations

#: Kraken error text prefix → advice, checked in order.
ADVICE: tuple[tuple[str, str], ...] = (
    ("EOrder:Rate limit exceeded",
     "the pair's rate counter is full (SPEC §9): it decays by 1, 2.34 or 3.75 per second "
     "(Starter, Intermediate, Pro), and cancelling an order younger than 5 s costs the most (+8); "
     "wait, then retry. `krakenfix mass-cancel --symbol` is not counted"),
    ("EOrder:Orders limit exceeded",
     "the account already has its tier's maximum of open orders on this pair (60, 80 or 225 for "
     "Starter, Intermediate, Pro; SPEC §9): cancel some first"),
    ("EOrder:Tick size check failed",
     "the price must be a multiple of the pair's tick size (TickSize(5022) in the InstrumentList; "
     "0.1 on BTC/USD)"),
    ("EOrder:Order minimum not met",
     "the quantity is below the pair's minimum order size (QtyMin(5011) in the InstrumentList)"),
)


def advice_for(text: str | None) -> str | None:
    """The advice for a refusal whose Text(58) (or reason line) contains a known Kraken error."""
    if not text:
        return None
    for prefix, advice in ADVICE:
        if prefix in text:
            return advice
    return None
