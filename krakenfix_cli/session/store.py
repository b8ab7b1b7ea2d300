"""MessageStore: sequence numbers and sent frames, so a restart resumes and resends.

The contract (shared by :class:`MemoryStore` and ``filestore.FileStore``, tested by one
parametrized module, as QuickFIX's ``MessageStoreTestCase`` does):

* ``save(seq, frame)`` records an outbound frame *and* sets ``next_sender_seq`` to
  ``seq + 1``; it returns only once both are durable, so the engine may then hand the
  bytes to the transport (store, then send).
* ``get(begin, end)`` returns the stored frames with ``begin <= seq <= end`` in order.
"""

from __future__ import annotations

from typing import Protocol


class MessageStore(Protocol):
    """Where a session keeps its sequence numbers and outbound frames."""

    @property
    def next_sender_seq(self) -> int:
        """MsgSeqNum(34) our next outbound message will carry."""
        ...

    @property
    def next_target_seq(self) -> int:
        """MsgSeqNum(34) we expect on the next inbound message."""
        ...

    def set_next_sender_seq(self, seq: int) -> None:
        """Move the outbound number (SequenceReset, seq command)."""
        ...

    def set_next_target_seq(self, seq: int) -> None:
        """Move the inbound number (after each accepted message)."""
        ...

    def save(self, seq: int, frame: bytes) -> None:
        """Persist an outbound frame and set next_sender_seq = seq + 1, durably."""
        ...

    def get(self, begin: int, end: int) -> list[tuple[int, bytes]]:
        """Stored outbound frames in [begin, end], ascending."""
        ...

    def reset(self) -> None:
        """Both numbers back to 1; stored frames dropped (141=Y, rollover)."""
        ...

    def close(self) -> None:
        """Release files."""
        ...


class MemoryStore:
    """A MessageStore in memory: the simulator's default and the engine tests' store."""

    def __init__(self, next_sender_seq: int = 1, next_target_seq: int = 1) -> None:
        self._sender = next_sender_seq
        self._target = next_target_seq
        self._frames: dict[int, bytes] = {}

    @property
    def next_sender_seq(self) -> int:
        return self._sender

    @property
    def next_target_seq(self) -> int:
        return self._target

    def set_next_sender_seq(self, seq: int) -> None:
        self._sender = seq

    def set_next_target_seq(self, seq: int) -> None:
        self._target = seq

    def save(self, seq: int, frame: bytes) -> None:
        self._frames[seq] = frame
        self._sender = seq + 1

    def get(self, begin: int, end: int) -> list[tuple[int, bytes]]:
        return [(s, self._frames[s]) for s in range(begin, end + 1) if s in self._frames]

    def reset(self) -> None:
        self._sender = 1
        self._target = 1
        self._frames.clear()

    def close(self) -> None:
        return None
