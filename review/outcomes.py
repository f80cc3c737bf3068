"""What the update did to each resource, read from CloudFormation's record of the stack before and
after it (physical ids and resolved properties), the way `describe-stack-resources` would show it:

- created: only after; deleted: only before (retained: removed from the stack, DeletionPolicy Retain);
- replaced: a new physical id (a new Personalize ARN, whoever decided it: the type or the handler);
- updated: the same physical id, other properties; untouched: the same properties;
- rolled back: the update failed, and this resource, which it had started to change, is as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from local.runner import OperationResult, StackState

OUTCOMES = ("created", "updated", "replaced", "deleted", "retained", "rolled back", "untouched")


@dataclass
class ResourceChange:
    logical_id: str
    type: str
    outcome: str
    before_id: str | None = None
    after_id: str | None = None
    #: resolved properties that differ (an update), as (name, before, after)
    changed: list[tuple[str, Any, Any]] = field(default_factory=list)
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)
    deletion_policy: str = "Delete"
    #: service terms: filled in by review.kinds
    consequences: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        props = self.after or self.before
        return str(props.get("Name") or props.get("JobName") or props.get("Key") or "")

    @property
    def changed_names(self) -> list[str]:
        return [name for name, _, _ in self.changed]


def changed_properties(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    return [
        (key, before.get(key), after.get(key))
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    ]


def outcomes(before: StackState, after: StackState, update: OperationResult) -> dict[str, ResourceChange]:
    """Every resource of either record with what the update did to it."""
    retained = {r["logical_id"] for r in after.retained}
    attempted = {t.logical_id for t in update.timings.values() if not t.logical_id.startswith("delete ")}
    rolled_back = update.status.startswith("UPDATE_ROLLBACK")
    changes: dict[str, ResourceChange] = {}
    for lid in sorted(set(before.resources) | set(after.resources)):
        old, new = before.resources.get(lid), after.resources.get(lid)
        res = new or old
        assert res is not None
        change = ResourceChange(lid, res.type, "untouched", deletion_policy=res.deletion_policy)
        if old is not None:
            change.before_id, change.before = old.physical_id, old.properties
        if new is not None:
            change.after_id, change.after = new.physical_id, new.properties
        if old is None:
            change.outcome = "created"
        elif new is None:
            change.outcome = "retained" if lid in retained else "deleted"
        elif new.physical_id != old.physical_id:
            change.outcome = "replaced"
        elif new.properties != old.properties:
            change.outcome = "updated"
        elif rolled_back and lid in attempted:
            change.outcome = "rolled back"
        if old is not None and new is not None:
            change.changed = changed_properties(old.properties, new.properties)
        if rolled_back and lid in attempted and change.outcome == "untouched":
            change.outcome = "rolled back"
        changes[lid] = change
    if rolled_back:  # created by the update, then deleted by its rollback: in neither record
        for timing in update.timings.values():
            if timing.logical_id not in changes and not timing.logical_id.startswith("delete "):
                changes[timing.logical_id] = ResourceChange(timing.logical_id, timing.type, "rolled back")
    return changes


def is_personalize(type_name: str) -> bool:
    return type_name.startswith("Custom::Personalize")
