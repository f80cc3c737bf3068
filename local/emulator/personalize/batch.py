"""Batch inference jobs in the local Personalize: CreateBatchInferenceJob, DescribeBatchInferenceJob,
ListBatchInferenceJobs.

A job reads JSON lines from moto S3 (one object, or every object under a prefix ending in '/'), with
the service role (trust + `s3:GetObject`/`s3:ListBucket` on the input, `s3:PutObject` on the output,
role policy and bucket policy both, as for imports: local.emulator.personalize.access), scores each
line with the solution version's model (the same code as GetRecommendations / GetPersonalizedRanking,
filters and their per-line `filterValues` included) and writes `<output path><input file name>.out`,
one JSON line per input line: `{"input": ..., "output": {"recommendedItems": [...], "scores": [...]},
"error": null}`, or `"error": "<message>"` for a line it cannot score.

Service rules kept (API reference, CreateBatchInferenceJob / BatchInferenceJob; getting-batch-
recommendations): statuses PENDING -> IN PROGRESS -> ACTIVE | CREATE FAILED (failureReason); no
delete API (a job goes with its solution version); numResults 1..500, default 25; the version must
be ACTIVE; no batch jobs for Trending-Now, Next-Best-Action or USER_SEGMENTATION recipes (batch
segment jobs); a filter must be ACTIVE and of the same dataset group; names unique per account and
region.
"""

from __future__ import annotations

import json
import re
from typing import Any

from local.emulator import moto_internals
from local.emulator.personalize import borrowed
from local.emulator.personalize import durations as dur
from local.emulator.personalize.access import check_import_access, check_write_access
from local.emulator.personalize.errors import in_use, invalid
from local.emulator.personalize.resources import BatchInferenceJob, Filter, Solution, SolutionVersion
from local.emulator.personalize.runtime import filter_data
from local.emulator.personalize.store import Context, Part, Store

NO_BATCH = {"aws-trending-now", "aws-next-best-action"}
S3_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/.*)?$")
#: Model: a queued start and a fixed overhead, then per input line (no published figures; batch
#: jobs take minutes at the least: the job provisions its own compute).
BATCH_BASE = 600.0
BATCH_PER_LINE = 0.01

Family = borrowed.RecipeFamily


