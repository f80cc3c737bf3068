"""Custom::PersonalizeRecommender, a domain use case (properties: contract.RECOMMENDER).

Creating one trains its models, so it waits through the WaitHandle (the Step Functions waiter),
like a campaign. RecommenderConfig changes in place with UpdateRecommender (UpdateRecommender
requires the whole recommenderConfig; botocore: UpdateRecommenderRequest); the recommender keeps
serving its old configuration until latestRecommenderUpdate is ACTIVE ("updating-recommender").
Name, DatasetGroupArn and RecipeArn are not in UpdateRecommender's request: a change replaces it.

CloudFormation hands every nested scalar as a string; the contract walks RecommenderConfig with
botocore's RecommenderConfig shape, so minRecommendationRequestsPerSecond goes out as an integer and
enableMetadataWithRecommendations as a boolean (itemExplorationConfig's values are strings there)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import ACTIVE, IN_PROGRESS, Ctx, Kind, diff
from .common import failure, is_subset
from .contract import RECOMMENDER

CONFIG_PROPS = frozenset(p.name for p in RECOMMENDER.props if p.via == "UpdateRecommender")
#: A stopped recommender (StopRecommender) and the way there and back (DescribeRecommender's status).
STOPPED = frozenset({"STOP PENDING", "STOP IN_PROGRESS", "INACTIVE", "START PENDING", "START IN_PROGRESS"})


class Recommender(Kind):
    spec = RECOMMENDER
    arn_kind = "recommender"
    arn_key = "recommenderArn"
    result_key = "recommender"
    waiter_kind = "Recommender"

    def config(self, ctx: Ctx) -> dict[str, Any]:
        config: dict[str, Any] = self.prop(ctx, "RecommenderConfig") or {}
        return config

    def create_params(self, ctx: Ctx, name: str) -> dict[str, Any]:
        params: dict[str, Any] = {"name": name, "datasetGroupArn": self.prop(ctx, "DatasetGroupArn"),
                                  "recipeArn": self.prop(ctx, "RecipeArn")}
        config = self.config(ctx)
        if config:
            params["recommenderConfig"] = config
        return params

    def config_diffs(self, ctx: Ctx, existing: Mapping[str, Any]) -> list[str]:
        wanted = self.config(ctx)
        current = existing.get("recommenderConfig") or {}
        return [] if is_subset(wanted, current) else [diff("recommenderConfig", current, wanted)]

    def mismatches(self, ctx: Ctx, existing: Mapping[str, Any]) -> list[str]:
        out = []
        for prop, key in (("DatasetGroupArn", "datasetGroupArn"), ("RecipeArn", "recipeArn")):
            if existing.get(key) != self.prop(ctx, prop):
                out.append(diff(key, existing.get(key), self.prop(ctx, prop)))
        diffs = self.config_diffs(ctx, existing)
        update = existing.get("latestRecommenderUpdate") or {}
        if diffs and update.get("status") in IN_PROGRESS | {ACTIVE} and not self.config_diffs(ctx, update):
            diffs = []  # already moving to (or at) the wanted configuration
        return out + diffs

    def find(self, ctx: Ctx, name: str) -> dict[str, Any] | None:
        return self.find_listed(ctx, name, "list_recommenders", "recommenders",
                                datasetGroupArn=self.prop(ctx, "DatasetGroupArn"))

    def restarts_wait(self, changed: set[str]) -> bool:
        return bool(changed & CONFIG_PROPS)

    def waiter_kind_for(self, update: bool) -> str:
        return "RecommenderUpdate" if update else "Recommender"

    def update_in_place(self, ctx: Ctx, arn: str, changed: set[str]) -> None:
        super().update_in_place(ctx, arn, changed)
        if not changed & CONFIG_PROPS:
            return
        current = self.describe(ctx, arn)
        if current is None:
            raise failure(self.label, ctx.name, "UpdateRecommender", f"{arn} does not exist")
        if not self.config_diffs(ctx, current):
            return
        if current.get("status") in STOPPED:
            raise failure(self.label, ctx.name, "UpdateRecommender",
                          f"{arn} is {current.get('status')} (stopped to save cost); start it first "
                          "(pz recommender start) and deploy again")
        update = current.get("latestRecommenderUpdate") or {}
        if update.get("status") in IN_PROGRESS and not self.config_diffs(ctx, update):
            return  # a duplicate event: the update is already under way
        self.call(ctx, "UpdateRecommender", recommenderArn=arn, recommenderConfig=self.config(ctx))

    def delete_finished(self, ctx: Ctx) -> bool:
        """As the base; a stop or start under way is waited out (DeleteRecommender would be in use)."""
        arn = self.target(ctx)
        if arn is not None:
            described = self.describe(ctx, arn)
            if described is not None and described.get("status") in STOPPED - {"INACTIVE"}:
                return False
        return super().delete_finished(ctx)
