"""Custom::PersonalizeBatchInferenceJob (properties: contract.BATCH_INFERENCE_JOB): InputPath is the
s3:// URI of a JSON-lines file, OutputPath an s3:// prefix ending in '/'. Data adds OutputPath.

A long operation like an import job: the job's name is JobName plus a hash of the RequestId (a
duplicated event adopts the job the first one started; a later run gets a new job), on_event starts
the waiter when WaitHandle is set. Personalize has no DeleteBatchInferenceJob (jobs stay listed;
their output stays in S3), so Delete is a no-op. Any property change starts a new job."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Ctx, Job, diffs
from .common import HandlerError
from .contract import BATCH_INFERENCE_JOB

#: The API reference lists PENDING and IN PROGRESS; the other kinds' spellings are accepted too.
RUNNING = frozenset({"PENDING", "IN PROGRESS", "IN_PROGRESS", "CREATE PENDING", "CREATE IN_PROGRESS"})


class BatchInferenceJob(Job):
    spec = BATCH_INFERENCE_JOB
    arn_kind = "batch-inference-job"
    arn_key = "batchInferenceJobArn"
    result_key = "batchInferenceJob"
    waiter_kind = "BatchInferenceJob"
    running = RUNNING  # the batch job's own status names (PENDING, IN PROGRESS)

    def _s3(self, ctx: Ctx, prop: str, prefix: bool) -> str:
        value: str = self.prop(ctx, prop)
        shape = "s3://bucket/prefix/ (ending in '/')" if prefix else "s3://bucket/key"
        ok = value.startswith("s3://") and "/" in value[len("s3://"):] and value.endswith("/") == prefix
        if not ok or len(value.split("/", 3)[2]) < 3:
            raise HandlerError(f"{self.label} {ctx.name}: property {prop}: expected {shape}, got {value!r}")
        return value

    def num_results(self, ctx: Ctx) -> int | None:
        value: int | None = self.prop(ctx, "NumResults")  # 1..500: the contract's bound
        return value

    def job_config(self, ctx: Ctx) -> dict[str, Any] | None:
        config: dict[str, Any] | None = self.prop(ctx, "BatchInferenceJobConfig")
        return config

    def create_params(self, ctx: Ctx, name: str) -> dict[str, Any]:
        params: dict[str, Any] = {
            "jobName": name,
            "solutionVersionArn": self.prop(ctx, "SolutionVersionArn"),
            "jobInput": {"s3DataSource": {"path": self._s3(ctx, "InputPath", prefix=False)}},
            "jobOutput": {"s3DataDestination": {"path": self._s3(ctx, "OutputPath", prefix=True)}},
            "roleArn": self.prop(ctx, "RoleArn"),
        }
        results = self.num_results(ctx)
        if results is not None:
            params["numResults"] = results
        filter_arn = self.prop(ctx, "FilterArn")
        if filter_arn:
            params["filterArn"] = str(filter_arn)
        config = self.job_config(ctx)
        if config:
            params["batchInferenceJobConfig"] = config
        return params

    def mismatches(self, ctx: Ctx, existing: Mapping[str, Any]) -> list[str]:
        wanted = {
            "solutionVersionArn": ctx.props.get("SolutionVersionArn"),
            "inputPath": ctx.props.get("InputPath"),
            "outputPath": ctx.props.get("OutputPath"),
            "roleArn": ctx.props.get("RoleArn"),
        }
        actual = {
            "solutionVersionArn": existing.get("solutionVersionArn"),
            "inputPath": ((existing.get("jobInput") or {}).get("s3DataSource") or {}).get("path"),
            "outputPath": ((existing.get("jobOutput") or {}).get("s3DataDestination") or {}).get("path"),
            "roleArn": existing.get("roleArn"),
        }
        return diffs(wanted, actual)

    def find(self, ctx: Ctx, name: str) -> dict[str, Any] | None:
        version = ctx.props.get("SolutionVersionArn")
        return self.find_listed(ctx, name, "list_batch_inference_jobs", "batchInferenceJobs",
                                **({"solutionVersionArn": version} if version else {}))

    def data(self, ctx: Ctx, arn: str, described: Mapping[str, Any] | None = None) -> dict[str, Any]:
        out = super().data(ctx, arn, described)
        output = ctx.props.get("OutputPath")
        if output:
            out["OutputPath"] = output
        return out
