"""The codec's own errors: the bytes we were handed are not valid FIX.

Everything the codec raises on bad input is a subclass of :class:`FixError`; any
other exception escaping ``fix/`` on bad input is a bug.
"""

from __future__ import annotations

from enum import Enum


class FixError(ValueError):
    """Base class: the input is not valid FIX."""


class FrameProblem(Enum):
    """Why a frame was refused by the framer (each has a one-line explanation)."""

    #: Something other than ``8=FIX`` where a message should start.
    GARBAGE = "bytes outside any message"
    #: The second field is not BodyLength(9) or its value is not a number.
    NO_BODY_LENGTH = "BodyLength(9) is not the second field"
    #: The third field is not MsgType(35).
    NO_MSG_TYPE = "MsgType(35) is not the third field"
    #: BodyLength(9) does not lead to the CheckSum(10) field.
    BAD_BODY_LENGTH = "BodyLength(9) does not match the body"
    #: CheckSum(10) is not three digits or does not match the bytes.
    BAD_CHECKSUM = "CheckSum(10) does not match the bytes"
    #: The stream ended in the middle of a message.
    TRUNCATED = "the input ends inside a message"


class FramingError(FixError):
    """A frame failed the framing checks (8/9/35 order, BodyLength, CheckSum)."""

    def __init__(self, problem: FrameProblem, detail: str = "", offset: int = 0) -> None:
        self.problem = problem
        self.detail = detail
        self.offset = offset
        super().__init__(f"{problem.value}{': ' + detail if detail else ''}")


class MessageError(FixError):
    """A framed message whose fields cannot be split (bad tag, missing ``=``)."""

    def __init__(self, text: str, tag: int | None = None) -> None:
        self.tag = tag
        super().__init__(text)
