"""The service rules a batch inference job meets, through the handler against the local world: a
version still training, a recipe without batch inference, a filter of another dataset group, a
duplicate name, a missing input. Skips until the local Personalize implements batch inference."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from personalize_handlers.common import HandlerError

from tests.handlers.helpers import (
    BATCH,
    BUCKET,
    DATASET,
    DG,
    FILTER,
    REGION,
    ROLE_ARN,
    SCHEMA,
    SOLUTION,
    VERSION,
    Pipeline,
    Provider,
    grant_batch_access,
    personalize,
    schema_text,
    setup_data_access,
)


def prepared(world: Any, recipe: str = "aws-popularity-count") -> Pipeline:
    setup_data_access()
    pipe = Pipeline(Provider(world)).with_data()
    pipe.trained(recipe)
    s3 = boto3.client("s3", region_name=REGION)
    s3.put_object(Bucket=BUCKET, Key="batch-input/t/users.jsonl", Body=b'{"userId": "u1"}\n')
    grant_batch_access("batch-input/", "batch-output/")
    return pipe


def props(version: str, **extra: str) -> dict[str, Any]:
    return {
        "JobName": "test-retail-batch-t-abc123",
        "SolutionVersionArn": version,
        "InputPath": f"s3://{BUCKET}/batch-input/t/users.jsonl",
        "OutputPath": f"s3://{BUCKET}/batch-output/t/",
        "RoleArn": ROLE_ARN,
        **extra,
    }


def test_a_version_still_training_is_refused(batch_world: Any) -> None:
    pipe = prepared(batch_world)
    training = personalize().create_solution_version(solutionArn=pipe.solution)["solutionVersionArn"]
    with pytest.raises(
        HandlerError, match=r"CreateBatchInferenceJob failed: ResourceInUseException: .*ACTIVE"
    ):
        pipe.provider.create(BATCH, props(training))


def test_trending_now_serves_no_batch_jobs(batch_world: Any) -> None:
    pipe = prepared(batch_world)
    trending = {**pipe.solution_props("test-retail-trending-1", "aws-trending-now")}
    solution = pipe.provider.create(SOLUTION, trending)["PhysicalResourceId"]
    version = Provider(batch_world, total_timeout=6 * 3600).create(
        VERSION, {"SolutionArn": solution, "Trigger": "t"}
    )
    with pytest.raises(HandlerError, match=r"InvalidInputException: .*aws-trending-now"):
        pipe.provider.create(BATCH, props(version["PhysicalResourceId"]))


def test_filter_of_another_dataset_group_is_refused(batch_world: Any) -> None:
    pipe = prepared(batch_world)
    other = pipe.provider.create(DG, {"Name": "test-other"})["PhysicalResourceId"]
    schema = pipe.provider.create(SCHEMA, {"Name": "test-other-s", "Schema": schema_text("interactions")})
    pipe.provider.create(
        DATASET,
        {
            "Name": "test-other-interactions",
            "DatasetGroupArn": other,
            "DatasetType": "Interactions",
            "SchemaArn": schema["PhysicalResourceId"],
        },
    )
    expression = 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")'
    flt = pipe.provider.create(
        FILTER, {"Name": "test-other-f", "DatasetGroupArn": other, "FilterExpression": expression}
    )
    with pytest.raises(HandlerError, match=r"InvalidInputException: .*does not belong to the dataset group"):
        pipe.provider.create(BATCH, props(pipe.version, FilterArn=flt["PhysicalResourceId"]))


def test_missing_input_fails_the_job_with_the_reason(batch_world: Any) -> None:
    pipe = prepared(batch_world)
    missing = props(pipe.version, InputPath=f"s3://{BUCKET}/batch-input/t/nope.jsonl")
    provider = Provider(batch_world, total_timeout=6 * 3600)
    with pytest.raises(HandlerError, match=r"CreateBatchInferenceJob failed: .*not found"):
        provider.create(BATCH, missing)


def test_same_name_twice_is_already_exists_and_the_handler_adopts_only_a_match(batch_world: Any) -> None:
    pipe = prepared(batch_world)
    provider = Provider(batch_world, total_timeout=6 * 3600)
    first = provider.create(BATCH, props(pipe.version), request_id="same")
    again = provider.create(BATCH, props(pipe.version), request_id="same")  # a duplicated event
    assert again["PhysicalResourceId"] == first["PhysicalResourceId"]
    jobs = personalize().list_batch_inference_jobs(solutionVersionArn=pipe.version)["batchInferenceJobs"]
    assert len(jobs) == 1
    other = props(pipe.version, OutputPath=f"s3://{BUCKET}/batch-output/other/")
    with pytest.raises(HandlerError, match="already exists with a different configuration"):
        provider.create(BATCH, other, request_id="same")
