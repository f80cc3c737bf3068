"""Custom::PersonalizeEventTracker (properties: contract.EVENT_TRACKER). Data adds TrackingId.

A dataset group holds one event tracker (CreateEventTracker: "Only one event tracker can be
associated with a dataset group"), and a tracker's name cannot change, so a rename within the same
dataset group cannot create the new tracker before CloudFormation deletes the old one, as a
replacement would. Instead the Update deletes the old tracker first and answers the physical id
`pending-event-tracker/<new name>` (its ARN is made by the service, which only exists once the old
tracker is gone); isComplete creates the new tracker when the group has no other tracker left
and reports its Arn and TrackingId. Later events resolve that physical id by the name it carries.
The new tracker has a new tracking id: PutEvents callers must switch to it (docs/aws-contracts.md).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from .base import ACTIVE, CREATE_FAILED, DELETING, IN_PROGRESS, Ctx, Kind, diffs, list_all
from .common import failure, is_personalize_arn
from .contract import EVENT_TRACKER

#: The physical id of a tracker renamed in place: `pending-event-tracker/<name>`.
PENDING = "pending-event-tracker/"


class EventTracker(Kind):
    spec = EVENT_TRACKER
    arn_kind = "event-tracker"
    arn_key = "eventTrackerArn"
    result_key = "eventTracker"

    def create_params(self, ctx: Ctx, name: str) -> dict[str, Any]:
        return {"name": name, "datasetGroupArn": self.prop(ctx, "DatasetGroupArn")}

    def mismatches(self, ctx: Ctx, existing: Mapping[str, Any]) -> list[str]:
        return diffs({"datasetGroupArn": ctx.props.get("DatasetGroupArn")}, existing)

    def find(self, ctx: Ctx, name: str) -> dict[str, Any] | None:
        return self.find_listed(ctx, name, "list_event_trackers", "eventTrackers")

    def data(self, ctx: Ctx, arn: str, described: Mapping[str, Any] | None = None) -> dict[str, Any]:
        out = super().data(ctx, arn, described)
        tracking = (described or {}).get("trackingId") or ctx.event.data.get("TrackingId")
        if tracking:
            out["TrackingId"] = tracking
        return out

    # ---- a rename within one dataset group: delete first -------------------------------------

    def resolved(self, ctx: Ctx) -> str | None:
        """The tracker ARN behind the physical id (a pending one is found by the name it carries)."""
        physical = ctx.event.physical_id or ""
        if not physical.startswith(PENDING):
            return physical
        found = self.find(ctx, physical.removeprefix(PENDING))
        return str(found[self.arn_key]) if found else None

    def with_arn(self, ctx: Ctx, arn: str | None) -> Ctx:
        return dataclasses.replace(ctx, event=dataclasses.replace(ctx.event, physical_id=arn))

    def on_update(self, ctx: Ctx) -> dict[str, Any]:
        event = ctx.event
        physical = event.physical_id or ""
        current = self.resolved(ctx)
        renamed = "Name" in event.changed()
        same_group = event.properties.get("DatasetGroupArn") == event.old_properties.get("DatasetGroupArn")
        if not (renamed and same_group):
            answer = super().on_update(self.with_arn(ctx, current))
            if answer["PhysicalResourceId"] == current:
                answer["PhysicalResourceId"] = physical  # in place: the id CloudFormation knows
            return answer
        if is_personalize_arn(current, self.arn_kind):
            assert current is not None
            self.try_delete(ctx, current)
        name = self.prop(ctx, "Name")
        return {"PhysicalResourceId": PENDING + name, "Data": {"Name": name}}

    def is_complete(self, ctx: Ctx) -> dict[str, Any]:
        physical = ctx.event.physical_id or ""
        if ctx.event.request_type == "Delete" or not physical.startswith(PENDING):
            return super().is_complete(ctx)
        name = physical.removeprefix(PENDING)
        found = self.find(ctx, name)
        if found is None:
            group = self.prop(ctx, "DatasetGroupArn")
            others = [t for t in list_all(ctx, "list_event_trackers", "eventTrackers", datasetGroupArn=group)
                      if t.get("name") != name]
            staying = [t for t in others if t.get("status") not in DELETING]
            if staying:
                raise failure(self.label, name, self.create_op,
                              f"dataset group {group} already holds event tracker "
                              f"{staying[0].get('name')} ({staying[0].get('eventTrackerArn')}), and a "
                              "dataset group holds one")
            if others:
                return {"IsComplete": False}  # the old tracker is still being deleted
            self.create(ctx)
            return {"IsComplete": False}
        status = found.get("status", ACTIVE)
        if status == CREATE_FAILED:
            raise failure(self.label, ctx.name, self.create_op,
                          found.get("failureReason") or "CREATE FAILED without a failureReason")
        if status in IN_PROGRESS:
            return {"IsComplete": False}
        return {"IsComplete": True, "Data": self.data(ctx, str(found[self.arn_key]), found)}

    def target(self, ctx: Ctx) -> str | None:
        physical = ctx.event.physical_id or ""
        if physical.startswith(PENDING):
            return self.resolved(ctx)  # by the name in the id, never the properties'
        return super().target(ctx)
