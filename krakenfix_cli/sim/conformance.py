"""The conformance session: an acceptor as ``ISLD`` for ``TW44`` that behaves like QuickFIX's
test acceptor (``at``), so ``shared/conformance/run_quickfix_suite.py`` can score our engine.

What it does (shared/conformance/README.md, "What the acceptor must be and do"): reset
on every Logon, validate against the plain FIX44.xml dictionary, echo NewOrderSingle(D)
(dropping a PossResend(97)=Y duplicate ClOrdID, scenario 19a) and SecurityDefinition(d),
and answer any other application message with BusinessMessageReject(j) 380=3. The echo
belongs to this session only, never to the Kraken sessions.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from krakenfix_cli.fix.message import Message
from krakenfix_cli.fix.tags import HEADER_TAGS
from krakenfix_cli.session.config import Problem, Role, SessionConfig
from krakenfix_cli.session.engine import Session
from krakenfix_cli.session.events import Event, LogonAccepted, MessageReceived
from krakenfix_cli.session.state import Status
from krakenfix_cli.session.store import MemoryStore
from krakenfix_cli.transport.clock import SYSTEM
from krakenfix_cli.transport.connection import Connection
from krakenfix_cli.transport.server import Accepted, serve

SENDER = "ISLD"
TARGET = "TW44"


def _validator() -> object | None:
    try:
        from krakenfix_cli.fix.dictionary import fix44
        from krakenfix_cli.fix.validate import validate
    except ImportError:  # pragma: no cover - the dictionary ships with the package
        return None
    d = fix44()

    def check(msg: Message) -> Sequence[Problem]:
        return validate(msg, d)

    return check


class ConformanceAcceptor:
    """One logical session (ISLD ← TW44) shared by every connection, like QuickFIX's."""

    def __init__(self, sender: str = SENDER, target: str = TARGET) -> None:
        validate = _validator()
        self.config = SessionConfig(
            role=Role.ACCEPTOR,
            sender_comp_id=sender,
            target_comp_id=target,
            reset_on_logon=True,
            validate=validate,  # type: ignore[arg-type]
        )
        self.session = Session(self.config, MemoryStore())
        self.conn: Connection | None = None
        self.seen_clordids: set[str] = set()

    def pick(self, first: Message, peer: tuple[str, int]) -> Accepted | None:
        """Accept only Logons for our CompIDs, and only when the session is free (1b)."""
        if self.session.status is not Status.DISCONNECTED:
            return None
        if first.get(49) != self.config.target_comp_id or first.get(56) != self.config.sender_comp_id:
            return None

        def attach(conn: Connection) -> None:
            self.conn = conn

        return Accepted(self.session, self.on_event, on_connection=attach)

    def on_event(self, ev: Event) -> None:
        """The ``at`` application: echo D and d, reject the rest with 380=3."""
        if isinstance(ev, LogonAccepted):
            self.seen_clordids.clear()
            return
        if not isinstance(ev, MessageReceived) or self.conn is None:
            return
        msg = ev.message
        mtype = msg.msg_type
        if mtype in ("3", "j"):
            return
        if mtype == "D":
            clordid = msg.get(11) or ""
            if msg.get(97) == "Y" and clordid in self.seen_clordids:
                return
            self.seen_clordids.add(clordid)
            self.conn.send(_echo(msg))
        elif mtype == "d":
            self.conn.send(_echo(msg))
        else:
            self.conn.send(
                Message.new("j", (45, msg.get(34) or "0"), (58, "Unsupported Message Type"), (372, mtype), (380, "3"))
            )


def _echo(msg: Message) -> Message:
    """The message back with our header: keep PossResend(97), re-sort the body like QuickFIX."""
    header = [(t, v) for t, v in msg.fields if t == 97]
    body = sorted(((t, v) for t, v in msg.fields if t not in HEADER_TAGS and t != 10), key=lambda f: f[0])
    return Message([(35, msg.msg_type), *header, *body])


async def run(host: str, port: int, port_file: str | None = None) -> None:
    """Serve the conformance session until cancelled."""
    acceptor = ConformanceAcceptor()
    server = await serve(acceptor.pick, host, port, clock=SYSTEM)
    bound = server.sockets[0].getsockname()[1]
    if port_file:
        with open(port_file, "w") as fh:
            fh.write(str(bound))
    print(f"conformance acceptor ISLD <- TW44 listening on {host}:{bound}", flush=True)
    async with server:
        await server.serve_forever()


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m krakenfix_cli.sim.conformance --port N``."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    a = p.parse_args(argv)
    try:
        from krakenfix_cli.transport import loop

        loop.run(run(a.host, a.port, a.port_file))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
