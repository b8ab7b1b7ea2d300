"""The bottom toolbar: profile (red for production), session state, seq in/out, last
inbound message, and the countdown to Kraken's daily 22:00 UTC rollover.

``toolbar_fragments(state, now)`` is pure (a list of ``(style, text)``); ``build_toolbar``
returns the callable prompt_toolkit redraws, which first lets the app copy the engine's
live numbers into the state (``state.sync``) and reads the clock through
``transport.clock``.
"""

from __future__ import annotations

from collections.abc import Callable

from krakenfix_cli.kraken.schedule import ROLLOVER_AT as ROLLOVER_SECOND_OF_DAY
from krakenfix_cli.repl.state import ReplState

Fragments = list[tuple[str, str]]

ROLLOVER_WARN = 15 * 60
"Under this many seconds to the rollover the countdown turns yellow."


def seconds_to_rollover(now: float) -> float:
    """Seconds from ``now`` (POSIX) to the next 22:00 UTC."""
    left = (ROLLOVER_SECOND_OF_DAY - now % 86400) % 86400
    return left if left > 0 else 86400.0


def format_duration(seconds: float) -> str:
    """``2h05m``, ``4m09s``, ``12s``."""
    s = int(seconds)
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


def toolbar_fragments(state: ReplState, now: float) -> Fragments:
    """The toolbar's styled pieces for ``state`` at ``now``."""
    prod = state.production
    label = f" {state.profile.upper() if prod else state.profile}{' PRODUCTION' if prod else ''} "
    out: Fragments = [("class:toolbar.profile.prod" if prod else "class:toolbar.profile", label), ("", " ")]
    status = state.status
    if status == "logged on":
        out.append(("class:toolbar.up", "● logged on"))
    elif status in ("connecting", "reconnecting", "logging out"):
        out.append(("class:toolbar.pending", f"◌ {status}"))
    else:
        out.append(("class:toolbar.down", f"○ {status}"))
    out += [
        ("class:toolbar.dim", "  seq in "),
        ("class:toolbar.value", str(state.seq_in) if state.seq_in else "-"),
        ("class:toolbar.dim", " out "),
        ("class:toolbar.value", str(state.seq_out) if state.seq_out else "-"),
    ]
    if state.last_received > 0:
        ago = max(0.0, now - state.last_received)
        late = state.heartbeat_interval > 0 and ago > state.heartbeat_interval * 1.2
        out += [
            ("class:toolbar.dim", "  last in "),
            ("class:toolbar.warn" if late else "class:toolbar.value", f"{format_duration(ago)} ago"),
        ]
        if state.heartbeat_interval > 0:
            out.append(("class:toolbar.dim", f" (hb {int(state.heartbeat_interval)}s)"))
    left = state.next_rollover(now) - now if state.next_rollover is not None else seconds_to_rollover(now)
    out += [
        ("class:toolbar.dim", "  rollover in "),
        ("class:toolbar.warn" if left <= ROLLOVER_WARN else "class:toolbar.value", format_duration(left)),
    ]
    open_orders = len(state.open_orders())
    if state.orders:
        out += [("class:toolbar.dim", "  orders "), ("class:toolbar.value", f"{open_orders}/{len(state.orders)}")]
    out += [("class:toolbar.dim", f"  [{state.output}, {state.filter.describe()}]")]
    if state.notice:
        out += [("", "  "), ("class:toolbar.notice", state.notice)]
    return out


def build_toolbar(state: ReplState, clock: Callable[[], float] | None = None) -> Callable[[], Fragments]:
    """The ``bottom_toolbar`` callable: sync the state, then :func:`toolbar_fragments`."""
    if clock is None:
        from krakenfix_cli.transport.clock import now as system_now

        clock = system_now
    read_clock: Callable[[], float] = clock

    def toolbar() -> Fragments:
        if state.sync is not None:
            state.sync(state)
        return toolbar_fragments(state, read_clock())

    return toolbar
