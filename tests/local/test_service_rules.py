"""Service rules of Personalize the local Personalize holds, each from the service's documentation
or botocore's model (docs/aws-fidelity.md cites each): one event tracker per dataset group,
`<solution ARN>/$LATEST` for campaigns synced with the latest solution version, `datasetType`
answered in one canonical spelling."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local.emulator.personalize.resources import SolutionVersion
from local.emulator.world import World
from tests.local.helpers import REGION, Pipeline, Trained, schema_text, wait_for


def code_of(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


# --- one event tracker per dataset group (API_CreateEventTracker) --------------------------------
def test_a_second_event_tracker_in_a_dataset_group_is_refused(
    world: World, pz: Any, pipeline: Pipeline
) -> None:
    pipeline.group()
    first = pz.create_event_tracker(name="first", datasetGroupArn=pipeline.dg)["eventTrackerArn"]
    with pytest.raises(ClientError) as second:
        pz.create_event_tracker(name="second", datasetGroupArn=pipeline.dg)
    assert code_of(second) == "LimitExceededException"
    assert "Only one event tracker can be associated with a dataset group" in str(second.value)
    assert first in str(second.value)
    # still refused once the first is ACTIVE
    wait_for(world, lambda: pz.describe_event_tracker(eventTrackerArn=first)["eventTracker"])
    with pytest.raises(ClientError):
        pz.create_event_tracker(name="second", datasetGroupArn=pipeline.dg)
    # another dataset group has its own
    other = pz.create_dataset_group(name="other-dg")["datasetGroupArn"]
    wait_for(world, lambda: pz.describe_dataset_group(datasetGroupArn=other)["datasetGroup"])
    pz.create_event_tracker(name="second", datasetGroupArn=other)


def test_renaming_a_tracker_must_delete_the_old_one_first(world: World, pz: Any, pipeline: Pipeline) -> None:
    """What a CloudFormation replacement of the tracker does (create the new, then delete the old)
    fails; deleting the old one and waiting until it is gone, then creating the new, works."""
    pipeline.group()
    old = pz.create_event_tracker(name="old-name", datasetGroupArn=pipeline.dg)["eventTrackerArn"]
    wait_for(world, lambda: pz.describe_event_tracker(eventTrackerArn=old)["eventTracker"])
    with pytest.raises(ClientError) as create_first:
        pz.create_event_tracker(name="new-name", datasetGroupArn=pipeline.dg)
    assert code_of(create_first) == "LimitExceededException"
    pz.delete_event_tracker(eventTrackerArn=old)
    with pytest.raises(ClientError):  # still there while DELETE PENDING / IN_PROGRESS
        pz.create_event_tracker(name="new-name", datasetGroupArn=pipeline.dg)
    world.clock.advance(600)  # type: ignore[attr-defined]
    assert pz.list_event_trackers(datasetGroupArn=pipeline.dg)["eventTrackers"] == []
    new = pz.create_event_tracker(name="new-name", datasetGroupArn=pipeline.dg)["eventTrackerArn"]
    assert new.endswith("event-tracker/new-name")


# --- $LATEST (CreateCampaignRequest.solutionVersionArn, CampaignConfig) ----------------------------
def clients(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


def serving_version(world: World, campaign_arn: str) -> Any:
    return world.personalize.runtime._serving(campaign_arn)[1]


def test_a_synced_campaign_needs_latest_and_serves_the_newest_active_version(
    trained: tuple[World, Trained],
) -> None:
    world, t = trained
    pz, runtime = clients("personalize"), clients("personalize-runtime")
    synced = {"syncWithLatestSolutionVersion": True}
    with pytest.raises(ClientError) as version_arn:
        pz.create_campaign(name="synced", solutionVersionArn=t.up_version, campaignConfig=synced)
    assert code_of(version_arn) == "InvalidInputException"
    assert "SolutionArn/$LATEST" in str(version_arn.value)
    with pytest.raises(ClientError) as no_solution:
        pz.create_campaign(
            name="synced", solutionVersionArn=t.up_solution + "x/$LATEST", campaignConfig=synced
        )
    assert code_of(no_solution) == "ResourceNotFoundException"
    latest = t.up_solution + "/$LATEST"
    arn = pz.create_campaign(name="synced", solutionVersionArn=latest, campaignConfig=synced)["campaignArn"]
    campaign = wait_for(world, lambda: pz.describe_campaign(campaignArn=arn)["campaign"], step=60)
    assert campaign["status"] == "ACTIVE" and campaign["solutionVersionArn"] == latest
    first = world.personalize.get(t.up_version)
    assert isinstance(first, SolutionVersion) and serving_version(world, arn) is first.model
    newer = pz.create_solution_version(solutionArn=t.up_solution)["solutionVersionArn"]
    # while the new version trains, the campaign serves the newest ACTIVE one: the old
    assert serving_version(world, arn) is first.model
    done = wait_for(
        world, lambda: pz.describe_solution_version(solutionVersionArn=newer)["solutionVersion"], step=300
    )
    assert done["status"] == "ACTIVE"
    second = world.personalize.get(newer)
    assert isinstance(second, SolutionVersion) and serving_version(world, arn) is second.model
    assert runtime.get_recommendations(campaignArn=arn, userId="u0003", numResults=5)["itemList"]
    # an unsynced campaign keeps the version it deployed
    assert serving_version(world, t.up_campaign) is first.model
    # the solution cannot be deleted while a $LATEST campaign uses it
    with pytest.raises(ClientError) as in_use:
        pz.delete_solution(solutionArn=t.up_solution)
    assert code_of(in_use) == "ResourceInUseException"


def test_update_campaign_to_sync_needs_latest(trained: tuple[World, Trained]) -> None:
    world, t = trained
    pz = clients("personalize")
    synced = {"syncWithLatestSolutionVersion": True}
    with pytest.raises(ClientError) as refused:
        pz.update_campaign(campaignArn=t.up_campaign, campaignConfig=synced)  # keeps the version ARN
    assert code_of(refused) == "InvalidInputException"
    with pytest.raises(ClientError):
        pz.update_campaign(campaignArn=t.up_campaign, solutionVersionArn=t.up_version, campaignConfig=synced)
    pz.update_campaign(
        campaignArn=t.up_campaign, solutionVersionArn=t.up_solution + "/$LATEST", campaignConfig=synced
    )
    world.clock.advance(3600)  # type: ignore[attr-defined]
    campaign = pz.describe_campaign(campaignArn=t.up_campaign)["campaign"]
    assert campaign["latestCampaignUpdate"]["status"] == "ACTIVE"
    assert campaign["solutionVersionArn"] == t.up_solution + "/$LATEST"
    assert campaign["campaignConfig"]["syncWithLatestSolutionVersion"] is True


# --- datasetType: one canonical spelling ----------------------------------------------------------
@pytest.mark.parametrize("sent", ["interactions", "Interactions", "INTERACTIONS"])
def test_dataset_type_is_answered_in_its_canonical_case(
    world: World, pz: Any, pipeline: Pipeline, sent: str
) -> None:
    pipeline.group()
    schema = pz.create_schema(name="s", schema=schema_text("interactions"))["schemaArn"]
    arn = pz.create_dataset(name="d", schemaArn=schema, datasetGroupArn=pipeline.dg, datasetType=sent)[
        "datasetArn"
    ]
    assert arn.endswith(":dataset/t-dg/INTERACTIONS")
    assert pz.describe_dataset(datasetArn=arn)["dataset"]["datasetType"] == "INTERACTIONS"
    listed = pz.list_datasets(datasetGroupArn=pipeline.dg)["datasets"]
    assert [d["datasetType"] for d in listed] == ["INTERACTIONS"]
