"""The shipped stack, deployed by the runner to the local Personalize as CloudFormation would."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import boto3
import pytest

from local.runner import StackArtifact
from pipeline.naming import stack_name
from tests.e2e.helpers import REPO, Local

pytestmark = pytest.mark.slow
SIX_HOURS = 6 * 3600


def recommendations(local: Local, arn: str, user: str = "u0246") -> list[str]:
    runtime = boto3.client("personalize-runtime", region_name=local.runner.region)
    return [i["itemId"] for i in runtime.get_recommendations(campaignArn=arn, userId=user)["itemList"]]


def test_dev_deploys_serves_and_destroys_leaving_nothing(
    local: Local, assemblies: Callable[[str], StackArtifact]
) -> None:
    result = local.runner.deploy(assemblies("dev"))
    assert result.status == "CREATE_COMPLETE", result.reason
    assert result.critical is not None and result.virtual_seconds >= result.critical.seconds > 0
    with local.world.active():
        assert recommendations(local, result.outputs["CampaignArnUserRecs"])
    statuses = {r.KIND: r.status for r in local.personalize("dev")}
    assert statuses["campaign"] == "ACTIVE" and statuses["solution-version"] == "ACTIVE"
    gone = local.runner.destroy(stack_name("dev"))
    assert gone is not None and gone.status == "DELETE_COMPLETE", gone.reason
    assert local.left("dev") == {}
    assert local.personalize("dev") == []


def test_data_files_go_through_file_assets_and_custom_data_objects(
    local: Local, assemblies: Callable[[str], StackArtifact]
) -> None:
    """`cdk deploy` publishes each data file to the bootstrap bucket; Custom::PersonalizeDataObject
    copies it to datasets/<type>/; the import jobs read those objects; destroy removes them."""
    artifact = assemblies("dev")
    result = local.runner.deploy(artifact)
    assert result.ok, result.reason
    region = local.runner.region
    bucket = result.outputs["DataBucketName"]
    with local.world.active():
        s3 = boto3.client("s3", region_name=region)
        for name in ("interactions", "items", "users"):
            body = s3.get_object(Bucket=bucket, Key=f"datasets/{name}/{name}.csv")["Body"].read()
            assert body == (REPO / "data" / f"{name}.csv").read_bytes(), name
        assets = f"cdk-hnb659fds-assets-123456789012-{region}"
        published = {o["Key"] for o in s3.list_objects_v2(Bucket=assets).get("Contents", [])}
        data_objects = [
            r["Properties"] for r in artifact.template["Resources"].values()
            if r["Type"] == "Custom::PersonalizeDataObject"
        ]
        assert len(data_objects) == 3 and {p["SourceKey"] for p in data_objects} <= published
    gone = local.runner.destroy(stack_name("dev"))
    assert gone is not None and gone.ok, gone.reason
    assert local.left("dev") == {}


def test_prod_destroy_keeps_the_retained_bucket_and_its_data(
    local: Local, assemblies: Callable[[str], StackArtifact]
) -> None:
    result = local.runner.deploy(assemblies("prod"))
    assert result.status == "CREATE_COMPLETE", result.reason
    bucket = result.outputs["DataBucketName"]
    gone = local.runner.destroy(stack_name("prod"))
    assert gone is not None and gone.status == "DELETE_COMPLETE", gone.reason
    left = local.left("prod")
    assert local.personalize("prod") == []
    assert set(left) == {"s3 bucket", "s3 object"}, left
    assert any(line.startswith(bucket) and "retained" in line for line in left["s3 bucket"])
    with local.world.active():
        keys = [
            o["Key"]
            for o in boto3.client("s3", region_name=local.runner.region)
            .list_objects_v2(Bucket=bucket)
            .get("Contents", [])
        ]
    assert any(k.endswith("interactions.csv") for k in keys)


def test_new_data_reimports_retrains_and_moves_the_campaign_while_it_serves(
    local: Local, assemblies: Callable[[str], StackArtifact], changed_data_assembly: StackArtifact
) -> None:
    first = local.runner.deploy(assemblies("dev"))
    assert first.ok, first.reason
    campaign = first.outputs["CampaignArnUserRecs"]
    old_version = first.outputs["SolutionVersionArnUserPersonalization"]
    answered: list[int] = []

    def ask(_line: str) -> None:  # called on every stack event, mid-deploy (world active)
        answered.append(len(recommendations(local, campaign)))

    local.hooks.append(ask)
    second = local.runner.deploy(changed_data_assembly)
    local.hooks.clear()
    assert second.status == "UPDATE_COMPLETE", second.reason
    assert answered and all(n > 0 for n in answered)  # the campaign answered throughout
    assert second.outputs["CampaignArnUserRecs"] == campaign  # same campaign, updated in place
    assert second.outputs["SolutionVersionArnUserPersonalization"] != old_version
    calls = second.api_calls
    assert calls.get("personalize:CreateDatasetImportJob", 0) >= 1
    assert calls.get("personalize:CreateSolutionVersion", 0) >= 1
    assert calls.get("personalize:UpdateCampaign", 0) >= 1
    assert calls.get("personalize:CreateCampaign", 0) == 0
    with local.world.active():
        described = boto3.client("personalize", region_name=local.runner.region).describe_campaign(
            campaignArn=campaign
        )["campaign"]
    assert described["solutionVersionArn"] == second.outputs["SolutionVersionArnUserPersonalization"]
    with local.world.active():  # the data object was updated in place: same key, the new bytes
        body = boto3.client("s3", region_name=local.runner.region).get_object(
            Bucket=second.outputs["DataBucketName"], Key="datasets/interactions/interactions.csv"
        )["Body"].read()
    assert body == _source_path(changed_data_assembly, "Interactions").read_bytes()
    assert local.runner.destroy(stack_name("dev")).ok
    assert local.left("dev") == {}


def test_bad_import_rolls_back_everything(local: Local, assemblies: Callable[[str], StackArtifact]) -> None:
    local.world.faults.fail_import("dev-retail-interactions*", "Input CSV has malformed rows")
    result = local.runner.deploy(assemblies("dev"))
    assert result.status == "ROLLBACK_COMPLETE"
    assert "ImportInteractions" in result.reason and "malformed rows" in result.reason
    assert local.left("dev") == {}
    assert local.personalize("dev") == []


def test_six_hour_training_goes_through_the_wait_condition(
    local: Local, assemblies: Callable[[str], StackArtifact]
) -> None:
    local.world.personalize.durations.override("training", SIX_HOURS - 1800)
    result = local.runner.deploy(assemblies("dev"))
    assert result.status == "CREATE_COMPLETE", result.reason
    assert result.virtual_seconds > SIX_HOURS - 1800  # far past a custom resource's one hour
    train = result.timings["TrainUserPersonalization"]
    assert train.end is not None and train.end - train.start < 3600  # the custom resource returned early
    wait = next(
        t
        for lid, t in result.timings.items()
        if lid.startswith("TrainUserPersonalizationWait") and t.type == "AWS::CloudFormation::WaitCondition"
    )
    assert wait.end is not None and wait.end - wait.start >= SIX_HOURS - 1800


def test_training_past_its_timeout_fails_and_rolls_back(
    local: Local, assemblies: Callable[[str], StackArtifact]
) -> None:
    local.world.personalize.durations.override("training", SIX_HOURS + 3600)
    result = local.runner.deploy(assemblies("dev"))
    assert result.status == "ROLLBACK_COMPLETE"
    assert "WaitCondition timed out" in result.reason and "TrainUserPersonalizationWait" in result.reason
    assert local.left("dev") == {}
    assert local.personalize("dev") == []


def test_throttled_run_still_deploys_and_destroys(
    local: Local, assemblies: Callable[[str], StackArtifact]
) -> None:
    local.world.faults.throttle(0.3, seed=7)
    result = local.runner.deploy(assemblies("dev"))
    assert result.status == "CREATE_COMPLETE", result.reason
    assert sum(n for k, n in local.world.faults.injected.items() if k.startswith("throttle")) > 10
    gone = local.runner.destroy(stack_name("dev"))
    assert gone is not None and gone.ok, gone.reason
    assert local.left("dev") == {}


def test_cli_stack_name_matches_the_app() -> None:
    """The command line and the app name stacks with the one definition (pipeline.naming)."""
    import stacks
    from cli import support

    assert support.stack_name is stack_name and stacks.stack_name is stack_name


def test_failed_update_rolls_back_and_campaigns_keep_serving_their_old_versions(
    local: Local, assemblies: Callable[[str], StackArtifact], changed_data_assembly: StackArtifact
) -> None:
    first = local.runner.deploy(assemblies("dev"))
    assert first.ok, first.reason
    old = {k: v for k, v in first.outputs.items() if k.startswith("SolutionVersionArn")}
    local.world.faults.fail_training("dev-retail-user-personalization*", "injected: training diverged")
    answered: list[int] = []
    campaign = first.outputs["CampaignArnUserRecs"]
    local.hooks.append(lambda _line: answered.append(len(recommendations(local, campaign))))
    second = local.runner.deploy(changed_data_assembly)
    local.hooks.clear()
    assert second.status == "UPDATE_ROLLBACK_COMPLETE", second.reason
    assert "training diverged" in second.reason
    assert answered and all(n > 0 for n in answered)
    with local.world.active():
        client = boto3.client("personalize", region_name=local.runner.region)
        serving = {
            arn: client.describe_campaign(campaignArn=arn)["campaign"]
            for k, arn in first.outputs.items()
            if k.startswith("CampaignArn")
        }
    assert all(c["status"] == "ACTIVE" for c in serving.values())
    assert {c["solutionVersionArn"] for c in serving.values()} == set(old.values())
    state = local.runner.state(stack_name("dev"))
    assert state is not None and state.outputs == first.outputs
    assert local.runner.destroy(stack_name("dev")).ok
    assert local.left("dev") == {}


def _source_path(artifact: StackArtifact, label: str) -> Path:
    """The staged file asset the Upload<label> data object copies (in the assembly directory)."""
    props = artifact.template["Resources"]
    key = next(
        r["Properties"]["SourceKey"] for lid, r in props.items()
        if r["Type"] == "Custom::PersonalizeDataObject" and lid.startswith(f"Upload{label}")
    )
    return artifact.asset_for_key(key).path
