"""Data deletion jobs in the local Personalize: CreateDataDeletionJob, DescribeDataDeletionJob,
ListDataDeletionJobs.

A job reads a list of user ids from S3 with the service role (trust, then `s3:ListBucket` and
`s3:GetObject` by the role's policy and the bucket policy, as imports read: the same check,
local.emulator.personalize.access) and, when it completes, removes those users' rows from the
dataset group's Item interactions dataset (bulk-imported and PutEvents-recorded alike: the service
appends recorded events to that dataset) and their records from its Users dataset. Trained solution
versions are left as they are: the service's advice is to train a new one afterwards.

Service rules kept, with their sources:
- statuses `PENDING > IN_PROGRESS > COMPLETED -or- FAILED`, `failureReason` when FAILED, `numDeleted`
  ("the number of records deleted by a COMPLETED job"): botocore's model (CreateDataDeletionJob,
  DataDeletionJob); no delete or stop operation exists (none in the model): a job goes with its
  dataset group here;
- the input: "a CSV file with a single USER_ID column" (CreateDataDeletionJob); a file, or a folder
  whose `.csv` files in it "and any sub folder" are read, other files ignored; at most 100 MB in
  total; up to 5 jobs with status PENDING per dataset group (developer guide, "Deleting users and
  their data with a data deletion job", https://docs.aws.amazon.com/personalize/latest/dg/delete-records.html,
  and "Amazon Personalize endpoints and quotas");
- "Until the job completes, Amazon Personalize continues to use the data when training"
  (CreateDataDeletionJob): the rows go when the job turns COMPLETED, not before;
- the list lives in "an Amazon S3 bucket" (delete-records): an http(s) dataLocation, which the
  shared DataSource shape allows, is refused.

Not modelled: the page's rule that the list's bucket may not use a customer managed KMS key, and how
long a job takes (the service says "up to a day"; the model below takes half an hour and grows with
the rows it scans).
"""

from __future__ import annotations

import copy
import csv
import io
from dataclasses import dataclass, field
from typing import Any, ClassVar

from local.emulator import moto_internals
from local.emulator.personalize import durations as dur
from local.emulator.personalize.access import check_import_access
from local.emulator.personalize.errors import invalid, limit
from local.emulator.personalize.resources import Dataset, Resource, clean
from local.emulator.personalize.store import Context, Part, Store

HEADER = "USER_ID"
MAX_INPUT_BYTES = 100 * 1024 * 1024
PENDING_PER_DATASET_GROUP = 5
#: Model (no published figures): a queued start, a fixed run, and a cost per dataset row scanned.
DELETION_PENDING = 120.0
DELETION_BASE = 1800.0
DELETION_PER_ROW = 0.0005
DELETION_FAILURE = 300.0
DONE = ("COMPLETED", "FAILED")


@dataclass
class DataDeletionJob(Resource):
    KIND: ClassVar[str] = "data-deletion-job"
    ARN_KEY: ClassVar[str] = "dataDeletionJobArn"
    NAME_KEY: ClassVar[str] = "jobName"
    OWNER_FIELD: ClassVar[str | None] = "dataset_group_arn"
    dataset_group_arn: str = ""
    data_location: str = ""
    role_arn: str = ""
    num_deleted: int | None = None
    #: the user ids read when the job started, removed when it completes
    pending_users: frozenset[str] | None = field(default=None, repr=False)

    def describe(self) -> dict[str, Any]:
        return clean({**self.base(), "datasetGroupArn": self.dataset_group_arn,
                      "dataSource": {"dataLocation": self.data_location}, "roleArn": self.role_arn,
                      "numDeleted": self.num_deleted if self.status == "COMPLETED" else None,
                      "failureReason": self.failure_reason})

    def summary(self) -> dict[str, Any]:
        return clean({**self.base(), "datasetGroupArn": self.dataset_group_arn,
                      "failureReason": self.failure_reason})


