"""The output-shape check (tests/conftest.py turns it on for every suite) fails on a planted bad
answer of the local Personalize, naming the operation and the member path: a wrong enum, a missing
required member, a wrong type, a timestamp that is not epoch seconds, an unknown member, an error
the operation does not model. Each planted answer goes through the real wire path (boto3 ->
bridge -> protocol.dispatch); only the backend's result is replaced."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from local.emulator.personalize import model, protocol
from local.emulator.personalize.errors import PersonalizeError
from local.emulator.world import World
from tests.local.helpers import REGION

VERSION = f"arn:aws:personalize:{REGION}:123456789012:solution/s/abc"
JOB = f"arn:aws:personalize:{REGION}:123456789012:batch-inference-job/j"


@pytest.fixture
def planted(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """operation -> the answer (a dict, or a PersonalizeError to raise) the backend gives it."""
    answers: dict[str, Any] = {}
    original = world.personalize.handle

    def handle(operation: str, params: dict[str, Any], account: str, region: str) -> dict[str, Any]:
        if operation in answers:
            answer = answers[operation]
            if isinstance(answer, PersonalizeError):
                raise answer
            return dict(answer)
        return original(operation, params, account, region)

    monkeypatch.setattr(world.personalize, "handle", handle)
    seen = len(model.FOUND)
    yield answers
    # what the planted answers recorded is this test's subject, not a failure of the suite
    del model.FOUND[seen:]


def version(**changes: Any) -> dict[str, Any]:
    good: dict[str, Any] = {
        "solutionVersionArn": VERSION,
        "status": "ACTIVE",
        "trainingMode": "FULL",
        "trainingType": "MANUAL",
        "performHPO": False,
        "trainingHours": 0.5,
        "creationDateTime": 1767225600.0,
        "lastUpdatedDateTime": 1767225660,
    }
    return {"solutionVersion": {**good, **changes}}


def call(pz: Any) -> str:
    with pytest.raises(model.ResponseShapeError) as failed:
        pz.describe_solution_version(solutionVersionArn=VERSION)
    return str(failed.value)


def test_the_check_is_on_in_the_test_session() -> None:
    assert protocol.check_responses


def test_a_good_answer_passes(world: World, pz: Any, planted: dict[str, Any]) -> None:
    planted["DescribeSolutionVersion"] = version()
    answer = pz.describe_solution_version(solutionVersionArn=VERSION)["solutionVersion"]
    assert answer["trainingMode"] == "FULL"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"trainingMode": "SOMETIMES"},
            "Value 'SOMETIMES' at 'solutionVersion.trainingMode' failed to satisfy "
            "constraint: Member must satisfy enum value set: [FULL, UPDATE, AUTOTRAIN]",
        ),
        (
            {"performHPO": "false"},
            "Value 'false' at 'solutionVersion.performHPO' cannot be converted to a boolean",
        ),
        (
            {"creationDateTime": "2026-01-01T00:00:00Z"},
            "at 'solutionVersion.creationDateTime' cannot be converted to a timestamp (epoch seconds)",
        ),
        (
            {"trainingHours": -1.0},
            "at 'solutionVersion.trainingHours' failed to satisfy constraint: Member must have "
            "value greater than or equal to 0",
        ),
        ({"modelName": "x"}, "'solutionVersion.modelName' is not a member of the shape"),
    ],
)
def test_a_planted_bad_answer_fails_naming_operation_and_member(
    world: World, pz: Any, planted: dict[str, Any], changes: dict[str, Any], expected: str
) -> None:
    planted["DescribeSolutionVersion"] = version(**changes)
    failed = call(pz)
    assert failed.startswith(
        "personalize DescribeSolutionVersion: the response does not match DescribeSolutionVersionResponse"
    )
    assert expected in failed
    assert model.FOUND[-1] == failed  # recorded too: a handler's `except` cannot hide it


def test_a_missing_required_member_fails(world: World, pz: Any, planted: dict[str, Any]) -> None:
    # BatchInferenceJobInput.s3DataSource and S3DataConfig.path are required (the only required
    # members Personalize's outputs have: shared input shapes)
    planted["DescribeBatchInferenceJob"] = {
        "batchInferenceJob": {
            "batchInferenceJobArn": JOB,
            "jobInput": {"s3DataSource": {"kmsKeyArn": None}},
            "jobOutput": {},
        }
    }
    with pytest.raises(model.ResponseShapeError) as failed:
        pz.describe_batch_inference_job(batchInferenceJobArn=JOB)
    text = str(failed.value)
    assert "personalize DescribeBatchInferenceJob" in text
    assert (
        "at 'batchInferenceJob.jobInput.s3DataSource.path' failed to satisfy constraint: "
        "Member must not be null" in text
    )
    assert (
        "at 'batchInferenceJob.jobOutput.s3DataDestination' failed to satisfy constraint: "
        "Member must not be null" in text
    )


def test_an_error_the_operation_does_not_model_fails(world: World, pz: Any, planted: dict[str, Any]) -> None:
    planted["DescribeSolutionVersion"] = PersonalizeError("ResourceAlreadyExistsException", "no")
    failed = call(pz)
    assert (
        "personalize DescribeSolutionVersion: error" in failed and "ResourceAlreadyExistsException" in failed
    )


def test_runtime_answers_are_checked_too(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = len(model.FOUND)
    monkeypatch.setattr(
        world.personalize.runtime,
        "get_recommendations",
        lambda params: {"itemList": [{"itemId": "i1", "score": "high"}]},
    )
    rt = boto3.client("personalize-runtime", region_name=REGION)
    with pytest.raises(model.ResponseShapeError) as failed:
        rt.get_recommendations(campaignArn=VERSION, userId="u1")
    del model.FOUND[seen:]
    assert "personalize-runtime GetRecommendations" in str(failed.value)
    assert "at 'itemList.1.member.score' cannot be converted to a double" in str(failed.value)
