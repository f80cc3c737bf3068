"""Custom::PersonalizeSolution (properties: contract.SOLUTION).

performAutoTraining is always sent, default false: the service's own default retrains every
7 days at the customer's cost. Everything but Tags is immutable here (the stack hashes all of it,
performAutoTraining included, into the name), so a change is a replacement under a new name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Ctx, Kind, diff
from .common import is_subset
from .contract import SOLUTION


class Solution(Kind):
    spec = SOLUTION
    arn_kind = "solution"
    arn_key = "solutionArn"
    result_key = "solution"

    def wanted(self, ctx: Ctx, name: str) -> dict[str, Any]:
        config = self.prop(ctx, "SolutionConfig")
        params: dict[str, Any] = {
            "datasetGroupArn": self.prop(ctx, "DatasetGroupArn"),
            "recipeArn": self.prop(ctx, "RecipeArn"),
            "performHPO": self.prop(ctx, "PerformHPO"),
            "performAutoTraining": self.prop(ctx, "PerformAutoTraining"),
        }
        if config:
            params["solutionConfig"] = config
        event_type = self.prop(ctx, "EventType")
        if event_type:
            params["eventType"] = event_type
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
