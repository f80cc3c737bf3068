"""Custom::PersonalizeBatchInferenceJob against the real API shape: botocore's Stubber checks every
request against the personalize 2018-05-22 service model (names, types, required members) and
every canned response is parsed by the same model. The same lifecycle against the local world runs
in test_batch_local.py once the local Personalize implements batch inference."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from personalize_handlers import clients, entry, waiter
from personalize_handlers.clients import Api
from personalize_handlers.common import HandlerError, unique_name

from tests.handlers.helpers import Provider

BATCH = "Custom::PersonalizeBatchInferenceJob"
HEAD = "arn:aws:personalize:us-east-1:123456789012"
VERSION = f"{HEAD}:solution/dev-retail-user-personalization-a1b2c3/4d5e6f7a"
FILTER = f"{HEAD}:filter/dev-retail-in-category-0a1b2c"
ROLE = "arn:aws:iam::123456789012:role/personalize-service"
PROPS: dict[str, Any] = {
    "JobName": "dev-retail-batch-nightly-users-2b78be",
    "SolutionVersionArn": VERSION,
    "InputPath": "s3://data-bucket/batch-input/nightly-users/users.jsonl",
    "OutputPath": "s3://data-bucket/batch-output/nightly-users/",
    "RoleArn": ROLE,
    "NumResults": "10",
    "FilterArn": FILTER,
    "Trigger": "2f424260",
    "Tags": [{"tagKey": "project", "tagValue": "recs"}],
}
NOW = datetime.datetime(2026, 11, 28, tzinfo=datetime.UTC)


class Clock:
    """The Provider mimic advances a world clock; here nothing else reads it."""

    def advance(self, seconds: float) -> None:
        pass


class FakeWorld:
    clock = Clock()


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("personalize", region_name="us-east-1")
    stubber = Stubber(client)
    real = clients.client
    monkeypatch.setattr(
        clients, "client", lambda service: client if service == "personalize" else real(service)
    )
    with stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def job_arn(name: str) -> str:
    return f"{HEAD}:batch-inference-job/{name}"


def described(name: str, status: str, **extra: Any) -> dict[str, Any]:
    job = {
        "jobName": name,
        "batchInferenceJobArn": job_arn(name),
        "solutionVersionArn": VERSION,
        "filterArn": FILTER,
        "numResults": 10,
        "jobInput": {"s3DataSource": {"path": PROPS["InputPath"]}},
        "jobOutput": {"s3DataDestination": {"path": PROPS["OutputPath"]}},
        "roleArn": ROLE,
        "status": status,
        "creationDateTime": NOW,
        "lastUpdatedDateTime": NOW,
    }
    job.update(extra)
    return {"batchInferenceJob": job}


def expected_create(name: Any = ANY) -> dict[str, Any]:
    return {
        "jobName": name,
        "solutionVersionArn": VERSION,
        "jobInput": {"s3DataSource": {"path": PROPS["InputPath"]}},
        "jobOutput": {"s3DataDestination": {"path": PROPS["OutputPath"]}},
        "roleArn": ROLE,
        "numResults": 10,
        "filterArn": FILTER,
        "tags": [{"tagKey": "project", "tagValue": "recs"}],
    }


def already_exists_then_listed(stub: Stubber, name: str, message: str, summary: dict[str, Any]) -> None:
    """CreateBatchInferenceJob refused with ResourceAlreadyExists, then the adoption lookup's
    ListBatchInferenceJobs (of the version) answering `summary`."""
    stub.add_client_error(
        "create_batch_inference_job",
        "ResourceAlreadyExistsException",
        message,
        expected_params=expected_create(name),
    )
    stub.add_response(
        "list_batch_inference_jobs",
        {"batchInferenceJobs": [summary]},
        {"solutionVersionArn": VERSION, "maxResults": 100},
    )


def test_full_create_then_delete_is_a_noop(stub: Stubber) -> None:
    provider = Provider(FakeWorld())
    event = provider.event("Create", BATCH, PROPS, request_id="req-1")
    name = unique_name(PROPS["JobName"], "req-1")
    arn = job_arn(name)
    stub.add_response("create_batch_inference_job", {"batchInferenceJobArn": arn}, expected_create(name))
    for status in ("PENDING", "IN PROGRESS", "ACTIVE"):
        stub.add_response(
            "describe_batch_inference_job", described(name, status), {"batchInferenceJobArn": arn}
        )
    done = provider.send(event)
    assert done["PhysicalResourceId"] == arn
    assert done["Data"] == {"Arn": arn, "Name": name, "OutputPath": PROPS["OutputPath"]}
    assert done["waited"] == 2 * provider.query_interval
    # no DeleteBatchInferenceJob exists: Delete calls nothing and succeeds
    assert provider.delete(BATCH, arn, PROPS)["PhysicalResourceId"] == arn


def test_duplicate_event_adopts_the_job_the_first_one_started(stub: Stubber) -> None:
    name = unique_name(PROPS["JobName"], "req-dup")
    arn = job_arn(name)
    summary = {
        "batchInferenceJobArn": arn,
        "jobName": name,
        "status": "IN PROGRESS",
        "creationDateTime": NOW,
        "lastUpdatedDateTime": NOW,
        "solutionVersionArn": VERSION,
    }
    already_exists_then_listed(stub, name, f"Batch inference job {arn} already exists.", summary)
    stub.add_response(
        "describe_batch_inference_job", described(name, "IN PROGRESS"), {"batchInferenceJobArn": arn}
    )
    stub.add_response("list_tags_for_resource", {"tags": PROPS["Tags"]}, {"resourceArn": arn})
    answer = entry.on_event(Provider(FakeWorld()).event("Create", BATCH, PROPS, request_id="req-dup"))
    assert answer["PhysicalResourceId"] == arn


def test_adopting_a_job_with_other_paths_fails_naming_both(stub: Stubber) -> None:
    name = unique_name(PROPS["JobName"], "req-x")
    arn = job_arn(name)
    summary = {"batchInferenceJobArn": arn, "jobName": name, "status": "ACTIVE"}
    already_exists_then_listed(stub, name, "exists", summary)
    other = described(name, "ACTIVE", jobOutput={"s3DataDestination": {"path": "s3://elsewhere/out/"}})
    stub.add_response("describe_batch_inference_job", other, {"batchInferenceJobArn": arn})
    with pytest.raises(
        HandlerError,
        match=r"BatchInferenceJob .*already exists with a different configuration "
        r"\(outputPath: existing 's3://elsewhere/out/', wanted "
        r"'s3://data-bucket/batch-output/nightly-users/'\)",
    ):
        entry.on_event(Provider(FakeWorld()).event("Create", BATCH, PROPS, request_id="req-x"))


def test_failed_job_surfaces_failure_reason(stub: Stubber) -> None:
    name = unique_name(PROPS["JobName"], "req-f")
    arn = job_arn(name)
    stub.add_response("create_batch_inference_job", {"batchInferenceJobArn": arn}, expected_create(name))
    reason = "Input file s3://data-bucket/batch-input/nightly-users/users.jsonl has no valid records."
    stub.add_response(
        "describe_batch_inference_job",
        described(name, "CREATE FAILED", failureReason=reason),
        {"batchInferenceJobArn": arn},
    )
    provider = Provider(FakeWorld())
    with pytest.raises(
        HandlerError, match=f"BatchInferenceJob {PROPS['JobName']}: CreateBatchInferenceJob failed: {reason}"
    ):
        provider.send(provider.event("Create", BATCH, PROPS, request_id="req-f"))


def test_changed_input_is_a_new_job_and_a_new_handle_alone_keeps_it(stub: Stubber) -> None:
    old_arn = job_arn(unique_name(PROPS["JobName"], "req-1"))
    new = {**PROPS, "Trigger": "99999999", "InputPath": "s3://data-bucket/batch-input/nightly-users/v2.jsonl"}
    name = unique_name(PROPS["JobName"], "req-2")
    params = {**expected_create(name), "jobInput": {"s3DataSource": {"path": new["InputPath"]}}}
    stub.add_response("create_batch_inference_job", {"batchInferenceJobArn": job_arn(name)}, params)
    event = Provider(FakeWorld()).event(
        "Update", BATCH, new, physical_id=old_arn, old_props=PROPS, request_id="req-2"
    )
    assert entry.on_event(event)["PhysicalResourceId"] == job_arn(name)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"InputPath": "data/users.jsonl"}, "property InputPath: expected s3://bucket/key"),
        ({"InputPath": "s3://data-bucket/prefix/"}, "property InputPath: expected s3://bucket/key"),
        ({"OutputPath": "s3://data-bucket/out"}, r"property OutputPath: expected s3://bucket/prefix/"),
        ({"NumResults": "0"}, "property NumResults: expected an integer >= 1"),
        ({"NumResults": "501"}, r"property NumResults: expected 1..500, got 501"),
        ({"NumResults": "ten"}, "property NumResults: expected an integer, got 'ten'"),
        ({"RoleArn": ""}, "property RoleArn is required"),
        (
            {"BatchInferenceJobConfig": "{not json"},
            "property BatchInferenceJobConfig: expected a JSON object",
        ),
    ],
)
def test_bad_properties_fail_before_any_call(stub: Stubber, change: dict[str, Any], message: str) -> None:
    with pytest.raises(HandlerError, match=message):
        entry.on_event(Provider(FakeWorld()).event("Create", BATCH, {**PROPS, **change}))


def test_job_config_passes_through(stub: Stubber) -> None:
    name = unique_name(PROPS["JobName"], "req-c")
    config = {"itemExplorationConfig": {"explorationWeight": "0.3", "explorationItemAgeCutOff": "30"}}
    stub.add_response(
        "create_batch_inference_job",
        {"batchInferenceJobArn": job_arn(name)},
        {**expected_create(name), "batchInferenceJobConfig": config},
    )
    props = {
        **PROPS,
        "BatchInferenceJobConfig": '{"itemExplorationConfig": {"explorationWeight": "0.3", '
        '"explorationItemAgeCutOff": "30"}}',
    }
    entry.on_event(Provider(FakeWorld()).event("Create", BATCH, props, request_id="req-c"))


def test_wait_handle_starts_the_waiter_and_completes_at_once(
    stub: Stubber, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[dict[str, Any]] = []
    monkeypatch.setenv(waiter.ENV_STATE_MACHINE, "arn:aws:states:us-east-1:123456789012:stateMachine:w")
    monkeypatch.setattr(waiter, "start_waiter", lambda **kw: started.append(kw))
    name = unique_name(PROPS["JobName"], "req-w")
    stub.add_response(
        "create_batch_inference_job", {"batchInferenceJobArn": job_arn(name)}, expected_create(name)
    )
    props = {**PROPS, "WaitHandle": "http://127.0.0.1:9/handle"}
    provider = Provider(FakeWorld())
    done = provider.send(provider.event("Create", BATCH, props, request_id="req-w"))
    assert done["waited"] == 0
    assert started == [
        {
            "kind": "BatchInferenceJob",
            "arn": job_arn(name),
            "handle_url": props["WaitHandle"],
            "resource": "Resource",
            "label": "BatchInferenceJob",
            "name": PROPS["JobName"],
        }
    ]


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("PENDING", "PENDING"),
        ("IN PROGRESS", "PENDING"),
        ("ACTIVE", "SUCCEEDED"),
        ("CREATE FAILED", "FAILED"),
    ],
)
def test_waiter_polls_batch_jobs(stub: Stubber, status: str, state: str) -> None:
    arn = job_arn("dev-retail-batch-x-1")
    stub.add_response(
        "describe_batch_inference_job",
        described("dev-retail-batch-x-1", status, failureReason="bad input"),
        {"batchInferenceJobArn": arn},
    )
    event = {
        "kind": "BatchInferenceJob",
        "arn": arn,
        "handleUrl": "http://x/h",
        "startedAt": 0,
        "resource": "BatchNightlyUsers",
        "waitedSeconds": 65,
        "polls": 1,
    }
    answer = waiter.poll(event, Api("personalize", "BatchInferenceJob", "x"))
    assert answer["state"] == state
    if state == "FAILED":
        assert answer["reason"] == (
            "BatchInferenceJob BatchNightlyUsers: CreateBatchInferenceJob failed: bad input"
        )
