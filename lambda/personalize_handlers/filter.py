"""Custom::PersonalizeFilter: Name, DatasetGroupArn, FilterExpression, Tags. Filters are
immutable: a new expression comes with a new (hashed) name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Ctx, Kind, diffs
from .common import require


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
        return params

    def mismatches(self, ctx: Ctx, existing: Mapping[str, Any]) -> list[str]:
        return diffs({"datasetGroupArn": ctx.props.get("DatasetGroupArn"),
                      "filterExpression": ctx.props.get("FilterExpression")}, existing)

    def find(self, ctx: Ctx, name: str) -> dict[str, Any] | None:
        return self.find_listed(ctx, name, "list_filters", "Filters")
