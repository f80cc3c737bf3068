"""Service operations seen in the local Personalize, attributed to the stack resource that started them.

`Attribution` knows which stack resource the code running now works for: the engine sets it around
each step of a resource's operation and around a Lambda invocation made on a resource's behalf;
a Step Functions execution inherits the resource whose invocation started it.

The critical path needs each service operation's start and end (an import job from CreateDatasetImportJob
to ACTIVE, a training, a campaign creation or update) and which resource's handler started it. After
every Lambda invocation the runner compares the local Personalize's resources with the previous
snapshot: a new ARN (or a new campaign update) is an operation started by the resource that invocation
served. Its end is the resource's `updated` time when it is first seen in a terminal status; the local
Personalize stamps that with the exact virtual time of the transition, not the time it was noticed.

`Watchers` is for whoever wants to look at the world while a stack operation runs (a client asking a
campaign for recommendations during an update, say): each watcher is called with a `Moment` after
every stack event and, while the operation waits (a training of hours), every `every` virtual
seconds. Watching changes nothing the operation does: the ticks only wake the scheduler, which
moves the clock to the same wake-ups either way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from local.runner.results import Event
from local.runner.sim import Proc, Sleep

TERMINAL = ("ACTIVE", "CREATE FAILED")


@dataclass
class ServiceOp:
    kind: str
    arn: str
    resource: str  # logical id of the stack resource whose handler started it
    start: float
    end: float | None = None
    status: str = ""


class OperationObserver:
    """Watches `world.personalize.resources` (if the world has a local Personalize)."""

    def __init__(self, world: Any) -> None:
        self.backend: Any = getattr(world, "personalize", None)
        self.ops: list[ServiceOp] = []
        self._seen: set[tuple[str, float]] = set()
        self._open: list[tuple[ServiceOp, Any]] = []
        if self.backend is not None:
            self._seen = {key for key, _ in self._items()}

    def _items(self) -> list[tuple[tuple[str, float], tuple[str, Any]]]:
        items = []
        for resource in list(self.backend.resources.values()):
            items.append(((resource.arn, resource.created), (resource.KIND, resource)))
            update = getattr(resource, "latest_update", None)
            if update is not None:
                items.append(((resource.arn + "#update", update.created), ("campaign-update", update)))
        return items

    def after_invoke(self, logical_id: str | None) -> None:
        if self.backend is None:
            return
        for key, (kind, obj) in self._items():
            if key in self._seen:
                continue
            self._seen.add(key)
            if logical_id is None:
                continue
            op = ServiceOp(kind, key[0], logical_id, key[1])
            self.ops.append(op)
            self._open.append((op, obj))
        still = []
        for op, obj in self._open:
            if obj.status in TERMINAL:
                op.end, op.status = obj.updated, obj.status
            else:
                still.append((op, obj))
        self._open = still

    def close(self, now: float) -> None:
        """Operations still running (or gone) at the end: end them where they were last seen."""
        self.after_invoke(None)
        for op, obj in self._open:
            op.status = obj.status
            op.end = obj.updated if obj.status in TERMINAL else None
        self._open = []


class Attribution:
    """`current`: the logical id of the stack resource the running code works for (None: none)."""

    def __init__(self) -> None:
        self.current: str | None = None

    @contextmanager
    def acting_for(self, logical_id: str) -> Iterator[None]:
        previous, self.current = self.current, logical_id
        try:
            yield
        finally:
            self.current = previous

    def scoped(self, gen: Proc, owner: str) -> Proc:
        """Run a sub-generator with `current` set to its owner on every step (exceptions thrown
        in, such as a cancellation, are passed on to it)."""
        value: Any = None
        error: BaseException | None = None
        while True:
            previous, self.current = self.current, owner
            try:
                command = gen.throw(error) if error is not None else gen.send(value)
            except StopIteration as stop:
                return stop.value
            finally:
                self.current = previous
            error = None
            try:
                value = yield command
            except GeneratorExit:
                gen.close()
                raise
            except BaseException as thrown:
                error = thrown


@dataclass(frozen=True)
class Moment:
    """A point of a stack operation a watcher is shown: the virtual time, and the stack event just
    recorded (None on a tick of a wait)."""

    at: float
    event: Event | None = None


Watcher = Callable[[Moment], None]


class Watchers:
    """The runner's watchers (`Runner.watchers`) and how often they look during waits."""

    def __init__(self, every: float = 60.0) -> None:
        self.every = every
        self.watchers: list[Watcher] = []

    def __bool__(self) -> bool:
        return bool(self.watchers)

    def append(self, watcher: Watcher) -> None:
        self.watchers.append(watcher)

    def show(self, moment: Moment) -> None:
        for watcher in self.watchers:
            watcher(moment)

    def ticks(self, now: Callable[[], float]) -> Proc:
        """A daemon task of the operation's simulation: a `Moment` every `every` virtual seconds
        (the engine cancels it before the background executions drain)."""
        while True:
            yield Sleep(self.every)
            self.show(Moment(now()))
