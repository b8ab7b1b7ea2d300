"""What a client is asked to reach and what it reports, without the engine: specs, facts, failures.

Kept apart from ``client`` (which loads the session engine, the transport and TLS) so that
a command going through a session holder, which needs only these, starts without them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from krakenfix_cli.fix.message import Message

if TYPE_CHECKING:
    from krakenfix_cli.kraken.auth import ApiSecret


class ConnectFailed(Exception):
    """TCP connect, TLS handshake or a time-out failed (exit 4)."""

    def __init__(self, stage: str, detail: str) -> None:
        self.stage = stage
        self.detail = detail
        super().__init__(f"{stage}: {detail}")


class LogonRefusedError(Exception):
    """The gateway refused the Logon(A) (exit 3); ``diagnosis`` names the part that failed."""

    def __init__(self, reason: str, diagnosis: str, facts: LogonFacts | None = None) -> None:
        self.reason = reason
        self.diagnosis = diagnosis
        self.facts = facts
        super().__init__(f"{diagnosis}: {reason}" if reason else diagnosis)


@dataclass
class ClientSpec:
    """Everything needed to reach one FIX session (resolved from flags, env, config, profile)."""

    host: str
    port: int
    sender_comp_id: str
    target_comp_id: str
    tls: bool = True
    insecure: bool = False
    cafile: str | None = None
    server_hostname: str | None = None
    api_key: str | None = None
    secret: ApiSecret | None = None
    heartbeat: int = 30
    cancel_on_disconnect: bool | None = None
    reset_on_logon: bool = True
    state_dir: Path | None = None
    memory_store: bool = False
    "An embedded ``--sim`` run: its counterparty lives only as long as this process, so the session store does too."
    profile: str = ""
    production: bool = False
    derivatives: bool = False
    market_data: bool = False
    checkpoint: bool = False
    "The app marks messages processed (Client.processed); a resumed logon asks again for what follows."
    force_reset_clordid: bool = False
    "Logon carries ForceResetClOrdID(5030)=Y (``--reset-clordid``)."


@dataclass
class LogonFacts:
    """What `krakenfix logon` reports: timings, TLS, clock skew, agreed heartbeat."""

    tcp_ms: float = 0.0
    tls_ms: float = 0.0
    tls_version: str = ""
    tls_cipher: str = ""
    peer_cert_subject: str = ""
    logon_rtt_ms: float = 0.0
    clock_skew_ms: float = 0.0
    "Our clock minus the gateway's (its Logon SendingTime(52) corrected by half the round trip)."
    heartbeat_interval: float = 0.0
    reset: bool = False
    seq_out: int = 0
    seq_in: int = 0
    logon: Message | None = None
    extras: dict[str, str] = field(default_factory=dict)


#: Told each message a screen may show: (message, "in"/"out", when). Inbound ones after the engine
#: accepted them (validated, in sequence), outbound ones after the transport wrote them.
Watcher = Callable[[Message, str, float], None]


def session_directory(spec: ClientSpec) -> Path | None:
    """Where this session's store and checkpoint live (None without a state dir)."""
    if spec.state_dir is None or spec.memory_store:
        return None
    from krakenfix_cli.session.filestore import session_dir

    key = spec.profile or f"{spec.host}-{spec.port}"
    return session_dir(spec.state_dir, spec.sender_comp_id, spec.target_comp_id, key)
