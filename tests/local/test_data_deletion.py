"""Data deletion jobs in the local Personalize: the service's statuses, its refusals (botocore's shapes
and the documented input rules), the service role's access to the list, and the rows that go."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local.emulator.personalize.resources import Dataset
from local.emulator.world import World
from tests.local.helpers import BUCKET, REGION, ROLE, Pipeline, Trained, upload, wait_for


def _group_with_data(pipeline: Pipeline, **grants: bool) -> None:
    pipeline.group(**grants)
    for kind in ("interactions", "users"):
        pipeline.dataset(kind)
        assert pipeline.imported(kind)["status"] == "ACTIVE"


def _data(world: World, group: str, kind: str) -> Any:
    return next(d.data for d in world.personalize.resources.values()
                if isinstance(d, Dataset) and d.dataset_group_arn == group and d.dataset_type.lower() == kind)


def _job(pz: Any, pipeline: Pipeline, location: str, name: str = "forget") -> str:
    arn: str = pz.create_data_deletion_job(jobName=name, datasetGroupArn=pipeline.dg,
                                           dataSource={"dataLocation": location},
                                           roleArn=pipeline.role_arn)["dataDeletionJobArn"]
    return arn


def _finished(world: World, pz: Any, arn: str) -> dict[str, Any]:
    return wait_for(world, lambda: pz.describe_data_deletion_job(dataDeletionJobArn=arn)["dataDeletionJob"],
                    done=("COMPLETED", "FAILED"), step=60)


def test_a_job_goes_pending_in_progress_completed_and_removes_the_users_rows(
    world: World, pz: Any, s3: Any, pipeline: Pipeline
) -> None:
    _group_with_data(pipeline)
    interactions, users = _data(world, pipeline.dg, "interactions"), _data(world, pipeline.dg, "users")
    gone = sorted(set(interactions.user_ids))[:3]
    users_before = {u for u in gone if u in users}
    expected = sum(1 for u in interactions.user_ids if u in gone) + len(users_before)
    rows_before = len(interactions)
    location = upload(s3, "deletions/a/users.csv", "USER_ID\n" + "\n".join(gone) + "\n")
    arn = _job(pz, pipeline, location)

    seen = [pz.describe_data_deletion_job(dataDeletionJobArn=arn)["dataDeletionJob"]["status"]]
    # the data is still there (and trained on) until the job completes
    while seen[-1] not in ("COMPLETED", "FAILED"):
        assert len(_data(world, pipeline.dg, "interactions")) == rows_before
        world.clock.advance(60)  # type: ignore[attr-defined]
        status = pz.describe_data_deletion_job(dataDeletionJobArn=arn)["dataDeletionJob"]["status"]
        if status != seen[-1]:
            seen.append(status)
    assert seen == ["PENDING", "IN_PROGRESS", "COMPLETED"]
    job = pz.describe_data_deletion_job(dataDeletionJobArn=arn)["dataDeletionJob"]
    assert job["numDeleted"] == expected > len(gone)
    assert job["dataSource"] == {"dataLocation": location} and job["roleArn"] == pipeline.role_arn
    now, users_now = _data(world, pipeline.dg, "interactions"), _data(world, pipeline.dg, "users")
    assert not set(gone) & set(now.user_ids)
    assert not any(u in users_now for u in gone)
    assert len(now) == rows_before - (expected - len(users_before))
    # what a solution version trained before the job read is left as it was
    assert len(interactions) == rows_before and all(u in users for u in users_before)
    listed = pz.list_data_deletion_jobs(datasetGroupArn=pipeline.dg)["dataDeletionJobs"]
    assert [j["dataDeletionJobArn"] for j in listed] == [arn] and "numDeleted" not in listed[0]


def test_a_folder_reads_every_csv_below_it_and_ignores_other_files(
    world: World, pz: Any, s3: Any, pipeline: Pipeline
) -> None:
    _group_with_data(pipeline)
    interactions = _data(world, pipeline.dg, "interactions")
    first, second, kept = sorted(set(interactions.user_ids))[:3]
    upload(s3, "deletions/batch/one.csv", f"USER_ID\n{first}\n")
    upload(s3, "deletions/batch/sub/two.csv", f"USER_ID\n{second}\n")
    upload(s3, "deletions/batch/notes.txt", f"USER_ID\n{kept}\n")
    job = _finished(world, pz, _job(pz, pipeline, f"s3://{BUCKET}/deletions/batch/"))
    assert job["status"] == "COMPLETED"
    left = set(_data(world, pipeline.dg, "interactions").user_ids)
    assert first not in left and second not in left and kept in left


def test_events_recorded_with_put_events_go_too(trained: tuple[World, Trained]) -> None:
    world, t = trained
    pz, s3 = boto3.client("personalize", region_name=REGION), boto3.client("s3", region_name=REGION)
    events = boto3.client("personalize-events", region_name=REGION)
    interactions = _data(world, t.dg, "interactions")
    events.put_events(trackingId=t.tracking_id, userId="streamed-user", sessionId="s1",
                      eventList=[{"eventType": "click", "itemId": interactions.item_ids[0],
                                  "sentAt": world.now()}])
    assert "streamed-user" in set(interactions.user_ids)
    location = upload(s3, "deletions/streamed.csv", "USER_ID\nstreamed-user\n")
    arn = pz.create_data_deletion_job(jobName="streamed", datasetGroupArn=t.dg, roleArn=t.role,
                                      dataSource={"dataLocation": location})["dataDeletionJobArn"]
    job = wait_for(world, lambda: pz.describe_data_deletion_job(dataDeletionJobArn=arn)["dataDeletionJob"],
                   done=("COMPLETED", "FAILED"), step=60)
    assert job["status"] == "COMPLETED" and job["numDeleted"] == 1
    assert "streamed-user" not in set(_data(world, t.dg, "interactions").user_ids)


@pytest.mark.parametrize(
    ("change", "field", "constraint"),
    [
        ({"jobName": "forget users!"}, "jobName", "regular expression pattern"),
        ({"jobName": "x" * 64}, "jobName", "length less than or equal to 63"),
        ({"dataSource": {"dataLocation": "ftp://bucket/users.csv"}}, "dataSource.dataLocation",
         "regular expression pattern"),
        ({"roleArn": "arn:aws:personalize:us-east-1:123456789012:role/x"}, "roleArn",
         "regular expression pattern"),
    ],
)
def test_values_outside_botocore_shapes_are_refused(
    pz: Any, s3: Any, pipeline: Pipeline, change: dict[str, Any], field: str, constraint: str
) -> None:
    pipeline.group()
    params = {"jobName": "forget", "datasetGroupArn": pipeline.dg,
              "dataSource": {"dataLocation": f"s3://{BUCKET}/deletions/u.csv"}, "roleArn": pipeline.role_arn,
              **change}
    with pytest.raises(ClientError) as refused:
        pz.create_data_deletion_job(**params)
    error = refused.value.response["Error"]
    assert error["Code"] == "InvalidInputException"
    assert f"at '{field}'" in error["Message"] and constraint in error["Message"]


def test_documented_input_rules_are_refused(world: World, pz: Any, s3: Any, pipeline: Pipeline) -> None:
    pipeline.group()
    location = f"s3://{BUCKET}/deletions/u.csv"
    with pytest.raises(ClientError) as web:
        _job(pz, pipeline, "https://example.com/users.csv")
    assert web.value.response["Error"]["Code"] == "InvalidInputException"
    with pytest.raises(ClientError) as unknown:
        pz.create_data_deletion_job(jobName="x", datasetGroupArn=pipeline.dg.replace("t-dg", "nope"),
                                    dataSource={"dataLocation": location}, roleArn=pipeline.role_arn)
    assert unknown.value.response["Error"]["Code"] == "ResourceNotFoundException"
    _job(pz, pipeline, location, name="pending-0")
    with pytest.raises(ClientError) as again:
        _job(pz, pipeline, location, name="pending-0")
    assert again.value.response["Error"]["Code"] == "ResourceAlreadyExistsException"
    for number in range(1, 5):
        _job(pz, pipeline, location, name=f"pending-{number}")
    with pytest.raises(ClientError) as sixth:
        _job(pz, pipeline, location, name="pending-5")
    assert sixth.value.response["Error"]["Code"] == "LimitExceededException"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("USERID\nu1\n", "single USER_ID column"),
        ("USER_ID,ITEM_ID\nu1,i1\n", "single USER_ID column"),
        ("USER_ID\nu1,i1\n", "line 2"),
        (None, "Input file not found"),
    ],
)
def test_a_list_not_in_the_documented_format_fails_the_job(
    world: World, pz: Any, s3: Any, pipeline: Pipeline, body: str | None, reason: str
) -> None:
    _group_with_data(pipeline)
    interactions = _data(world, pipeline.dg, "interactions")
    rows = len(interactions)
    location = f"s3://{BUCKET}/deletions/bad.csv" if body is None else upload(s3, "deletions/bad.csv", body)
    job = _finished(world, pz, _job(pz, pipeline, location))
    assert job["status"] == "FAILED" and reason in job["failureReason"]
    assert "numDeleted" not in job and len(_data(world, pipeline.dg, "interactions")) == rows


def test_a_role_that_cannot_read_the_list_fails_the_job_as_the_service_reports(
    world: World, pz: Any, s3: Any, iam: Any, pipeline: Pipeline
) -> None:
    _group_with_data(pipeline)
    interactions = _data(world, pipeline.dg, "interactions")
    rows = len(interactions)
    user = interactions.user_ids[0]
    location = upload(s3, "deletions/u.csv", f"USER_ID\n{user}\n")
    # the role keeps ListBucket but loses GetObject
    iam.put_role_policy(RoleName=ROLE, PolicyName="s3-read", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{BUCKET}"}],
    }))
    job = _finished(world, pz, _job(pz, pipeline, location))
    assert job["status"] == "FAILED"
    assert job["failureReason"].startswith("Insufficient privileges for accessing data in Amazon S3")
    assert "s3:GetObject" in job["failureReason"]
    left = _data(world, pipeline.dg, "interactions")
    assert len(left) == rows and user in set(left.user_ids)


def test_jobs_go_with_their_dataset_group(world: World, pz: Any, s3: Any, pipeline: Pipeline) -> None:
    pipeline.group()
    arn = _job(pz, pipeline, upload(s3, "deletions/u.csv", "USER_ID\nu1\n"))
    _finished(world, pz, arn)
    pz.delete_dataset_group(datasetGroupArn=pipeline.dg)
    world.clock.advance(3600)  # type: ignore[attr-defined]
    assert pz.list_data_deletion_jobs()["dataDeletionJobs"] == []
