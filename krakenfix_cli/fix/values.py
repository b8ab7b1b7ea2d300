"""Typed value codecs: UTCTimestamp, decimal prices and quantities, Y/N booleans.

FIX 4.4 writes UTCTimestamp as ``YYYYMMDD-HH:MM:SS[.sss]`` (UTC). We always send
milliseconds (Kraken's examples carry three digits) and accept seconds, millis
and, leniently, micro/nanoseconds on input.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from krakenfix_cli.fix.errors import FixError

_UTC = dt.UTC
_TS_RE = re.compile(r"(\d{4})(\d{2})(\d{2})-(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?\Z")
_DAY_CACHE: dict[int, str] = {}
#: (whole POSIX second, its ``YYYYMMDD-HH:MM:SS``): the last one formatted.
_LAST_SECOND: tuple[int, str] = (-1 << 62, "")
#: (a validated ``YYYYMMDD-HH:MM:SS`` prefix, its POSIX seconds): the last one parsed.
_LAST_PARSED: tuple[str, float] = ("-" * 18, 0.0)  # 18 chars: never equal to a text[:17]


def format_utc_timestamp(epoch: float, millis: bool = True) -> str:
    """``YYYYMMDD-HH:MM:SS.sss`` for a POSIX time in seconds (UTC).

    Every outbound header carries one, so the ``YYYYMMDD-HH:MM:SS`` part is kept for the
    last whole second seen (most messages share it) and only the milliseconds are formatted.
    """
    whole = int(epoch)
    ms = round((epoch - whole) * 1000)
    if ms >= 1000:
        whole, ms = whole + 1, ms - 1000
    last = _LAST_SECOND
    if last[0] == whole:
        text = last[1]
    else:
        text = _format_second(whole)
    if millis:
        return f"{text}.{ms:03d}"
    return text


def _format_second(whole: int) -> str:
    global _LAST_SECOND
    day, secs = divmod(whole, 86400)
    prefix = _DAY_CACHE.get(day)
    if prefix is None:
        prefix = dt.datetime.fromtimestamp(day * 86400, _UTC).strftime("%Y%m%d-")
        if len(_DAY_CACHE) > 64:
            _DAY_CACHE.clear()
        _DAY_CACHE[day] = prefix
    h, rem = divmod(secs, 3600)
    m, s = divmod(rem, 60)
    text = f"{prefix}{h:02d}:{m:02d}:{s:02d}"
    _LAST_SECOND = (whole, text)
    return text


def parse_utc_timestamp(text: str) -> float:
    """POSIX seconds from a FIX UTCTimestamp; raises :class:`FixError` when malformed.

    The engine parses every inbound SendingTime(52), and consecutive ones share their
    ``YYYYMMDD-HH:MM:SS`` part: that part's value is kept for the last second seen, so a
    repeat only checks and adds the fraction (the same checks and sum as the full parse).
    """
    last = _LAST_PARSED
    if text[:17] == last[0]:
        tail = text[17:]
        if not tail:
            return last[1]
        frac = tail[1:]
        if tail[0] == "." and 0 < len(frac) <= 9 and frac.isdecimal():
            fraction: float = int(frac) / 10 ** len(frac)
            return last[1] + fraction
        raise FixError(f"not a UTCTimestamp: {text!r}")
    return _parse_full(text)


def _parse_full(text: str) -> float:
    global _LAST_PARSED
    m = _TS_RE.match(text)
    if m is None:
        raise FixError(f"not a UTCTimestamp: {text!r}")
    y, mo, d, h, mi, s, frac = m.groups()
    try:
        when = dt.datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), tzinfo=_UTC)
    except ValueError as exc:
        raise FixError(f"not a UTCTimestamp: {text!r}") from exc
    seconds = when.timestamp()
    _LAST_PARSED = (text[:17], seconds)
    if frac:
        seconds += int(frac) / 10 ** len(frac)
    return seconds


def is_utc_timestamp(text: str) -> bool:
    """True when ``text`` is a well-formed FIX UTCTimestamp."""
    try:
        parse_utc_timestamp(text)
    except FixError:
        return False
    return True


def format_decimal(value: Decimal | int | str | float) -> str:
    """Plain decimal text, never exponent form (Kraken refuses ``1E-8``)."""
    if isinstance(value, float):
        value = Decimal(repr(value))
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    if not d.is_finite():
        raise FixError(f"not a finite decimal: {value!r}")
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


#: A CompID the tool accepts: it goes into a field and into file names (QuickFIX log names),
#: so only letters, digits, ``.``, ``_`` and ``-``, not starting with ``.`` (no ``..``, ``/``, SOH, ``=``).
COMP_ID_RE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}\Z")
#: An API key (Username 553): printable ASCII without spaces (base64 keys may hold ``+/=``).
API_KEY_RE = re.compile(r"[!-~]{1,256}\Z")


#: A FIX float/Qty/Price on the wire: ASCII digits, an optional sign and point (never ``\\d``,
#: which takes full-width and other Unicode digits; never an exponent, ``_``, nan or inf).
FIX_FLOAT_RE = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\Z")
#: A quantity or price as a user types it: plain ASCII decimal, no sign (the one rule for the
#: CLI options, the REPL and the order builders).
AMOUNT_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?\Z")


def parse_decimal(text: str) -> Decimal:
    """A FIX float/Qty/Price value as :class:`Decimal`; raises :class:`FixError`."""
    if not text or not FIX_FLOAT_RE.match(text):
        raise FixError(f"not a decimal: {text!r}")
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the regex already guards
        raise FixError(f"not a decimal: {text!r}") from exc


def parse_amount(text: str) -> Decimal:
    """A typed quantity or price (``0.01``, ``50000``) as :class:`Decimal`; FixError otherwise.

    ``Decimal()`` itself takes ``0_01`` (= 1), ``1e3``, full-width digits, nan and inf.
    """
    if not AMOUNT_RE.match(text):
        raise FixError(f"not a plain decimal: {text!r}")
    return Decimal(text)


def format_value(value: object) -> str:
    """The wire text of a Python value: bool → Y/N, Decimal → plain, others → str."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal | float):
        return format_decimal(value)
    if isinstance(value, dt.datetime):
        return format_utc_timestamp(value.timestamp())
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)
