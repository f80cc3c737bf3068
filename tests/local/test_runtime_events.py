"""personalize-runtime and personalize-events through boto3, on a trained world; campaign updates
and deletion rules that need trained versions; GetSolutionMetrics."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local.emulator.world import World
from tests.local.helpers import REGION, Trained, wait_for


@pytest.fixture
def clients(trained: tuple[World, Trained]) -> tuple[World, Trained, Any, Any, Any]:
    world, t = trained
    return (
        world,
        t,
        boto3.client("personalize", region_name=REGION),
        boto3.client("personalize-runtime", region_name=REGION),
        boto3.client("personalize-events", region_name=REGION),
    )


def items(response: dict[str, Any]) -> list[str]:
    return [i["itemId"] for i in response["itemList"]]


def test_recommendations_for_users_and_items(clients: tuple[World, Trained, Any, Any, Any]) -> None:
    _, t, _, rt, _ = clients
    first = rt.get_recommendations(campaignArn=t.up_campaign, userId="u0001", numResults=10)
    assert len(first["itemList"]) == 10 and first["recommendationId"].startswith("RID-")
    scores = [i["score"] for i in first["itemList"]]
    assert scores == sorted(scores, reverse=True)
    other = rt.get_recommendations(campaignArn=t.up_campaign, userId="u0002", numResults=10)
    assert items(first) != items(other)  # personalized, not one list for everyone
    assert len(rt.get_recommendations(campaignArn=t.up_campaign, userId="u0001")["itemList"]) == 25
    similar = rt.get_recommendations(campaignArn=t.sims_campaign, itemId="i0001", numResults=5)
    assert len(similar["itemList"]) == 5


def test_runtime_errors(clients: tuple[World, Trained, Any, Any, Any]) -> None:
    _, t, _, rt, _ = clients
    with pytest.raises(ClientError) as missing:
        rt.get_recommendations(campaignArn=t.up_campaign + "-nope", userId="u0001")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as no_user:
        rt.get_recommendations(campaignArn=t.up_campaign, itemId="i0001")
    assert no_user.value.response["Error"]["Code"] == "InvalidInputException"
    with pytest.raises(ClientError) as ranking:
        rt.get_recommendations(campaignArn=t.rank_campaign, userId="u0001")
    assert ranking.value.response["Error"]["Code"] == "InvalidInputException"
    with pytest.raises(ClientError) as too_many:
        rt.get_recommendations(campaignArn=t.up_campaign, userId="u0001", numResults=501)
    assert too_many.value.response["Error"]["Code"] == "InvalidInputException"


def test_personalized_ranking(clients: tuple[World, Trained, Any, Any, Any]) -> None:
    _, t, _, rt, _ = clients
    inputs = ["i0001", "i0002", "i0003", "i0004", "unknown-item"]
    ranked = rt.get_personalized_ranking(campaignArn=t.rank_campaign, userId="u0001", inputList=inputs)
    order = [i["itemId"] for i in ranked["personalizedRanking"]]
    assert sorted(order) == sorted(inputs)
    assert order[-1] == "unknown-item"
    with pytest.raises(ClientError) as wrong:
        rt.get_personalized_ranking(campaignArn=t.up_campaign, userId="u0001", inputList=inputs)
    assert wrong.value.response["Error"]["Code"] == "InvalidInputException"


def test_filters(clients: tuple[World, Trained, Any, Any, Any]) -> None:
    world, t, _, rt, _ = clients
    model = world.personalize.get(t.up_version).model  # type: ignore[union-attr]
    purchased = {item for item, event, _ in model.user_history("u0001") if event == "purchase"}
    assert purchased, "sample user u0001 has purchases"
    filtered = items(
        rt.get_recommendations(campaignArn=t.up_campaign, userId="u0001", numResults=100, filterArn=t.filter)
    )
    assert filtered and not purchased & set(filtered)
    books = items(
        rt.get_recommendations(
            campaignArn=t.up_campaign,
            userId="u0001",
            numResults=10,
            filterArn=t.param_filter,
            filterValues={"CATEGORY": '"books"'},
        )
    )
    catalogue = model.items
    assert books and all("books" in catalogue.values(i, "CATEGORY_L1") for i in books)
    with pytest.raises(ClientError) as missing_value:
        rt.get_recommendations(campaignArn=t.up_campaign, userId="u0001", filterArn=t.param_filter)
    assert missing_value.value.response["Error"]["Code"] == "InvalidInputException"


def test_put_events_change_the_next_recommendations(clients: tuple[World, Trained, Any, Any, Any]) -> None:
    world, t, _, rt, ev = clients
    before = items(rt.get_recommendations(campaignArn=t.up_campaign, userId="u0003", numResults=10))
    similar = items(rt.get_recommendations(campaignArn=t.sims_campaign, itemId=before[-1], numResults=3))
    ev.put_events(
        trackingId=t.tracking_id,
        userId="u0003",
        sessionId="s-1",
        eventList=[
            {"eventType": "purchase", "itemId": item, "sentAt": world.now() + n}
            for n, item in enumerate(similar * 3)
        ][:10],
    )
    after = items(rt.get_recommendations(campaignArn=t.up_campaign, userId="u0003", numResults=10))
    assert after != before
    interactions = world.personalize.get(t.dg.replace("dataset-group/tr-dg", "dataset/tr-dg/INTERACTIONS"))
    assert interactions is not None and len(interactions.data) == 28974 + len((similar * 3)[:10])  # type: ignore[attr-defined]
    with pytest.raises(ClientError) as unknown:
        ev.put_events(
            trackingId="00000000-0000-0000-0000-000000000000",
            userId="u1",
            sessionId="s",
            eventList=[{"eventType": "view", "itemId": "i0001", "sentAt": world.now()}],
        )
    # PutEvents models no ResourceNotFoundException: an unknown tracking ID is an invalid input
    assert unknown.value.response["Error"]["Code"] == "InvalidInputException"


def test_solution_metrics_are_measured(clients: tuple[World, Trained, Any, Any, Any]) -> None:
    _, t, pz, _, _ = clients
    metrics = pz.get_solution_metrics(solutionVersionArn=t.up_version)["metrics"]
    for key in (
        "precision_at_5",
        "precision_at_10",
        "precision_at_25",
        "normalized_discounted_cumulative_gain_at_10",
        "mean_reciprocal_rank_at_25",
        "coverage",
    ):
        assert 0.0 <= metrics[key] <= 1.0
    sims = pz.get_solution_metrics(solutionVersionArn=t.sims_version)["metrics"]
    assert sims != metrics


def test_campaign_update_keeps_serving_until_active(clients: tuple[World, Trained, Any, Any, Any]) -> None:
    world, t, pz, rt, _ = clients
    new_version = pz.create_solution_version(solutionArn=t.up_solution)["solutionVersionArn"]
    with pytest.raises(ClientError) as not_ready:
        pz.update_campaign(campaignArn=t.up_campaign, solutionVersionArn=new_version)
    assert not_ready.value.response["Error"]["Code"] == "ResourceInUseException"
    wait_for(
        world,
        lambda: pz.describe_solution_version(solutionVersionArn=new_version)["solutionVersion"],
        step=300,
    )
    pz.update_campaign(campaignArn=t.up_campaign, solutionVersionArn=new_version, minProvisionedTPS=2)
    campaign = pz.describe_campaign(campaignArn=t.up_campaign)["campaign"]
    assert campaign["status"] == "ACTIVE"
    assert campaign["solutionVersionArn"] == t.up_version
    assert campaign["latestCampaignUpdate"]["status"] == "CREATE PENDING"
    assert campaign["latestCampaignUpdate"]["solutionVersionArn"] == new_version
    with pytest.raises(ClientError) as twice:
        pz.update_campaign(campaignArn=t.up_campaign, minProvisionedTPS=3)
    assert twice.value.response["Error"]["Code"] == "ResourceInUseException"
    with pytest.raises(ClientError) as deleting:
        pz.delete_campaign(campaignArn=t.up_campaign)
    assert deleting.value.response["Error"]["Code"] == "ResourceInUseException"
    assert rt.get_recommendations(campaignArn=t.up_campaign, userId="u0001")["itemList"]
    world.clock.advance(60)  # type: ignore[attr-defined]
    update = pz.describe_campaign(campaignArn=t.up_campaign)["campaign"]["latestCampaignUpdate"]
    assert update["status"] == "CREATE IN_PROGRESS"
    world.clock.advance(3600)  # type: ignore[attr-defined]
    done = pz.describe_campaign(campaignArn=t.up_campaign)["campaign"]
    assert done["latestCampaignUpdate"]["status"] == "ACTIVE"
    assert done["solutionVersionArn"] == new_version and done["minProvisionedTPS"] == 2
    assert rt.get_recommendations(campaignArn=t.up_campaign, userId="u0001")["itemList"]


def test_campaign_quota_and_delete_order(clients: tuple[World, Trained, Any, Any, Any]) -> None:
    world, t, pz, rt, _ = clients
    pz.create_campaign(name="extra-1", solutionVersionArn=t.up_version)
    pz.create_campaign(name="extra-2", solutionVersionArn=t.sims_version, minProvisionedTPS=5)
    with pytest.raises(ClientError) as full:
        pz.create_campaign(name="extra-3", solutionVersionArn=t.up_version)
    assert full.value.response["Error"]["Code"] == "LimitExceededException"
    with pytest.raises(ClientError) as solution_in_use:
        pz.delete_solution(solutionArn=t.up_solution)
    assert solution_in_use.value.response["Error"]["Code"] == "ResourceInUseException"
    with pytest.raises(ClientError) as pending:
        pz.delete_campaign(campaignArn=t.up_campaign.replace("tr-up", "extra-1"))
    assert pending.value.response["Error"]["Code"] == "ResourceInUseException"
    listed = {c["name"] for c in pz.list_campaigns(solutionArn=t.up_solution)["campaigns"]}
    assert listed == {"tr-up", "extra-1"}
    pz.delete_campaign(campaignArn=t.up_campaign)
    assert pz.describe_campaign(campaignArn=t.up_campaign)["campaign"]["status"] == "DELETE PENDING"
    with pytest.raises(ClientError):
        rt.get_recommendations(campaignArn=t.up_campaign, userId="u0001")
    world.clock.advance(3600)  # type: ignore[attr-defined]
    pz.delete_campaign(campaignArn=t.up_campaign.replace("tr-up", "extra-1"))
    world.clock.advance(3600)  # type: ignore[attr-defined]
    pz.delete_solution(solutionArn=t.up_solution)
    world.clock.advance(3600)  # type: ignore[attr-defined]
    with pytest.raises(ClientError) as gone:
        pz.describe_solution_version(solutionVersionArn=t.up_version)
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_filters_read_the_current_items(clients: tuple[World, Trained, Any, Any, Any]) -> None:
    import csv
    import io

    from tests.local.helpers import DATA, import_rows

    world, t, pz, rt, _ = clients
    books = {"filterArn": t.param_filter, "filterValues": {"CATEGORY": '"books"'}}
    assert items(rt.get_recommendations(campaignArn=t.up_campaign, userId="u0001", numResults=10, **books))
    rows = list(csv.DictReader(io.StringIO((DATA / "items.csv").read_text())))
    dataset = t.dg.replace("dataset-group/tr-dg", "dataset/tr-dg/ITEMS")
    garden = [{**row, "CATEGORY_L1": "garden"} for row in rows]
    done = import_rows(world, pz, dataset, t.role, "items-garden", "garden.csv", garden)
    assert done["status"] == "ACTIVE", done.get("failureReason")
    assert (
        items(rt.get_recommendations(campaignArn=t.up_campaign, userId="u0001", numResults=10, **books)) == []
    )
    garden = {"filterArn": t.param_filter, "filterValues": {"CATEGORY": '"garden"'}}
    assert (
        len(items(rt.get_recommendations(campaignArn=t.up_campaign, userId="u0001", numResults=10, **garden)))
        == 10
    )


def test_segmentation_recipes_cannot_be_deployed(clients: tuple[World, Trained, Any, Any, Any]) -> None:
    world, t, pz, _, _ = clients
    solution = pz.create_solution(
        name="affinity", datasetGroupArn=t.dg, recipeArn="arn:aws:personalize:::recipe/aws-item-affinity"
    )["solutionArn"]
    wait_for(world, lambda: pz.describe_solution(solutionArn=solution)["solution"])
    version = pz.create_solution_version(solutionArn=solution)["solutionVersionArn"]
    trained = wait_for(
        world, lambda: pz.describe_solution_version(solutionVersionArn=version)["solutionVersion"]
    )
    assert trained["status"] == "ACTIVE", trained.get("failureReason")
    with pytest.raises(ClientError) as refused:
        pz.create_campaign(name="affinity", solutionVersionArn=version)
    assert refused.value.response["Error"]["Code"] == "InvalidInputException"
    assert "batch segment" in refused.value.response["Error"]["Message"]


def test_update_dataset_replaces_the_schema(clients: tuple[World, Trained, Any, Any, Any]) -> None:
    import csv
    import io
    import json

    from tests.local.helpers import DATA, import_rows, schema_text

    world, t, pz, rt, _ = clients
    items_ds = t.dg.replace("dataset-group/tr-dg", "dataset/tr-dg/ITEMS")
    interactions_ds = t.dg.replace("dataset-group/tr-dg", "dataset/tr-dg/INTERACTIONS")
    old = json.loads(schema_text("items"))
    wider = dict(
        old, fields=[*old["fields"], {"name": "COLOR", "type": ["null", "string"], "categorical": True}]
    )
    wider_arn = pz.create_schema(name="items-v2", schema=json.dumps(wider))["schemaArn"]
    narrower = dict(old, fields=old["fields"][:-1])
    narrower_arn = pz.create_schema(name="items-narrow", schema=json.dumps(narrower))["schemaArn"]
    required = dict(old, fields=[*old["fields"], {"name": "SIZE", "type": "string", "categorical": True}])
    required_arn = pz.create_schema(name="items-required", schema=json.dumps(required))["schemaArn"]
    for bad, expected in ((narrower_arn, "missing"), (required_arn, "null")):
        with pytest.raises(ClientError) as refused:
            pz.update_dataset(datasetArn=items_ds, schemaArn=bad)
        assert refused.value.response["Error"]["Code"] == "InvalidInputException"
        assert expected in refused.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as interactions:
        pz.update_dataset(datasetArn=interactions_ds, schemaArn=wider_arn)
    assert interactions.value.response["Error"]["Code"] == "InvalidInputException"

    assert pz.update_dataset(datasetArn=items_ds, schemaArn=wider_arn)["datasetArn"] == items_ds
    described = pz.describe_dataset(datasetArn=items_ds)["dataset"]
    assert described["latestDatasetUpdate"]["status"] == "CREATE PENDING"
    assert described["latestDatasetUpdate"]["schemaArn"] == wider_arn
    assert described["schemaArn"] != wider_arn
    with pytest.raises(ClientError) as busy:
        pz.update_dataset(datasetArn=items_ds, schemaArn=wider_arn)
    assert busy.value.response["Error"]["Code"] == "ResourceInUseException"
    with pytest.raises(ClientError) as schema_in_use:
        pz.delete_schema(schemaArn=wider_arn)
    assert schema_in_use.value.response["Error"]["Code"] == "ResourceInUseException"
    world.clock.advance(120)  # type: ignore[attr-defined]
    described = pz.describe_dataset(datasetArn=items_ds)["dataset"]
    assert described["schemaArn"] == wider_arn and described["latestDatasetUpdate"]["status"] == "ACTIVE"

    rows = list(csv.DictReader(io.StringIO((DATA / "items.csv").read_text())))
    colored = [{**row, "COLOR": "red" if n % 2 else "blue"} for n, row in enumerate(rows)]
    done = import_rows(world, pz, items_ds, t.role, "items-color", "color.csv", colored,
                       importMode="INCREMENTAL")
    assert done["status"] == "ACTIVE", done.get("failureReason")
    red = pz.create_filter(
        name="red", datasetGroupArn=t.dg, filterExpression='INCLUDE ItemID WHERE Items.COLOR IN ("red")'
    )["filterArn"]
    wait_for(world, lambda: pz.describe_filter(filterArn=red)["filter"])
    picked = items(
        rt.get_recommendations(campaignArn=t.up_campaign, userId="u0001", numResults=10, filterArn=red)
    )
    catalogue = world.personalize.get(items_ds).data  # type: ignore[union-attr]
    assert picked and all(catalogue.values(i, "COLOR") == ("red",) for i in picked)


def test_auto_training_runs_and_bills_when_left_on(clients: tuple[World, Trained, Any, Any, Any]) -> None:
    world, t, pz, _, ev = clients
    with pytest.raises(ClientError) as bad:
        pz.create_solution(
            name="auto-bad",
            datasetGroupArn=t.dg,
            recipeArn="arn:aws:personalize:::recipe/aws-popularity-count",
            solutionConfig={"autoTrainingConfig": {"schedulingExpression": "rate(45 days)"}},
        )
    assert bad.value.response["Error"]["Code"] == "InvalidInputException"
    auto = pz.create_solution(
        name="auto",
        datasetGroupArn=t.dg,
        recipeArn="arn:aws:personalize:::recipe/aws-popularity-count",
        solutionConfig={"autoTrainingConfig": {"schedulingExpression": "rate(2 days)"}},
    )["solutionArn"]  # performAutoTraining left to the service's default: true
    manual = pz.create_solution(
        name="manual",
        datasetGroupArn=t.dg,
        recipeArn="arn:aws:personalize:::recipe/aws-popularity-count",
        performAutoTraining=False,
    )["solutionArn"]
    world.clock.advance(30)  # type: ignore[attr-defined]
    assert pz.list_solution_versions(solutionArn=auto)["solutionVersions"] == []
    world.clock.advance(3600)  # type: ignore[attr-defined]
    first = pz.list_solution_versions(solutionArn=auto)["solutionVersions"]
    assert [(v["trainingType"], v["trainingMode"]) for v in first] == [("AUTOMATIC", "AUTOTRAIN")]
    with pytest.raises(ClientError) as busy:
        pz.delete_solution(solutionArn=auto)  # an automatic training is running
    assert busy.value.response["Error"]["Code"] == "ResourceInUseException"
    # "Automatic training occurs only if you imported bulk or real-time interaction data since the
    # last training" (solution-config-auto-training): one event per day, then none
    for day in range(5):
        world.clock.advance(86400)  # type: ignore[attr-defined]
        ev.put_events(trackingId=t.tracking_id, userId="u0003", sessionId=f"auto-{day}",
                      eventList=[{"eventType": "view", "itemId": "i0001", "sentAt": world.now()}])
    versions = pz.list_solution_versions(solutionArn=auto)["solutionVersions"]
    assert len(versions) == 3 and {v["status"] for v in versions} == {"ACTIVE"}
    world.clock.advance(6 * 86400)  # type: ignore[attr-defined]
    idle = pz.list_solution_versions(solutionArn=auto)["solutionVersions"]
    assert len(idle) == 4  # the run after the last event; then no new data, no training
    assert pz.list_solution_versions(solutionArn=manual)["solutionVersions"] == []
    pz.delete_solution(solutionArn=auto)
    world.clock.advance(30 * 86400)  # type: ignore[attr-defined]
    assert all(v.solution_arn != auto for v in world.personalize.list_all(kinds=["solution-version"]))  # type: ignore[attr-defined]


def test_metadata_with_recommendations(clients: tuple[World, Trained, Any, Any, Any]) -> None:
    world, t, pz, rt, _ = clients
    columns = {"ITEMS": ["CATEGORY_L1", "PRICE"]}
    with pytest.raises(ClientError) as off:
        rt.get_recommendations(campaignArn=t.up_campaign, userId="u0001", metadataColumns=columns)
    assert "enableMetadataWithRecommendations" in off.value.response["Error"]["Message"]
    pz.update_campaign(campaignArn=t.up_campaign, campaignConfig={"enableMetadataWithRecommendations": True})
    world.clock.advance(3600)  # type: ignore[attr-defined]
    listed = rt.get_recommendations(
        campaignArn=t.up_campaign, userId="u0001", numResults=3, metadataColumns=columns
    )
    assert all(set(i["metadata"]) == {"CATEGORY_L1", "PRICE"} for i in listed["itemList"])
    with pytest.raises(ClientError) as unknown:
        rt.get_recommendations(campaignArn=t.up_campaign, userId="u0001", metadataColumns={"ITEMS": ["NOPE"]})
    assert "NOPE" in unknown.value.response["Error"]["Message"]
