"""Custom::PersonalizeDatasetGroup (properties: contract.DATASET_GROUP). RoleArn is required with
KmsKeyArn. Its Delete first removes what a crashed create orphaned inside the group (see clear_leftovers)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from .base import DELETING, IN_PROGRESS, IN_USE, NOT_FOUND, Ctx, Kind, diff, list_all
from .clients import error_code, error_message, log
from .common import HandlerError, failure
from .contract import DATASET_GROUP


class DatasetGroup(Kind):
    spec = DATASET_GROUP
    arn_kind = "dataset-group"
    arn_key = "datasetGroupArn"
    result_key = "datasetGroup"

    def create_params(self, ctx: Ctx, name: str) -> dict[str, Any]:
        params: dict[str, Any] = {"name": name}
        kms, role = self.prop(ctx, "KmsKeyArn"), self.prop(ctx, "RoleArn")
        if kms and not role:
            raise HandlerError(f"{self.label} {name}: property RoleArn is required with KmsKeyArn "
                               "(Personalize uses the role to reach the key)")
        if kms:
            params["kmsKeyArn"] = kms
        if role:
            params["roleArn"] = role
        domain = self.prop(ctx, "Domain")
        if domain:
            params["domain"] = domain
        return params

    def mismatches(self, ctx: Ctx, existing: Mapping[str, Any]) -> list[str]:
        out = []
        for prop, key in (("KmsKeyArn", "kmsKeyArn"), ("RoleArn", "roleArn"), ("Domain", "domain")):
            wanted = self.prop(ctx, prop)
            if prop == "RoleArn" and not self.prop(ctx, "KmsKeyArn"):
                continue  # the role only matters with a key
            if (existing.get(key) or None) != wanted:
                out.append(diff(key, existing.get(key), wanted))
        return out

    def satisfies(self, ctx: Ctx, arn: str) -> bool:
        """The group already is what is wanted (its name, key and role): an update rollback's Update
        back to the old properties, after a refused key change, keeps it instead of failing again."""
        described = self.describe(ctx, arn)
        if described is None or described.get("name") != self.prop(ctx, "Name"):
            return False
        return not self.mismatches(ctx, described)

    def find(self, ctx: Ctx, name: str) -> dict[str, Any] | None:
        return self.find_listed(ctx, name, "list_dataset_groups", "datasetGroups")

    # ---- delete: what a crashed create left inside the group ------------------------------

    def clear_leftovers(self, ctx: Ctx, arn: str) -> bool:
        """Delete what is still inside the group, in the order Personalize requires before
        DeleteDatasetGroup (campaigns, then solutions; event trackers, metric attributions, filters;
        then datasets).
        True while anything is left (is_complete polls again).

        CloudFormation deletes the group only after every resource of the stack that references it,
        so anything still here was orphaned: a create whose function died after the call took
        effect reports the Provider's CREATE_FAILED marker, and the framework answers that marker's
        Delete itself without calling us (aws-cdk-lib provider-framework/runtime/framework.ts).
        Only resources named like ours (`<group name>-...`, pipeline.naming) are touched; anything
        else in the group is someone else's and fails the Delete with its names."""
        group = self.describe(ctx, arn) or {}
        prefix = f"{group.get('name') or ctx.props.get('Name') or ''}-"
        left = False
        foreign: list[str] = []

        def ours(item: Mapping[str, Any], kind: str) -> bool:
            if str(item.get("name", "")).startswith(prefix):
                return True
            foreign.append(f"{kind} {item.get('name')}")
            return False

        solutions = [s for s in list_all(ctx, "list_solutions", "solutions", datasetGroupArn=arn)
                     if ours(s, "solution")]
        blocking = False  # a campaign or a training still holds a solution
        for solution in solutions:
            campaigns = list_all(ctx, "list_campaigns", "campaigns", solutionArn=solution["solutionArn"])
            for campaign in campaigns:
                if ours(campaign, "campaign"):
                    self.remove(ctx, "Campaign", "campaignArn", campaign)
                blocking = True
            for version in list_all(ctx, "list_solution_versions", "solutionVersions",
                                    solutionArn=solution["solutionArn"]):
                if version.get("status") in IN_PROGRESS:
                    self.leftover_log(ctx, "StopSolutionVersionCreation", version["solutionVersionArn"],
                                      version.get("status"))
                    self.quiet(ctx, "stop_solution_version_creation",
                               solutionVersionArn=version["solutionVersionArn"])
                    blocking = True
        if not blocking:
            for solution in solutions:
                self.remove(ctx, "Solution", "solutionArn", solution)
        if group.get("domain"):  # only a domain dataset group holds recommenders
            for recommender in list_all(ctx, "list_recommenders", "recommenders", datasetGroupArn=arn):
                if ours(recommender, "recommender"):
                    self.remove(ctx, "Recommender", "recommenderArn", recommender)
                left = True
        for tracker in list_all(ctx, "list_event_trackers", "eventTrackers", datasetGroupArn=arn):
            if ours(tracker, "event tracker"):
                self.remove(ctx, "EventTracker", "eventTrackerArn", tracker)
            left = True
        attributions = list_all(ctx, "list_metric_attributions", "metricAttributions", datasetGroupArn=arn)
        for attribution in attributions:
            if ours(attribution, "metric attribution") and attribution.get("status") not in DELETING:
                self.leftover_log(ctx, "DeleteMetricAttribution", attribution["metricAttributionArn"],
                                  attribution.get("status"))
                self.quiet(ctx, "delete_metric_attribution",
                           metricAttributionArn=attribution["metricAttributionArn"])
            left = True
        for flt in list_all(ctx, "list_filters", "Filters", datasetGroupArn=arn):
            if ours(flt, "filter"):
                self.remove(ctx, "Filter", "filterArn", flt)
            left = True
        datasets = list_all(ctx, "list_datasets", "datasets", datasetGroupArn=arn)
        for dataset in datasets:
            if ours(dataset, "dataset") and not solutions:
                self.remove(ctx, "Dataset", "datasetArn", dataset)
        if foreign:
            raise failure(self.label, ctx.name, "DeleteDatasetGroup",
                          f"the group still holds resources this stack did not name: "
                          f"{', '.join(sorted(set(foreign)))}; delete them (or move them) first")
        return left or bool(solutions) or bool(datasets)

    def remove(self, ctx: Ctx, label: str, arn_key: str, item: Mapping[str, Any]) -> None:
        """Ask to delete one leftover unless it is already deleting or still being created (a
        later poll asks again); in use or gone is for the next poll to see."""
        status = item.get("status")
        if status in DELETING or status in IN_PROGRESS:
            return
        self.leftover_log(ctx, f"Delete{label}", str(item[arn_key]), status)
        self.quiet(ctx, f"delete_{self.snake(label)}", **{arn_key: item[arn_key]})

    def quiet(self, ctx: Ctx, op: str, **params: Any) -> None:
        try:
            ctx.pz(op, **params)
        except ClientError as exc:
            if error_code(exc) not in (NOT_FOUND, IN_USE):
                leftover = next(iter(params.values()))
                raise failure(self.label, ctx.name, "DeleteDatasetGroup",
                              f"removing leftover {leftover}: {error_message(exc)}") from exc

    @staticmethod
    def leftover_log(ctx: Ctx, op: str, arn: str, status: Any) -> None:
        log.info(json.dumps({"leftover": arn, "status": status, "op": op, "kind": "DatasetGroup",
                             "name": ctx.name}, separators=(",", ":")))
