"""Custom::PersonalizeSolution: Name, DatasetGroupArn, RecipeArn, PerformHPO, PerformAutoTraining,
SolutionConfig, EventType, Tags.

performAutoTraining is always sent, default false: the service's own default retrains every
7 days at the customer's cost. Everything but Tags is immutable here (the stack hashes all of it,
performAutoTraining included, into the name), so a change is a replacement under a new name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Ctx, Kind, diff
from .common import is_subset, require, to_bool, to_json_object


class Solution(Kind):
    resource_type = "Custom::PersonalizeSolution"
    label = "Solution"
    arn_kind = "solution"
    arn_key = "solutionArn"
    result_key = "solution"

    def wanted(self, ctx: Ctx, name: str) -> dict[str, Any]:
        config = to_json_object(ctx.props.get("SolutionConfig"), "SolutionConfig")
        params: dict[str, Any] = {
            "datasetGroupArn": require(ctx.props, "DatasetGroupArn", self.label, name),
            "recipeArn": require(ctx.props, "RecipeArn", self.label, name),
            "performHPO": to_bool(ctx.props.get("PerformHPO"), "PerformHPO"),
            "performAutoTraining": to_bool(ctx.props.get("PerformAutoTraining"), "PerformAutoTraining"),
        }
        if config:
            params["solutionConfig"] = config
        if ctx.props.get("EventType"):
            params["eventType"] = ctx.props["EventType"]
        return params

    def create_params(self, ctx: Ctx, name: str) -> dict[str, Any]:
        return {"name": name, **self.wanted(ctx, name)}

    def mismatches(self, ctx: Ctx, existing: Mapping[str, Any]) -> list[str]:
        out = []
        for key, value in self.wanted(ctx, ctx.name).items():
            if key == "solutionConfig":
                if not is_subset(value, existing.get(key) or {}):
                    out.append(diff(key, existing.get(key), value))
            elif key in ("performHPO", "performAutoTraining"):
                if bool(existing.get(key, False)) != value:
                    out.append(diff(key, existing.get(key), value))
            elif existing.get(key) != value:
                out.append(diff(key, existing.get(key), value))
        return out

    def find(self, ctx: Ctx, name: str) -> dict[str, Any] | None:
        return self.find_listed(ctx, name, "list_solutions", "solutions")
