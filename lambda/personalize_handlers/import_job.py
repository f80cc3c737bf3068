"""Custom::PersonalizeDatasetImportJob (properties: contract.DATASET_IMPORT_JOB; SourceHash is a
trigger only).

The job's name is JobName plus a hash of the RequestId: a duplicated event adopts the job the
first one started, while a later re-import of the same data gets a new job. Import jobs have no
delete API (they go with their dataset), so Delete is a no-op.

ImportMode INCREMENTAL is sent as FULL into a dataset without a finished import: "If you haven't
imported bulk records into the dataset previously, you can only specify FULL" (botocore personalize,
CreateDatasetImportJobRequest.importMode). Into an empty dataset the two add the same rows, so a
dataset configured INCREMENTAL deploys the first time and appends on every refresh after."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import ACTIVE, Ctx, Job, diffs, list_all
from .common import HandlerError
from .contract import DATASET_IMPORT_JOB


class DatasetImportJob(Job):
    spec = DATASET_IMPORT_JOB
    arn_kind = "dataset-import-job"
    arn_key = "datasetImportJobArn"
    result_key = "datasetImportJob"
    waiter_kind = "DatasetImportJob"

    def import_mode(self, ctx: Ctx) -> str:
        """ImportMode, or FULL for the first import of an INCREMENTAL dataset (module docstring)."""
        mode: str = self.prop(ctx, "ImportMode")
        if mode == "INCREMENTAL" and not self.imported_before(ctx):
            return "FULL"
        return mode

    def imported_before(self, ctx: Ctx) -> bool:
        """The dataset has a finished (ACTIVE) import job."""
        dataset = ctx.props.get("DatasetArn")
        if not dataset:
            return False
        return any(job.get("status") == ACTIVE for job in
                   list_all(ctx, "list_dataset_import_jobs", "datasetImportJobs", datasetArn=dataset))

    def create_params(self, ctx: Ctx, name: str) -> dict[str, Any]:
        location: str = self.prop(ctx, "DataLocation")
        if not location.startswith("s3://") or len(location) <= len("s3://"):
            raise HandlerError(f"{self.label} {ctx.name}: property DataLocation: expected s3://bucket/key, "
                               f"got {location!r}")
        params: dict[str, Any] = {
            "jobName": name,
            "datasetArn": self.prop(ctx, "DatasetArn"),
            "dataSource": {"dataLocation": location},
            "roleArn": self.prop(ctx, "RoleArn"),
            "importMode": self.import_mode(ctx),
        }
        if self.prop(ctx, "PublishAttributionMetricsToS3"):
            params["publishAttributionMetricsToS3"] = True
        return params

    def mismatches(self, ctx: Ctx, existing: Mapping[str, Any]) -> list[str]:
        wanted = {
            "datasetArn": ctx.props.get("DatasetArn"),
            "dataLocation": ctx.props.get("DataLocation"),
            "roleArn": ctx.props.get("RoleArn"),
            "importMode": self.prop(ctx, "ImportMode"),
        }
        if wanted["importMode"] == "INCREMENTAL" and existing.get("importMode") in (None, "FULL"):
            wanted["importMode"] = existing.get("importMode") or "FULL"  # the dataset's first import
        actual = {
            "datasetArn": existing.get("datasetArn"),
            "dataLocation": (existing.get("dataSource") or {}).get("dataLocation"),
            "roleArn": existing.get("roleArn"),
            "importMode": existing.get("importMode") or "FULL",
        }
        return diffs(wanted, actual)

    def find(self, ctx: Ctx, name: str) -> dict[str, Any] | None:
        dataset = ctx.props.get("DatasetArn")
        return self.find_listed(ctx, name, "list_dataset_import_jobs", "datasetImportJobs",
                                **({"datasetArn": dataset} if dataset else {}))
