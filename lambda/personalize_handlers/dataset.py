"""Custom::PersonalizeDataset (properties: contract.DATASET). SchemaArn changes in place
(UpdateDataset, waited for through latestDatasetUpdate)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

from botocore.exceptions import ClientError

from .base import CREATE_FAILED, IN_PROGRESS, IN_USE, NOT_FOUND, Ctx, Kind, diff, list_all
from .clients import error_code, error_message
from .common import failure
from .contract import DATASET


class Dataset(Kind):
    spec = DATASET
    arn_kind = "dataset"
    arn_key = "datasetArn"
    result_key = "dataset"

    def create_params(self, ctx: Ctx, name: str) -> dict[str, Any]:
        params: dict[str, Any] = {
            "name": name,
            "datasetGroupArn": self.prop(ctx, "DatasetGroupArn"),
            "datasetType": self.prop(ctx, "DatasetType"),
            "schemaArn": self.prop(ctx, "SchemaArn"),
        }
        return params

    def mismatches(self, ctx: Ctx, existing: Mapping[str, Any]) -> list[str]:
        out = []
        if existing.get("name") != self.physical_name(ctx):
            out.append(diff("name", existing.get("name"), self.physical_name(ctx)))
        if existing.get("datasetGroupArn") != ctx.props.get("DatasetGroupArn"):
            out.append(diff("datasetGroupArn", existing.get("datasetGroupArn"),
                            ctx.props.get("DatasetGroupArn")))
        if str(existing.get("datasetType", "")).lower() != self.prop(ctx, "DatasetType").lower():
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
                self.call(ctx, "UpdateDataset", datasetArn=arn, schemaArn=self.prop(ctx, "SchemaArn"))

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

    def on_event(self, ctx: Ctx) -> dict[str, Any]:
        """Delete also answers when it began (service time), for is_complete's import deadline:
        the Provider merges this answer into every isComplete event."""
        if ctx.event.request_type != "Delete":
            return super().on_event(ctx)
        ctx.delete_started = None
        self.on_delete(ctx)
        started = ctx.delete_started or time.time()
        return {"PhysicalResourceId": ctx.event.physical_id or ctx.event.logical_id,
                "Data": {"DeleteStartedAt": str(int(started))}}

    def try_delete(self, ctx: Ctx, arn: str) -> None:
        """DeleteDataset. Personalize refuses it (ResourceInUse) while an import job of the dataset
        runs and has no call that stops an import. A short import is waited for; one still
        running IMPORT_WAIT_SECONDS after the Delete began fails the Delete with what to do,
        before the Provider's total timeout would end it in the framework's bare 'Operation
        timed out' (an isComplete error is reported as the resource's reason; the timeout is not)."""
        try:
            ctx.pz("delete_dataset", datasetArn=arn)
        except ClientError as exc:
            code = error_code(exc)
            if code == NOT_FOUND:
                return
            if code != IN_USE:
                raise failure(self.label, ctx.name, "DeleteDataset", error_message(exc)) from exc
            now = service_time(exc.response)
            ctx.delete_started = now
            running = [job for job in list_all(ctx, "list_dataset_import_jobs", "datasetImportJobs",
                                               datasetArn=arn) if job.get("status") in IN_PROGRESS]
            if not running:
                return  # in use by something that ends by itself (a schema change): poll again
            started = float(ctx.event.data.get("DeleteStartedAt") or now)
            if now - started < IMPORT_WAIT_SECONDS:
                return
            job = running[0]
            raise failure(
                self.label, ctx.name, "DeleteDataset",
                f"import job {job.get('jobName')} ({job.get('datasetImportJobArn')}) is still "
                f"{job.get('status')} after {int((now - started) // 60)} min: Personalize refuses to "
                "delete a dataset while its import runs and cannot stop an import; once it has "
                "finished, run `cdk destroy` (locally `pz destroy`) again and it "
                "completes the cleanup") from exc


#: The stack's Provider gives isComplete 55 min in all (personalize_constructs/provider.py
#: TOTAL_TIMEOUT, polling every 30 s); a Delete blocked by a running import gives up 5 min before.
IMPORT_WAIT_SECONDS = 50 * 60


def service_time(response: Mapping[str, Any]) -> float:
    """Now, as the service's HTTP `Date` header says (every AWS response carries one; the same
    clock as its timestamps), else this machine's clock."""
    header = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("date")
    if header:
        try:
            return parsedate_to_datetime(str(header)).timestamp()
        except (TypeError, ValueError):
            pass
    return time.time()
