"""Custom::PersonalizeEventTracker (properties: contract.EVENT_TRACKER). Data adds TrackingId."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Ctx, Kind, diffs
from .contract import EVENT_TRACKER


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
