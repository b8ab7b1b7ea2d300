"""Whose fault it was: our caller (:class:`LocalProtocolError`) or the peer (:class:`RemoteProtocolError`)."""

from __future__ import annotations


class ProtocolError(Exception):
    """Base class of the session engine's errors."""


class LocalProtocolError(ProtocolError):
    """Our caller asked for something FIX forbids (e.g. an order before Logon)."""


class RemoteProtocolError(ProtocolError):
    """The counterparty broke the rules badly enough that the session cannot go on."""
