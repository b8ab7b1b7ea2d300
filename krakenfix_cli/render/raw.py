"""raw: ``tag=value|...`` as on the wire, ``|`` for SOH, secrets masked."""

from __future__ import annotations

from krakenfix_cli.fix.message import Message
from krakenfix_cli.render.escape import escape_text


def render_raw(msg: Message, sep: str = "|") -> str:
    """The message's fields joined by ``sep`` (each followed by it, as SOH is on the wire).

    Control characters in values are spelled out (``\x1b``): this is a terminal line.
    """
    return escape_text(msg.to_text(sep))
