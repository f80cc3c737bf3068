"""Deleting stack resources as CloudFormation does: dependents first, independent ones at the same
virtual time, DeletionPolicy honoured. Destroy, the rollback of a failed create or update and an
update's cleanup phase all delete through `Deletion.delete_all`.

A resource is deleted only once everything that depends on it is deleted: when a dependent's delete
failed, the resource is kept too (not attempted), as CloudFormation keeps it, so a later destroy
still reaches it, e.g. the Provider functions a failed custom resource needs for its next Delete
(docs/local-runner.md, "Destroy").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from local.runner.resources import Op, ResourceFailed
from local.runner.results import Journal, Timing
from local.runner.sim import Proc, Simulation, Task, Until
from local.runner.state import ResourceState, StackState

Action = Literal["create", "update", "delete"]
#: runs a resource type's create, update or delete of an Op for its resource (the engine's)
Perform = Callable[[Action, Op], Proc]


class Deletion:
    """Deletes for one stack operation; resources left on purpose (Retain) are listed in
    `stack.retained`."""

    def __init__(self, sim: Simulation, journal: Journal, stack: StackState, perform: Perform) -> None:
        self.sim = sim
        self.journal = journal
        self.stack = stack
        self.perform = perform

    def delete_all(self, keys: list[str], items: dict[str, ResourceState], rollback: bool) -> set[str]:
        """Delete `items` (by key: a logical id, or `<id> (old)` / `<id> (new)` for the other
        physical resource of a replacement); returns the logical ids that failed or were kept.
        `rollback`: part of undoing the operation that created them (RetainExceptOnCreate
        resources go then)."""
        by_logical = {items[k].logical_id: k for k in keys}
        dependents: dict[str, list[str]] = {k: [] for k in keys}
        for key in keys:
            for dep in items[key].depends_on:
                if dep in by_logical and by_logical[dep] != key:
                    dependents[by_logical[dep]].append(key)
        tasks: dict[str, Task] = {}
        failed: set[str] = set()
        self.journal.phase(len(keys))
        for key in keys:
            tasks[key] = self.sim.spawn(
                self._delete_one(key, items[key], dependents[key], tasks, failed, rollback), f"delete {key}"
            )
        self.sim.run()
        return {items[k].logical_id for k in failed}

    def _delete_one(
        self,
        key: str,
        res: ResourceState,
        dependents: list[str],
        tasks: dict[str, Task],
        failed: set[str],
        rollback: bool,
    ) -> Proc:
        def ready() -> bool:
            return all(tasks[d].done for d in dependents)

        if not ready():
            yield Until(ready)
        kept_by = [d for d in dependents if d in failed]
        if kept_by:
            failed.add(key)
            res.reason = f"not deleted: {', '.join(sorted(kept_by))} failed to delete and depend(s) on it"
            self.journal.note(f"{res.logical_id}: kept, {res.reason}")
            return
        policy = res.deletion_policy
        if policy == "Retain" or (policy == "RetainExceptOnCreate" and not rollback):
            self.journal.event(key, "DELETE_SKIPPED", count=True)
            self.stack.retained.append(
                {"logical_id": res.logical_id, "type": res.type, "physical_id": res.physical_id}
            )
            return
        if res.physical_id is None:
            return
        self.journal.event(key, "DELETE_IN_PROGRESS")
        start = self.journal.now()
        op = Op(
            res.logical_id,
            res.type,
            res.properties,
            physical_id=res.physical_id,
            attributes=dict(res.attributes),
            extra=dict(res.extra),
            generation=res.generation,
        )
        try:
            yield from self.perform("delete", op)
        except (ResourceFailed, Exception) as error:
            failed.add(key)
            res.status, res.reason = "DELETE_FAILED", str(error)
            self.journal.event(key, "DELETE_FAILED", str(error), count=True)
            return
        res.status = "DELETE_COMPLETE"
        self.journal.timings.setdefault(
            f"delete {key}", Timing(key, res.type, "DELETE", start, self.journal.now(), "DELETE_COMPLETE")
        )
        self.journal.event(key, "DELETE_COMPLETE", count=True)
