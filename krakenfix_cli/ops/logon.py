"""``krakenfix logon``: connect, log on, report each step with its timing, log out (or hold).

A refused Logon is the commonest support question, and Kraken often answers it by closing
the socket (kraken-fix/SPEC.md §3.1, §10.2). So this reports every step separately (TCP,
TLS with version and certificate, Logon round trip, heartbeat) and the local clock's skew
against the ±5 s nonce window, and on refusal names the part that failed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from krakenfix_cli.client_types import ClientSpec, ConnectFailed, LogonFacts, LogonRefusedError
from krakenfix_cli.kraken.auth import DEFAULT_NONCE_WINDOW_MS
from krakenfix_cli.ops import holder_client
from krakenfix_cli.ops.live import Channel, LiveSession, Lost
from krakenfix_cli.ops.outcomes import LogonResult, LogonStep
from krakenfix_cli.ops.report import Reporter
from krakenfix_cli.ops.session import maybe_embedded, show_all_but_heartbeats, watcher
from krakenfix_cli.transport import clock

#: What to check for each diagnosis the client can give.
ADVICE = {
    "silent close": "Kraken closes silently for an IP that is not whitelisted or an unknown CompID: check the "
                    "whitelist for this host's public IP, --sender-comp-id/--target-comp-id, and --tls",
    "rollover": "the daily 22:00 UTC rollover is in progress; retry in about 30 s",
    "nonce": "the local clock is off: sync it with NTP (the nonce must be within ±5 s of Kraken's clock)",
    "signature": "the API secret does not match the key: check KRAKENFIX_API_SECRET, the keyring or the "
                 "secrets file",
    "API key": "check --api-key / KRAKENFIX_API_KEY: the key must be of type FIX (Kraken Pro → Settings → API)",
    "CompID": "check --sender-comp-id / --target-comp-id against what Kraken assigned",
    "sequence numbers": "run again with --reset to restart both sequence numbers at 1 (141=Y)",
}


def advice_for(diagnosis: str) -> str:
    """What to check next for a refused Logon."""
    for key, text in ADVICE.items():
        if key.lower() in diagnosis.lower():
            return text
    return "check the credentials and CompIDs of this profile"


@dataclass
class HoldStop:
    """Why ``--hold`` ended."""

    reason: str


def _transport_steps(spec: ClientSpec, facts: LogonFacts) -> list[LogonStep]:
    steps = [LogonStep("TCP", True, f"connected to {spec.host}:{spec.port}", facts.tcp_ms)]
    if spec.tls:
        cert = facts.peer_cert_subject or "(no subject)"
        verified = "not verified (--insecure)" if spec.insecure else "verified"
        steps.append(LogonStep("TLS", True, f"{facts.tls_version or 'TLS'} {facts.tls_cipher}, certificate "
                                            f"{cert} {verified}".replace("  ", " "), facts.tls_ms))
    else:
        steps.append(LogonStep("TLS", True, "off (plain TCP; Kraken itself requires TLS)", None))
    return steps


def skew_step(skew_ms: float, window_ms: int) -> LogonStep:
    """The clock line: our clock minus the gateway's, against the nonce window."""
    ok = abs(skew_ms) < window_ms
    share = abs(skew_ms) / window_ms if window_ms else 0.0
    verdict = "within" if ok else "OUTSIDE"
    detail = f"local clock {skew_ms:+.0f} ms vs the gateway, {verdict} the ±{window_ms} ms nonce window"
    if ok and share > 0.5:
        detail += " (but close to its edge: sync with NTP)"
    return LogonStep("Clock", ok, detail, None)


async def logon(
    spec: ClientSpec,
    reporter: Reporter,
    *,
    timeout: float,
    hold: bool = False,
    hold_for: float | None = None,
    stop: asyncio.Event | None = None,
    embedded_sim: bool = False,
    nonce_window_ms: int = DEFAULT_NONCE_WINDOW_MS,
) -> LogonResult:
    """Log on and report; with ``hold``, stay logged on until ``stop`` is set (or ``hold_for`` s)."""
    async with maybe_embedded(spec, reporter, embedded_sim) as (spec, sim):
        if sim is None:
            hello = await holder_client.ask(spec, "hello")
            if hello is not None:
                return _through_holder(holder_client.HolderInfo.parse(hello), reporter)
        return await _logon(spec, reporter, timeout=timeout, hold=hold, hold_for=hold_for, stop=stop,
                            nonce_window_ms=nonce_window_ms)


