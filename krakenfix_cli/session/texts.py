"""Every Text(58) the session engine writes, in one place.

Where QuickFIX's acceptance suite (shared/conformance) expects exact words, the
function returns those words and names the scenario.
"""

from __future__ import annotations

from krakenfix_cli.fix.validate import REASON_TEXTS, UNSUPPORTED_VERSION

#: SessionRejectReason(373) → Text(58): QuickFIX's wording (scenarios 14a-14i, 2k, 2o, 2q, 11c),
#: kept once, beside the validator that produces most of these reasons.
REJECT_TEXTS = REASON_TEXTS


def reject_text(reason: int) -> str:
    """Text(58) for a session Reject(3) with SessionRejectReason(373) ``reason``."""
    return REJECT_TEXTS.get(reason, "Other")


#: How :func:`seq_too_low` starts, so the client can tell a sequence mismatch from a refusal.
SEQ_TOO_LOW = "MsgSeqNum too low"


def seq_too_low(expected: int, received: int) -> str:
    """Logout text when MsgSeqNum(34) is too low without PossDupFlag(43) (scenario 2c)."""
    return f"{SEQ_TOO_LOW}, expecting {expected} but received {received}"


def parse_seq_too_low(text: str) -> tuple[int, int | None] | None:
    """``(expected, received)`` from a "MsgSeqNum too low, expecting N[ but received M]" text.

    Also reads other engines' spellings of it (Kraken's text is not documented beyond
    "expecting N"); None when the text names no expected number.
    """
    import re

    found = re.search(r"expect(?:ing|ed)\D{0,20}?(\d+)(?:\D{1,30}?receiv\w*\D{0,20}?(\d+))?", text, re.IGNORECASE)
    if found is None:
        return None
    return int(found.group(1)), int(found.group(2)) if found.group(2) else None


def incorrect_begin_string() -> str:
    """Logout text when BeginString(8) changes mid-session (scenario 2i)."""
    return REASON_TEXTS[UNSUPPORTED_VERSION]


def logon_timeout(seconds: float) -> str:
    """Why an initiator gave up waiting for the Logon(A) answer."""
    return f"no Logon answer within {seconds:g} s"


def heartbeat_timeout(seconds: float) -> str:
    """Why the engine gave up on a silent peer."""
    return f"nothing received for {seconds:.1f} s, even after a TestRequest"


def logout_timeout(seconds: float) -> str:
    """Why the engine closed without the peer's Logout(5) answer."""
    return f"no Logout answer within {seconds:g} s"
