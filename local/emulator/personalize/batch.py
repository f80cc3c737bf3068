"""Batch inference jobs in the local Personalize: CreateBatchInferenceJob, DescribeBatchInferenceJob,
ListBatchInferenceJobs, mixed into PersonalizeBackend (`BatchInferenceOps`).

A job reads JSON lines from moto S3 (one object, or every object under a prefix ending in '/'), with
the service role (trust + `s3:GetObject`/`s3:ListBucket` on the input, `s3:PutObject` on the output,
role policy and bucket policy both, as for imports: local.emulator.personalize.access), scores each line with
the solution version's model (the same code as GetRecommendations / GetPersonalizedRanking, filters
and their per-line `filterValues` included) and writes `<output path><input file name>.out`, one JSON
line per input line: `{"input": ..., "output": {"recommendedItems": [...], "scores": [...]},
"error": null}`, or `"error": "<message>"` for a line it cannot score.

Service rules kept (API reference, CreateBatchInferenceJob / BatchInferenceJob; getting-batch-
recommendations): statuses PENDING -> IN PROGRESS -> ACTIVE | CREATE FAILED (failureReason); no
delete API; numResults 1..500, default 25; the version must be ACTIVE; no batch jobs for
Trending-Now, Next-Best-Action or USER_SEGMENTATION recipes (batch segment jobs); a filter must be
ACTIVE and of the same dataset group; names unique per account and region.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, cast

from local.emulator.personalize import durations as dur
from local.emulator.personalize.errors import in_use, invalid
from local.emulator.personalize.resources import Filter, Resource, Solution, SolutionVersion, clean

if TYPE_CHECKING:
    from local.emulator.personalize.backend import PersonalizeBackend

RUNNING = ("PENDING", "IN PROGRESS")
NO_BATCH = {"aws-trending-now", "aws-next-best-action"}
S3_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/.*)?$")
#: Model: a queued start and a fixed overhead, then per input line (no published figures; batch
#: jobs take minutes at the least: the job provisions its own compute).
BATCH_BASE = 600.0
BATCH_PER_LINE = 0.01


@dataclass
class BatchInferenceJob(Resource):
    KIND: ClassVar[str] = "batch-inference-job"
    ARN_KEY: ClassVar[str] = "batchInferenceJobArn"
    solution_version_arn: str = ""
    filter_arn: str | None = None
    num_results: int = 25
    input_path: str = ""
    output_path: str = ""
    role_arn: str = ""
    config: dict[str, Any] | None = None
    #: the output objects (key -> bytes), written when the job turns ACTIVE
    pending_output: dict[str, bytes] | None = None

    def describe(self) -> dict[str, Any]:
        return clean({
            "jobName": self.name, "batchInferenceJobArn": self.arn, "filterArn": self.filter_arn,
            "failureReason": self.failure_reason, "solutionVersionArn": self.solution_version_arn,
            "numResults": self.num_results, "jobInput": {"s3DataSource": {"path": self.input_path}},
            "jobOutput": {"s3DataDestination": {"path": self.output_path}},
            "batchInferenceJobConfig": self.config, "roleArn": self.role_arn,
            "batchInferenceJobMode": "BATCH_INFERENCE", "status": self.status,
            "creationDateTime": self.created, "lastUpdatedDateTime": self.updated,
        })

    def summary(self) -> dict[str, Any]:
        return clean({
            "batchInferenceJobArn": self.arn, "jobName": self.name, "status": self.status,
            "creationDateTime": self.created, "lastUpdatedDateTime": self.updated,
            "failureReason": self.failure_reason, "solutionVersionArn": self.solution_version_arn,
            "batchInferenceJobMode": "BATCH_INFERENCE",
        })


class BatchInferenceOps:
    """The batch inference operations; a mixin of PersonalizeBackend (uses its state and helpers)."""

    def _drop_batch_jobs(self, version_arns: set[str]) -> None:
        """Batch jobs go with their solution version (as the versions go with their solution)."""
        backend = _backend(self)
        for job in backend._all(BatchInferenceJob, lambda j: j.solution_version_arn in version_arns):
            backend.resources.pop(job.arn, None)

    def op_CreateBatchInferenceJob(self, ctx: tuple[str, str], p: dict[str, Any]
                                   ) -> dict[str, Any]:
        from pipeline.recipes import RECIPES, RecipeFamily

        backend = _backend(self)
        name = backend._check_name(p.get("jobName"), "jobName")
        version = backend._get(SolutionVersion, p.get("solutionVersionArn"))
        if version.status != "ACTIVE" or version.model is None:
            raise in_use(f"Solution version {version.arn} is not in ACTIVE state (status: {version.status}).")
        solution = backend.resources.get(version.solution_arn)
        recipe = solution.recipe_arn.rsplit("/", 1)[-1] if isinstance(solution, Solution) else ""
        family = RECIPES[recipe].family if recipe in RECIPES else None
        if recipe in NO_BATCH or family == RecipeFamily.USER_SEGMENTATION:
            raise invalid(f"Batch inference jobs are not supported for solution versions of {recipe}.")
        filter_arn = p.get("filterArn")
        if filter_arn:
            flt = backend._get(Filter, filter_arn)
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
        arn = backend._arn(ctx, "batch-inference-job", name)
        job = backend._new(BatchInferenceJob, ctx, arn, name, p.get("tags"), solution_version_arn=version.arn,
                        filter_arn=filter_arn or None, num_results=num, input_path=source, output_path=target,
                        role_arn=str(p.get("roleArn") or ""), config=p.get("batchInferenceJobConfig"),
                        status="PENDING")
        backend.resources[arn] = job
        backend._schedule(job.created + dur.pending_part(BATCH_BASE), "batch_start", arn, job.gen)
        return {"batchInferenceJobArn": arn}

    def op_DescribeBatchInferenceJob(self, ctx: tuple[str, str], p: dict[str, Any]
                                     ) -> dict[str, Any]:
        backend = _backend(self)
        job = backend._get(BatchInferenceJob, p.get("batchInferenceJobArn"))
        return {"batchInferenceJob": job.describe()}

    def op_ListBatchInferenceJobs(self, ctx: tuple[str, str], p: dict[str, Any]
                                  ) -> dict[str, Any]:
        backend = _backend(self)
        version = p.get("solutionVersionArn")
        found = backend._listed(BatchInferenceJob, ctx,
                             lambda j: version is None or j.solution_version_arn == version)
        return backend._page([j.summary() for j in found], p, "batchInferenceJobs")

    # ---- lifecycle --------------------------------------------------------------------------

    def _on_batch_start(self, job: BatchInferenceJob, at: float, _: Any) -> None:
        backend = _backend(self)
        backend._set(job, "IN PROGRESS", at)
        try:
            output, lines = _run(backend, job)
        except _Failed as failure:
            backend._schedule(at + BATCH_BASE / 4, "failed", job.arn, job.gen, str(failure))
            return
        job.pending_output = output
        backend._schedule(at + BATCH_BASE + BATCH_PER_LINE * lines, "batch_done", job.arn, job.gen)

    def _on_batch_done(self, job: BatchInferenceJob, at: float, _: Any) -> None:
        from moto.s3.models import s3_backends

        backend = _backend(self)
        s3 = s3_backends[job.account]["aws"]
        bucket = job.output_path[len("s3://"):].partition("/")[0]
        for key, body in (job.pending_output or {}).items():
            s3.put_object(bucket, key, body)
        job.pending_output = None
        backend._set(job, "ACTIVE", at)


def _backend(ops: BatchInferenceOps) -> PersonalizeBackend:
    """The mixin's own object, typed as what it is mixed into."""
    return cast("PersonalizeBackend", ops)


