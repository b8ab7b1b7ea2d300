"""What each operation found, as plain facts; cli/ maps them to exit codes and wording."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input message (or with bytes between messages)."""

    source: str
    "Where: ``argument 2``, ``<stdin> byte 1042``, ``orders.log line 7``."
    text: str
    "What, naming the field as ``Name(tag)``: ``CheckSum(10) does not match the bytes: ...``."
    layer: str
    "``framing`` (8/9/35 order, BodyLength, CheckSum, garbage), ``fields`` or ``dictionary``."


@dataclass
class DecodeResult:
    """The outcome of ``krakenfix decode``: valid when every message passed every layer."""

    messages: int = 0
    "Messages decoded (shown), valid or not."
    invalid: int = 0
    "Inputs with at least one problem (a refused frame counts as one)."
    problems: list[Problem] = field(default_factory=list)
    "The first problems (``ops.decode.MAX_PROBLEMS_SHOWN``); the rest are only counted."
    problem_count: int = 0
    "Every problem found, shown or not."

    @property
    def ok(self) -> bool:
        """True when something was decoded and nothing was wrong."""
        return self.messages > 0 and self.invalid == 0 and self.problem_count == 0
