"""Against the local world: a parameterised filter created by the handler is usable with filter
values (what batch input lines and the recommend CLI pass), and a batch inference job runs end to
end (input JSON lines in S3 -> output JSON lines) once the local Personalize implements it."""

from __future__ import annotations

import csv
import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from personalize_handlers.clients import RETRY_CONFIG
from personalize_handlers.common import HandlerError

from pipeline.naming import REPO_ROOT
from tests.handlers.helpers import (
    BATCH,
    BUCKET,
    CAMPAIGN,
    FILTER,
    REGION,
    ROLE_ARN,
    ROLE_NAME,
    Pipeline,
    Provider,
    grant_batch_access,
    personalize,
    setup_data_access,
)


def categories() -> dict[str, set[str]]:
    with (REPO_ROOT / "data" / "items.csv").open(newline="", encoding="utf-8") as handle:
        return {row["ITEM_ID"]: set(row["CATEGORY_L1"].split("|")) for row in csv.DictReader(handle)}


def serving_pipeline(world: Any) -> tuple[Pipeline, str]:
    setup_data_access()
    pipe = Pipeline(Provider(world)).with_data(("interactions", "items"))
    pipe.trained()
    campaign = pipe.provider.create(
        CAMPAIGN, {"Name": "test-recs", "SolutionVersionArn": pipe.version, "MinProvisionedTPS": "1"}
    )["PhysicalResourceId"]
    return pipe, campaign


def test_parameterised_filter_values_shape_recommendations(world: Any) -> None:
    pipe, campaign = serving_pipeline(world)
    expression = "INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ($CATEGORY)"
    created = pipe.provider.create(
        FILTER, {"Name": "test-in-category-1", "DatasetGroupArn": pipe.group, "FilterExpression": expression}
    )
    arn = created["PhysicalResourceId"]
    assert personalize().describe_filter(filterArn=arn)["filter"]["filterExpression"] == expression
    runtime = boto3.client("personalize-runtime", region_name=REGION, config=RETRY_CONFIG)
    known = categories()
    users = sorted(
        {row.split(",")[0] for row in (REPO_ROOT / "data" / "interactions.csv").read_text().splitlines()[1:]}
    )

    def recommended(values: str) -> list[str]:
        answer = runtime.get_recommendations(
            campaignArn=campaign,
            userId=users[0],
            numResults=25,
            filterArn=arn,
            filterValues={"CATEGORY": values},
        )
        return [item["itemId"] for item in answer["itemList"]]

    electronics = recommended('"electronics"')
    assert electronics and all("electronics" in known[i] for i in electronics)
    both = recommended('"electronics","books"')
    assert all(known[i] & {"electronics", "books"} for i in both)
    assert any("books" in known[i] for i in both)  # the second value widens the set
    with pytest.raises(ClientError):  # a placeholder without its value is refused
        runtime.get_recommendations(campaignArn=campaign, userId=users[0], filterArn=arn)


def test_batch_inference_job_runs_against_the_local_world(batch_world: Any) -> None:
    pipe, _ = serving_pipeline(batch_world)
    s3 = boto3.client("s3", region_name=REGION)
    lines = [{"userId": "u1"}, {"userId": "u2"}, {"userId": "no-such-user"}]
    s3.put_object(
        Bucket=BUCKET,
        Key="batch-input/test/users.jsonl",
        Body="".join(json.dumps(line) + "\n" for line in lines).encode(),
    )
    grant_batch_access("batch-input/test/", "batch-output/test/")
    props = {
        "JobName": "test-retail-batch-test-abc123",
        "SolutionVersionArn": pipe.version,
        "InputPath": f"s3://{BUCKET}/batch-input/test/users.jsonl",
        "OutputPath": f"s3://{BUCKET}/batch-output/test/",
        "RoleArn": ROLE_ARN,
        "NumResults": "5",
    }
    provider = Provider(batch_world, total_timeout=6 * 3600)
    done = provider.send(provider.event("Create", BATCH, props, request_id="req-local"))
    arn = done["PhysicalResourceId"]
    job = personalize().describe_batch_inference_job(batchInferenceJobArn=arn)["batchInferenceJob"]
    assert job["status"] == "ACTIVE" and job["numResults"] == 5
    listed = personalize().list_batch_inference_jobs(solutionVersionArn=pipe.version)["batchInferenceJobs"]
    assert [j["batchInferenceJobArn"] for j in listed] == [arn]
    keys = [
        o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="batch-output/test/").get("Contents", [])
    ]
    assert keys == ["batch-output/test/users.jsonl.out"]
    body = s3.get_object(Bucket=BUCKET, Key=keys[0])["Body"].read().decode()
    records = [json.loads(line) for line in body.splitlines() if line.strip()]
    assert [r["input"] for r in records] == lines
    for record in records:
        assert len(record["output"]["recommendedItems"]) == 5  # cold users get popular items
    # Delete is a no-op: the job stays listed, its output stays
    provider.delete(BATCH, arn, props)
    assert personalize().describe_batch_inference_job(batchInferenceJobArn=arn)["batchInferenceJob"]


def test_batch_job_without_write_access_fails_with_the_reason(batch_world: Any) -> None:
    pipe, _ = serving_pipeline(batch_world)
    s3 = boto3.client("s3", region_name=REGION)
    s3.put_object(Bucket=BUCKET, Key="batch-input/test/users.jsonl", Body=b'{"userId": "u1"}\n')
    iam = boto3.client("iam", region_name=REGION)
    read_only = {
        "Effect": "Allow",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/batch-input/*",
    }
    iam.put_role_policy(
        RoleName=ROLE_NAME,
        PolicyName="batch",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [read_only]}),
    )
    props = {
        "JobName": "test-retail-batch-denied-abc123",
        "SolutionVersionArn": pipe.version,
        "InputPath": f"s3://{BUCKET}/batch-input/test/users.jsonl",
        "OutputPath": f"s3://{BUCKET}/batch-output/test/",
        "RoleArn": ROLE_ARN,
    }
    provider = Provider(batch_world, total_timeout=6 * 3600)
    with pytest.raises(HandlerError, match=r"CreateBatchInferenceJob failed: .*s3:PutObject"):
        provider.send(provider.event("Create", BATCH, props, request_id="req-denied"))
    assert not s3.list_objects_v2(Bucket=BUCKET, Prefix="batch-output/").get("Contents")
