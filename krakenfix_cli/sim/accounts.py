"""Demo credentials and Logon verification for the simulator (kraken-fix/SPEC.md §3, §12).

Every simulator start has one demo account (kept across starts in the simulator's
identity directory, sim/identity.py, when it has one): an API key, a base64 API secret and
two SenderCompIDs, ``KFXDEMO`` (Spot) and ``KFXDEMO_DRV`` (Derivatives, SPEC §2.3). The
built-in ``sim`` profile's ``KFXCLIENT``/``KFXCLIENT_DRV`` are registered on the same
account, so ``--profile sim`` works with the demo key too. Tests may add more CompIDs
and accounts with :meth:`Accounts.create`.

Verification runs as the session engine's ``check_logon`` hook and returns the Text(58)
of the refusing Logout(5): ``Invalid API key``, ``Invalid signature``, ``Invalid nonce…``
(±5000 ms and increasing per API key, SPEC §3.3). An unknown SenderCompID never reaches
this module: the runner closes such connections silently (Kraken may answer a bad logon
either way, SPEC §3.1; a silent close tells a scanner nothing). Market-data sessions
need no 553/554/5025: the SenderCompID alone authenticates (SPEC §3.1).
"""

from __future__ import annotations

from dataclasses import dataclass

from krakenfix_cli.fix.message import Message
from krakenfix_cli.kraken.auth import ApiSecret, check_nonce, verify_password
from krakenfix_cli.sim.identity import new_demo_key

DEMO_SENDER = "KFXDEMO"
DRV_SUFFIX = "_DRV"
#: Extra CompIDs on the demo account: the built-in ``sim`` profile's SenderCompID.
PROFILE_SENDER = "KFXCLIENT"


@dataclass(frozen=True)
class Credentials:
    """What a client needs to log on to the simulator (the secret is a generated demo one)."""

    api_key: str
    api_secret: ApiSecret
    sender_comp_id: str
    derivatives_sender_comp_id: str
    account: str

    def __repr__(self) -> str:
        return (
            f"Credentials(api_key={self.api_key!r}, api_secret=***, sender_comp_id={self.sender_comp_id!r}, "
            f"derivatives_sender_comp_id={self.derivatives_sender_comp_id!r}, account={self.account!r})"
        )


@dataclass(frozen=True)
class CompId:
    """A SenderCompID the simulator knows: which account and venue it trades on."""

    sender: str
    account: str
    derivatives: bool


class Accounts:
    """API keys, SenderCompIDs and the last nonce accepted per key."""

    def __init__(self, nonce_window_ms: int = 5000, demo: tuple[str, str] | None = None) -> None:
        """``demo`` is the demo account's (API key, base64 secret) kept across starts, or None for new ones."""
        self.nonce_window_ms = nonce_window_ms
        self._keys: dict[str, tuple[ApiSecret, str]] = {}
        self._compids: dict[str, CompId] = {}
        self._last_nonce: dict[str, int] = {}
        self.demo = self.create(DEMO_SENDER, account="demo", key=demo)
        self.add_comp_id(PROFILE_SENDER, "demo", derivatives=False)
        self.add_comp_id(PROFILE_SENDER + DRV_SUFFIX, "demo", derivatives=True)

    def create(self, sender: str, account: str | None = None, key: tuple[str, str] | None = None) -> Credentials:
        """A fresh API key + secret (or ``key``) on ``account`` (default: a new one named after
        ``sender``), with ``sender`` (Spot) and ``sender_DRV`` (Derivatives) as its CompIDs."""
        account = account or sender.lower()
        api_key, secret_text = key or new_demo_key()
        secret = ApiSecret(secret_text)
        self._keys[api_key] = (secret, account)
        self.add_comp_id(sender, account, derivatives=False)
        self.add_comp_id(sender + DRV_SUFFIX, account, derivatives=True)
        return Credentials(api_key, secret, sender, sender + DRV_SUFFIX, account)

    def add_comp_id(self, sender: str, account: str, *, derivatives: bool) -> None:
        """Register another SenderCompID on an existing account."""
        self._compids[sender] = CompId(sender, account, derivatives)

    def comp_id(self, sender: str) -> CompId | None:
        """The registered SenderCompID, or None (the runner then closes silently)."""
        return self._compids.get(sender)

    def check_logon(self, msg: Message, now: float, market_data: bool) -> str | None:
        """Text(58) of the Logout refusing this Logon(A), or None to accept it (and its nonce)."""
        why = self.authenticate(msg, market_data)
        if why is not None or market_data:
            return why
        api_key = msg.get(553) or ""
        nonce = int(msg.get(5025) or "0")
        why = check_nonce(nonce, int(now * 1000), self._last_nonce.get(api_key), self.nonce_window_ms)
        if why is not None:
            return why
        self._last_nonce[api_key] = nonce
        return None

    def authenticate(self, msg: Message, market_data: bool) -> str | None:
        """The key and signature checks alone (no nonce state is read or changed): the runner
        asks this before a Logon may take its session's slot, so a bad one never occupies it."""
        sender = msg.get(49) or ""
        comp = self._compids.get(sender)
        if comp is None:
            return "Unknown SenderCompID"
        if market_data:
            return None
        api_key = msg.get(553)
        password = msg.get(554)
        nonce_text = msg.get(5025)
        if not api_key:
            return "Missing Username(553): trading sessions need the API key, Password(554) and Nonce(5025)"
        entry = self._keys.get(api_key)
        if entry is None:
            return "Invalid API key"
        secret, account = entry
        if account != comp.account:
            return "Invalid API key"
        if not password or not nonce_text or not nonce_text.isdigit():
            return "Invalid signature"
        nonce = int(nonce_text)
        seq = msg.get_int(34) or 0
        if not verify_password(secret, password, seq, sender, msg.get(56) or "", api_key, nonce):
            return "Invalid signature"
        return None