class _Failed(Exception):
    """The job fails with this failureReason."""


def _keys(backend: PersonalizeBackend, account: str, uri: str) -> tuple[str, list[str]]:
    from moto.s3.models import s3_backends

    bucket, _, key = uri[len("s3://"):].partition("/")
    try:
        found = s3_backends[account]["aws"].get_bucket(bucket)
    except Exception:
        raise _Failed(f"Insufficient privileges for accessing data in Amazon S3: bucket {bucket} does not "
                      "exist or is not reachable.") from None
    if key and not key.endswith("/") and key in found.keys:
        return bucket, [key]
    # Prefix semantics: every object whose key starts with the path (docs: creating-batch-inference-job).
    return bucket, sorted(k for k in found.keys if k.startswith(key) and not k.endswith("/"))


def _check_write(account: str, role_arn: str, bucket: str, key: str, source_arn: str) -> str | None:
    from moto.iam.models import iam_backends
    from moto.s3.models import s3_backends

    from local.emulator.personalize.access import SERVICE_PRINCIPAL, Request, _load, evaluate, role_documents

    role = next((r for r in iam_backends[account]["global"].get_roles() if r.arn == role_arn), None)
    if role is None:
        return f"Insufficient privileges for accessing data in Amazon S3: role {role_arn} does not exist"
    found = s3_backends[account]["aws"].get_bucket(bucket)
    context = {"aws:SourceAccount": account, "aws:SourceArn": source_arn, "aws:SecureTransport": "true",
               "aws:PrincipalArn": role_arn}
    request = Request("s3:PutObject", f"arn:aws:s3:::{bucket}/{key}")
    by_role = evaluate(role_documents(role), request, context)
    by_bucket = evaluate([_load(found.policy)] if found.policy else [], request, context,
                         {SERVICE_PRINCIPAL, role_arn, f"arn:aws:iam::{account}:root", account})
    if by_role != "allow" or by_bucket != "allow":
        which = "role policy" if by_role != "allow" else "bucket policy"
        return (f"Insufficient privileges for writing the output to Amazon S3: the {which} does not allow "
                f"s3:PutObject on {request.resource} for role {role_arn}")
    return None


