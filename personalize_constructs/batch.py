"""Batch inference: `[[batch_jobs]]` score a JSON-lines file offline with a solution's trained version
(no campaign, nothing billed by the hour), writing JSON lines of recommendations to a prefix of the
data bucket.

Each job is a `Custom::PersonalizeBatchInferenceJob` (a long operation: WaitHandle + WaitCondition
like an import job) after its solution version's WaitCondition. `BatchInference` also holds what all
jobs share: the service role's read of the inputs and write of the outputs (s3:PutObject on each
job's output prefix only), the bucket policy's matching grant to the Personalize principal, and the
Provider's and waiter's Personalize permissions for batch jobs. The jobs depend on those policies,
so a job can never start before Personalize may read its input and write its output.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from personalize_constructs.hashing import file_digest, logical_label
from personalize_constructs.long_wait import LongWait
from personalize_constructs.provider import PersonalizeProvider, data_object_statements
from personalize_constructs.resources import (
    JOB_NAME_MAX,
    Filter,
    PersonalizeContext,
    PersonalizeResource,
    Solution,
    cfn,
    depends,
    personalize_resource,
)
from personalize_constructs.storage import PERSONALIZE
from personalize_constructs.upload import data_object
from pipeline.config import BatchJobConfig
from pipeline.filters import filter_parameters
from pipeline.naming import digest
from pipeline.recipes import RecipeFamily

#: Repo input files are copied under here, one prefix per job (a CDK file asset copied by a
#: Custom::PersonalizeDataObject, as the dataset files are).
INPUT_PREFIX = "batch-input/"
#: Recipes that serve no batch inference ("You can't get batch recommendations with the
#: Trending-Now or Next-Best-Action recipes": CreateBatchInferenceJob API reference).
NO_BATCH = {"aws-trending-now", "aws-next-best-action"}
#: What each input line must carry, per recipe family (getting-batch-recommendations: input formats).
INPUT_KEYS: dict[RecipeFamily, tuple[str, ...]] = {
    RecipeFamily.USER_PERSONALIZATION: ("userId",),
    RecipeFamily.POPULAR_ITEMS: ("userId",),
    RecipeFamily.RELATED_ITEMS: ("itemId",),
    RecipeFamily.PERSONALIZED_RANKING: ("userId", "itemList"),
}


def placeholders(expression: str) -> list[str]:
    """Every `$NAME` of a filter expression: batch input must carry a value for each (stricter
    than GetRecommendations, which lets EXCLUDE-only parameters go without)."""
    return sorted(set().union(*filter_parameters(expression)))


def check_input_file(path: Path, family: RecipeFamily, parameters: Sequence[str], where: str) -> int:
    """Validate a JSON-lines batch input: every non-blank line a JSON object with the keys the recipe
    family reads (string ids; itemList a list of strings) and, with a parameterised filter, a
    `filterValues` object naming each placeholder. Returns the number of records; raises ValueError
    naming file, line, field, value and what was expected."""
    keys = INPUT_KEYS.get(family)
    if keys is None:
        raise ValueError(f"{where}: recipe family {family.value} serves no batch inference job")
    count = 0
    with path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            at = f"{where}: {path}:{number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{at}: not JSON ({exc.msg} at column {exc.colno}); expected one JSON "
                                 f"object per line such as {{\"{keys[0]}\": \"42\"}}") from None
            if not isinstance(record, dict):
                raise ValueError(f"{at}: expected a JSON object, got {line.strip()[:80]!r}")
            for key in keys:
                value = record.get(key)
                ok = (isinstance(value, list) and value and all(isinstance(v, str) for v in value)
                      if key == "itemList" else isinstance(value, str) and value != "")
                if not ok:
                    expected = "a non-empty list of item id strings" if key == "itemList" else "an id string"
                    raise ValueError(f"{at}: field {key}: expected {expected} ({family.value} input), "
                                     f"got {value!r}")
            if parameters:
                values = record.get("filterValues")
                missing = [p for p in parameters if not isinstance(values, dict) or p not in values]
                if missing:
                    raise ValueError(f"{at}: field filterValues: expected values for the filter's "
                                     f"placeholders {missing}, e.g. \"filterValues\": {{\"{missing[0]}\": "
                                     "'\"value\"'}")
            count += 1
    if count == 0:
        raise ValueError(f"{where}: {path} has no input records")
    return count


class BatchInference(Construct):
    """The shared permissions plus one job per `[[batch_jobs]]` entry. Exposes `jobs` (config name ->
    BatchJob), `service_policy`, `handler_policy`."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        ctx: PersonalizeContext,
        configs: Sequence[BatchJobConfig],
        solutions: dict[str, Solution],
        filters: dict[str, Filter],
        bucket: s3.IBucket,
        service_role: iam.IRole,
        provider: PersonalizeProvider,
        root: Path,
        retain: bool,
        after: Sequence[Construct] = (),
    ) -> None:
        super().__init__(scope, id)
        stack = cdk.Stack.of(self)
        self.jobs: dict[str, BatchJob] = {}
        (jobs_arn,) = provider.resource_arns("batch-inference-job")

        # What the Personalize service role reads and writes; one statement per job, exact prefixes.
        read: list[str] = []
        write: list[str] = []
        external_buckets: list[str] = []
        for config in configs:
            if config.is_s3:
                source_bucket, _, key = config.input.removeprefix("s3://").partition("/")
                read.append(f"arn:{stack.partition}:s3:::{source_bucket}/{key}")
                external_buckets.append(f"arn:{stack.partition}:s3:::{source_bucket}")
            else:
                read.append(bucket.arn_for_objects(f"{INPUT_PREFIX}{config.name}/*"))
            write.append(bucket.arn_for_objects(f"{config.output_prefix}*"))
        service_statements = [
            iam.PolicyStatement(sid="ReadBatchInput", actions=["s3:GetObject"], resources=read),
            iam.PolicyStatement(sid="WriteBatchOutput", actions=["s3:PutObject"], resources=write),
        ]
        if external_buckets:
            # An s3:// input in another bucket: Personalize lists it too (the data bucket's
            # ListBucket is already in the role). That bucket's own policy must admit Personalize.
            service_statements.append(
                iam.PolicyStatement(
                    sid="ListExternalBatchInput",
                    actions=["s3:ListBucket"],
                    resources=sorted(set(external_buckets)),
                )
            )
        self.service_policy = iam.Policy(
            self, "ServiceRoleAccess", roles=[service_role], statements=service_statements
        )
        # Confused-deputy conditions as Personalize's page recommends them: any Personalize resource
        # of this account and region. Which resource ARN Personalize sends as aws:SourceArn when a
        # batch job writes is not documented, so no narrower pattern (docs/aws-contracts.md).
        source = {
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {
                "aws:SourceArn": f"arn:{stack.partition}:personalize:{stack.region}:{stack.account}:*"
            },
        }
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="PersonalizeWriteBatchOutput",
                principals=[iam.ServicePrincipal(PERSONALIZE)],
                actions=["s3:PutObject"],
                resources=write,
                conditions=source,
            )
        )
        # The Provider's handler (create, find, tag) and the waiter's Poll (describe). The job's
        # parent in IAM's terms is the solution version it runs (Service Authorization Reference:
        # CreateBatchInferenceJob is authorized on batch-inference-job and solution, not filter).
        parents = provider.resource_arns("solution")
        self.handler_policy = iam.Policy(
            self,
            "HandlerAccess",
            roles=[provider.handler_role],
            statements=[
                iam.PolicyStatement(
                    sid="PersonalizeBatchInferenceJob",
                    actions=[
                        "personalize:CreateBatchInferenceJob",
                        "personalize:DescribeBatchInferenceJob",
                        "personalize:TagResource",
                        "personalize:UntagResource",
                        "personalize:ListTagsForResource",
                    ],
                    resources=[jobs_arn],
                ),
                iam.PolicyStatement(
                    sid="PersonalizeBatchInferenceParents",
                    actions=["personalize:CreateBatchInferenceJob"],
                    resources=parents,
                ),
                iam.PolicyStatement(
                    sid="PersonalizeListBatchInferenceJobs",
                    actions=["personalize:ListBatchInferenceJobs"],
                    resources=["*"],
                ),
            ],
        )
        self.waiter_policy = iam.Policy(
            self,
            "WaiterAccess",
            roles=[provider.waiter_role],
            statements=[
                iam.PolicyStatement(
                    sid="DescribeBatchInferenceJobs",
                    actions=["personalize:DescribeBatchInferenceJob"],
                    resources=[jobs_arn],
                )
            ],
        )

        for config in configs:
            solution = solutions[config.solution]
            self.jobs[config.name] = BatchJob(
                self,
                f"Job{logical_label(config.name)}",
                ctx=ctx,
                config=config,
                solution=solution,
                filter=filters[config.filter] if config.filter else None,
                bucket=bucket,
                role_arn=service_role.role_arn,
                root=root,
                retain=retain,
                handler_policy=self.handler_policy,
                after=[*after, self.service_policy, self.handler_policy, self.waiter_policy],
            )


