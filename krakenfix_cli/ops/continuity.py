"""Whether a command's Logon(A) continues the stored sequence numbers (141=N) or resets them (141=Y).

Kraken resets both sequence streams at the daily rollover (SPEC §2.4, §5.7, §10.11): within
one rollover period a reconnect continues (141=N) and the gateway can still resend the
day's messages (§5.2); the first logon of a period, or one after trouble, resets (141=Y).
A command with no session holder connects itself, so it must tell which case it is in
from the store alone: the store records the period its numbers were set in
(``FileStore.reset_period``), and this module turns that, the clock and what the last
session ended with into a :class:`Decision`.

:func:`decide_reset` is pure (the caller passes ``now``); :func:`store_facts` reads what it
needs from an open store.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from krakenfix_cli.kraken.schedule import ROLLOVER_AT, period_start
from krakenfix_cli.session.store import MessageStore
from krakenfix_cli.session.texts import SEQ_TOO_LOW


@dataclass(frozen=True)
class Decision:
    """Reset (141=Y) or continue (141=N), why in words, and the period ``now`` is in."""

    reset: bool
    reason: str
    period: int
    "The start (UTC epoch seconds) of the rollover period the logon happens in."


@dataclass(frozen=True)
class StoreFacts:
    """What the decision needs from a session store."""

    period: int | None
    "The rollover period its numbers were set in; None when unknown."
    empty: bool
    "Both numbers still at 1: nothing was ever exchanged on them."
    gateway_restarted: bool
    "The last session ended with our Logout(5) 'MsgSeqNum too low': the gateway had restarted its numbers."


def describe_period(period: int) -> str:
    """``since 2026-12-01 22:00 UTC``: a period as a user reads it."""
    return "since " + dt.datetime.fromtimestamp(period, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def decide_reset(
    stamp_period: int | None,
    now: float,
    *,
    forced: bool,
    may_reset: bool = True,
    empty: bool = False,
    gateway_restarted: bool = False,
    rollover_at: int = ROLLOVER_AT,
) -> Decision:
    """Reset or continue, first rule that applies.

    ``forced``: ``--reset``. ``may_reset=False`` (replay): never reset unless forced, since a
    reset makes the earlier numbers unreachable. Otherwise reset when the gateway restarted
    its numbers, when the store is empty or does not say its period, or when that period is
    not the current one (the first logon since a rollover); continue when it is.
    """
    period = period_start(now, rollover_at)
    if forced:
        return Decision(True, "--reset: both sequence numbers restart at 1", period)
    if not may_reset:
        return Decision(False, "continuing the stored sequence numbers: a reset would make the earlier "
                               "messages unreachable (--reset to reset anyway)", period)
    if gateway_restarted:
        return Decision(True, "the gateway restarted its sequence numbers (the last session ended with "
                              f'"{SEQ_TOO_LOW}")', period)
    if empty:
        return Decision(True, "the session store has no sequence numbers yet", period)
    if stamp_period is None:
        return Decision(True, "the session store does not say which rollover period its numbers belong to "
                              "(an older store, or reset since: by the gateway or at a rollover)", period)
    if stamp_period != period:
        return Decision(True, f"first logon of this rollover period ({describe_period(period)}); the stored "
                              f"numbers are from the period {describe_period(stamp_period)}", period)
    return Decision(False, f"the stored numbers belong to this rollover period ({describe_period(period)})", period)


def store_facts(store: MessageStore) -> StoreFacts:
    """:class:`StoreFacts` of an open store (a store without a period stamp reads as unknown)."""
    period = getattr(store, "reset_period", None)
    empty = store.next_sender_seq == 1 and store.next_target_seq == 1
    return StoreFacts(period if isinstance(period, int) else None, empty, _ended_too_low(store))


def _ended_too_low(store: MessageStore) -> bool:
    """Whether the last frame stored is our Logout(5) saying the gateway's MsgSeqNum(34) was too low.

    The engine stores every frame before it sends it, so this Logout is on disk even when
    the process ended right after it (client.py raises the sequence mismatch then).
    """
    last = store.next_sender_seq - 1
    if last < 1:
        return False
    frames = store.get(last, last)
    if not frames:
        return False
    from krakenfix_cli.fix.message import decode

    try:
        msg = decode(frames[0][1])
    except Exception:  # a frame that no longer decodes says nothing about the gateway
        return False
    return msg.msg_type == "5" and (msg.get(58) or "").startswith(SEQ_TOO_LOW)
