"""Deleting users' data from a deployed environment's dataset group: a Personalize data deletion job.

    from pipeline.deletion import ids_from_arguments
    from recs.deletion import DataDeletion
    with DataDeletion.for_environment("dev", target="local") as deletion:
        job = deletion.start(ids_from_arguments(["u0001", "u0002"]))
        outcome = deletion.wait(job, on_progress=print)
        print(outcome.status, outcome.num_deleted, outcome.failure_reason)

What it does (Personalize developer guide, "Deleting users and their data with a data deletion job",
https://docs.aws.amazon.com/personalize/latest/dg/delete-records.html): writes the ids as the job's
input CSV (pipeline/deletion.py) to the stack's data bucket under `deletions/<job name>/users.csv`,
encrypted with SSE-S3 ("You can't use your own AWS KMS key on the Amazon S3 bucket that stores your
list of userIds"), runs CreateDataDeletionJob with the stack's service role (which the template lets
read that prefix), and polls DescribeDataDeletionJob until COMPLETED or FAILED. The bucket, role and
dataset group come from the stack's outputs (recs/stack.py), on AWS or from the local runner's
state; the local target imports local/ only when chosen (recs/local_target.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.config import CONFIG_DIR
from pipeline.deletion import DELETION_PREFIX, UserIds
from pipeline.naming import REPO_ROOT
from recs.api import aws_session, load_environment
from recs.errors import AccessDenied, BadRequest, RecsError, ServiceError, StackNotDeployed
from recs.service import translate
from recs.stack import DeployedStack, from_cloudformation

#: The outputs a deletion needs (stacks/personalize_stack.py `_outputs`).
NEEDED_OUTPUTS = ("DataBucketName", "ServiceRoleArn", "DatasetGroupArn")
DONE = ("COMPLETED", "FAILED")
#: How often to ask DescribeDataDeletionJob: a job takes minutes to hours ("up to a day").
POLL_SECONDS = 60.0
#: What a data deletion job does not do, each with the page that says so.
NOT_COVERED: tuple[tuple[str, str], ...] = (
    (
        "Trained models: solution versions trained before the job completed still hold these users' "
        "data, and campaigns keep serving them: train a new solution version and update the campaigns "
        "(CreateSolutionVersion, then UpdateCampaign; a deploy retrains only when the data files change, "
        "so remove the users from them first). Until the job completes, Personalize keeps training on "
        "the data.",
        "https://docs.aws.amazon.com/personalize/latest/dg/delete-records.html",
    ),
    (
        "Your own copies: the source files in S3 (this stack's datasets/ objects, any s3:// source) "
        "still list these users; a FULL re-import (a new deploy with changed data) brings them back. "
        "Remove them from the source data too. Batch inference outputs in S3 are not touched either.",
        "https://docs.aws.amazon.com/personalize/latest/dg/delete-records.html",
    ),
    (
        "Items: the Items dataset is not changed; an item only these users interacted with (and not in "
        "the Items dataset) stops appearing in recommendations.",
        "https://docs.aws.amazon.com/personalize/latest/dg/delete-records.html",
    ),
    (
        "Streamed events: events recorded with PutEvents are part of the Item interactions dataset and "
        "are deleted with it; events sent after the job started may be kept: run another job.",
        "https://docs.aws.amazon.com/personalize/latest/dg/recording-item-interaction-events.html",
    ),
    (
        "Other dataset groups: a job deletes from one dataset group; other environments (dev, prod) "
        "need their own `pz delete-users -c env=NAME`.",
        "https://docs.aws.amazon.com/personalize/latest/dg/delete-records.html",
    ),
)


@dataclass(frozen=True)
class DeletionJob:
    """A data deletion job as DescribeDataDeletionJob reports it, with what was asked of it."""

    name: str
    arn: str
    status: str
    data_location: str
    dataset_group_arn: str
    users: int
    num_deleted: int | None = None
    failure_reason: str | None = None
    #: seconds waited for it (the target's clock: virtual on the local target)
    waited_seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return self.status == "FAILED"

    def to_json(self) -> dict[str, Any]:
        return {
            "jobName": self.name,
            "dataDeletionJobArn": self.arn,
            "status": self.status,
            "numDeleted": self.num_deleted,
            "failureReason": self.failure_reason,
            "dataLocation": self.data_location,
            "datasetGroupArn": self.dataset_group_arn,
            "users": self.users,
            "waitedSeconds": round(self.waited_seconds, 1),
            "notCovered": [{"what": what, "source": source} for what, source in NOT_COVERED],
        }


class DataDeletion:
    """One deployed environment's dataset group, for data deletion jobs. Use `for_environment`."""

    def __init__(
        self,
        stack: DeployedStack,
        *,
        session: Any,
        activate: Callable[[], AbstractContextManager[Any]] | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        missing = [key for key in NEEDED_OUTPUTS if not stack.outputs.get(key)]
        if missing:
            raise StackNotDeployed(
                f"stack {stack.name} ({stack.where}) has no output {', '.join(missing)}: deploy the current "
                "version of the stack again"
            )
        self.stack = stack
        self._session = session
        self._activate = activate or nullcontext
        self._clock = clock
        self._sleep = sleep
        self._on_close = on_close

    @classmethod
    def for_environment(
        cls,
        env: str = "dev",
        *,
        target: str = "local",
        region: str | None = None,
        profile: str | None = None,
        state_dir: Path | str | None = None,
        config_dir: Path | str | None = None,
    ) -> DataDeletion:
        """The environment `env` as deployed on `target` (as recs.Recommender.for_environment finds it).
        The local target saves the world back when closed, so the job and its effect persist."""
        if target == "local":
            from recs.local_target import open_local

            directory = Path(state_dir) if state_dir else REPO_ROOT / ".local"
            stack, world = open_local(env, directory)

            def close() -> None:
                world.save(directory / "world.pkl")
                world.close()

            import boto3

            # the saved world's clock is virtual: waiting advances it (seconds pass for nobody)
            return cls(stack, session=boto3.session.Session(), activate=world.active, clock=world.now,
                       sleep=world.clock.advance, on_close=close)
        if target != "aws":
            raise BadRequest(f"target must be 'aws' or 'local', got {target!r}")
        config = load_environment(env, Path(config_dir) if config_dir else CONFIG_DIR)
        session = aws_session(profile)
        where = region or config.environment.region or session.region_name
        if not where:
            raise RecsError(
                f"no AWS region: pass --region, set environment.region in config/{env}.toml, or set "
                "AWS_REGION"
            )
        stack = from_cloudformation(env, session, where)
        stack.check_serving(f"deploy it with `npx cdk deploy -c env={env}`")
        return cls(stack, session=session)

    def __enter__(self) -> DataDeletion:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._on_close is not None:
            self._on_close()
            self._on_close = None

    # ---------------------------------------------------------------- the job
    @property
    def dataset_group_arn(self) -> str:
        return self.stack.outputs["DatasetGroupArn"]

    def job_name(self) -> str:
        """`<dataset group name>-delete-<UTC time>`, within the 63 characters a job name may have."""
        stamp = datetime.fromtimestamp(self._clock(), UTC).strftime("%Y%m%d%H%M%S")
        suffix = f"-delete-{stamp}"
        group = self.dataset_group_arn.rsplit("/", 1)[-1]
        return group[: 63 - len(suffix)] + suffix

    def start(self, ids: UserIds, job_name: str | None = None) -> DeletionJob:
        """Upload the list and create the job (PENDING); what the service answered."""
        name = job_name or self.job_name()
        bucket = self.stack.outputs["DataBucketName"]
        key = f"{DELETION_PREFIX}{name}/users.csv"
        location = f"s3://{bucket}/{key}"
        self._call("s3", "put_object", Bucket=bucket, Key=key, Body=ids.to_csv(),
                   ContentType="text/csv", ServerSideEncryption="AES256")
        answer = self._call(
            "personalize", "create_data_deletion_job", jobName=name, datasetGroupArn=self.dataset_group_arn,
            dataSource={"dataLocation": location}, roleArn=self.stack.outputs["ServiceRoleArn"],
        )
        return DeletionJob(name, answer["dataDeletionJobArn"], "PENDING", location, self.dataset_group_arn,
                           len(ids.ids))

    def describe(self, job: DeletionJob, waited: float = 0.0) -> DeletionJob:
        found = self._call("personalize", "describe_data_deletion_job",
                           dataDeletionJobArn=job.arn)["dataDeletionJob"]
        return DeletionJob(
            job.name, job.arn, str(found.get("status", "")),
            str((found.get("dataSource") or {}).get("dataLocation") or job.data_location),
            str(found.get("datasetGroupArn") or job.dataset_group_arn), job.users,
            found.get("numDeleted"), found.get("failureReason"), waited,
        )

    def wait(
        self,
        job: DeletionJob,
        *,
        on_progress: Callable[[DeletionJob], None] | None = None,
        poll_seconds: float = POLL_SECONDS,
        timeout_seconds: float = 26 * 3600,
    ) -> DeletionJob:
        """Poll until COMPLETED or FAILED, calling `on_progress` on each status change; ServiceError
        after `timeout_seconds` (the service says a job can take up to a day)."""
        started = self._clock()
        seen = ""
        while True:
            current = self.describe(job, self._clock() - started)
            if current.status != seen and on_progress is not None:
                on_progress(current)
            seen = current.status
            if current.status in DONE:
                return current
            if current.waited_seconds >= timeout_seconds:
                raise ServiceError(
                    f"data deletion job {job.arn} is still {current.status} after {timeout_seconds:.0f} s: "
                    f"check it later with `aws personalize describe-data-deletion-job "
                    f"--data-deletion-job-arn {job.arn}`"
                )
            self._sleep(poll_seconds)

    # ---------------------------------------------------------------- internals
    @contextmanager
    def _client(self, service: str) -> Iterator[Any]:
        with self._activate():
            yield self._session.client(service, region_name=self.stack.region)

    def _call(self, service: str, operation: str, **params: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        with self._client(service) as client:
            try:
                return getattr(client, operation)(**params)
            except (ClientError, BotoCoreError) as error:
                what = "".join(part.title() for part in operation.split("_"))
                translated = translate(error, what)
                if isinstance(translated, AccessDenied):
                    # the permissions a deletion needs are listed on their own page
                    shown = str(translated).replace("docs/recommend.md", "docs/data-deletion.md")
                    raise AccessDenied(shown) from None
                raise translated from None
