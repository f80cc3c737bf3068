"""Custom::PersonalizeFilter (properties: contract.FILTER). Filters are immutable: a new expression
comes with a new (hashed) name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Ctx, Kind, diffs
from .contract import FILTER


class Filter(Kind):
    spec = FILTER
    arn_kind = "filter"
    arn_key = "filterArn"
    result_key = "filter"

    def create_params(self, ctx: Ctx, name: str) -> dict[str, Any]:
        params: dict[str, Any] = {
            "name": name,
            "datasetGroupArn": self.prop(ctx, "DatasetGroupArn"),
            "filterExpression": self.prop(ctx, "FilterExpression"),
        }
        return params

    def mismatches(self, ctx: Ctx, existing: Mapping[str, Any]) -> list[str]:
        return diffs({"datasetGroupArn": ctx.props.get("DatasetGroupArn"),
                      "filterExpression": ctx.props.get("FilterExpression")}, existing)

    def find(self, ctx: Ctx, name: str) -> dict[str, Any] | None:
        return self.find_listed(ctx, name, "list_filters", "Filters")