class Batch(Part):
    """The batch inference operations and their lifecycle."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        store.on("batch_start", self._on_batch_start)
        store.on("batch_done", self._on_batch_done)

    def op_CreateBatchInferenceJob(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        name = store.check_name(p.get("jobName"), "jobName")
        version = store.find(SolutionVersion, p.get("solutionVersionArn"))
        if version.status != "ACTIVE" or version.model is None:
            raise in_use(f"Solution version {version.arn} is not in ACTIVE state (status: {version.status}).")
        solution = store.resources.get(version.solution_arn)
        recipe = borrowed.recipe_name(solution.recipe_arn) if isinstance(solution, Solution) else ""
        family = borrowed.family(recipe)
        if recipe in NO_BATCH or family == Family.USER_SEGMENTATION:
            raise invalid(f"Batch inference jobs are not supported for solution versions of {recipe}.")
        filter_arn = p.get("filterArn")
        if filter_arn:
            flt = store.find(Filter, filter_arn)
            if flt.status != "ACTIVE":
                raise invalid(f"Filter {filter_arn} is not ACTIVE (status: {flt.status}).")
            if isinstance(solution, Solution) and flt.dataset_group_arn != solution.dataset_group_arn:
                raise invalid(f"Filter {filter_arn} does not belong to the dataset group of {version.arn}.")
        num = p.get("numResults")
        num = 25 if num is None else int(num)
        if not 1 <= num <= 500:
            raise invalid(f"numResults must be between 1 and 500, got {num}.")
        source = str(((p.get("jobInput") or {}).get("s3DataSource") or {}).get("path") or "")
        target = str(((p.get("jobOutput") or {}).get("s3DataDestination") or {}).get("path") or "")
        for field, value in (("jobInput.s3DataSource.path", source), ("jobOutput.s3DataDestination.path",
                                                                        target)):
            if not S3_URI.match(value):
                raise invalid(f"Invalid {field}: {value!r}; expected s3://bucket/key or s3://bucket/folder/.")
        arn = store.arn(ctx, "batch-inference-job", name)
        job = store.new(BatchInferenceJob, ctx, arn, name, p.get("tags"), solution_version_arn=version.arn,
                        filter_arn=filter_arn or None, num_results=num, input_path=source, output_path=target,
                        role_arn=str(p.get("roleArn") or ""), config=p.get("batchInferenceJobConfig"),
                        status="PENDING")
        store.add(job)
        store.schedule(job.created + dur.pending_part(BATCH_BASE), "batch_start", job)
        return {"batchInferenceJobArn": arn}

    def op_DescribeBatchInferenceJob(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        job = self.store.find(BatchInferenceJob, p.get("batchInferenceJobArn"))
        return {"batchInferenceJob": job.describe()}

    def op_ListBatchInferenceJobs(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        version = p.get("solutionVersionArn")
        found = store.listed(BatchInferenceJob, ctx,
                             lambda j: version is None or j.solution_version_arn == version)
        return store.page([j.summary() for j in found], p, "batchInferenceJobs")

    # ---- lifecycle --------------------------------------------------------------------------
    def _on_batch_start(self, job: BatchInferenceJob, at: float, _: Any) -> None:
        store = self.store
        store.set_status(job, "IN PROGRESS", at)
        try:
            output, lines = _run(store, job)
        except _Failed as failure:
            store.schedule(at + BATCH_BASE / 4, "failed", job, str(failure))
            return
        job.pending_output = output
        store.schedule(at + BATCH_BASE + BATCH_PER_LINE * lines, "batch_done", job)

    def _on_batch_done(self, job: BatchInferenceJob, at: float, _: Any) -> None:
        bucket = job.output_path[len("s3://"):].partition("/")[0]
        for key, body in (job.pending_output or {}).items():
            moto_internals.write_object(job.account, bucket, key, body)
        job.pending_output = None
        self.store.set_status(job, "ACTIVE", at)


class _Failed(Exception):
    """The job fails with this failureReason."""


def _keys(account: str, uri: str) -> tuple[str, list[str]]:
    bucket, _, key = uri[len("s3://"):].partition("/")
    try:
        found = moto_internals.bucket_keys(account, bucket)
    except LookupError:
        raise _Failed(f"Insufficient privileges for accessing data in Amazon S3: bucket {bucket} does not "
                      "exist or is not reachable.") from None
    if key and not key.endswith("/") and key in found:
        return bucket, [key]
    # Prefix semantics: every object whose key starts with the path (docs: creating-batch-inference-job).
    return bucket, sorted(k for k in found if k.startswith(key) and not k.endswith("/"))


def _run(store: Store, job: BatchInferenceJob) -> tuple[dict[str, bytes], int]:
    """Read, check access, score: the output objects and the number of input lines."""
    version = store.resources.get(job.solution_version_arn)
    if not isinstance(version, SolutionVersion) or version.model is None:
        raise _Failed(f"Solution version {job.solution_version_arn} no longer exists.")
    solution = store.resources.get(version.solution_arn)
    assert isinstance(solution, Solution)
    family = borrowed.family(solution.recipe_arn)
    bucket, keys = _keys(job.account, job.input_path)
    denied = check_import_access(job.account, job.region, job.role_arn, bucket, keys, job.arn)
    if denied:
        raise _Failed(denied)
    if not keys:
        raise _Failed(f"Input file not found: no object at {job.input_path}.")
    out_bucket, _, out_prefix = job.output_path[len("s3://"):].partition("/")
    if out_prefix and not out_prefix.endswith("/"):
        out_prefix += "/"
    compiled = None
    context: dict[str, Any] = {}
    if job.filter_arn:
        flt = store.resources.get(job.filter_arn)
        if not isinstance(flt, Filter):
            raise _Failed(f"Filter {job.filter_arn} no longer exists.")
        compiled = flt.compiled
        context = filter_data(store, solution.dataset_group_arn)
    outputs: dict[str, bytes] = {}
    total = 0
    for key in keys:
        target = f"{out_prefix}{key.rsplit('/', 1)[-1]}.out"
        denied = check_write_access(job.account, job.role_arn, out_bucket, target, job.arn)
        if denied:
            raise _Failed(denied)
        text = moto_internals.read_object(job.account, bucket, key).decode("utf-8-sig", errors="replace")
        lines = []
        for number, raw in enumerate(text.splitlines(), start=1):
            if not raw.strip():
                continue
            total += 1
            lines.append(json.dumps(_score(version.model, family, raw, number, job, compiled, context)))
        outputs[target] = ("\n".join(lines) + "\n").encode()
    if total == 0:
        raise _Failed(f"Input file {job.input_path} has no records.")
    return outputs, total


def _score(model: Any, family: Any, raw: str, number: int, job: BatchInferenceJob, compiled: Any,
           context: dict[str, Any]) -> dict[str, Any]:
    try:
        record = json.loads(raw)
    except json.JSONDecodeError as error:
        return {"input": raw, "output": None, "error": f"line {number}: not JSON: {error.msg}"}
    if not isinstance(record, dict):
        return {"input": record, "output": None, "error": f"line {number}: expected a JSON object"}
    values = record.get("filterValues") or {}
    try:
        if family == Family.PERSONALIZED_RANKING:
            ranked = model.rank(record.get("userId"), list(record.get("itemList") or []), filter=compiled,
                                filter_values=values, **context)
            ranked = ranked[: job.num_results]
        else:
            ranked = model.recommend(record.get("userId"), record.get("itemId"), job.num_results,
                                     filter=compiled, filter_values=values, **context)
    except ValueError as error:
        return {"input": record, "output": None, "error": str(error)}
    return {"input": record, "output": {"recommendedItems": [i for i, _ in ranked],
                                        "scores": [round(float(s), 7) for _, s in ranked]}, "error": None}
