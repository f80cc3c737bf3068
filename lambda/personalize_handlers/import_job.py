"""Custom::PersonalizeDatasetImportJob: JobName, DatasetArn, DataLocation, RoleArn, ImportMode,
SourceHash (a trigger only), WaitHandle, Tags.

The job's name is JobName plus a hash of the RequestId: a duplicated event adopts the job the
first one started, while a later re-import of the same data gets a new job. Import jobs have no
delete API (they go with their dataset), so Delete is a no-op."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Ctx, Kind, diff, list_all
from .common import HandlerError, require, to_tags

IMPORT_MODES = ("FULL", "INCREMENTAL")


class DatasetImportJob(Kind):
    resource_type = "Custom::PersonalizeDatasetImportJob"
    label = "DatasetImportJob"
    arn_kind = "dataset-import-job"
    arn_key = "datasetImportJobArn"
    result_key = "datasetImportJob"
    name_prop = "JobName"
    in_place = frozenset({"Tags", "WaitHandle"})
    waiter_kind = "DatasetImportJob"
    name_per_request = True

    def import_mode(self, ctx: Ctx, name: str) -> str:
        mode = str(ctx.props.get("ImportMode") or "FULL").upper()
        if mode not in IMPORT_MODES:
            raise HandlerError(f"{self.label} {name}: property ImportMode: expected one of {IMPORT_MODES}, "
                               f"got {ctx.props.get('ImportMode')!r}")
        return mode

    def create_params(self, ctx: Ctx, name: str) -> dict[str, Any]:
        location = require(ctx.props, "DataLocation", self.label, ctx.name)
        if not location.startswith("s3://") or len(location) <= len("s3://"):
            raise HandlerError(f"{self.label} {ctx.name}: property DataLocation: expected s3://bucket/key, "
                               f"got {location!r}")
        params: dict[str, Any] = {
            "jobName": name,
            "datasetArn": require(ctx.props, "DatasetArn", self.label, ctx.name),
            "dataSource": {"dataLocation": location},
            "roleArn": require(ctx.props, "RoleArn", self.label, ctx.name),
            "importMode": self.import_mode(ctx, ctx.name),
        }
        tags = to_tags(ctx.props.get("Tags"))
        if tags:
            params["tags"] = tags
        return params

    def mismatches(self, ctx: Ctx, existing: Mapping[str, Any]) -> list[str]:
        out = []
        wanted = {
            "datasetArn": ctx.props.get("DatasetArn"),
            "dataLocation": ctx.props.get("DataLocation"),
            "roleArn": ctx.props.get("RoleArn"),
            "importMode": self.import_mode(ctx, ctx.name),
        }
        actual = {
            "datasetArn": existing.get("datasetArn"),
            "dataLocation": (existing.get("dataSource") or {}).get("dataLocation"),
            "roleArn": existing.get("roleArn"),
            "importMode": existing.get("importMode") or "FULL",
        }
        for key, value in wanted.items():
            if actual[key] != value:
                out.append(diff(key, actual[key], value))
        return out

    def find(self, ctx: Ctx, name: str) -> dict[str, Any] | None:
        dataset = ctx.props.get("DatasetArn")
        for item in list_all(ctx, "list_dataset_import_jobs", "datasetImportJobs",
                             **({"datasetArn": dataset} if dataset else {})):
            if item.get("jobName") == name:
                return self.describe(ctx, item["datasetImportJobArn"])
        return None

    def on_delete(self, ctx: Ctx) -> None:
        """No DeleteDatasetImportJob exists: the job goes with its dataset."""

    def delete_finished(self, ctx: Ctx) -> bool:
        return True