class DataDeletion(Part):
    """The data deletion operations and their lifecycle."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        store.on("deletion_start", self._on_start)
        store.on("deletion_done", self._on_done)
        store.on("deletion_failed",
                 lambda job, at, reason: store.set_status(job, "FAILED", at, reason))

    def op_CreateDataDeletionJob(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        name = store.check_name(p.get("jobName"), "jobName")
        group = store.active_dataset_group(p.get("datasetGroupArn"))
        location = str((p.get("dataSource") or {}).get("dataLocation") or "")
        if not location.startswith("s3://") or not location[len("s3://"):].partition("/")[0]:
            raise invalid(f"Invalid dataLocation {location!r}: the list of users to delete must be in an "
                          "Amazon S3 bucket (s3://bucket/file.csv or s3://bucket/folder/).")
        pending = store.all_of(DataDeletionJob, lambda j: j.dataset_group_arn == group.arn
                               and j.status == "PENDING")
        if len(pending) >= PENDING_PER_DATASET_GROUP:
            raise limit(f"The dataset group {group.arn} already has {len(pending)} data deletion jobs "
                        f"with status PENDING (at most {PENDING_PER_DATASET_GROUP}).")
        arn = store.arn(ctx, "data-deletion-job", name)
        job = store.new(DataDeletionJob, ctx, arn, name, p.get("tags"), dataset_group_arn=group.arn,
                        data_location=location, role_arn=str(p.get("roleArn") or ""), status="PENDING")
        store.add(job)
        store.schedule(job.created + DELETION_PENDING * store.durations.scale, "deletion_start", job)
        return {"dataDeletionJobArn": arn}

    def op_DescribeDataDeletionJob(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        job = self.store.find(DataDeletionJob, p.get("dataDeletionJobArn"))
        return {"dataDeletionJob": job.describe()}

    def op_ListDataDeletionJobs(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        group = p.get("datasetGroupArn")
        found = self.store.listed(DataDeletionJob, ctx,
                                  lambda j: group is None or j.dataset_group_arn == group)
        return self.store.page([j.summary() for j in found], p, "dataDeletionJobs")

    # ---- lifecycle --------------------------------------------------------------------------
    def _on_start(self, job: DataDeletionJob, at: float, _: Any) -> None:
        store = self.store
        store.set_status(job, "IN_PROGRESS", at)
        try:
            job.pending_users = frozenset(_read_users(job))
        except _Failed as failure:
            failed_at = at + DELETION_FAILURE * store.durations.scale
            store.schedule(failed_at, "deletion_failed", job, str(failure))
            return
        rows = sum(len(d.data) for d in _datasets(store, job.dataset_group_arn))
        seconds = (DELETION_BASE + DELETION_PER_ROW * rows) * store.durations.scale
        store.schedule(at + dur.pending_part(0) + seconds, "deletion_done", job)

    def _on_done(self, job: DataDeletionJob, at: float, _: Any) -> None:
        users = set(job.pending_users or ())
        deleted = 0
        for dataset in _datasets(self.store, job.dataset_group_arn):
            kind = dataset.dataset_type.lower()
            if kind not in ("interactions", "users"):
                continue
            # a new container: solution versions trained before keep the one they read
            fresh = copy.copy(dataset.data)
            deleted += fresh.remove_users(users) if kind == "interactions" else fresh.remove(users)
            dataset.data = fresh
        job.pending_users = None
        job.num_deleted = deleted
        self.store.set_status(job, "COMPLETED", at)


class _Failed(Exception):
    """The job fails with this failureReason."""


def _datasets(store: Store, group: str) -> list[Dataset]:
    return store.all_of(Dataset, lambda d: d.dataset_group_arn == group and d.data is not None)


def _keys(account: str, bucket: str, key: str) -> list[str]:
    """A file, or every `.csv` object in the folder and its sub folders (delete-records)."""
    found = moto_internals.bucket_keys(account, bucket)
    if key and not key.endswith("/"):
        return [key] if key in found else []
    return sorted(k for k in found if k.startswith(key) and k.lower().endswith(".csv"))


def _read_users(job: DataDeletionJob) -> list[str]:
    """The user ids the job's input lists, read with the role; _Failed with the service's reason."""
    bucket, _, key = job.data_location[len("s3://"):].partition("/")
    try:
        keys = _keys(job.account, bucket, key)
    except LookupError:
        raise _Failed(f"Insufficient privileges for accessing data in Amazon S3: bucket {bucket} does not "
                      "exist or is not reachable.") from None
    folder = key if (not key or key.endswith("/")) else None
    denied = check_import_access(job.account, job.region, job.role_arn, bucket, keys, job.arn, prefix=folder)
    if denied:
        raise _Failed(denied)
    if not keys:
        raise _Failed(f"Input file not found: no CSV object at {job.data_location}.")
    bodies = [(k, moto_internals.read_object(job.account, bucket, k)) for k in keys]
    total = sum(len(body) for _, body in bodies)
    if total > MAX_INPUT_BYTES:
        raise _Failed(f"The input files total {total} bytes; the maximum is {MAX_INPUT_BYTES} (100 MB).")
    users: list[str] = []
    for name, body in bodies:
        try:
            rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
        except (UnicodeDecodeError, csv.Error) as error:
            raise _Failed(f"s3://{bucket}/{name} is not a UTF-8 CSV file: {error}") from None
        if not rows or [c.strip() for c in rows[0]] != [HEADER]:
            raise _Failed(f"s3://{bucket}/{name}: the input file must be a CSV file with a single {HEADER} "
                          f"column (header found: {','.join(rows[0]) if rows else 'none'}).")
        for number, row in enumerate(rows[1:], start=2):
            if not row:
                continue
            if len(row) != 1:
                raise _Failed(f"s3://{bucket}/{name} line {number}: expected a single {HEADER} column, "
                              f"found {len(row)}.")
            users.append(row[0])
    return users