class BatchJob(Construct):
    """One batch inference job (-> WaitCondition). Exposes `resource`, `wait`, `arn`, `output_path`,
    `input_path`, `upload` (the Custom::PersonalizeDataObject copying a repo input, or None)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        ctx: PersonalizeContext,
        config: BatchJobConfig,
        solution: Solution,
        filter: Filter | None,
        bucket: s3.IBucket,
        role_arn: str,
        root: Path,
        retain: bool,
        handler_policy: iam.Policy,
        after: Sequence[Construct],
    ) -> None:
        super().__init__(scope, id)
        label = logical_label(config.name)
        where = f"batch_jobs.{config.name}"
        if solution.recipe.name in NO_BATCH:
            raise ValueError(f"{where}: solution {config.solution!r} uses {solution.recipe.name}, which "
                             "serves no batch inference jobs")
        self.upload: PersonalizeResource | None = None
        depends_on: list[Construct] = [*after, solution.wait.condition]
        if config.is_s3:
            self.input_path: str = config.input
            input_hash = digest(config.input, length=16)
        else:
            path = root / config.input
            if not path.is_file():
                raise ValueError(f"{where}.input: no such file {config.input!r} under {root}")
            parameters = placeholders(filter.expression) if filter is not None else []
            check_input_file(path, solution.recipe.family, parameters, where)
            input_hash = file_digest(path)
            key = f"{INPUT_PREFIX}{config.name}/{path.name}"
            asset, self.upload = data_object(
                self,
                "Input",
                source=path,
                bucket=bucket,
                key=key,
                service_token=ctx.service_token,
                retain=retain,
            )
            # The copy runs in the Provider's handler: its read of this asset and its write of this
            # job's input prefix only, in the batch policy the copy waits for.
            handler_policy.add_statements(
                *data_object_statements(
                    sids=(f"{label}ReadInputAsset", f"{label}WriteInput", f"{label}EncryptInput"),
                    source_object_arn=asset.bucket.arn_for_objects(asset.s3_object_key),
                    bucket=bucket,
                    prefix=f"{INPUT_PREFIX}{config.name}/",
                )
            )
            depends(self.upload, handler_policy)
            self.input_path = cdk.Fn.join("", ["s3://", bucket.bucket_name, "/", key])
            depends_on.append(self.upload)
        if filter is not None:
            depends_on.append(filter.resource)
        self.output_path = cdk.Fn.join("", ["s3://", bucket.bucket_name, "/", config.output_prefix])

        # New input, a new training, other options: a new job (new hash, new wait ids).
        trigger = digest(
            ctx.prefix, config.name, input_hash, solution.trigger, config.num_results,
            config.output_prefix, config.filter,
        )
        job_name = ctx.name("batch", config.name, input_hash[:6])
        if len(job_name) > JOB_NAME_MAX:
            raise ValueError(f"{where}: batch job name {job_name!r} is longer than {JOB_NAME_MAX} characters")
        self.wait = LongWait(
            self, "Wait", label=f"Batch{label}", inputs_hash=trigger, timeout_seconds=config.timeout
        )
        self.resource = personalize_resource(
            self,
            "Resource",
            ctx,
            "BatchInferenceJob",
            f"Batch{label}",
            {
                "JobName": job_name,
                "SolutionVersionArn": solution.version_arn,
                "InputPath": self.input_path,
                "OutputPath": self.output_path,
                "RoleArn": role_arn,
                "NumResults": str(config.num_results),
                "FilterArn": filter.arn if filter is not None else None,
                "Trigger": trigger,
                "WaitHandle": self.wait.handle_ref,
            },
        )
        depends(self.resource, *depends_on)
        self.wait.after(cfn(self.resource))
        self.arn = self.resource.data("Arn")
