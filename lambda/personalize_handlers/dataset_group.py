"""Custom::PersonalizeDatasetGroup: Name, KmsKeyArn (with RoleArn), Tags. Only tags change in place."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Ctx, Kind, diff, list_all
from .common import HandlerError, to_tags


class DatasetGroup(Kind):
    resource_type = "Custom::PersonalizeDatasetGroup"
    label = "DatasetGroup"
    arn_kind = "dataset-group"
    arn_key = "datasetGroupArn"
    result_key = "datasetGroup"

    def create_params(self, ctx: Ctx, name: str) -> dict[str, Any]:
        params: dict[str, Any] = {"name": name}
        kms, role = ctx.props.get("KmsKeyArn") or None, ctx.props.get("RoleArn") or None
        if kms and not role:
            raise HandlerError(f"{self.label} {name}: property RoleArn is required with KmsKeyArn "
                               "(Personalize uses the role to reach the key)")
        if kms:
            params["kmsKeyArn"] = kms
        if role:
            params["roleArn"] = role
        tags = to_tags(ctx.props.get("Tags"))
        if tags:
            params["tags"] = tags
        return params

    def mismatches(self, ctx: Ctx, existing: Mapping[str, Any]) -> list[str]:
        out = []
        for prop, key in (("KmsKeyArn", "kmsKeyArn"), ("RoleArn", "roleArn")):
            wanted = ctx.props.get(prop) or None
            if prop == "RoleArn" and not ctx.props.get("KmsKeyArn"):
                continue  # the role only matters with a key
            if (existing.get(key) or None) != wanted:
                out.append(diff(key, existing.get(key), wanted))
        return out

    def find(self, ctx: Ctx, name: str) -> dict[str, Any] | None:
        for item in list_all(ctx, "list_dataset_groups", "datasetGroups"):
            if item.get("name") == name:
                return self.describe(ctx, item["datasetGroupArn"])
        return None
