"""Data deletion on the session's deploy of dev, each test on its own copy of the world: the command's
human output on the local target, and the AWS target (the stack found with CloudFormation
DescribeStacks, the list uploaded with SSE-S3, the job run with the stack's service role)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import boto3
import pytest

from cli.exitcodes import ExitCode
from cli.main import main
from local.emulator.world import World
from pipeline.deletion import ids_from_arguments
from pipeline.naming import stack_name
from recs.deletion import DataDeletion
from recs.stack import from_cloudformation
from tests.recs.helpers import REGION, Deployed


def _copy(deployed: Deployed, tmp_path: Path) -> Path:
    target = tmp_path / "state"
    shutil.copytree(deployed.state_dir, target)
    return target


def test_local_target_prints_the_outcome_and_what_it_does_not_cover(
    deployed: Deployed, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = _copy(deployed, tmp_path)
    assert main(["delete-users", "-c", "env=dev", "--state-dir", str(state), "--no-color",
                 "u0246", "u0246"]) == ExitCode.OK
    out, err = capsys.readouterr()
    assert "records deleted" in out and ": COMPLETED, " in out
    assert "Not covered by a data deletion job" in out and "delete-records.html" in out
    assert "for 1 user of" in err and "listed again" in err
    assert [line.split(": ")[1].split(" ")[0] for line in err.splitlines() if line.startswith("  dev-")] == [
        "PENDING", "IN_PROGRESS", "COMPLETED"
    ]


@pytest.fixture
def aws_copy(deployed: Deployed, tmp_path: Path) -> Any:
    """A copy of the deployed world whose moto CloudFormation holds the stack's outputs (what `cdk
    deploy` leaves on AWS), active."""
    world = World.load(_copy(deployed, tmp_path) / "world.pkl")
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {key: {"Value": value} for key, value in deployed.outputs.items()},
    }
    with world.active():
        boto3.client("cloudformation", region_name=REGION).create_stack(
            StackName=stack_name("dev"), TemplateBody=json.dumps(template)
        )
        yield world
    world.close()


def test_aws_target_uploads_with_sse_s3_and_runs_the_job_with_the_stack_role(
    aws_copy: Any, deployed: Deployed
) -> None:
    session = boto3.session.Session()
    stack = from_cloudformation("dev", session, REGION)
    deletion = DataDeletion(stack, session=session, clock=aws_copy.now, sleep=aws_copy.clock.advance)
    seen: list[str] = []
    job = deletion.wait(deletion.start(ids_from_arguments(["u0246", "u0001"])),
                        on_progress=lambda j: seen.append(j.status))
    assert seen == ["PENDING", "IN_PROGRESS", "COMPLETED"] and job.num_deleted and job.num_deleted > 2
    bucket, _, key = job.data_location.removeprefix("s3://").partition("/")
    assert bucket == deployed.outputs["DataBucketName"] and key.startswith(f"deletions/{job.name}/")
    s3 = boto3.client("s3", region_name=REGION)
    assert s3.head_object(Bucket=bucket, Key=key)["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"USER_ID\nu0246\nu0001\n"
    described = boto3.client("personalize", region_name=REGION).describe_data_deletion_job(
        dataDeletionJobArn=job.arn)["dataDeletionJob"]
    assert described["roleArn"] == deployed.outputs["ServiceRoleArn"]
    assert described["datasetGroupArn"] == deployed.outputs["DatasetGroupArn"]


def test_aws_target_from_the_command_line_without_waiting(
    aws_copy: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["delete-users", "-c", "env=dev", "--target", "aws", "--region", REGION, "--no-wait", "--json",
            "u0246"]
    assert main(argv) == ExitCode.OK
    result = json.loads(capsys.readouterr().out)
    assert result["status"] == "PENDING" and result["numDeleted"] is None
    listed = boto3.client("personalize", region_name=REGION).list_data_deletion_jobs()["dataDeletionJobs"]
    assert [j["dataDeletionJobArn"] for j in listed] == [result["dataDeletionJobArn"]]
