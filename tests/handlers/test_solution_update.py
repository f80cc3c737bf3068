"""Custom::PersonalizeSolution updated in place with UpdateSolution: automatic training on or off,
its schedule and the events configuration change on the same solution (same ARN, no new training),
waited for through latestSolutionUpdate; the rest of the solution still needs a new name."""

from __future__ import annotations

import json
from typing import Any

import pytest
from personalize_handlers import entry
from personalize_handlers.common import HandlerError

from tests.handlers.helpers import SOLUTION, Pipeline, Provider, personalize, setup_data_access

V2 = "aws-user-personalization-v2"
SCHEDULE = "rate(3 days)"
WEIGHTS = {"eventsConfig": {"eventParametersList": [
    {"eventType": "purchase", "weight": "0.8", "eventValueThreshold": "1.5"}]}}


def _solution(world: Any) -> tuple[Provider, Pipeline, dict[str, Any], str]:
    setup_data_access()
    provider = Provider(world)
    pipe = Pipeline(provider).with_data(imported=False)
    props = pipe.solution_props(recipe=V2)
    arn = provider.create(SOLUTION, props)["PhysicalResourceId"]
    return provider, pipe, props, arn


def _described(arn: str) -> dict[str, Any]:
    solution: dict[str, Any] = personalize().describe_solution(solutionArn=arn)["solution"]
    return solution


def _versions(arn: str) -> list[Any]:
    return personalize().list_solution_versions(solutionArn=arn)["solutionVersions"]


def test_auto_training_on_with_a_schedule_is_an_update_in_place(world: Any) -> None:
    provider, _, props, arn = _solution(world)
    # as CloudFormation sends them: every nested scalar a string
    new = {**props, "PerformAutoTraining": "true",
           "SolutionConfig": {"autoTrainingConfig": {"schedulingExpression": SCHEDULE}}}
    answer = provider.update(SOLUTION, arn, props, new)
    described = _described(arn)
    update = described["latestSolutionUpdate"]
    assert answer["PhysicalResourceId"] == arn
    assert answer["waited"] > 0  # it waited for the update, within the custom resource's hour
    assert (update["status"], update["performAutoTraining"]) == ("ACTIVE", True)
    assert update["solutionUpdateConfig"]["autoTrainingConfig"]["schedulingExpression"] == SCHEDULE
    assert described["performAutoTraining"] is True
    assert described["solutionConfig"]["autoTrainingConfig"]["schedulingExpression"] == SCHEDULE
    assert _versions(arn) == []  # no training started by the update
    calls = [e for e in provider.events if e["RequestType"] == "Create"]
    assert len(calls) == len(provider.events) - 1  # one Update, no replacement Create


def test_event_weights_are_sent_typed_and_can_be_removed(world: Any) -> None:
    provider, _, props, arn = _solution(world)
    weighted = {**props, "SolutionConfig": WEIGHTS}
    provider.update(SOLUTION, arn, props, weighted)
    events = _described(arn)["solutionConfig"]["eventsConfig"]["eventParametersList"]
    assert events == [{"eventType": "purchase", "weight": 0.8, "eventValueThreshold": 1.5}]
    provider.update(SOLUTION, arn, weighted, props)
    described = _described(arn)
    assert "eventsConfig" not in (described.get("solutionConfig") or {})
    assert described["latestSolutionUpdate"]["solutionUpdateConfig"]["eventsConfig"] == {
        "eventParametersList": []}


def test_auto_training_off_again(world: Any) -> None:
    provider, _, props, arn = _solution(world)
    on = {**props, "PerformAutoTraining": "true"}
    provider.update(SOLUTION, arn, props, on)
    provider.update(SOLUTION, arn, on, props)
    assert _described(arn)["performAutoTraining"] is False


def test_a_failed_update_fails_with_its_reason(world: Any) -> None:
    """A solution update that ends CREATE FAILED fails the Update with its failureReason."""
    provider, _, props, arn = _solution(world)
    event = provider.event("Update", SOLUTION, {**props, "PerformAutoTraining": "true"},
                           physical_id=arn, old_props=props)
    answer = entry.on_event(event)
    update = world.personalize.resources[arn].latest_update
    assert update is not None and update.status == "CREATE PENDING"
    update.status, update.failure_reason = "CREATE FAILED", "the update could not be applied"
    with pytest.raises(HandlerError, match=r"UpdateSolution.*could not be applied"):
        entry.is_complete({**event, **answer})


def test_other_solution_config_under_the_same_name_is_refused(world: Any) -> None:
    provider, _, props, arn = _solution(world)
    new = {**props, "SolutionConfig": json.dumps({"featureTransformationParameters": {"a": "b"}})}
    with pytest.raises(HandlerError, match="featureTransformationParameters cannot change in place"):
        provider.update(SOLUTION, arn, props, new)
    assert _versions(arn) == [] and _described(arn).get("latestSolutionUpdate") is None


def test_a_recipe_change_still_replaces(world: Any) -> None:
    provider, pipe, props, arn = _solution(world)
    new = {**pipe.solution_props(name="test-retail-pop-d4e5f6"), "PerformAutoTraining": "true"}
    assert provider.update(SOLUTION, arn, props, new)["PhysicalResourceId"] != arn
