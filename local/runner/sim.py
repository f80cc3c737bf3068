"""A discrete-event scheduler on the virtual clock.

Every long-running thing the runner emulates (a resource operation, the Provider framework's
isComplete loop, a WaitCondition, a Step Functions execution) is a generator that yields what it
waits for: `Sleep(seconds)` or `Until(predicate, timeout)`. The scheduler steps every task that is
ready at the current virtual time, and only when none is ready moves the clock to the earliest
wake-up. Independent operations therefore overlap in virtual time exactly as they would in real
time, and a six-hour training costs a few hundred generator steps.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, Protocol


class Clock(Protocol):
    def now(self) -> float: ...

    def advance(self, seconds: float) -> float: ...


@dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclass(frozen=True)
class Until:
    """Wait until `predicate()` is true (resumes with True) or `timeout` seconds pass (False)."""

    predicate: Callable[[], bool]
    timeout: float | None = None


Command = Sleep | Until
Proc = Generator[Command, Any, Any]


class Deadlock(RuntimeError):
    """Tasks wait for conditions nothing can make true and no timer is left."""


class Cancelled(Exception):
    """Thrown into a task that is cancelled (e.g. a WaitCondition when the stack rolls back)."""


@dataclass(eq=False)
class Task:
    name: str
    gen: Proc
    daemon: bool = False
    #: only looks (a watcher's ticks): never keeps `run` going, never hides a deadlock
    observer: bool = False
    done: bool = False
    result: Any = None
    error: BaseException | None = None
    wake_at: float | None = None
    predicate: Callable[[], bool] | None = None
    started: bool = False
    on_done: list[Callable[[Task], None]] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.done and self.error is not None


class Simulation:
    """Runs tasks on a shared virtual clock. `after_step` runs after every step (the runner uses it
    to notice Step Functions executions a Lambda just started)."""

    def __init__(self, clock: Clock, after_step: Callable[[], None] | None = None) -> None:
        self.clock = clock
        self.tasks: list[Task] = []
        self.after_step = after_step
        self.steps = 0

    def now(self) -> float:
        return self.clock.now()

    def spawn(self, gen: Proc, name: str, daemon: bool = False, observer: bool = False) -> Task:
        """Start a task; a daemon task does not keep `run` going (background executions); an
        observer task is a daemon whose wake-ups alone never move the clock on."""
        task = Task(name=name, gen=gen, daemon=daemon or observer, observer=observer)
        self.tasks.append(task)
        return task

    def cancel(self, task: Task) -> None:
        """Throw `Cancelled` into a waiting task; it may clean up and return or re-raise."""
        if task.done:
            return
        self._step(task, throw=Cancelled(f"{task.name} cancelled"))

    def run(self, stop: Callable[[], bool] | None = None) -> None:
        """Step until every non-daemon task is done (or `stop()` is true)."""
        while True:
            progressed = True
            while progressed:
                progressed = False
                for task in list(self.tasks):
                    if task.done:
                        continue
                    ready, value = self._ready(task)
                    if ready:
                        self._step(task, send=value)
                        progressed = True
                self.tasks = [t for t in self.tasks if not t.done]
                if stop is not None and stop():
                    return
            live = [t for t in self.tasks if not t.done]
            if not any(not t.daemon for t in live):
                return
            wakes = [t.wake_at for t in live if t.wake_at is not None and not t.observer]
            if not wakes:
                waiting = ", ".join(t.name for t in live if not t.observer)
                raise Deadlock(f"waiting forever (nothing scheduled): {waiting}")
            looks = [t.wake_at for t in live if t.observer and t.wake_at is not None]
            target = min(wakes + looks)
            now = self.clock.now()
            if target > now:
                self.clock.advance(target - now)

    def drain(self, horizon_seconds: float) -> list[Task]:
        """Run daemon tasks (background executions) for up to `horizon_seconds` of virtual time;
        returns the ones still running."""
        deadline = self.clock.now() + horizon_seconds
        for task in self.tasks:
            task.daemon = task.observer
        guard = self.spawn(_sleep_until(self.clock, deadline), "drain-horizon", daemon=True)

        def all_done() -> bool:
            return all(t.done or t is guard for t in self.tasks)

        self.run(stop=all_done)
        return [t for t in self.tasks if not t.done and t is not guard]

    # --- internals -----------------------------------------------------------------------------
    def _ready(self, task: Task) -> tuple[bool, Any]:
        if not task.started:
            return True, None
        now = self.clock.now()
        if task.predicate is not None:
            if task.predicate():
                return True, True
            if task.wake_at is not None and now >= task.wake_at:
                return True, False
            return False, None
        if task.wake_at is not None and now >= task.wake_at:
            return True, None
        return False, None

    def _step(self, task: Task, send: Any = None, throw: BaseException | None = None) -> None:
        task.started = True
        task.wake_at = None
        task.predicate = None
        self.steps += 1
        try:
            command = task.gen.throw(throw) if throw is not None else task.gen.send(send)
        except StopIteration as stop:
            self._finish(task, result=stop.value)
        except BaseException as error:
            self._finish(task, error=error)
        else:
            now = self.clock.now()
            if isinstance(command, Sleep):
                task.wake_at = now + max(0.0, float(command.seconds))
            elif isinstance(command, Until):
                task.predicate = command.predicate
                task.wake_at = None if command.timeout is None else now + max(0.0, command.timeout)
            else:
                self._finish(task, error=TypeError(f"{task.name} yielded {command!r}"))
        if self.after_step is not None:
            self.after_step()

    def _finish(self, task: Task, result: Any = None, error: BaseException | None = None) -> None:
        task.done = True
        task.result = result
        task.error = error
        for callback in task.on_done:
            callback(task)


def _sleep_until(clock: Clock, when: float) -> Proc:
    now = clock.now()
    if when > now:
        yield Sleep(when - now)


def wait_all(tasks: list[Task]) -> Proc:
    """Yield until every task is done (a join)."""
    if not all(t.done for t in tasks):
        yield Until(lambda: all(t.done for t in tasks))
