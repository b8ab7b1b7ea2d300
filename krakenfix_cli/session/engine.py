"""Session: the sans-IO FIX 4.4 session engine, for both roles.

The engine is driven by three kinds of input, each carrying ``now`` (POSIX seconds):

- bytes from the network (:meth:`Session.receive_bytes`),
- the caller asking to connect, send, log out or resend (:meth:`connect`, :meth:`send`,
  :meth:`logout`, :meth:`request_resend`),
- a timer firing (:meth:`handle_timer`; :meth:`next_deadline` says when).

It answers with events (:meth:`next_event`) and bytes (:meth:`bytes_to_send`). It never
touches a socket or a clock. The rules follow FIX 4.4 as QuickFIX implements them
(``Session::next``/``verify``), so QuickFIX's acceptance suite passes against our
acceptor: validation before sequence checks; MsgSeqNum too high → queue + ResendRequest(2);
too low without PossDupFlag(43) → Logout(5); garbled frames dropped without consuming a
sequence number; admin messages gap-filled on resend.

Outbound order: store, then send. :meth:`send` assigns MsgSeqNum(34), encodes, calls
``store.save`` (durable) and only then queues the bytes.

:meth:`receive_bytes` raises nothing on bad input: every refusal becomes an event. Any
exception escaping it is a bug.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence

from krakenfix_cli.fix.encode import encode_fields, encode_text, join_fields
from krakenfix_cli.fix.errors import FixError, FramingError
from krakenfix_cli.fix.framing import Framer
from krakenfix_cli.fix.message import Field, Message, decode
from krakenfix_cli.fix.redact import redact_frame
from krakenfix_cli.fix.tags import ADMIN_MSG_TYPES, HEADER_TAGS
from krakenfix_cli.fix.values import format_utc_timestamp, parse_utc_timestamp
from krakenfix_cli.session import texts
from krakenfix_cli.session.config import Role, SessionConfig
from krakenfix_cli.session.errors import LocalProtocolError
from krakenfix_cli.session.events import (
    Disconnect,
    Event,
    FrameDropped,
    GapDetected,
    GapFilled,
    HeartbeatTimedOut,
    LogonAccepted,
    LogonRefused,
    LogoutReceived,
    MessageReceived,
    RejectSent,
    ResendAnswered,
    SequenceReset,
)
from krakenfix_cli.session.heartbeat import (
    HeartbeatState,
    heartbeat_due,
    next_heartbeat_deadline,
    test_request_due,
    timed_out,
)
from krakenfix_cli.session.log import SessionLog
from krakenfix_cli.session.state import Status, Trigger, next_status
from krakenfix_cli.session.store import MessageStore

#: Header fields the engine writes itself; a caller's values for them are ignored.
_OWN_HEADER = frozenset({8, 9, 34, 35, 49, 52, 56})
#: Header fields a caller may add (PossDupFlag, routing...): rare, so they take the slow path.
_EXTRA_HEADER = HEADER_TAGS - _OWN_HEADER
#: Tags never copied into the body: the header and CheckSum(10).
_NOT_BODY = HEADER_TAGS | {10}
#: Routing pairs swapped on a Reject(3) (QuickFIX reverseRoute).
_REVERSE_ROUTE = ((115, 128), (116, 129), (144, 145), (128, 115), (129, 116), (145, 144))


class _Verify:
    OK = 0
    STOP = 1


class Session:
    """One FIX session (initiator or acceptor) as a pure state machine."""

    def __init__(self, config: SessionConfig, store: MessageStore, log: SessionLog | None = None) -> None:
        self.config = config
        self.store = store
        self.log = log
        self.status = Status.DISCONNECTED
        self._framer = Framer()
        self._events: deque[Event] = deque()
        self._out: list[bytes] = []
        self._queue: dict[int, Message] = {}
        self._hb = HeartbeatState(float(config.heartbeat_interval), 0.0, 0.0)
        self._resend_range: tuple[int, int] | None = None
        self._sent_reset = False
        self._logon_deadline: float | None = None
        self._logout_deadline: float | None = None
        self._close_requested = False
        #: ClOrdIDs etc. are the application's business; the engine counts for diagnostics.
        self.dropped_frames = 0

    # -- public state -----------------------------------------------------------------------------
    @property
    def is_logged_on(self) -> bool:
        """True while application messages may be sent."""
        return self.status is Status.LOGGED_ON

    @property
    def next_sender_seq(self) -> int:
        """MsgSeqNum(34) of our next outbound message."""
        return self.store.next_sender_seq

    @property
    def next_target_seq(self) -> int:
        """MsgSeqNum(34) expected on the next inbound message."""
        return self.store.next_target_seq

    @property
    def heartbeat_interval(self) -> float:
        """The HeartBtInt(108) in force (an acceptor adopts the initiator's)."""
        return self._hb.interval

    @property
    def last_received(self) -> float:
        """When the last inbound message arrived (0 before any)."""
        return self._hb.last_received

    # -- outputs ----------------------------------------------------------------------------------
    def next_event(self) -> Event | None:
        """Pop the oldest pending event, or None."""
        return self._events.popleft() if self._events else None

    def events(self) -> list[Event]:
        """Drain and return every pending event."""
        out = list(self._events)
        self._events.clear()
        return out

    def bytes_to_send(self) -> bytes:
        """Drain the bytes queued for the wire."""
        if not self._out:
            return b""
        data = b"".join(self._out)
        self._out.clear()
        return data

    def frames_to_send(self) -> list[bytes]:
        """Drain the queued frames one by one (a transport that reports each frame it wrote)."""
        if not self._out:
            return []
        frames = self._out
        self._out = []
        return frames

    def next_deadline(self) -> float | None:
        """When :meth:`handle_timer` must next run; None when nothing is pending."""
        st = self.status
        if st is Status.DISCONNECTED or st is Status.CLOSING:
            return None
        # The transport asks after every input: the earliest of three, without building a list.
        best = self._logon_deadline
        d = self._logout_deadline
        if d is not None and (best is None or d < best):
            best = d
        if st is Status.LOGGED_ON or st is Status.LOGOUT_SENT:
            d = next_heartbeat_deadline(self._hb, self.config.test_request_factor, self.config.timeout_factor)
            if d is not None and (best is None or d < best):
                best = d
        return best

    # -- inputs: the caller -----------------------------------------------------------------------
    def connect(self, now: float) -> None:
        """A connection is up: the initiator sends its Logon(A); the acceptor waits for one."""
        self._framer = Framer()
        self._queue.clear()
        self._resend_range = None
        self._logout_deadline = None
        self._close_requested = False
        self._hb = HeartbeatState(float(self.config.heartbeat_interval), now, now)
        if self.config.role is Role.ACCEPTOR:
            self._set(Trigger.CONNECTED_AS_ACCEPTOR)
            self._logon_deadline = now + self.config.logon_timeout
            return
        self._send_logon(now, reset=self.config.reset_on_logon)
        self._set(Trigger.LOGON_SENT)
        self._logon_deadline = now + self.config.logon_timeout

    def send(self, msg: Message, now: float) -> int:
        """Send ``msg`` (MsgType(35) + body; header filled here). Returns its MsgSeqNum(34).

        Raises :class:`LocalProtocolError` for an application message before Logon(A)
        completes or after Logout(5) started.
        """
        mtype = msg.msg_type
        if not mtype:
            raise LocalProtocolError("message has no MsgType(35)")
        if mtype not in ADMIN_MSG_TYPES and self.status is not Status.LOGGED_ON:
            raise LocalProtocolError(f"cannot send MsgType(35)={mtype} while {self.status.value}")
        return self._send(mtype, msg.fields, now)

    def logout(self, now: float, text: str = "") -> None:
        """Start an orderly Logout(5); the connection closes when the peer answers."""
        if self.status in (Status.DISCONNECTED, Status.CLOSING):
            return
        if self.status is Status.LOGOUT_SENT:
            return
        self._send_logout(now, text)

    def request_resend(self, begin: int, end: int, now: float) -> None:
        """Send ResendRequest(2) for [begin, end] (0 = through the latest): the replay command."""
        if self.status is not Status.LOGGED_ON:
            raise LocalProtocolError(f"cannot ask for a resend while {self.status.value}")
        self._send("2", ((35, "2"), (7, str(begin)), (16, str(end))), now)
        self._resend_range = (begin, end if end else 0)

    def reset_sequence(self, now: float) -> None:
        """Both sequence numbers back to 1 and stored messages dropped (rollover, 141=Y)."""
        self.store.reset()
        self._queue.clear()
        self._resend_range = None

    def connection_lost(self, now: float) -> None:
        """The transport's socket is gone; sequence numbers stay in the store."""
        if self.status is Status.DISCONNECTED:
            return
        self._set(Trigger.CONNECTION_LOST)
        self._logon_deadline = None
        self._logout_deadline = None
        self._out.clear()

    # -- inputs: the network ----------------------------------------------------------------------
    def receive_bytes(self, data: bytes, now: float) -> None:
        """Feed inbound bytes; frames are processed as soon as they are whole."""
        if self.status in (Status.DISCONNECTED, Status.CLOSING):
            return
        framer = self._framer
        framer.feed(data)
        while self.status not in (Status.DISCONNECTED, Status.CLOSING):
            item = framer.next_frame()
            if item is None:
                break
            if isinstance(item, FramingError):
                self._dropped(item, now)
                continue
            if self.log is not None:
                self.log.incoming(item, now)
            try:
                msg = decode(item)
            except FixError as exc:
                self._dropped(exc, now)
                continue
            self._on_message(msg, now)

    # -- inputs: time -----------------------------------------------------------------------------
    def handle_timer(self, now: float) -> None:
        """Send a due Heartbeat(0) or TestRequest(1), or give up on a silent peer."""
        st = self.status
        if st in (Status.DISCONNECTED, Status.CLOSING):
            return
        if st in (Status.LOGON_SENT, Status.AWAITING_LOGON):
            if self._logon_deadline is not None and now >= self._logon_deadline:
                reason = texts.logon_timeout(self.config.logon_timeout)
                if st is Status.LOGON_SENT:
                    self._events.append(LogonRefused(reason))
                self._close(reason, now)
            return
        if self._logout_deadline is not None and now >= self._logout_deadline:
            self._close(texts.logout_timeout(self.config.logout_timeout), now)
            return
        hb = self._hb
        if timed_out(hb, now, self.config.timeout_factor):
            silent = now - hb.last_received
            self._events.append(HeartbeatTimedOut(silent))
            self._close(texts.heartbeat_timeout(silent), now)
        elif test_request_due(hb, now, self.config.test_request_factor):
            self._send("1", ((35, "1"), (112, "TEST")), now)
            hb.test_requests += 1
        elif heartbeat_due(hb, now):
            self._send("0", ((35, "0"),), now)

    # -- internals: status ------------------------------------------------------------------------
    def _set(self, trigger: Trigger) -> None:
        self.status = next_status(self.status, trigger)

    def _close(self, reason: str, now: float) -> None:
        if self.status in (Status.DISCONNECTED, Status.CLOSING):
            return
        self._set(Trigger.CLOSE)
        self._logon_deadline = None
        self._logout_deadline = None
        self._events.append(Disconnect(reason))
        if self.log is not None:
            self.log.event(f"Disconnecting: {reason}", now)

    def _dropped(self, error: Exception, now: float) -> None:
        """Garbled input is ignored (FIX); before Logon it ends the connection."""
        self.dropped_frames += 1
        self._events.append(FrameDropped(error))
        if self.status is Status.AWAITING_LOGON:
            self._close(f"first message is not a valid Logon: {error}", now)

    # -- internals: sending -----------------------------------------------------------------------
    def _header(self, mtype: str, seq: int, now: float, extra: Iterable[Field] = ()) -> list[Field]:
        head: list[Field] = [
            (34, str(seq)),
            (49, self.config.sender_comp_id),
            (52, format_utc_timestamp(now)),
            (56, self.config.target_comp_id),
            *extra,
        ]
        head.sort(key=lambda f: f[0])
        return [(35, mtype), *head]

    def _send(self, mtype: str, fields: Sequence[Field], now: float, store: bool = True) -> int:
        """Header, encode, store (durable), then queue: in that order.

        Every outbound message passes here, so the usual header (35, 34, 49, 52, 56: already
        in tag order) is one f-string joined to the body text; a caller's extra header
        fields take :meth:`_header`'s sorted path. Both give the same bytes.
        """
        seq = self.store.next_sender_seq
        cfg = self.config
        body = join_fields([f for f in fields if f[0] not in _NOT_BODY])
        extra = [f for f in fields if f[0] in _EXTRA_HEADER]
        if extra:
            head = join_fields(self._header(mtype, seq, now, extra))
        else:
            head = (f"35={mtype}\x0134={seq}\x0149={cfg.sender_comp_id}\x0152={format_utc_timestamp(now)}"
                    f"\x0156={cfg.target_comp_id}\x01")
            if head.count("\x01") != 5:
                head = join_fields(self._header(mtype, seq, now, []))  # raises: a CompID holds SOH
        frame = encode_text(head + body, cfg.begin_string)
        # Store, then send. Password(554)/RawData(96) never reach the disk, in any message:
        # admin messages are gap-filled on resend, and a resent app message cannot sensibly
        # carry a signature made for its first sending, so it goes again with the mask.
        self.store.save(seq, redact_frame(frame))
        self._emit(frame, now)
        return seq

    def _emit(self, frame: bytes, now: float) -> None:
        self._out.append(frame)
        self._hb.last_sent = now
        if self.log is not None:
            self.log.outgoing(frame, now)

    def _send_logon(self, now: float, reset: bool, reply_to: Message | None = None) -> None:
        if reset:
            self.reset_sequence(now)
            self._sent_reset = True
        seq = self.store.next_sender_seq
        body: list[Field] = [(98, "0"), (108, str(int(self._hb.interval)))]
        if reset:
            body.append((141, "Y"))
        if reply_to is None and self.config.logon_fields is not None:
            body.extend(self.config.logon_fields(seq, now))
        if reply_to is not None and self.config.logon_reply_fields is not None:
            body.extend(self.config.logon_reply_fields(reply_to))
        self._send("A", [(35, "A"), *body], now)

    def _send_logout(self, now: float, text: str = "") -> None:
        fields: list[Field] = [(35, "5")]
        if text:
            fields.append((58, text))
        self._send("5", fields, now)
        if self.status is not Status.LOGOUT_SENT:
            self._set(Trigger.LOGOUT_SENT)
        self._logout_deadline = now + self.config.logout_timeout

    def _send_reject(self, msg: Message, reason: int, ref_tag: int | None, now: float, text: str = "") -> None:
        """Session Reject(3) as QuickFIX's generateReject builds it."""
        fields: list[Field] = [(35, "3")]
        for src, dst in _REVERSE_ROUTE:
            v = msg.get(src)
            if v:
                fields.append((dst, v))
        ref_seq = msg.get(34)
        if ref_seq:
            fields.append((45, ref_seq))
        words = text or texts.reject_text(reason)
        fields.append((58, words))
        if ref_tag is not None:
            fields.append((371, str(ref_tag)))
        mtype = msg.get(35)
        if mtype:
            fields.append((372, mtype))
        fields.append((373, str(reason)))
        head = [f for f in fields if f[0] in HEADER_TAGS]
        body = sorted((f for f in fields if f[0] not in HEADER_TAGS and f[0] != 35), key=lambda f: f[0])
        self._send("3", [(35, "3"), *head, *body], now)
        seq = msg.get_int(34)
        self._events.append(RejectSent(seq or 0, reason, words))
        # The rejected message still consumes its sequence number (not Logon/SequenceReset).
        if mtype not in ("A", "4") and seq is not None and seq == self.store.next_target_seq:
            self.store.set_next_target_seq(seq + 1)

    def _send_gap_fill(self, begin: int, new_seq: int, now: float) -> None:
        """SequenceReset-GapFill(4) sent *as* MsgSeqNum ``begin`` (not stored, not counted)."""
        fields = self._header("4", begin, now, [(43, "Y"), (122, format_utc_timestamp(now))])
        fields += [(36, str(new_seq)), (123, "Y")]
        self._emit(encode_fields(fields, self.config.begin_string), now)

    # -- internals: receiving ---------------------------------------------------------------------
    def _on_message(self, msg: Message, now: float) -> None:
        mtype = msg.get(35) or ""
        if msg.get(8) != self.config.begin_string:
            if self.status in (Status.AWAITING_LOGON, Status.LOGON_SENT):
                self._close(f"BeginString(8) {msg.get(8)!r}, expected {self.config.begin_string}", now)
            elif mtype == "5":
                self._on_logout(msg, now)
            else:
                self._send_logout(now, texts.incorrect_begin_string())
                self.store.set_next_target_seq(self.store.next_target_seq + 1)
            return
        if self.status is Status.AWAITING_LOGON:
            if mtype != "A":
                self._close(f"first message is MsgType(35)={mtype}, not Logon(A)", now)
                return
            self._on_logon(msg, now)
            return
        if self.status is Status.LOGON_SENT:
            if mtype == "A":
                self._on_logon(msg, now)
            elif mtype == "5":
                text = msg.get(58) or "Logout without a reason"
                self._events.append(LogonRefused(text, msg))
                self._close(f"logon refused: {text}", now)
            else:
                self._events.append(LogonRefused(f"MsgType(35)={mtype} before the Logon answer", msg))
                self._close(f"MsgType(35)={mtype} before the Logon answer", now)
            return
        # Dictionary validation comes before sequence checks (QuickFIX Session::next).
        if self.config.validate is not None and mtype != "A":
            problems = self.config.validate(msg)
            if problems:
                reason, tag, text = problems[0]
                self._send_reject(msg, reason, tag, now, text)
                self._hb.last_received = now
                self._hb.test_requests = 0
                return
        handler = _HANDLERS.get(mtype)
        if handler is not None:
            handler(self, msg, now)
        else:
            self._on_app(msg, now)
        if self._queue and (self.status is Status.LOGGED_ON or self.status is Status.LOGOUT_SENT):
            self._drain_queue(now)

    def _verify(self, msg: Message, now: float, too_high: bool, too_low: bool) -> int:
        """QuickFIX ``verify``: SendingTime, CompIDs, sequence. Returns OK or STOP."""
        sender = msg.get(49)
        target = msg.get(56)
        sent = msg.get(52)
        missing = 49 if not sender else 56 if not target else 52 if not sent else None
        number = msg.get_int(34)
        if missing is not None or ((too_high or too_low) and number is None):
            self._send_reject(msg, 1, missing if missing is not None else 34, now)
            return _Verify.STOP
        if not self._good_time(sent, now):
            self._send_reject(msg, 10, None, now)
            self._send_logout(now)
            return _Verify.STOP
        if sender != self.config.target_comp_id or target != self.config.sender_comp_id:
            self._send_reject(msg, 9, None, now)
            self._send_logout(now)
            return _Verify.STOP
        seq = number or 0
        expected = self.store.next_target_seq
        if too_high and seq > expected:
            self._target_too_high(msg, seq, expected, now)
            return _Verify.STOP
        if too_low and seq < expected:
            self._target_too_low(msg, seq, expected, now)
            return _Verify.STOP
        if (too_high or too_low) and self._resend_range is not None:
            end = self._resend_range[1]
            if end and seq >= end:
                self._resend_range = None
                self._events.append(GapFilled(seq))
        self._hb.last_received = now
        self._hb.test_requests = 0
        return _Verify.OK

    def _good_time(self, sending_time: str | None, now: float) -> bool:
        """SendingTime(52) within the tolerance of ``now`` (always, when there is none)."""
        tol = self.config.sending_time_tolerance
        if tol is None:
            return True
        try:
            sent = parse_utc_timestamp(sending_time or "")
        except FixError:
            return False
        return abs(now - sent) <= tol

    def _target_too_high(self, msg: Message, seq: int, expected: int, now: float) -> None:
        self._queue[seq] = msg
        self._hb.last_received = now
        self._hb.test_requests = 0
        if self._resend_range is not None and seq >= self._resend_range[0]:
            return  # already asked; do not send a redundant ResendRequest(2)
        self._events.append(GapDetected(expected, seq))
        self._send("2", ((35, "2"), (7, str(expected)), (16, "0")), now)
        self._resend_range = (expected, seq - 1)

    def _target_too_low(self, msg: Message, seq: int, expected: int, now: float) -> None:
        if msg.get(43) != "Y":
            text = texts.seq_too_low(expected, seq)
            self._send_logout(now, text)
            self._close(text, now)
            return
        self._hb.last_received = now
        if msg.get(35) == "4":
            return
        orig = msg.get(122)
        if not orig:
            self._send_reject(msg, 1, 122, now)
            return
        try:
            if parse_utc_timestamp(orig) > parse_utc_timestamp(msg.get(52) or ""):
                self._send_reject(msg, 10, None, now)
                self._send_logout(now)
                return
        except FixError:
            self._send_reject(msg, 6, 122, now)
            return
        if self.config.deliver_duplicates and msg.get(35) not in ADMIN_MSG_TYPES:
            self._events.append(MessageReceived(msg, True))

    def _accept(self, seq: int | None) -> None:
        if seq is not None and seq == self.store.next_target_seq:
            self.store.set_next_target_seq(seq + 1)

    def _drain_queue(self, now: float) -> None:
        while self._queue and self.status in (Status.LOGGED_ON, Status.LOGOUT_SENT):
            expected = self.store.next_target_seq
            for seq in [s for s in self._queue if s < expected]:
                del self._queue[seq]
            msg = self._queue.pop(expected, None)
            if msg is None:
                return
            if msg.get(35) == "A":
                self._accept(expected)
                continue
            self._on_message(msg, now)

    # -- handlers per MsgType -----------------------------------------------------------------------
    def _on_logon(self, msg: Message, now: float) -> None:
        cfg = self.config
        reset = msg.get(141) == "Y"
        first = self.status in (Status.AWAITING_LOGON, Status.LOGON_SENT)
        if first:
            if msg.get(49) != cfg.target_comp_id or msg.get(56) != cfg.sender_comp_id:
                self._close(f"Logon from {msg.get(49)!r} to {msg.get(56)!r}: unknown CompIDs", now)
                return
            if not self._good_time(msg.get(52), now):
                self._close("Logon SendingTime(52) outside the accepted window", now)
                return
        if cfg.role is Role.ACCEPTOR and first:
            why = cfg.check_logon(msg, now) if cfg.check_logon is not None else None
            if why:
                self._events.append(LogonRefused(why, msg))
                self._send_logout(now, why)
                self._close(f"logon refused: {why}", now)
                return
            hbi = msg.get_int(108)
            if hbi is None or hbi < 0:
                self._close("Logon without a valid HeartBtInt(108)", now)
                return
            self._hb.interval = float(hbi)
        if (reset and not self._sent_reset) or (cfg.role is Role.ACCEPTOR and first and cfg.reset_on_logon):
            self.reset_sequence(now)
        if self._verify(msg, now, False, True) is _Verify.STOP:
            return
        if reset and not self._sent_reset:
            self._reply_reset_logon(msg, now)
        elif cfg.role is Role.ACCEPTOR:
            self._send_logon(now, reset=False, reply_to=msg)
        self._sent_reset = False
        self._logon_deadline = None
        self._set(Trigger.LOGON_COMPLETED)
        self._events.append(LogonAccepted(msg, reset))
        seq = msg.get_int(34) or 0
        expected = self.store.next_target_seq
        if seq > expected and not reset:
            self._target_too_high(msg, seq, expected, now)
        else:
            if seq == expected or reset:
                self.store.set_next_target_seq(seq + 1)
            self._drain_queue(now)

    def _reply_reset_logon(self, msg: Message, now: float) -> None:
        body: list[Field] = [(35, "A"), (98, "0"), (108, str(int(self._hb.interval))), (141, "Y")]
        if self.config.logon_reply_fields is not None:
            body.extend(self.config.logon_reply_fields(msg))
        self._send("A", body, now)

    def _on_heartbeat(self, msg: Message, now: float) -> None:
        if self._verify(msg, now, True, True) is _Verify.OK:
            self._accept(msg.get_int(34))

    def _on_test_request(self, msg: Message, now: float) -> None:
        if self._verify(msg, now, True, True) is _Verify.OK:
            fields: list[Field] = [(35, "0")]
            req = msg.get(112)
            if req is not None:
                fields.append((112, req))
            self._send("0", fields, now)
            self._accept(msg.get_int(34))

    def _on_resend_request(self, msg: Message, now: float) -> None:
        if self._verify(msg, now, False, False) is _Verify.STOP:
            return
        begin = msg.get_int(7) or 1
        end = msg.get_int(16) or 0
        last = self.store.next_sender_seq - 1
        if end == 0 or end > last:
            end = last
        replayed = self._resend(begin, end, now)
        self._events.append(ResendAnswered(begin, end, replayed))
        seq = msg.get_int(34)
        if seq is not None and seq == self.store.next_target_seq:
            self.store.set_next_target_seq(seq + 1)

    def _resend(self, begin: int, end: int, now: float) -> int:
        """Answer ResendRequest(2): app messages again (43=Y, 122), admin runs as GapFill(4)."""
        stored = self.store.get(begin, end) if end >= begin else []
        policy = self.config.resend_app_messages
        gap_start: int | None = None
        current = begin
        replayed = 0
        last_seq = 0
        for seq, frame in stored:
            last_seq = seq
            if seq != current and gap_start is None:
                gap_start = current
            try:
                old = decode(frame)
            except FixError:
                old = None
            if old is None or old.msg_type in ADMIN_MSG_TYPES or not policy:
                if gap_start is None:
                    gap_start = seq
            else:
                if gap_start is not None:
                    self._send_gap_fill(gap_start, seq, now)
                    gap_start = None
                self._emit(self._possdup_frame(old, now), now)
                replayed += 1
            current = seq + 1
        if gap_start is not None:
            self._send_gap_fill(gap_start, last_seq + 1, now)
        if end > last_seq:
            new_seq = min(end + 1, self.store.next_sender_seq)
            self._send_gap_fill(max(begin, last_seq + 1) if last_seq else begin, new_seq, now)
        return replayed

    def _possdup_frame(self, old: Message, now: float) -> bytes:
        orig = old.get(52) or format_utc_timestamp(now)
        extra = [f for f in old.fields if f[0] in HEADER_TAGS and f[0] not in _OWN_HEADER
                 and f[0] not in (43, 122, 97)]
        extra += [(43, "Y"), (122, orig)]
        head = self._header(old.msg_type, old.get_int(34) or 0, now, extra)
        body = [f for f in old.fields if f[0] not in HEADER_TAGS and f[0] != 10]
        return encode_fields(head + body, self.config.begin_string)

    def _on_sequence_reset(self, msg: Message, now: float) -> None:
        gap_fill = msg.get(123) == "Y"
        if self._verify(msg, now, gap_fill, gap_fill) is _Verify.STOP:
            return
        new_seq = msg.get_int(36)
        if new_seq is None:
            self._send_reject(msg, 1, 36, now)
            return
        expected = self.store.next_target_seq
        if new_seq > expected:
            self.store.set_next_target_seq(new_seq)
            self._events.append(SequenceReset(new_seq, gap_fill))
            if self._resend_range is not None and self._resend_range[1] and new_seq > self._resend_range[1]:
                self._resend_range = None
                self._events.append(GapFilled(new_seq - 1))
        elif new_seq < expected:
            self._send_reject(msg, 5, None, now)

    def _on_logout(self, msg: Message, now: float) -> None:
        if self._verify(msg, now, False, False) is _Verify.STOP:
            return
        text = msg.get(58) or ""
        self._events.append(LogoutReceived(text, msg))
        if self.status is not Status.LOGOUT_SENT:
            self._send_logout(now)
        seq = msg.get_int(34)
        if seq is not None and seq == self.store.next_target_seq:
            self.store.set_next_target_seq(seq + 1)
        self._close(f"logout: {text}" if text else "logout", now)

    def _on_reject(self, msg: Message, now: float) -> None:
        if self._verify(msg, now, True, True) is _Verify.OK:
            self._accept(msg.get_int(34))
            self._events.append(MessageReceived(msg, msg.get(43) == "Y"))

    def _on_app(self, msg: Message, now: float) -> None:
        if self._verify(msg, now, True, True) is _Verify.OK:
            self._accept(msg.get_int(34))
            self._events.append(MessageReceived(msg, msg.get(43) == "Y"))


_HANDLERS = {
    "A": Session._on_logon,
    "0": Session._on_heartbeat,
    "1": Session._on_test_request,
    "2": Session._on_resend_request,
    "3": Session._on_reject,
    "4": Session._on_sequence_reset,
    "5": Session._on_logout,
}
