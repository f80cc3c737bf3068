"""Full lifecycles per kind against the local Personalize (create, update in place, replacement,
delete), through a Provider-framework mimic on the virtual clock."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from personalize_handlers.common import HandlerError

from tests.handlers.helpers import (
    CAMPAIGN,
    DATASET,
    DG,
    FILTER,
    IMPORT,
    SCHEMA,
    SOLUTION,
    TRACKER,
    VERSION,
    Pipeline,
    Provider,
    personalize,
    schema_text,
    setup_data_access,
)


def gone(describe: str, **arn: str) -> bool:
    try:
        getattr(personalize(), describe)(**arn)
    except ClientError as exc:
        return exc.response["Error"]["Code"] == "ResourceNotFoundException"
    return False


def tags_of(arn: str) -> dict[str, str]:
    return {t["tagKey"]: t["tagValue"] for t in personalize().list_tags_for_resource(resourceArn=arn)["tags"]}


def test_dataset_group_lifecycle(world: Any) -> None:
    provider = Provider(world)
    props = {"Name": "test-dg", "Tags": [{"tagKey": "env", "tagValue": "test"}]}
    created = provider.create(DG, props)
    arn = created["PhysicalResourceId"]
    assert arn == "arn:aws:personalize:us-east-1:123456789012:dataset-group/test-dg"
    assert created["Data"] == {"Arn": arn, "Name": "test-dg"}
    assert personalize().describe_dataset_group(datasetGroupArn=arn)["datasetGroup"]["status"] == "ACTIVE"

    # tags change in place
    new_props = {"Name": "test-dg", "Tags": [{"tagKey": "team", "tagValue": "data"}]}
    updated = provider.update(DG, arn, props, new_props)
    assert updated["PhysicalResourceId"] == arn
    assert tags_of(arn) == {"team": "data"}

    # an immutable change without a new name is refused clearly, before touching anything
    with pytest.raises(HandlerError, match=r"DatasetGroup test-dg: Update failed: KmsKeyArn, RoleArn cannot "
                                           r"change in place"):
        provider.update(DG, arn, new_props, {**new_props,
                                             "KmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/k",
                                             "RoleArn": "arn:aws:iam::123456789012:role/r"})

    # a new name is a replacement; CloudFormation then deletes the old one
    replaced = provider.update(DG, arn, new_props, {**new_props, "Name": "test-dg-2"})
    assert replaced["PhysicalResourceId"].endswith("dataset-group/test-dg-2")
    deleted = provider.delete(DG, arn, new_props)
    assert deleted["waited"] > 0  # waited until really gone
    assert gone("describe_dataset_group", datasetGroupArn=arn)
    # a delete of something already gone succeeds at once
    assert provider.delete(DG, arn, new_props)["waited"] == 0


def test_create_adopts_matching_and_refuses_different(world: Any) -> None:
    provider = Provider(world)
    first = provider.create(SCHEMA, {"Name": "test-s", "Schema": schema_text("interactions")})
    # same name, same schema (e.g. a retry after a lost response): adopted
    again = provider.create(SCHEMA, {"Name": "test-s", "Schema": schema_text("interactions")})
    assert again["PhysicalResourceId"] == first["PhysicalResourceId"]
    # same name, different schema: a clear error with both configurations
    with pytest.raises(HandlerError) as info:
        provider.create(SCHEMA, {"Name": "test-s", "Schema": schema_text("items")})
    message = str(info.value)
    assert message.startswith("Schema test-s: CreateSchema failed: a Schema named test-s already exists "
                              "with a different configuration")
    assert "ITEM_ID" in message and "USER_ID" in message
    assert len(message.encode()) < 4096


def test_bad_schema_fails_early(world: Any) -> None:
    with pytest.raises(HandlerError, match=r"Schema test-bad: property Schema is not valid JSON"):
        Provider(world).create(SCHEMA, {"Name": "test-bad", "Schema": "{not json"})


def test_service_error_names_resource_operation_and_message(world: Any) -> None:
    with pytest.raises(HandlerError) as info:
        Provider(world).create(DATASET, {
            "Name": "test-orphan", "DatasetType": "Interactions",
            "DatasetGroupArn": "arn:aws:personalize:us-east-1:123456789012:dataset-group/missing",
            "SchemaArn": "arn:aws:personalize:us-east-1:123456789012:schema/missing"})
    assert str(info.value).startswith(
        "Dataset test-orphan: CreateDataset failed: ResourceNotFoundException: ")


def test_data_chain_import_and_teardown_with_dependents_still_deleting(world: Any) -> None:
    setup_data_access()
    provider = Provider(world)
    pipe = Pipeline(provider).with_data(("interactions", "items"))
    job = personalize().describe_dataset_import_job(datasetImportJobArn=pipe.imports["interactions"])
    assert job["datasetImportJob"]["status"] == "ACTIVE"
    assert job["datasetImportJob"]["jobName"].startswith("test-retail-interactions-abc123-")

    # an import job Delete is a no-op (no API; it goes with its dataset)
    assert provider.delete(IMPORT, pipe.imports["items"], pipe.import_props("items"))["waited"] == 0

    # CloudFormation deletes in reverse order without waiting between siblings: start the
    # datasets' deletes, then delete the schema and the group while they are still deleting.
    from personalize_handlers import entry

    for kind, arn in pipe.datasets.items():
        entry.on_event(provider.event("Delete", DATASET, {"Name": f"test-retail-{kind}"}, physical_id=arn))
    schema_delete = provider.delete(SCHEMA, pipe.schemas["interactions"], {"Name": "test-interactions-s1"})
    group_delete = provider.delete(DG, pipe.group, {"Name": "test-retail"})
    assert schema_delete["waited"] > 0 and group_delete["waited"] > 0  # ResourceInUse was retried
    assert gone("describe_dataset_group", datasetGroupArn=pipe.group)
    assert gone("describe_schema", schemaArn=pipe.schemas["interactions"])
    assert world.stats.errors  # the in-use answers really happened


def test_failed_import_surfaces_failure_reason_and_dataset_deletes(world: Any) -> None:
    setup_data_access({"interactions.csv": b"USER_ID,ITEM_ID,TIMESTAMP\nu1,i1,not-a-number\n"})
    provider = Provider(world)
    pipe = Pipeline(provider).with_data(imported=False)
    with pytest.raises(HandlerError) as info:
        provider.create(IMPORT, pipe.import_props("interactions"))
    message = str(info.value)
    assert message.startswith(
        "DatasetImportJob test-retail-interactions-abc123: CreateDatasetImportJob failed: ")
    assert "TIMESTAMP" in message
    provider.delete(DATASET, pipe.datasets["interactions"], {"Name": "test-retail-interactions"})
    provider.delete(DG, pipe.group, {"Name": "test-retail"})
    assert gone("describe_dataset_group", datasetGroupArn=pipe.group)


def test_import_job_update_reimports_and_tags_stay_in_place(world: Any) -> None:
    setup_data_access()
    provider = Provider(world)
    pipe = Pipeline(provider).with_data()
    old = pipe.import_props("interactions")
    first = pipe.imports["interactions"]
    same = provider.update(IMPORT, first, old, {**old, "Tags": [{"tagKey": "k", "tagValue": "v"}]})
    assert same["PhysicalResourceId"] == first
    new = {**old, "JobName": "test-retail-interactions-def456", "SourceHash": "def456"}
    again = provider.update(IMPORT, first, old, new)
    assert again["PhysicalResourceId"] != first
    assert "test-retail-interactions-def456-" in again["PhysicalResourceId"]


def test_solution_version_campaign_lifecycle(world: Any) -> None:
    setup_data_access()
    provider = Provider(world)
    pipe = Pipeline(provider).with_data()
    solution_props = pipe.solution_props()
    pipe.solution = provider.create(SOLUTION, solution_props)["PhysicalResourceId"]
    described = personalize().describe_solution(solutionArn=pipe.solution)["solution"]
    assert described["performAutoTraining"] is False and described["performHPO"] is False

    version_props = {"SolutionArn": pipe.solution, "Trigger": "t1"}
    v1 = provider.create(VERSION, version_props)
    assert personalize().describe_solution_version(
        solutionVersionArn=v1["PhysicalResourceId"])["solutionVersion"]["status"] == "ACTIVE"
    # a new trigger trains a new version (replacement); the old version's Delete is a no-op
    v2 = provider.update(VERSION, v1["PhysicalResourceId"], version_props, {**version_props, "Trigger": "t2"})
    assert v2["PhysicalResourceId"] != v1["PhysicalResourceId"]
    provider.delete(VERSION, v1["PhysicalResourceId"], version_props)

    campaign_props = {"Name": "test-recs", "SolutionVersionArn": v1["PhysicalResourceId"],
                      "MinProvisionedTPS": "1"}
    campaign = provider.create(CAMPAIGN, campaign_props)["PhysicalResourceId"]

    # the campaign moves to the new version in place and keeps serving while it does
    moved = {**campaign_props, "SolutionVersionArn": v2["PhysicalResourceId"], "MinProvisionedTPS": "2"}
    from personalize_handlers import entry

    event = provider.event("Update", CAMPAIGN, moved, physical_id=campaign, old_props=campaign_props)
    answer = entry.on_event(event)
    assert answer["PhysicalResourceId"] == campaign
    during = personalize().describe_campaign(campaignArn=campaign)["campaign"]
    assert during["status"] == "ACTIVE"
    assert during["latestCampaignUpdate"]["status"] in ("CREATE PENDING", "CREATE IN_PROGRESS")
    # a duplicate of the same Update event does not fail on the update in progress
    assert entry.on_event(event)["PhysicalResourceId"] == campaign
    assert entry.is_complete({**event, **answer}) == {"IsComplete": False}
    done = provider.send(event)
    assert done["PhysicalResourceId"] == campaign
    after = personalize().describe_campaign(campaignArn=campaign)["campaign"]
    assert after["solutionVersionArn"] == v2["PhysicalResourceId"] and after["minProvisionedTPS"] == 2

    # a new name replaces the campaign
    renamed = provider.update(CAMPAIGN, campaign, moved, {**moved, "Name": "test-recs-2"})
    assert renamed["PhysicalResourceId"].endswith("campaign/test-recs-2")

    # teardown: the solution's Delete meets its campaigns still deleting and retries
    for arn, props in ((campaign, moved), (renamed["PhysicalResourceId"], {**moved, "Name": "test-recs-2"})):
        entry.on_event(provider.event("Delete", CAMPAIGN, props, physical_id=arn))
    provider.delete(SOLUTION, pipe.solution, solution_props)
    assert gone("describe_solution", solutionArn=pipe.solution)
    assert gone("describe_campaign", campaignArn=campaign)


def test_failed_training_surfaces_reason(world: Any) -> None:
    setup_data_access()
    provider = Provider(world)
    pipe = Pipeline(provider).with_data()
    pipe.add_solution()
    world.faults.fail_training("test-retail-pop-*", "AlgorithmError: not enough interactions per user")
    with pytest.raises(HandlerError) as info:
        provider.create(VERSION, {"SolutionArn": pipe.solution, "Trigger": "t1"})
    assert "CreateSolutionVersion failed: AlgorithmError: not enough interactions per user" in str(info.value)
    # the failed version and its solution delete cleanly
    provider.delete(SOLUTION, pipe.solution, pipe.solution_props())
    assert gone("describe_solution", solutionArn=pipe.solution)


def test_delete_stops_a_training_in_progress(world: Any) -> None:
    setup_data_access()
    provider = Provider(world)
    pipe = Pipeline(provider).with_data()
    pipe.add_solution()
    world.faults.hang_training("test-retail-pop-*")
    from personalize_handlers import entry

    props = {"SolutionArn": pipe.solution, "Trigger": "t1"}
    version = entry.on_event(provider.event("Create", VERSION, props))["PhysicalResourceId"]
    world.clock.advance(600)
    provider.delete(VERSION, version, props)
    status = personalize().describe_solution_version(solutionVersionArn=version)["solutionVersion"]["status"]
    assert status == "CREATE STOPPED"
    provider.delete(SOLUTION, pipe.solution, pipe.solution_props())
    assert gone("describe_solution", solutionArn=pipe.solution)


def test_failed_campaign_deletes_cleanly(world: Any) -> None:
    setup_data_access()
    provider = Provider(world)
    pipe = Pipeline(provider).with_data()
    pipe.trained()
    world.faults.fail_campaign("test-bad-campaign", "Insufficient capacity")
    props = {"Name": "test-bad-campaign", "SolutionVersionArn": pipe.version}
    from personalize_handlers import entry

    event = provider.event("Create", CAMPAIGN, props)
    arn = entry.on_event(event)["PhysicalResourceId"]
    with pytest.raises(HandlerError,
                       match="Campaign test-bad-campaign: CreateCampaign failed: Insufficient capacity"):
        provider.send(event)
    provider.delete(CAMPAIGN, arn, props)
    assert gone("describe_campaign", campaignArn=arn)


def test_event_tracker_and_filter_lifecycle(world: Any) -> None:
    provider = Provider(world)
    pipe = Pipeline(provider)
    pipe.dataset_group()
    tracker = provider.create(TRACKER, {"Name": "test-events", "DatasetGroupArn": pipe.group})
    assert tracker["Data"]["TrackingId"]
    assert tracker["Data"]["Name"] == "test-events"
    filter_props = {"Name": "test-no-purchased-1", "DatasetGroupArn": pipe.group,
                    "FilterExpression": 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")'}
    pipe.data(("interactions",))
    created = provider.create(FILTER, filter_props)["PhysicalResourceId"]
    replaced = provider.update(FILTER, created, filter_props, {
        **filter_props, "Name": "test-no-purchased-2",
        "FilterExpression": 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click")',
    })["PhysicalResourceId"]
    assert replaced != created
    with pytest.raises(HandlerError, match="FilterExpression cannot change in place"):
        provider.update(FILTER, replaced, filter_props, {**filter_props, "FilterExpression": "EXCLUDE x"})
    provider.delete(FILTER, created, filter_props)
    provider.delete(FILTER, replaced, filter_props)
    provider.delete(TRACKER, tracker["PhysicalResourceId"], {"Name": "test-events"})
    assert gone("describe_filter", filterArn=created)
    assert gone("describe_event_tracker", eventTrackerArn=tracker["PhysicalResourceId"])


def campaign_on_v1_with_v2_trained(world: Any) -> tuple[Provider, str, dict[str, Any], dict[str, Any]]:
    """A campaign serving version 1 of a solution whose version 2 is trained too: (provider,
    campaign ARN, its properties, the same properties moved to version 2)."""
    setup_data_access()
    provider = Provider(world)
    pipe = Pipeline(provider).with_data()
    v1 = pipe.trained()
    v2 = provider.create(VERSION, {"SolutionArn": pipe.solution, "Trigger": "t2"})["PhysicalResourceId"]
    old = {"Name": "test-recs", "SolutionVersionArn": v1}
    campaign = provider.create(CAMPAIGN, old)["PhysicalResourceId"]
    return provider, campaign, old, {**old, "SolutionVersionArn": v2}


def test_campaign_rollback_while_the_update_still_runs(world: Any) -> None:
    """UPDATE_ROLLBACK: CloudFormation sends the old properties while the update it undoes is still
    in progress. The campaign waits for it, moves back to the old version, and serves throughout."""
    provider, campaign, old, new = campaign_on_v1_with_v2_trained(world)
    v1 = old["SolutionVersionArn"]
    from personalize_handlers import entry

    entry.on_event(provider.event("Update", CAMPAIGN, new, physical_id=campaign, old_props=old))
    world.clock.advance(60)
    rollback = provider.event("Update", CAMPAIGN, old, physical_id=campaign, old_props=new)
    answer = entry.on_event(rollback)
    merged = {**rollback, **answer}
    for _ in range(200):
        assert personalize().describe_campaign(campaignArn=campaign)["campaign"]["status"] == "ACTIVE"
        if entry.is_complete(merged)["IsComplete"]:
            break
        world.clock.advance(30)
    final = personalize().describe_campaign(campaignArn=campaign)["campaign"]
    assert final["solutionVersionArn"] == v1
    assert final["latestCampaignUpdate"]["solutionVersionArn"] == v1
    assert final["latestCampaignUpdate"]["status"] == "ACTIVE"


def test_failed_campaign_update_surfaces_and_old_version_keeps_serving(world: Any) -> None:
    provider, campaign, old, new = campaign_on_v1_with_v2_trained(world)
    v1 = old["SolutionVersionArn"]
    world.faults.fail_campaign("test-recs", "injected: update failed")
    with pytest.raises(HandlerError,
                       match="Campaign test-recs: UpdateCampaign failed: injected: update failed"):
        provider.update(CAMPAIGN, campaign, old, new)
    world.faults.clear()
    # the rollback (old properties) completes at once: the campaign never left v1
    assert provider.update(CAMPAIGN, campaign, new, old)["waited"] == 0
    described = personalize().describe_campaign(campaignArn=campaign)["campaign"]
    assert described["status"] == "ACTIVE" and described["solutionVersionArn"] == v1


@pytest.mark.parametrize(
    ("kind", "props", "expected"),
    [
        (SOLUTION, {"Name": "test-hpo", "PerformHPO": "maybe"}, "Solution test-hpo: property PerformHPO: "),
        (
            CAMPAIGN,
            {
                "Name": "test-tps",
                "SolutionVersionArn": "arn:aws:personalize:us-east-1:123456789012:solution/s/1",
                "MinProvisionedTPS": "0",
            },
            "Campaign test-tps: property MinProvisionedTPS: expected an integer >= 1",
        ),
    ],
)
def test_bad_property_names_the_resource(world: Any, kind: str, props: dict[str, Any], expected: str) -> None:
    """Coercion errors come from shared helpers that know no resource: the entry point names it."""
    props = {"DatasetGroupArn": "arn:aws:personalize:us-east-1:123456789012:dataset-group/dg",
             "RecipeArn": "arn:aws:personalize:::recipe/aws-sims", **props}
    with pytest.raises(HandlerError) as info:
        Provider(world).create(kind, props)
    assert str(info.value).startswith(expected), str(info.value)
