"""What a stack operation leaves behind: its events, each resource's timing, the notes, and the
`OperationResult` that carries them (with the counters and the critical path) to the command line,
the tests, the fault matrix and the benchmark.

`Journal` is where the engine, the rollback and the deletes write while the operation runs: each
event is kept and printed as CloudFormation's event line (`[12/41] CREATE_COMPLETE  <id>  02:41:07`,
virtual time since the start of the operation). `report.py` reads the finished result (summary,
critical path, timeline).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def hms(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


@dataclass
class Event:
    at: float
    logical_id: str
    status: str
    reason: str = ""


@dataclass
class Timing:
    logical_id: str
    type: str
    action: str
    start: float
    end: float | None = None
    status: str = ""


@dataclass
class CriticalPath:
    seconds: float
    chain: list[tuple[str, float]] = field(default_factory=list)  # (step, service seconds)
    resources: set[str] = field(default_factory=set)  # stack resources on the path
    ops: list[Any] = field(default_factory=list)  # service operations on the path

    def text(self) -> str:
        return " -> ".join(f"{lid} {hms(w)}" for lid, w in self.chain if w > 0)


@dataclass
class OperationResult:
    stack_name: str
    operation: str  # CREATE | UPDATE | DELETE
    status: str
    reason: str
    started: float
    ended: float
    wall_seconds: float
    events: list[Event]
    timings: dict[str, Timing]
    service_ops: list[Any]
    api_calls: dict[str, int]
    lambda_invocations: int
    state_transitions: int
    dependencies: dict[str, list[str]]
    notes: list[str]
    outputs: dict[str, Any]
    changes: int = 0
    critical: CriticalPath | None = None
    left_running: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status in ("CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE")

    @property
    def virtual_seconds(self) -> float:
        return self.ended - self.started


class Journal:
    """The record of one stack operation as it runs: events (printed unless `out` is None), timings
    by key (a logical id, or `delete <key>`), notes (each once), and the progress counter of the
    current phase (`[done/total]`)."""

    def __init__(self, now: Callable[[], float], out: Callable[[str], None] | None) -> None:
        self.now = now
        self.out = out
        self.t0 = now()
        self.events: list[Event] = []
        self.timings: dict[str, Timing] = {}
        self.notes: list[str] = []
        self.progress_total = 0
        self.progress_done = 0
        #: called with each event once it is recorded (the runner's watchers)
        self.listeners: list[Callable[[Event], None]] = []

    def note(self, message: str) -> None:
        if message not in self.notes:
            self.notes.append(message)

    def clock_text(self, at: float | None = None) -> str:
        return hms((at if at is not None else self.now()) - self.t0)

    def event(self, logical_id: str, status: str, reason: str = "", count: bool = False) -> None:
        self.events.append(Event(self.now(), logical_id, status, reason))
        if count:
            self.progress_done += 1
        for listener in self.listeners:
            listener(self.events[-1])
        if self.out is None:
            return
        progress = f"[{self.progress_done}/{self.progress_total}]"
        line = f"{progress:>9} {status:<36} {logical_id:<44} {self.clock_text()}"
        if reason:
            line += f"  {reason.splitlines()[0][:300]}"
        self.out(line)

    def phase(self, total: int) -> None:
        """A new phase (deploy, rollback deletes, cleanup, destroy): the counter starts over."""
        self.progress_total, self.progress_done = total, 0
