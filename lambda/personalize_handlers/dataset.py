"""Custom::PersonalizeDataset: Name, DatasetGroupArn, DatasetType, SchemaArn, Tags.
SchemaArn changes in place (UpdateDataset, waited for through latestDatasetUpdate)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import CREATE_FAILED, IN_PROGRESS, Ctx, Kind, diff, list_all
from .common import HandlerError, failure, require, to_tags

TYPES = {"interactions": "Interactions", "items": "Items", "users": "Users",
         "actions": "Actions", "action_interactions": "Action_Interactions"}


class Dataset(Kind):
    resource_type = "Custom::PersonalizeDataset"
    label = "Dataset"
    arn_kind = "dataset"
    arn_key = "datasetArn"
    result_key = "dataset"
    in_place = frozenset({"Tags", "SchemaArn"})

    def dataset_type(self, ctx: Ctx, name: str) -> str:
        value = require(ctx.props, "DatasetType", self.label, name)
        if value.lower() not in TYPES:
            raise HandlerError(f"{self.label} {name}: property DatasetType: expected one of "
                               f"{sorted(set(TYPES.values()))}, got {value!r}")
        return TYPES[value.lower()]

    def create_params(self, ctx: Ctx, name: str) -> dict[str, Any]:
        params: dict[str, Any] = {
            "name": name,
            "datasetGroupArn": require(ctx.props, "DatasetGroupArn", self.label, name),
            "datasetType": self.dataset_type(ctx, name),
            "schemaArn": require(ctx.props, "SchemaArn", self.label, name),
        }
        tags = to_tags(ctx.props.get("Tags"))
        if tags:
            params["tags"] = tags
        return params

    def mismatches(self, ctx: Ctx, existing: Mapping[str, Any]) -> list[str]:
        out = []
        if existing.get("name") != self.physical_name(ctx):
            out.append(diff("name", existing.get("name"), self.physical_name(ctx)))
        if existing.get("datasetGroupArn") != ctx.props.get("DatasetGroupArn"):
            out.append(diff("datasetGroupArn", existing.get("datasetGroupArn"),
                            ctx.props.get("DatasetGroupArn")))
        if str(existing.get("datasetType", "")).lower() != self.dataset_type(ctx, ctx.name).lower():
            out.append(diff("datasetType", existing.get("datasetType"), ctx.props.get("DatasetType")))
        if existing.get("schemaArn") != ctx.props.get("SchemaArn"):
            out.append(diff("schemaArn", existing.get("schemaArn"), ctx.props.get("SchemaArn")))
        return out

    def find(self, ctx: Ctx, name: str) -> dict[str, Any] | None:
        group = ctx.props.get("DatasetGroupArn")
        items = list_all(ctx, "list_datasets", "datasets", **({"datasetGroupArn": group} if group else {}))
        for item in items:
            if item.get("name") == name:
                return self.describe(ctx, item["datasetArn"])
        # Personalize allows one dataset per type in a group: report the one in the way.
        wanted = str(ctx.props.get("DatasetType", "")).lower()
        for item in items:
            if str(item.get("datasetType", "")).lower() == wanted:
                return self.describe(ctx, item["datasetArn"])
        return None

    def update_in_place(self, ctx: Ctx, arn: str, changed: set[str]) -> None:
        super().update_in_place(ctx, arn, changed)
        if "SchemaArn" in changed:
            current = self.describe(ctx, arn) or {}
            if current.get("schemaArn") != ctx.props.get("SchemaArn"):
                self.call(ctx, "UpdateDataset", datasetArn=arn,
                          schemaArn=require(ctx.props, "SchemaArn", self.label, ctx.name))

    def ready(self, ctx: Ctx, arn: str) -> dict[str, Any] | None:
        data = super().ready(ctx, arn)
        if data is None or ctx.event.request_type != "Update":
            return data
        current = self.describe(ctx, arn) or {}
        if current.get("schemaArn") == ctx.props.get("SchemaArn"):
            return data
        update = current.get("latestDatasetUpdate") or {}
        if update.get("status") in IN_PROGRESS:
            return None
        if update.get("status") == CREATE_FAILED:
            raise failure(self.label, ctx.name, "UpdateDataset", update.get("failureReason") or CREATE_FAILED)
        return data
