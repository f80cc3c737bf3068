"""Metric attribution in the local Personalize: the operations and their rules, and the metrics that
PutEvents moves in the local CloudWatch (namespace AWS/Personalize, per event attribution source)."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local.emulator.world import World
from tests.local.helpers import DATA, REGION, ROLE, Trained, import_rows, wait_for

PUBLISH = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "cloudwatch:PutMetricData",
            "Resource": "*",
            "Condition": {"StringEquals": {"cloudwatch:namespace": "AWS/Personalize"}},
        }
    ],
}
METRICS = [
    {"eventType": "purchase", "metricName": "revenue", "expression": "SUM(Items.PRICE)"},
    {"eventType": "view", "metricName": "views", "expression": "SAMPLECOUNT()"},
]


@pytest.fixture
def setup(trained: tuple[World, Trained]) -> tuple[World, Trained, Any]:
    world, t = trained
    boto3.client("iam", region_name=REGION).put_role_policy(
        RoleName=ROLE, PolicyName="publish-metrics", PolicyDocument=json.dumps(PUBLISH)
    )
    return world, t, boto3.client("personalize", region_name=REGION)


def create(
    world: World, pz: Any, t: Trained, metrics: list[dict[str, str]] | None = None, name: str = "tr-metrics"
) -> dict[str, Any]:
    arn = pz.create_metric_attribution(
        name=name, datasetGroupArn=t.dg, metrics=metrics or METRICS, metricsOutputConfig={"roleArn": t.role}
    )["metricAttributionArn"]
    return wait_for(
        world, lambda: pz.describe_metric_attribution(metricAttributionArn=arn)["metricAttribution"]
    )


def refused(call: Any, code: str = "InvalidInputException") -> str:
    with pytest.raises(ClientError) as error:
        call()
    assert error.value.response["Error"]["Code"] == code, error.value.response
    return str(error.value.response["Error"]["Message"])


def metric_sum(world: World, name: str, source: str, group: str) -> float:
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    now = datetime.fromtimestamp(world.now(), UTC)
    points = cloudwatch.get_metric_statistics(
        Namespace="AWS/Personalize",
        MetricName=name,
        Statistics=["Sum"],
        Period=900,
        StartTime=now - timedelta(days=1),
        EndTime=now + timedelta(hours=1),
        Dimensions=[
            {"Name": "EventAttributionSource", "Value": source},
            {"Name": "DatasetGroupArn", "Value": group},
        ],
    )["Datapoints"]
    return sum(p["Sum"] for p in points)


def test_lifecycle_and_listing(setup: tuple[World, Trained, Any]) -> None:
    world, t, pz = setup
    found = create(world, pz, t)
    assert found["status"] == "ACTIVE" and found["datasetGroupArn"] == t.dg
    assert "metrics" not in found  # Describe does not return them: ListMetricAttributionMetrics does
    listed = pz.list_metric_attribution_metrics(metricAttributionArn=found["metricAttributionArn"])["metrics"]
    # stored upper-cased (the CloudFormation schema's $uppercase transforms)
    assert {(m["metricName"], m["eventType"]) for m in listed} == {("REVENUE", "PURCHASE"), ("VIEWS", "VIEW")}
    summaries = pz.list_metric_attributions(datasetGroupArn=t.dg)["metricAttributions"]
    assert [s["name"] for s in summaries] == ["tr-metrics"]
    # one per dataset group
    message = refused(lambda: create(world, pz, t, name="tr-second"), "LimitExceededException")
    assert "at most one metric attribution per dataset group" in message
    # the group cannot go while the attribution is in it
    assert "metric attributions" in refused(
        lambda: pz.delete_dataset_group(datasetGroupArn=t.dg), "ResourceInUseException"
    )
    arn = found["metricAttributionArn"]
    pz.delete_metric_attribution(metricAttributionArn=arn)
    world.clock.advance(120)  # type: ignore[attr-defined]
    refused(lambda: pz.describe_metric_attribution(metricAttributionArn=arn), "ResourceNotFoundException")


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        ({"expression": "AVG(Items.PRICE)"}, "SAMPLECOUNT()"),
        ({"expression": "SUM(Items.CATEGORY_L1)"}, "only to numeric columns"),
        ({"expression": "SUM(Items.NO_SUCH)"}, "not in its schema"),
        ({"expression": "SUM(Users.AGE)"}, "Items or Interactions"),
        ({"expression": "SUM(Interactions.EVENT_VALUE)"}, "not in its schema"),
        ({"eventType": " "}, "must not be empty"),
    ],
)
def test_create_refuses_what_the_service_refuses(
    setup: tuple[World, Trained, Any], metric: dict[str, str], expected: str
) -> None:
    world, t, pz = setup
    bad = [{**METRICS[0], **metric}]
    assert expected in refused(lambda: create(world, pz, t, bad))


def test_ten_metrics_at_most_and_unique_names(setup: tuple[World, Trained, Any]) -> None:
    world, t, pz = setup
    many = [{"eventType": "view", "metricName": f"m{i}", "expression": "SAMPLECOUNT()"} for i in range(11)]
    refused(lambda: create(world, pz, t, many))
    twice = [METRICS[1], {**METRICS[1], "metricName": "VIEWS"}]
    assert "unique" in refused(lambda: create(world, pz, t, twice))


def test_a_role_that_cannot_publish_fails_the_create(trained: tuple[World, Trained]) -> None:
    world, t = trained  # the trained world's role reads S3 only
    pz = boto3.client("personalize", region_name=REGION)
    found = create(world, pz, t)
    assert found["status"] == "CREATE FAILED"
    assert "cloudwatch:PutMetricData" in found["failureReason"]


def test_events_attributed_to_a_campaign_move_its_metrics(setup: tuple[World, Trained, Any]) -> None:
    world, t, pz = setup
    create(world, pz, t)
    rt = boto3.client("personalize-runtime", region_name=REGION)
    events = boto3.client("personalize-events", region_name=REGION)
    recommended = rt.get_recommendations(campaignArn=t.up_campaign, userId="u0001", numResults=3)
    item = recommended["itemList"][0]["itemId"]
    with open(DATA / "items.csv", newline="") as stream:
        price = next(float(row["PRICE"]) for row in csv.DictReader(stream) if row["ITEM_ID"] == item)
    sent = world.now()
    events.put_events(
        trackingId=t.tracking_id,
        userId="u0001",
        sessionId="s1",
        eventList=[
            {
                "eventType": "purchase",
                "itemId": item,
                "sentAt": sent,
                "recommendationId": recommended["recommendationId"],
                "metricAttribution": {"eventAttributionSource": "home-page"},
            },
            {
                "eventType": "view",
                "itemId": item,
                "sentAt": sent,
                "metricAttribution": {"eventAttributionSource": "home-page"},
            },
            {
                "eventType": "view",
                "itemId": item,
                "sentAt": sent,
                "recommendationId": recommended["recommendationId"],
            },
            {"eventType": "view", "itemId": item, "sentAt": sent},
            {"eventType": "view", "itemId": item, "sentAt": sent - 15 * 24 * 3600},  # older than 14 days
        ],
    )
    assert metric_sum(world, "VIEWS", "HOME-PAGE", t.dg) == 1
    assert metric_sum(world, "VIEWS", t.up_campaign.upper(), t.dg) == 1  # recommendationId only
    assert metric_sum(world, "VIEWS", "SOURCE_NAME_UNDEFINED", t.dg) == 1
    assert metric_sum(world, "REVENUE", "HOME-PAGE", t.dg) == pytest.approx(price)
    assert metric_sum(world, "REVENUE", t.up_campaign.upper(), t.dg) == 0  # the source wins over the id


def test_update_adds_and_removes_metrics_in_place(setup: tuple[World, Trained, Any]) -> None:
    world, t, pz = setup
    arn = create(world, pz, t)["metricAttributionArn"]
    added = {"eventType": "purchase", "metricName": "purchases", "expression": "SAMPLECOUNT()"}
    pz.update_metric_attribution(metricAttributionArn=arn, addMetrics=[added], removeMetrics=["views"])
    assert (
        pz.describe_metric_attribution(metricAttributionArn=arn)["metricAttribution"]["status"]
        == "UPDATE PENDING"
    )
    # busy: neither another update nor a delete
    refused(
        lambda: pz.update_metric_attribution(metricAttributionArn=arn, removeMetrics=["REVENUE"]),
        "ResourceInUseException",
    )
    refused(lambda: pz.delete_metric_attribution(metricAttributionArn=arn), "ResourceInUseException")
    found = wait_for(
        world, lambda: pz.describe_metric_attribution(metricAttributionArn=arn)["metricAttribution"]
    )
    assert found["status"] == "ACTIVE" and found["metricAttributionArn"] == arn
    names = {m["metricName"] for m in pz.list_metric_attribution_metrics(metricAttributionArn=arn)["metrics"]}
    assert names == {"REVENUE", "PURCHASES"}
    assert "does not have" in refused(
        lambda: pz.update_metric_attribution(metricAttributionArn=arn, removeMetrics=["nope"])
    )
    assert "already has" in refused(
        lambda: pz.update_metric_attribution(
            metricAttributionArn=arn, addMetrics=[{**added, "expression": "SUM(Items.PRICE)"}]
        )
    )


def test_an_incremental_import_reports_to_cloudwatch_and_to_s3_as_the_role(
    setup: tuple[World, Trained, Any],
) -> None:
    world, t, pz = setup
    s3 = boto3.client("s3", region_name=REGION)
    bucket = "local-test-data"
    path = f"s3://{bucket}/metrics/"
    arn = pz.create_metric_attribution(
        name="tr-metrics",
        datasetGroupArn=t.dg,
        metrics=METRICS,
        metricsOutputConfig={"roleArn": t.role, "s3DataDestination": {"path": path}},
    )["metricAttributionArn"]
    wait_for(world, lambda: pz.describe_metric_attribution(metricAttributionArn=arn)["metricAttribution"])
    interactions = pz.list_datasets(datasetGroupArn=t.dg)["datasets"]
    dataset = next(d["datasetArn"] for d in interactions if d["datasetType"].upper() == "INTERACTIONS")
    now = int(world.now())
    rows = [
        {
            "USER_ID": f"u{i % 50 + 1:04d}",
            "ITEM_ID": "i0001",
            "TIMESTAMP": now - 60,
            "EVENT_TYPE": "view",
            "DEVICE": "web",
        }
        for i in range(1000)
    ]
    before = metric_sum(world, "VIEWS", "SOURCE_NAME_UNDEFINED", t.dg)

    # without s3:PutObject for the role (and the bucket's grant) the report is not written
    job = import_rows(
        world,
        pz,
        dataset,
        t.role,
        "tr-more-views-1",
        "more-1.csv",
        rows,
        importMode="INCREMENTAL",
        publishAttributionMetricsToS3=True,
    )
    assert job["status"] == "ACTIVE", job.get("failureReason")
    world.clock.advance(1)  # type: ignore[attr-defined]
    pz.list_metric_attributions()  # the report transition runs with the next call
    assert metric_sum(world, "VIEWS", "SOURCE_NAME_UNDEFINED", t.dg) == before + 1000
    assert not [k for k in s3.list_objects_v2(Bucket=bucket, Prefix="metrics/").get("Contents", [])]

    boto3.client("iam", region_name=REGION).put_role_policy(
        RoleName=ROLE,
        PolicyName="reports",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "s3:PutObject",
                        "Resource": f"arn:aws:s3:::{bucket}/metrics/*",
                    }
                ],
            }
        ),
    )
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    policy["Statement"].append(
        {
            "Effect": "Allow",
            "Principal": {"Service": "personalize.amazonaws.com"},
            "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{bucket}/metrics/*",
        }
    )
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    job = import_rows(
        world,
        pz,
        dataset,
        t.role,
        "tr-more-views-2",
        "more-2.csv",
        rows,
        importMode="INCREMENTAL",
        publishAttributionMetricsToS3=True,
    )
    world.clock.advance(1)  # type: ignore[attr-defined]
    pz.list_metric_attributions()
    (report,) = s3.list_objects_v2(Bucket=bucket, Prefix="metrics/")["Contents"]
    assert report["Key"].startswith("metrics/AggregatedAttributionMetrics - INCREMENTAL - ")
    lines = s3.get_object(Bucket=bucket, Key=report["Key"])["Body"].read().decode().splitlines()
    assert lines[0] == "METRIC_NAME,EVENT_TYPE,VALUE,MATH_FUNCTION,EVENT_ATTRIBUTION_SOURCE,TIMESTAMP"
    name, event_type, value, function, source, period = lines[1].split(",")
    assert (name, event_type, float(value), function, source) == (
        "VIEWS",
        "VIEW",
        1000.0,
        "samplecount",
        "SOURCE_NAME_UNDEFINED",
    )
    assert int(period) % 900 == 0
