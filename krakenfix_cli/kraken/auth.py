"""Kraken Logon authentication: Password(554) signature, Nonce(5025), and their checks.

kraken-fix/SPEC.md §3.2: ``554 = base64(HMAC-SHA512(b64decode(secret),
SHA256("35=A␁34=<seq>␁49=<sender>␁56=<target>␁553=<key>␁" + nonce)))``. The signed 34,
49, 56 and 553 must be the ones the Logon carries (§10.1). The client side builds the
fields; the simulator verifies them in constant time and applies the nonce rules (§3.3).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

SOH = "\x01"
DEFAULT_NONCE_WINDOW_MS = 5000


class ApiSecret:
    """The base64 API secret; prints as ``***`` everywhere, ``reveal()`` is the only way out."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value.strip()

    def reveal(self) -> str:
        """The secret text itself: only for signing and for storing it in a keyring."""
        return self._value

    def key_bytes(self) -> bytes:
        """The decoded HMAC key; ValueError (without the secret) when it is not base64."""
        try:
            return base64.b64decode(self._value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("the API secret is not valid base64 (copy it again from Kraken Pro)") from None

    def __repr__(self) -> str:
        return "***"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ApiSecret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(hashlib.sha256(self._value.encode()).digest())

    def __copy__(self) -> ApiSecret:
        return self

    def __deepcopy__(self, memo: object) -> ApiSecret:
        return self


def _secret(secret: ApiSecret | str) -> ApiSecret:
    return secret if isinstance(secret, ApiSecret) else ApiSecret(secret)


def message_input(seq: int, sender: str, target: str, api_key: str) -> str:
    """SPEC §3.2 step 2: the five fields in fixed order, each followed by SOH."""
    return f"35=A{SOH}34={seq}{SOH}49={sender}{SOH}56={target}{SOH}553={api_key}{SOH}"


def kraken_password(secret: ApiSecret | str, seq: int, sender: str, target: str, api_key: str, nonce_ms: int) -> str:
    """Password(554) for a Logon with these 34/49/56/553 and Nonce(5025) (SPEC §3.2)."""
    signed = (message_input(seq, sender, target, api_key) + str(nonce_ms)).encode("utf-8")
    digest = hashlib.sha256(signed).digest()
    mac = hmac.new(_secret(secret).key_bytes(), digest, hashlib.sha512).digest()
    return base64.b64encode(mac).decode("ascii")


def verify_password(
    secret: ApiSecret | str,
    password: str,
    seq: int,
    sender: str,
    target: str,
    api_key: str,
    nonce_ms: int,
) -> bool:
    """True when ``password`` is the signature of these fields (constant-time compare)."""
    try:
        expected = kraken_password(secret, seq, sender, target, api_key, nonce_ms)
    except ValueError:
        return False
    return hmac.compare_digest(expected.encode("ascii"), password.encode("latin-1"))


class NonceSource:
    """Nonces that never repeat: each is ``max(now_ms, last + 1)`` (SPEC §3.3)."""

    def __init__(self, last: int = 0) -> None:
        self._last = last

    @property
    def last(self) -> int:
        """The last nonce handed out (0 before the first)."""
        return self._last

    def next(self, now_ms: int) -> int:
        """A nonce for a Logon built at ``now_ms`` (milliseconds since the epoch)."""
        self._last = max(int(now_ms), self._last + 1)
        return self._last


def check_nonce(
    nonce_ms: int, now_ms: int, last_nonce: int | None, window_ms: int = DEFAULT_NONCE_WINDOW_MS
) -> str | None:
    """Why the gateway would refuse this Nonce(5025), or None when it is acceptable.

    The window (±5 s) is Kraken's documented rule; the must-increase rule is implied by
    "always increasing" (SPEC §3.3), so the simulator applies it per API key.
    """
    skew = nonce_ms - now_ms
    if abs(skew) > window_ms:
        direction = "ahead of" if skew > 0 else "behind"
        return (
            f"Invalid nonce: {abs(skew)} ms {direction} the server clock "
            f"(allowed ±{window_ms} ms); check the local clock (NTP)"
        )
    if last_nonce is not None and nonce_ms <= last_nonce:
        return f"Invalid nonce: {nonce_ms} is not greater than the last accepted nonce {last_nonce}"
    return None


def logon_auth_fields(
    api_key: str,
    secret: ApiSecret | str,
    sender: str,
    target: str,
    seq: int,
    nonce_ms: int,
    cancel_on_disconnect: bool | None,
    force_reset_clordid: bool = False,
) -> list[tuple[int, str]]:
    """Username(553), Password(554), Nonce(5025) and the Kraken Logon options.

    ``cancel_on_disconnect``: True sends 8674=0 (cancel this session's orders on an
    abnormal drop, Kraken's default), False sends 8674=1, None leaves the tag out.
    ``force_reset_clordid`` adds ForceResetClOrdID(5030)=Y (emergency only).
    """
    fields: list[tuple[int, str]] = [
        (553, api_key),
        (554, kraken_password(secret, seq, sender, target, api_key, nonce_ms)),
        (5025, str(nonce_ms)),
    ]
    if cancel_on_disconnect is not None:
        fields.append((8674, "0" if cancel_on_disconnect else "1"))
    if force_reset_clordid:
        fields.append((5030, "Y"))
    return fields
