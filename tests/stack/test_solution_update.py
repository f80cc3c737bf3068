"""What UpdateSolution changes (auto_training, auto_training_schedule, event_weights) is an in-place
Update of the same resources: the solution's and its training's logical ids, the solution's name
and the training's trigger stay, so no new solution and no new training. perform_hpo, which
UpdateSolution does not take, still gives a new name (a replacement and a training)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.stack.helpers import config_with, synth

LINE = "auto_training = false               # the service's default retrains weekly, billed each time"
CHANGES: dict[str, Callable[[str], str]] = {
    "auto_training": lambda t: t.replace(LINE, "auto_training = true"),
    "auto_training_schedule": lambda t: t.replace(
        LINE, 'auto_training = true\nauto_training_schedule = "rate(3 days)"'),
    "event_weights": lambda t: t.replace(
        LINE, LINE + '\nevent_weights = [{ event_type = "purchase", weight = 0.9 }]'),
}


def _solutions(tmp_path: Path, label: str, edit: Callable[[str], str]) -> dict[str, Any]:
    (tmp_path / label).mkdir()
    result = synth("dev", tmp_path / f"out-{label}", config=config_with("dev", tmp_path / label, edit))
    kinds = ("Custom::PersonalizeSolution", "Custom::PersonalizeSolutionVersion",
             "AWS::CloudFormation::WaitCondition", "AWS::CloudFormation::WaitConditionHandle")
    return {k: r for k, r in result.resources.items() if r["Type"] in kinds}


@pytest.fixture(scope="module")
def before(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _solutions(tmp_path_factory.mktemp("solution-update"), "before", lambda t: t)


@pytest.mark.parametrize("key", sorted(CHANGES))
def test_a_change_keeps_the_solution_and_its_training(
    key: str, before: dict[str, Any], tmp_path: Path
) -> None:
    after = _solutions(tmp_path, key, CHANGES[key])
    assert set(after) == set(before)  # same logical ids: no replacement, no new wait
    old, new = before["SolutionUserPersonalization"]["Properties"], after["SolutionUserPersonalization"][
        "Properties"]
    assert new["Name"] == old["Name"]
    assert new != old  # the change itself reaches the solution, as an Update
    trigger = after["TrainUserPersonalization"]["Properties"]["Trigger"]
    assert trigger == before["TrainUserPersonalization"]["Properties"]["Trigger"]


def test_perform_hpo_still_replaces(before: dict[str, Any], tmp_path: Path) -> None:
    after = _solutions(tmp_path, "hpo", lambda t: t.replace("perform_hpo = false", "perform_hpo = true", 1))
    old, new = before["SolutionUserPersonalization"]["Properties"], after["SolutionUserPersonalization"][
        "Properties"]
    assert new["Name"] != old["Name"]
    assert after["TrainUserPersonalization"]["Properties"]["Trigger"] != before["TrainUserPersonalization"][
        "Properties"]["Trigger"]
