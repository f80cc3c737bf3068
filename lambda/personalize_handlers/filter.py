"""Custom::PersonalizeFilter: Name, DatasetGroupArn, FilterExpression, Tags. Filters are
immutable: a new expression comes with a new (hashed) name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Ctx, Kind, diff, list_all
from .common import require, to_tags


class Filter(Kind):
    resource_type = "Custom::PersonalizeFilter"
    label = "Filter"
    arn_kind = "filter"
    arn_key = "filterArn"
    result_key = "filter"

    def create_params(self, ctx: Ctx, name: str) -> dict[str, Any]:
        params: dict[str, Any] = {
            "name": name,
            "datasetGroupArn": require(ctx.props, "DatasetGroupArn", self.label, name),
            "filterExpression": require(ctx.props, "FilterExpression", self.label, name),
        }
        tags = to_tags(ctx.props.get("Tags"))
        if tags:
            params["tags"] = tags
        return params

    def mismatches(self, ctx: Ctx, existing: Mapping[str, Any]) -> list[str]:
        out = []
        for key, prop in (("datasetGroupArn", "DatasetGroupArn"), ("filterExpression", "FilterExpression")):
            if existing.get(key) != ctx.props.get(prop):
                out.append(diff(key, existing.get(key), ctx.props.get(prop)))
        return out

    def find(self, ctx: Ctx, name: str) -> dict[str, Any] | None:
        for item in list_all(ctx, "list_filters", "Filters"):
            if item.get("name") == name:
                return self.describe(ctx, item["filterArn"])
        return None
