"""UpdateSolution in the local Personalize (botocore UpdateSolutionRequest, SolutionUpdateSummary;
https://docs.aws.amazon.com/personalize/latest/dg/API_UpdateSolution.html and updating-solution):
refused while the solution is not ACTIVE or another update runs, latestSolutionUpdate going
CREATE PENDING > CREATE IN_PROGRESS > ACTIVE on the virtual clock, the old configuration kept until
then, and automatic training following the new schedule afterwards (off: no more runs)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local.emulator.world import World
from tests.local.helpers import REGION, Trained

DAY = 86400.0
POP = "arn:aws:personalize:::recipe/aws-popularity-count"


@pytest.fixture
def clients(trained: tuple[World, Trained]) -> tuple[World, Trained, Any, Any]:
    world, t = trained
    return (world, t, boto3.client("personalize", region_name=REGION),
            boto3.client("personalize-events", region_name=REGION))


def _advance(world: World, seconds: float) -> None:
    world.clock.advance(seconds)  # type: ignore[attr-defined]


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def _update(pz: Any, arn: str) -> dict[str, Any]:
    update: dict[str, Any] = pz.describe_solution(solutionArn=arn)["solution"]["latestSolutionUpdate"]
    return update


def test_update_rules_and_status(clients: tuple[World, Trained, Any, Any]) -> None:
    world, t, pz, _ = clients
    arn = pz.create_solution(name="upd", datasetGroupArn=t.dg, recipeArn=POP,
                             performAutoTraining=False)["solutionArn"]
    with pytest.raises(ClientError) as creating:
        pz.update_solution(solutionArn=arn, performAutoTraining=True)
    assert _code(creating) == "ResourceInUseException"  # not ACTIVE yet
    _advance(world, 60)
    assert "latestSolutionUpdate" not in pz.describe_solution(solutionArn=arn)["solution"]
    with pytest.raises(ClientError) as bad:
        pz.update_solution(solutionArn=arn, performAutoTraining=True, solutionUpdateConfig={
            "autoTrainingConfig": {"schedulingExpression": "rate(31 days)"}})
    assert _code(bad) == "InvalidInputException"
    with pytest.raises(ClientError) as not_semantic:
        pz.update_solution(solutionArn=arn, performIncrementalUpdate=True)
    assert _code(not_semantic) == "InvalidInputException"
    pz.update_solution(solutionArn=arn, performAutoTraining=True,
                       solutionUpdateConfig={"autoTrainingConfig": {"schedulingExpression": "rate(2 days)"}})
    assert _update(pz, arn)["status"] == "CREATE PENDING"
    with pytest.raises(ClientError) as twice:
        pz.update_solution(solutionArn=arn, performAutoTraining=False)
    assert _code(twice) == "ResourceInUseException"
    with pytest.raises(ClientError) as deleting:
        pz.delete_solution(solutionArn=arn)
    assert _code(deleting) == "ResourceInUseException"
    # "Until the update completes, the solution uses the previous configuration"
    assert pz.describe_solution(solutionArn=arn)["solution"]["performAutoTraining"] is False
    _advance(world, 60)
    assert _update(pz, arn)["status"] == "CREATE IN_PROGRESS"
    _advance(world, 600)
    update = _update(pz, arn)
    described = pz.describe_solution(solutionArn=arn)["solution"]
    assert (update["status"], update["performAutoTraining"]) == ("ACTIVE", True)
    assert described["performAutoTraining"] is True
    assert described["solutionConfig"]["autoTrainingConfig"]["schedulingExpression"] == "rate(2 days)"
    assert pz.list_solution_versions(solutionArn=arn)["solutionVersions"] == []  # no training by itself


def test_auto_training_follows_the_updated_schedule(clients: tuple[World, Trained, Any, Any]) -> None:
    world, t, pz, ev = clients
    arn = pz.create_solution(name="sched", datasetGroupArn=t.dg, recipeArn=POP,
                             performAutoTraining=False)["solutionArn"]
    day = 0

    def runs_after(days: int) -> int:
        """Advance `days`, an interaction each day (automatic training needs new data); runs so far."""
        nonlocal day
        for _ in range(days):
            _advance(world, DAY)
            day += 1
            ev.put_events(trackingId=t.tracking_id, userId="u0003", sessionId=f"s-{day}",
                          eventList=[{"eventType": "view", "itemId": "i0001", "sentAt": world.now()}])
        return len(pz.list_solution_versions(solutionArn=arn)["solutionVersions"])

    assert runs_after(3) == 0  # off: nothing trains
    pz.update_solution(solutionArn=arn, performAutoTraining=True,
                       solutionUpdateConfig={"autoTrainingConfig": {"schedulingExpression": "rate(1 day)"}})
    # "the first automatic training starts within one hour after the solution update completes"
    assert runs_after(1) == 1
    assert runs_after(4) == 5  # then daily
    # "If you modify the solution's training frequency, the training schedule resets and a new
    # solution version starts training within the hour"
    pz.update_solution(solutionArn=arn, performAutoTraining=True,
                       solutionUpdateConfig={"autoTrainingConfig": {"schedulingExpression": "rate(10 days)"}})
    assert runs_after(1) == 6
    assert runs_after(8) == 6  # the daily runs are void; the next is 10 days after the reset
    assert runs_after(2) == 7
    pz.update_solution(solutionArn=arn, performAutoTraining=False)
    assert runs_after(25) == 7  # off: no more runs