def _run(backend: PersonalizeBackend, job: BatchInferenceJob) -> tuple[dict[str, bytes], int]:
    """Read, check access, score: the output objects and the number of input lines."""
    from local.emulator.personalize.access import check_import_access
    from pipeline.recipes import RECIPES

    version = backend.resources.get(job.solution_version_arn)
    if not isinstance(version, SolutionVersion) or version.model is None:
        raise _Failed(f"Solution version {job.solution_version_arn} no longer exists.")
    solution = backend.resources.get(version.solution_arn)
    assert isinstance(solution, Solution)
    recipe = solution.recipe_arn.rsplit("/", 1)[-1]
    family = RECIPES[recipe].family if recipe in RECIPES else None
    bucket, keys = _keys(backend, job.account, job.input_path)
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
        flt = backend.resources.get(job.filter_arn)
        if not isinstance(flt, Filter):
            raise _Failed(f"Filter {job.filter_arn} no longer exists.")
        compiled = flt.compiled
        context = backend._group_filter_context(solution.dataset_group_arn)
    outputs: dict[str, bytes] = {}
    total = 0
    for key in keys:
        target = f"{out_prefix}{key.rsplit('/', 1)[-1]}.out"
        denied = _check_write(job.account, job.role_arn, out_bucket, target, job.arn)
        if denied:
            raise _Failed(denied)
        text = backend._s3_read(job.account, bucket, key).decode("utf-8-sig", errors="replace")
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
    from pipeline.recipes import RecipeFamily

    try:
        record = json.loads(raw)
    except json.JSONDecodeError as error:
        return {"input": raw, "output": None, "error": f"line {number}: not JSON: {error.msg}"}
    if not isinstance(record, dict):
        return {"input": record, "output": None, "error": f"line {number}: expected a JSON object"}
    values = record.get("filterValues") or {}
    try:
        if family == RecipeFamily.PERSONALIZED_RANKING:
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
