"""Custom::PersonalizeSolution (properties: contract.SOLUTION).

performAutoTraining is always sent, default false: the service's own default retrains every
7 days at the customer's cost. PerformAutoTraining and SolutionConfig's autoTrainingConfig and
eventsConfig change in place with UpdateSolution (botocore UpdateSolutionRequest,
SolutionUpdateConfig), waited for through latestSolutionUpdate within the custom resource's hour
(is_complete); no new training starts. Everything else of the solution is in its name (the stack
hashes it), so a change of it is a replacement under a new name."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import ACTIVE, CREATE_FAILED, IN_PROGRESS, Ctx, Kind, diff
from .common import failure, is_subset
from .contract import SOLUTION

#: solutionConfig members UpdateSolution takes (botocore SolutionUpdateConfig).
UPDATABLE = ("autoTrainingConfig", "eventsConfig")
#: "The default is every 7 days" (botocore AutoTrainingConfig.schedulingExpression).
DEFAULT_SCHEDULE = "rate(7 days)"


def _fixed(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """solutionConfig without what UpdateSolution changes."""
    return {k: v for k, v in (config or {}).items() if k not in UPDATABLE}


def _schedule(config: Mapping[str, Any] | None) -> str:
    return str(((config or {}).get("autoTrainingConfig") or {}).get("schedulingExpression")
               or DEFAULT_SCHEDULE)


def _events(config: Mapping[str, Any] | None) -> list[Any]:
    return list(((config or {}).get("eventsConfig") or {}).get("eventParametersList") or [])


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

    # ---- in-place updates: UpdateSolution ------------------------------------------------------

    def update_params(self, ctx: Ctx) -> dict[str, Any]:
        """UpdateSolution's parameters (typed by the contract: CloudFormation sent strings). With
        automatic training on, the schedule is always sent (the service's default when the config
        has none); the events configuration when there is one, or was (an empty list removes it)."""
        config = self.prop(ctx, "SolutionConfig") or {}
        auto = bool(self.prop(ctx, "PerformAutoTraining"))
        old = self.prop(ctx, "SolutionConfig", ctx.event.old_properties) or {}
        update: dict[str, Any] = {}
        if _events(config) or _events(old):  # only then: eventsConfig is for the -v2 recipes
            update["eventsConfig"] = {"eventParametersList": _events(config)}
        if auto:
            update["autoTrainingConfig"] = {"schedulingExpression": _schedule(config)}
        params: dict[str, Any] = {"performAutoTraining": auto}
        if update:
            params["solutionUpdateConfig"] = update
        return params

    def update_diffs(self, ctx: Ctx, auto: Any, config: Mapping[str, Any] | None) -> list[str]:
        """How a configuration (a solution's, or its latest update's) differs from the wanted one in
        what UpdateSolution changes."""
        wanted = self.update_params(ctx)
        update = wanted.get("solutionUpdateConfig")
        out = []
        if bool(auto) != wanted["performAutoTraining"]:
            out.append(diff("performAutoTraining", auto, wanted["performAutoTraining"]))
        if wanted["performAutoTraining"] and _schedule(config) != _schedule(update):
            out.append(diff("schedulingExpression", _schedule(config), _schedule(update)))
        if _events(config) != _events(update):
            out.append(diff("eventParametersList", _events(config), _events(update)))
        return out

    def at_wanted(self, ctx: Ctx, described: Mapping[str, Any]) -> bool:
        """The solution has the wanted automatic training and events configuration, or its latest
        update (ACTIVE) brought them."""
        if not self.update_diffs(ctx, described.get("performAutoTraining"), described.get("solutionConfig")):
            return True
        update = described.get("latestSolutionUpdate") or {}
        return update.get("status") == ACTIVE and self.update_is_ours(ctx, update)

    def update_is_ours(self, ctx: Ctx, update: Mapping[str, Any]) -> bool:
        return bool(update) and not self.update_diffs(ctx, update.get("performAutoTraining"),
                                                      update.get("solutionUpdateConfig"))

    def update_in_place(self, ctx: Ctx, arn: str, changed: set[str]) -> None:
        super().update_in_place(ctx, arn, changed)
        if not changed & {"PerformAutoTraining", "SolutionConfig"}:
            return
        old = self.prop(ctx, "SolutionConfig", ctx.event.old_properties)
        new = self.prop(ctx, "SolutionConfig")
        if _fixed(old) != _fixed(new):
            before, after = _fixed(old), _fixed(new)
            moved = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
            raise failure(self.label, ctx.name, "UpdateSolution",
                          f"solutionConfig {', '.join(moved)} cannot change in place (UpdateSolution takes "
                          f"only {' and '.join(UPDATABLE)}) and Name did not change; give the new "
                          "configuration a new name (pipeline.naming hashes immutable inputs into it)")
        current = self.describe(ctx, arn)
        if current is None:
            raise failure(self.label, ctx.name, "UpdateSolution", f"{arn} does not exist")
        update = current.get("latestSolutionUpdate") or {}
        if update.get("status") in IN_PROGRESS:
            return  # ours (a duplicate event) or the one a rollback undoes: is_complete follows up
        if current.get("status") != ACTIVE or self.at_wanted(ctx, current):
            return  # not ACTIVE yet (refused now): is_complete issues it; or nothing to change
        self.call(ctx, "UpdateSolution", solutionArn=arn, **self.update_params(ctx))

    def is_complete(self, ctx: Ctx) -> dict[str, Any]:
        """As the base for creates and deletes; an Update that kept the solution waits for its
        latestSolutionUpdate (a few minutes), issuing UpdateSolution once no other update runs."""
        event = ctx.event
        if event.request_type != "Update":
            return super().is_complete(ctx)
        arn = event.physical_id or ""
        described = self.describe(ctx, arn)
        if described is None:
            raise failure(self.label, ctx.name, "DescribeSolution", f"{arn} does not exist")
        if described.get("status") != ACTIVE:  # a replacement being created: the base answers
            return super().is_complete(ctx)
        update = described.get("latestSolutionUpdate") or {}
        if update.get("status") in IN_PROGRESS:
            return {"IsComplete": False}
        if self.at_wanted(ctx, described):
            return {"IsComplete": True, "Data": self.data(ctx, arn, described)}
        if update.get("status") == CREATE_FAILED and self.update_is_ours(ctx, update):
            raise failure(self.label, ctx.name, "UpdateSolution",
                          update.get("failureReason") or "CREATE FAILED without a failureReason")
        self.call(ctx, "UpdateSolution", solutionArn=arn, **self.update_params(ctx))
        return {"IsComplete": False}
