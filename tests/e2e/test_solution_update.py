"""auto_training switched on with a schedule on a deployed dev pipeline: an in-place update of the
same solution (UpdateSolution), no new training by the deploy, the schedule in DescribeSolution;
and without personalize:UpdateSolution on the handler role the same update is refused and rolled
back (the local IAM gate, as AWS would)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from local.runner import StackArtifact
from tests.e2e.helpers import Local, synth
from tests.e2e.test_iam_enforced import HANDLER_ROLE, revoke
from tests.stack.helpers import config_with

pytestmark = pytest.mark.slow
LINE = "auto_training = false               # the service's default retrains weekly, billed each time"
SCHEDULE = "rate(3 days)"


def _switched_on(tmp_path: Path) -> StackArtifact:
    edit: Callable[[str], str] = lambda t: t.replace(  # noqa: E731
        LINE, f'auto_training = true\nauto_training_schedule = "{SCHEDULE}"')
    return synth("dev", tmp_path / "cdk-on", config=config_with("dev", tmp_path, edit))


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
    on = _switched_on(tmp_path)

    denied = local.runner.deploy(dataclasses.replace(
        on, template=revoke(on.template, HANDLER_ROLE, "personalize:UpdateSolution")))
    assert denied.status == "UPDATE_ROLLBACK_COMPLETE", denied.reason
    assert "AccessDeniedException" in denied.reason and "personalize:UpdateSolution" in denied.reason

    updated = local.runner.deploy(on)
    assert updated.status == "UPDATE_COMPLETE", updated.reason
    assert set(_solutions(local)) == set(solutions)  # the same solutions: nothing replaced
    assert _versions(local) == versions  # no training started by the deploy
    with local.world.active():
        described = boto3.client("personalize", region_name=local.runner.region).describe_solution(
            solutionArn=auto)["solution"]
    assert described["performAutoTraining"] is True
    assert described["solutionConfig"]["autoTrainingConfig"]["schedulingExpression"] == SCHEDULE
    assert described["latestSolutionUpdate"]["status"] == "ACTIVE"