async def _logon(
    spec: ClientSpec,
    reporter: Reporter,
    *,
    timeout: float,
    hold: bool,
    hold_for: float | None,
    stop: asyncio.Event | None,
    nonce_window_ms: int,
) -> LogonResult:
    live = LiveSession(spec, reporter, watch=watcher(reporter, show_all_but_heartbeats), connect_timeout=timeout)
    channel = live.subscribe()
    who = f"{spec.sender_comp_id}→{spec.target_comp_id}"
    reporter.note(f"logging on to {spec.host}:{spec.port} as {who}"
                  + (f" (profile {spec.profile})" if spec.profile else ""))
    result = LogonResult(ok=False, nonce_window_ms=nonce_window_ms)
    try:
        try:
            facts = await live.start()
        except ConnectFailed as exc:
            result.stage, result.reason = exc.stage, exc.detail
            result.steps = _failed_transport_steps(spec, live.facts, exc)
            result.diagnosis = {"tcp": "cannot connect", "tls": "TLS handshake failed",
                                "timeout": "timed out"}.get(exc.stage, exc.stage)
            result.advice = _connect_advice(spec, exc.stage)
            return result
        except LogonRefusedError as exc:
            facts = exc.facts or live.facts
            result.stage, result.reason, result.diagnosis = "logon", exc.reason, exc.diagnosis
            result.steps = [*_transport_steps(spec, facts),
                            LogonStep("Logon", False, f"refused: {exc.diagnosis}"
                                      + (f" (gateway said: {exc.reason})" if exc.reason else ""), None)]
            result.advice = advice_for(exc.diagnosis)
            return result
        result.ok = True
        result.clock_skew_ms = facts.clock_skew_ms
        result.heartbeat = facts.heartbeat_interval
        reset = "sequence numbers reset to 1 (141=Y)" if facts.reset else "sequence numbers continued (141=N)"
        result.steps = [
            *_transport_steps(spec, facts),
            LogonStep("Logon", True, f"accepted, {reset}; next seq out {facts.seq_out}, in {facts.seq_in}",
                      facts.logon_rtt_ms),
            LogonStep("Heartbeat", True, f"HeartBtInt(108) {facts.heartbeat_interval:g} s agreed", None),
            skew_step(facts.clock_skew_ms, nonce_window_ms),
        ]
        if hold:
            for step in result.steps:
                reporter.note(_step_line(step))
            from krakenfix_cli.ops.holder import holding

            async with holding(live, "krakenfix logon --hold"):  # the user's other commands go through it
                result.held_for, dropped = await _hold(channel, reporter, hold_for, stop)
            if dropped is not None:
                result.ok = False
                result.stage, result.diagnosis, result.reason = "dropped", "connection dropped by the gateway", dropped
                result.steps.append(LogonStep("Hold", False, f"dropped after {result.held_for:.1f} s: {dropped}", None))
                result.advice = "see the gateway's last messages above; log on again"
        return result
    finally:
        await live.close(min(timeout, 5.0))


def _through_holder(info: holder_client.HolderInfo, reporter: Reporter) -> LogonResult:
    """The session is held by another process: report its connection instead of logging on again
    (a second logon of the CompID pair would end the holder's)."""
    reporter.note(f"through the session holder ({info.describe()})")
    result = LogonResult(ok=info.connected, heartbeat=info.heartbeat or None, via_holder=True)
    if not info.connected:
        result.stage, result.diagnosis = "holder", "the session holder is reconnecting"
        result.reason = "not logged on right now"
        result.advice = "wait for it (`krakenfix session status`), or stop it with `krakenfix session stop`"
        result.steps = [LogonStep("Holder", False, f"PID {info.pid} ({info.command}) is reconnecting", None)]
        return result
    result.steps = [
        LogonStep("Holder", True, f"held by PID {info.pid} ({info.command}), logged on since "
                  f"{info.connected_since}; next seq out {info.seq_out}, in {info.seq_in}", None),
        LogonStep("Heartbeat", True, f"HeartBtInt(108) {info.heartbeat:g} s agreed", None),
    ]
    return result


def _step_line(step: LogonStep) -> str:
    ms = f" ({step.ms:.1f} ms)" if step.ms is not None else ""
    return f"{'ok ' if step.ok else 'FAIL'} {step.name}: {step.detail}{ms}"


def _failed_transport_steps(spec: ClientSpec, facts: LogonFacts, exc: ConnectFailed) -> list[LogonStep]:
    if exc.stage == "tcp":
        return [LogonStep("TCP", False, exc.detail, None)]
    if exc.stage == "tls":
        return [LogonStep("TCP", True, f"connected to {spec.host}:{spec.port}", facts.tcp_ms),
                LogonStep("TLS", False, exc.detail, None)]
    steps = _transport_steps(spec, facts) if facts.tcp_ms else []
    steps.append(LogonStep("Logon" if facts.tcp_ms else "TCP", False, exc.detail, None))
    return steps


def _connect_advice(spec: ClientSpec, stage: str) -> str:
    if stage == "tcp":
        return "check --host/--port and that the gateway (or `krakenfix sim`) is running, or try --sim"
    if stage == "tls":
        return ("check --tls/--no-tls against the port; trust the simulator's or your proxy's CA with "
                "--ca-file PATH; for a self-signed UAT or simulator certificate use "
                "--insecure (never against production)")
    return "check the network, or raise --timeout"


async def _hold(channel: Channel, reporter: Reporter, hold_for: float | None,
                stop: asyncio.Event | None) -> tuple[float, str | None]:
    """Keep the session up (the engine heartbeats by itself) until stopped or disconnected.

    Returns how long it held, and why the gateway ended it (None when we did: Ctrl-C, --duration).
    """
    started = clock.monotonic()
    reporter.note("holding the session; Ctrl-C logs out")
    stop = stop or asyncio.Event()
    stop_task = asyncio.create_task(stop.wait())
    dropped: str | None = None
    try:
        while True:
            remaining = None if hold_for is None else hold_for - (clock.monotonic() - started)
            if remaining is not None and remaining <= 0:
                break
            get = asyncio.create_task(channel.next_item())
            done, _ = await asyncio.wait({get, stop_task}, timeout=remaining,
                                         return_when=asyncio.FIRST_COMPLETED)
            if get not in done:
                get.cancel()
                break
            item = get.result()
            if item is None or isinstance(item, Lost):
                dropped = (item.reason if item is not None else channel.close_reason) or "no reason given"
                break
    finally:
        stop_task.cancel()
    return clock.monotonic() - started, dropped
