"""What follows the resources' work in a stack operation: the rollback of a failed create or
update, and the cleanup phase of a successful update.

- A failed create: every resource created so far (or left half-created with a physical id) is
  deleted, dependents first; the stack ends ROLLBACK_COMPLETE (ROLLBACK_FAILED if a delete fails).
  DeletionPolicy Retain is honoured; RetainExceptOnCreate resources go.
- A failed update: resources updated in place (the failed one included) get an Update back to
  their previous properties (OldResourceProperties: the attempted ones), dependencies first;
  replaced resources point back to their old physical resource and the new one is deleted; resources
  the update created are deleted; UPDATE_ROLLBACK_COMPLETE (UPDATE_ROLLBACK_FAILED if any of it
  fails).
- The cleanup phase of a successful update: the old physical resources of replaced resources
  (unless UpdateReplacePolicy Retain) and the resources removed from the template (DeletionPolicy)
  are deleted.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from local.runner.deletion import Deletion, Perform
from local.runner.resources import Op, ResourceFailed
from local.runner.results import Journal
from local.runner.sim import Proc, Simulation, Task, Until
from local.runner.state import ResourceState, StackState


@dataclass
class Touched:
    """What a deploy did to one resource: `action` CREATE, UPDATE (in place) or REPLACE (a new
    physical resource), the resource as it was before (None: created by this deploy), the
    properties it attempted, and the physical id a failed in-place update left."""

    action: str
    previous: ResourceState | None
    attempted: dict[str, Any]
    failed_physical_id: str | None = None


class Rollback:
    """Over the operation's live `resources` (changed in place) and its record `stack`."""

    def __init__(
        self,
        stack: StackState,
        resources: dict[str, ResourceState],
        deps: dict[str, list[str]],
        touched: dict[str, Touched],
        journal: Journal,
        sim: Simulation,
        deletion: Deletion,
        perform: Perform,
    ) -> None:
        self.stack = stack
        self.resources = resources
        self.deps = deps
        self.touched = touched
        self.journal = journal
        self.sim = sim
        self.deletion = deletion
        self.perform = perform

    def failed_create(self, reason: str) -> None:
        state = self.stack
        state.reason = reason
        state.status = "ROLLBACK_IN_PROGRESS"
        self.journal.event(state.name, state.status, f"The following resource(s) failed: {reason}")
        doomed = [lid for lid, r in self.resources.items() if r.physical_id]
        failed = self.deletion.delete_all(doomed, {lid: self.resources[lid] for lid in doomed}, rollback=True)
        for lid in list(self.resources):
            if lid not in failed:
                self.resources.pop(lid)
        state.status = "ROLLBACK_FAILED" if failed else "ROLLBACK_COMPLETE"
        state.outputs = {}
        self.journal.event(state.name, state.status)

    def failed_update(self, reason: str) -> None:
        state = self.stack
        state.reason = reason
        state.status = "UPDATE_ROLLBACK_IN_PROGRESS"
        self.journal.event(state.name, state.status, f"The following resource(s) failed: {reason}")
        cleanup: dict[str, ResourceState] = {}
        failures: list[str] = []
        rollback_updates = [lid for lid, t in self.touched.items() if t.previous is not None]
        self.sim.after_step = None
        order = _dependencies_first(rollback_updates, self.deps)
        tasks: dict[str, Task] = {}
        for lid in order:
            tasks[lid] = self.sim.spawn(self._roll_back(lid, tasks, cleanup, failures), f"rollback {lid}")
        self.sim.run()
        created = [lid for lid, t in self.touched.items() if t.previous is None]
        state.status = "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"
        self.journal.event(state.name, state.status)
        leftover = {
            lid: self.resources[lid]
            for lid in created
            if lid in self.resources and self.resources[lid].physical_id
        }
        leftover.update({f"{lid} (new)": r for lid, r in cleanup.items()})
        failed = self.deletion.delete_all(list(leftover), leftover, rollback=True)
        for lid in created:
            if lid not in failed:
                self.resources.pop(lid, None)
        state.status = "UPDATE_ROLLBACK_FAILED" if failures or failed else "UPDATE_ROLLBACK_COMPLETE"
        self.journal.event(state.name, state.status)

    def _roll_back(
        self, lid: str, tasks: dict[str, Task], cleanup: dict[str, ResourceState], failures: list[str]
    ) -> Proc:
        """One resource of a failed update back to what it was, after its dependencies."""
        before = [tasks[d] for d in self.deps.get(lid, []) if d in tasks]
        if not all(t.done for t in before):
            yield Until(lambda: all(t.done for t in before))
        touched = self.touched[lid]
        prev = touched.previous
        assert prev is not None
        current = self.resources[lid]
        if touched.action == "REPLACE" or prev.type != current.type:
            # the old physical resource was never touched: keep it, delete the new one
            if current.physical_id and current.physical_id != prev.physical_id:
                cleanup[lid] = current
            self.resources[lid] = prev
            self.journal.event(
                lid, "UPDATE_COMPLETE", "rolled back to the previous physical resource", count=False
            )
            return
        physical_id = touched.failed_physical_id or current.physical_id or prev.physical_id
        op = Op(
            lid,
            prev.type,
            prev.properties,
            old_properties=touched.attempted,
            physical_id=physical_id,
            attributes=dict(current.attributes),
            extra=dict(current.extra),
            generation=prev.generation,
        )
        self.journal.event(lid, "UPDATE_IN_PROGRESS", "rolling back to the previous properties")
        try:
            new_id, attributes = yield from self.perform("update", op)
        except (ResourceFailed, Exception) as error:
            failures.append(lid)
            self.journal.event(lid, "UPDATE_FAILED", str(error))
            return
        if physical_id and new_id != physical_id and physical_id != prev.physical_id:
            replaced = copy.deepcopy(current)
            replaced.physical_id = physical_id
            cleanup[lid] = replaced
        restored = copy.deepcopy(prev)
        restored.physical_id, restored.attributes, restored.extra = new_id, dict(attributes), op.extra
        self.resources[lid] = restored
        self.journal.event(lid, "UPDATE_COMPLETE")

    def cleanup(self, removed: list[str]) -> None:
        """After a successful update: UPDATE_COMPLETE_CLEANUP_IN_PROGRESS, then the deletes."""
        self.stack.status = "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"
        self.journal.event(self.stack.name, self.stack.status)
        doomed: dict[str, ResourceState] = {}
        for lid, touched in self.touched.items():
            prev = touched.previous
            if (
                touched.action == "REPLACE"
                and prev is not None
                and prev.physical_id
                and prev.physical_id != self.resources[lid].physical_id
            ):
                if prev.update_replace_policy == "Retain":
                    self.journal.note(
                        f"{lid}: old physical resource {prev.physical_id} retained (UpdateReplacePolicy)"
                    )
                    continue
                doomed[f"{lid} (old)"] = prev
        for lid in removed:
            doomed[lid] = self.resources[lid]
        self.deletion.delete_all(list(doomed), doomed, rollback=False)
        for lid in removed:
            self.resources.pop(lid, None)


def _dependencies_first(nodes: list[str], deps: dict[str, list[str]]) -> list[str]:
    chosen = set(nodes)
    order: list[str] = []
    seen: set[str] = set()

    def visit(node: str) -> None:
        if node in seen:
            return
        seen.add(node)
        for dep in deps.get(node, []):
            if dep in chosen:
                visit(dep)
        order.append(node)

    for node in nodes:
        visit(node)
    return order
