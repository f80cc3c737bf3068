"""Changing a solution's training_timeout on a deployed dev stack: CloudFormation cannot update a
WaitCondition's Timeout, so the stack must put the timeout in the wait's logical id (a new wait and
handle), and the update must complete without training again (nothing but the wait changed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from local.runner import CloudAssembly, StackArtifact
from pipeline.naming import stack_name
from tests.e2e.helpers import REPO, Local

pytestmark = pytest.mark.slow
TRAIN_WAIT = "TrainUserPersonalizationWait"


def synth_with_timeout(outdir: Path, seconds: int) -> StackArtifact:
    from pipeline.config import load_config
    from stacks import build_app

    config = load_config("dev")
    solutions = [
        s.model_copy(update={"training_timeout": seconds}) if s.name == "user-personalization" else s
        for s in config.solutions
    ]
    config = config.model_copy(update={"solutions": solutions})
    app = build_app("dev", str(outdir), config=config, root=REPO, asset_dir=REPO / "lambda", nag=False)
    app.synth()
    return CloudAssembly.load(outdir).stack(stack_name("dev"))


def train_wait(artifact: StackArtifact) -> tuple[str, str]:
    (found,) = [
        (lid, spec["Properties"]["Timeout"])
        for lid, spec in artifact.template["Resources"].items()
        if lid.startswith(TRAIN_WAIT) and spec["Type"] == "AWS::CloudFormation::WaitCondition"
    ]
    return found


def test_changing_training_timeout_updates_the_stack_with_a_new_wait(local: Local, tmp_path: Path) -> None:
    six, seven = synth_with_timeout(tmp_path / "a", 6 * 3600), synth_with_timeout(tmp_path / "b", 7 * 3600)
    (old_wait, old_timeout), (new_wait, new_timeout) = train_wait(six), train_wait(seven)
    assert (old_timeout, new_timeout) == ("21600", "25200")
    assert new_wait != old_wait, (
        "the same WaitCondition with a new Timeout: CloudFormation refuses that update"
    )
    first = local.runner.deploy(six)
    assert first.ok, first.reason
    second = local.runner.deploy(seven)
    assert second.status == "UPDATE_COMPLETE", second.reason
    state = local.runner.state(stack_name("dev"))
    assert state is not None and old_wait not in state.resources
    assert state.resources[new_wait].properties["Timeout"] == "25200"
    assert second.api_calls.get("personalize:CreateSolutionVersion", 0) == 0  # only the wait changed
    gone = local.runner.destroy(stack_name("dev"))
    assert gone is not None and gone.ok
    assert local.left("dev") == {}
