"""Custom::PersonalizeEventTracker: Name, DatasetGroupArn, Tags. Data adds TrackingId."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Ctx, Kind, diff, list_all
from .common import require, to_tags


class EventTracker(Kind):
    resource_type = "Custom::PersonalizeEventTracker"
    label = "EventTracker"
    arn_kind = "event-tracker"
    arn_key = "eventTrackerArn"
    result_key = "eventTracker"

    def create_params(self, ctx: Ctx, name: str) -> dict[str, Any]:
        params: dict[str, Any] = {"name": name,
                                  "datasetGroupArn": require(ctx.props, "DatasetGroupArn", self.label, name)}
        tags = to_tags(ctx.props.get("Tags"))
        if tags:
            params["tags"] = tags
        return params

    def mismatches(self, ctx: Ctx, existing: Mapping[str, Any]) -> list[str]:
        wanted = ctx.props.get("DatasetGroupArn")
        return [] if existing.get("datasetGroupArn") == wanted else [
            diff("datasetGroupArn", existing.get("datasetGroupArn"), wanted)]

    def find(self, ctx: Ctx, name: str) -> dict[str, Any] | None:
        for item in list_all(ctx, "list_event_trackers", "eventTrackers"):
            if item.get("name") == name:
                return self.describe(ctx, item["eventTrackerArn"])
        return None

    def data(self, ctx: Ctx, arn: str, described: Mapping[str, Any] | None = None) -> dict[str, Any]:
        out = super().data(ctx, arn, described)
        tracking = (described or {}).get("trackingId") or ctx.event.data.get("TrackingId")
        if tracking:
            out["TrackingId"] = tracking
        return out
