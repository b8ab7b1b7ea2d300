"""The daily session rollover: when it happens and what state it leaves (SPEC §2.4, §12).

Kraken rolls every FIX session over at 22:00 UTC: about 30 seconds of disruption, after
which both sequence streams start again at 1. The simulator makes the undocumented parts
concrete ([derived], SPEC §11.3): every logged-on session gets Logout(5) with
Text(58) ``session rollover`` and its connection closes; for ``refusal_window`` seconds
new Logons are refused with Logout ``rollover in progress``; then every session's
sequence numbers are reset and the next Logon must carry ResetSeqNumFlag(141)=Y (or
MsgSeqNum(34)=1). A rollover Logout is orderly, so cancel-on-disconnect does not fire.

This module is pure: the runner passes ``now`` in (from ``transport.clock``) and arms the
timer at :meth:`RolloverSchedule.next_after`.
"""

from __future__ import annotations

from dataclasses import dataclass

from krakenfix_cli.kraken.schedule import DAY, ROLLOVER_AT, ROLLOVER_AT_TEXT, ROLLOVER_WINDOW, period_start

DEFAULT_AT = ROLLOVER_AT_TEXT
DEFAULT_WINDOW = ROLLOVER_WINDOW
LOGOUT_TEXT = "session rollover"
REFUSAL_TEXT = "rollover in progress"
RESET_TEXT = (
    "sequence numbers were reset at the session rollover; log on with ResetSeqNumFlag(141)=Y and MsgSeqNum(34)=1"
)


def parse_hhmm(text: str) -> int:
    """Seconds after midnight UTC for ``HH:MM``; ValueError when malformed."""
    try:
        hh, mm = text.split(":")
        h, m = int(hh), int(mm)
    except ValueError:
        raise ValueError(f"rollover time {text!r} is not HH:MM") from None
    if not (0 <= h < 24 and 0 <= m < 60):
        raise ValueError(f"rollover time {text!r} is not HH:MM (00:00-23:59)")
    return h * 3600 + m * 60


@dataclass(frozen=True)
class RolloverSchedule:
    """Daily at ``at`` (seconds after midnight UTC), or every ``every`` seconds from ``start``."""

    at: int | None = ROLLOVER_AT
    every: float | None = None
    start: float = 0.0

    @classmethod
    def build(cls, now: float, rollover_at: str | None = None, rollover_every: float | None = None) -> RolloverSchedule:
        """From the command-line options; the daily 22:00 UTC default when neither is given."""
        if rollover_at is not None and rollover_every is not None:
            raise ValueError("give --rollover-at or --rollover-every, not both")
        if rollover_every is not None:
            if rollover_every <= 0:
                raise ValueError("--rollover-every must be a positive number of seconds")
            return cls(at=None, every=float(rollover_every), start=now)
        return cls(at=parse_hhmm(rollover_at or DEFAULT_AT))

    def next_after(self, now: float) -> float:
        """The first rollover strictly after ``now`` (POSIX seconds)."""
        if self.every is not None:
            n = int((now - self.start) // self.every) + 1
            return self.start + n * self.every
        assert self.at is not None
        return float(period_start(now, self.at) + DAY)


@dataclass
class RolloverState:
    """Whether logons are refused right now, and which sessions must reset on their next logon."""

    refusing_until: float = 0.0
    count: int = 0

    def begin(self, now: float, window: float) -> None:
        """A rollover starts: refuse logons until ``now + window``."""
        self.refusing_until = now + window
        self.count += 1

    def refusing(self, now: float) -> bool:
        """True inside the refusal window."""
        return now < self.refusing_until
