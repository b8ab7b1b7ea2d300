"""raw: ``tag=value|...`` as on the wire, ``|`` for SOH, secrets masked."""

from __future__ import annotations

from krakenfix_cli.fix.message import Message


def render_raw(msg: Message, sep: str = "|") -> str:
    """The message's fields joined by ``sep`` (each followed by it, as SOH is on the wire)."""
    return msg.to_text(sep)
