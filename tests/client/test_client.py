"""Client over real loopback sockets, against an acceptor on the same engine."""

from __future__ import annotations

import asyncio

import pytest

from krakenfix_cli.client import Client, ClientSpec, ConnectFailed, LogonRefusedError, diagnose
from krakenfix_cli.fix.message import Message
from krakenfix_cli.sim.conformance import ConformanceAcceptor
from krakenfix_cli.transport.server import serve


def order(clordid: str) -> Message:
    return Message.new("D", (11, clordid), (21, "3"), (40, "1"), (54, "1"), (55, "INTC"), (60, "20240101-00:00:00"))


async def _acceptor() -> tuple[ConformanceAcceptor, asyncio.Server, int]:
    acc = ConformanceAcceptor()
    srv = await serve(acc.pick, "127.0.0.1", 0)
    return acc, srv, srv.sockets[0].getsockname()[1]


def test_client_logs_on_sends_and_logs_out() -> None:
    async def main() -> None:
        _, srv, port = await _acceptor()
        c = Client.from_spec(ClientSpec("127.0.0.1", port, "TW44", "ISLD", tls=False))
        facts = await c.connect(5)
        assert facts.reset and facts.heartbeat_interval == 30
        await c.send(order("A1"))
        echo = await c.next_message(5)
        assert echo is not None and echo.get(11) == "A1"
        await c.logout()
        assert c.closed
        srv.close()

    asyncio.run(main())


def test_closed_port_raises_connect_failed() -> None:
    async def main() -> None:
        _, srv, port = await _acceptor()
        srv.close()
        await srv.wait_closed()
        c = Client.from_spec(ClientSpec("127.0.0.1", port, "TW44", "ISLD", tls=False))
        with pytest.raises(ConnectFailed) as info:
            await c.connect(2)
        assert info.value.stage == "tcp"

    asyncio.run(main())


def test_unknown_compid_is_diagnosed_as_silent_close() -> None:
    async def main() -> None:
        _, srv, port = await _acceptor()
        c = Client.from_spec(ClientSpec("127.0.0.1", port, "NOBODY", "ISLD", tls=False))
        with pytest.raises(LogonRefusedError) as info:
            await c.connect(3)
        assert "silent close" in info.value.diagnosis
        srv.close()

    asyncio.run(main())


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("Invalid API key", "bad API key"),
        ("Invalid signature", "bad signature"),
        ("Invalid nonce: 9000 ms ahead", "nonce outside the window"),
        ("session rollover", "rollover"),
    ],
)
def test_logout_texts_name_the_failed_part(text: str, part: str) -> None:
    assert part in diagnose(text)
