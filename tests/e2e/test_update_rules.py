"""CloudFormation's update rules on the shipped dev stack: a WaitCondition's Timeout is not updated
in place, and the rollback of a failed update (an Update back to the old properties, as
CloudFormation sends it) does not start a new, billable training."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from local.runner import CloudAssembly, StackArtifact
from pipeline.naming import stack_name
from tests.e2e.helpers import Local

pytestmark = pytest.mark.slow
TRAIN_WAIT = "TrainUserPersonalizationWait"


def mutated(
    artifact: StackArtifact, scratch: Path, change: Callable[[dict[str, Any]], None]
) -> StackArtifact:
    """A copy of the cloud assembly whose template `change` edited (by hand, as a reviewer would)."""
    target = scratch / "cdk.out"
    shutil.copytree(artifact.directory, target)
    template = json.loads(artifact.template_path.read_text())
    change(template)
    (target / artifact.template_path.name).write_text(json.dumps(template))
    return CloudAssembly.load(target).stack(artifact.name)


def train_wait(template: dict[str, Any]) -> str:
    (lid,) = [
        lid
        for lid, spec in template["Resources"].items()
        if lid.startswith(TRAIN_WAIT) and spec["Type"] == "AWS::CloudFormation::WaitCondition"
    ]
    return lid


def solution_versions(local: Local) -> set[str]:
    return {r.arn for r in local.world.personalize.resources.values() if r.KIND == "solution-version"}


def assert_destroyed(local: Local) -> None:
    gone = local.runner.destroy(stack_name("dev"))
    assert gone is not None and gone.ok, gone.reason if gone else "no stack"
    assert local.left("dev") == {}


def recommendations(local: Local, arn: str) -> list[str]:
    runtime = boto3.client("personalize-runtime", region_name=local.runner.region)
    return [i["itemId"] for i in runtime.get_recommendations(campaignArn=arn, userId="u0246")["itemList"]]


def test_an_in_place_timeout_change_of_a_training_wait_is_refused(
    local: Local, assemblies: Callable[[str], StackArtifact], tmp_path: Path
) -> None:
    """Independent of how the product names its waits: the same WaitCondition with a new Timeout."""
    dev = assemblies("dev")
    first = local.runner.deploy(dev)
    assert first.ok, first.reason
    wait = train_wait(dev.template)
    old_timeout = dev.template["Resources"][wait]["Properties"]["Timeout"]

    def longer(template: dict[str, Any]) -> None:
        template["Resources"][wait]["Properties"]["Timeout"] = str(int(old_timeout) + 3600)

    versions = solution_versions(local)
    second = local.runner.deploy(mutated(dev, tmp_path, longer))
    assert second.status == "UPDATE_ROLLBACK_COMPLETE"
    assert second.reason.startswith(
        f"{wait}: Updates aren't supported for AWS::CloudFormation::WaitCondition"
    )
    assert "(changed: Timeout)" in second.reason
    state = local.runner.state(stack_name("dev"))
    assert state is not None and state.resources[wait].properties["Timeout"] == old_timeout
    assert solution_versions(local) == versions  # refused before anything trained
    with local.world.active():
        assert recommendations(local, first.outputs["CampaignArnUserRecs"])
    # the unmutated template still updates (no change: nothing to refuse)
    again = local.runner.deploy(dev)
    assert again.status == "UPDATE_COMPLETE", again.reason
    assert_destroyed(local)


def test_rolling_back_a_retraining_starts_no_new_training(
    local: Local, assemblies: Callable[[str], StackArtifact], changed_data_assembly: StackArtifact
) -> None:
    """New data retrains every solution; the user-recs campaign's update then fails, so the stack
    rolls back and CloudFormation sends each training resource an Update back to its old
    properties. That Update must find the old version, not train (and bill) once more."""
    first = local.runner.deploy(assemblies("dev"))
    assert first.ok, first.reason
    before = solution_versions(local)
    at_rollback: list[set[str]] = []

    def watch(line: str) -> None:
        if "UPDATE_ROLLBACK_IN_PROGRESS" in line and not at_rollback:
            at_rollback.append(solution_versions(local))

    local.world.faults.fail_campaign("dev-retail-user-recs*", "injected: campaign update failed")
    local.hooks.append(watch)
    second = local.runner.deploy(changed_data_assembly)
    local.hooks.clear()
    assert second.status == "UPDATE_ROLLBACK_COMPLETE", second.reason
    assert "campaign update failed" in second.reason
    assert at_rollback, "the update did not roll back"
    trained_forward = at_rollback[0] - before
    assert trained_forward, "the update retrained nothing: the test would prove nothing"
    trained_in_rollback = solution_versions(local) - at_rollback[0]
    assert trained_in_rollback == set(), f"the rollback started trainings: {sorted(trained_in_rollback)}"
    state = local.runner.state(stack_name("dev"))
    assert state is not None and state.outputs == first.outputs
    assert_destroyed(local)


def test_rolling_back_a_refused_training_update_starts_no_new_training(
    local: Local, assemblies: Callable[[str], StackArtifact], changed_data_assembly: StackArtifact
) -> None:
    """The training resource's own Update fails in onEvent (CreateSolutionVersion refused), so its
    FAILED response keeps the old physical id; CloudFormation then rolls it back with an Update to
    the old properties (OldResourceProperties: the failed new ones). That Update must answer with
    the version already deployed, not start (and bill) a training of the old inputs."""
    first = local.runner.deploy(assemblies("dev"))
    assert first.ok, first.reason
    deployed = local.runner.state(stack_name("dev"))
    assert deployed is not None
    versions = {lid: r.physical_id for lid, r in deployed.resources.items() if lid.startswith("Train")}
    at_rollback: list[set[str]] = []

    def watch(line: str) -> None:
        if "UPDATE_ROLLBACK_IN_PROGRESS" in line and not at_rollback:
            at_rollback.append(solution_versions(local))

    local.world.faults.fail_call(
        "CreateSolutionVersion", "InvalidInputException", "injected: refused", times=1
    )
    local.hooks.append(watch)
    second = local.runner.deploy(changed_data_assembly)
    local.hooks.clear()
    assert second.status == "UPDATE_ROLLBACK_COMPLETE", second.reason
    assert "CreateSolutionVersion failed: InvalidInputException: injected: refused" in second.reason
    failed = second.reason.split(":", 1)[0]
    assert failed.startswith("Train")
    rolled_back = [
        e.reason for e in second.events if e.logical_id == failed and e.status == "UPDATE_IN_PROGRESS"
    ]
    assert rolled_back[-1] == "rolling back to the previous properties"  # the Update back was sent
    assert at_rollback, "the update did not roll back"
    trained_in_rollback = solution_versions(local) - at_rollback[0]
    assert trained_in_rollback == set(), f"the rollback started trainings: {sorted(trained_in_rollback)}"
    state = local.runner.state(stack_name("dev"))
    assert state is not None and state.outputs == first.outputs
    assert state.resources[failed].physical_id == versions[failed]  # the deployed version, as before
    assert_destroyed(local)
