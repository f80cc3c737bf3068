"""auto_training switched on with a schedule on a deployed dev pipeline: an in-place update of the
same solution (UpdateSolution), no new training by the deploy, the schedule in DescribeSolution.
(Without personalize:UpdateSolution the same update is refused: tests/e2e/test_iam_enforced.py.)"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from local.runner import StackArtifact
from tests.e2e.helpers import AUTO_SCHEDULE, Local, auto_training_on

pytestmark = pytest.mark.slow


def _solutions(local: Local) -> dict[str, Any]:
    return {r.arn: r for r in local.personalize("dev") if r.KIND == "solution"}


def _versions(local: Local) -> set[str]:
    return {r.arn for r in local.personalize("dev") if r.KIND == "solution-version"}


def test_auto_training_on_is_an_update_in_place(
    local: Local, assemblies: Callable[[str], StackArtifact], tmp_path: Path
) -> None:
    first = local.runner.deploy(assemblies("dev"))
    assert first.ok, first.reason
    solutions, versions = _solutions(local), _versions(local)
    (auto,) = [arn for arn, s in solutions.items() if s.recipe_arn.endswith("/aws-user-personalization-v2")]
    assert solutions[auto].perform_auto_training is False

    updated = local.runner.deploy(auto_training_on(tmp_path))
    assert updated.status == "UPDATE_COMPLETE", updated.reason
    assert set(_solutions(local)) == set(solutions)  # the same solutions: nothing replaced
    assert _versions(local) == versions  # no training started by the deploy
    with local.world.active():
        described = boto3.client("personalize", region_name=local.runner.region).describe_solution(
            solutionArn=auto)["solution"]
    assert described["performAutoTraining"] is True
    assert described["solutionConfig"]["autoTrainingConfig"]["schedulingExpression"] == AUTO_SCHEDULE
    assert described["latestSolutionUpdate"]["status"] == "ACTIVE"
