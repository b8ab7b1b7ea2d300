"""SessionPair: an initiator and an acceptor engine joined by an in-memory link.

Advance a fake clock with :meth:`advance`; :meth:`flush` moves bytes both ways until
neither side has anything to say (guarded against running forever, like aioquic's
``roundtrip_until_done``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from krakenfix_cli.fix.message import Message
from krakenfix_cli.session.config import Role, SessionConfig
from krakenfix_cli.session.engine import Session
from krakenfix_cli.session.events import Disconnect, Event
from krakenfix_cli.session.store import MemoryStore, MessageStore

T0 = 1_700_000_000.0


@dataclass
class Side:
    session: Session
    events: list[Event] = field(default_factory=list)
    wire_out: list[bytes] = field(default_factory=list)
    closed: bool = False


class SessionPair:
    def __init__(
        self,
        init_store: MessageStore | None = None,
        acc_store: MessageStore | None = None,
        hbi: int = 30,
        reset: bool = True,
        **acc_kwargs: object,
    ) -> None:
        self.now = T0
        icfg = SessionConfig(Role.INITIATOR, "CLIENT", "SERVER", heartbeat_interval=hbi, reset_on_logon=reset)
        acfg = SessionConfig(Role.ACCEPTOR, "SERVER", "CLIENT", **acc_kwargs)  # type: ignore[arg-type]
        self.init = Side(Session(icfg, init_store or MemoryStore()))
        self.acc = Side(Session(acfg, acc_store or MemoryStore()))
        #: When False, bytes from that side are dropped (a lossy link, for gap tests).
        self.deliver = {"init": True, "acc": True}

    def sides(self) -> tuple[tuple[str, Side, Side], ...]:
        return (("init", self.init, self.acc), ("acc", self.acc, self.init))

    def connect(self) -> None:
        self.acc.session.connect(self.now)
        self.init.session.connect(self.now)
        self.flush()

    def flush(self) -> None:
        for _ in range(100):
            moved = False
            for name, src, dst in self.sides():
                for ev in src.session.events():
                    src.events.append(ev)
                    if isinstance(ev, Disconnect):
                        src.closed = True
                data = src.session.bytes_to_send()
                if data:
                    src.wire_out.append(data)
                    if self.deliver[name] and not dst.closed:
                        dst.session.receive_bytes(data, self.now)
                    moved = True
            if not moved:
                return
        raise AssertionError("too many round trips")

    def advance(self, seconds: float, step: float = 0.5) -> None:
        end = self.now + seconds
        while self.now < end:
            self.now = min(end, self.now + step)
            for _, side, _ in self.sides():
                dl = side.session.next_deadline()
                if dl is not None and dl <= self.now:
                    side.session.handle_timer(self.now)
            self.flush()

    def send(self, side: Side, msg: Message) -> int:
        seq = side.session.send(msg, self.now)
        self.flush()
        return seq

    def drop_link(self) -> None:
        for _, side, _ in self.sides():
            side.session.connection_lost(self.now)
            side.closed = False
        self.flush()
