"""Custom::PersonalizeMetricAttribution against the local Personalize: create, metrics added,
removed and redefined in place (UpdateMetricAttribution), output changed in place, a role that
cannot publish, delete, and the dataset group clearing an orphaned attribution."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from personalize_handlers.common import HandlerError

from tests.handlers.helpers import (
    DG,
    REGION,
    ROLE_ARN,
    ROLE_NAME,
    Pipeline,
    Provider,
    personalize,
    setup_data_access,
)

ATTRIBUTION = "Custom::PersonalizeMetricAttribution"
REVENUE = {"eventType": "purchase", "metricName": "revenue", "expression": "SUM(Items.PRICE)"}
VIEWS = {"eventType": "view", "metricName": "views", "expression": "SAMPLECOUNT()"}


def grant_publish() -> None:
    """What the stack gives the service role for metric attribution: PutMetricData in its namespace."""
    boto3.client("iam", region_name=REGION).put_role_policy(
        RoleName=ROLE_NAME,
        PolicyName="publish",
        PolicyDocument=json.dumps(
            {
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
        ),
    )


def ready(world: Any) -> tuple[Provider, Pipeline]:
    setup_data_access()
    provider = Provider(world)
    pipe = Pipeline(provider).with_data(("interactions", "items"))
    return provider, pipe


def props(pipe: Pipeline, *metrics: dict[str, str], **more: Any) -> dict[str, Any]:
    return {
        "Name": "test-retail-metrics",
        "DatasetGroupArn": pipe.group,
        "Metrics": list(metrics),
        "RoleArn": ROLE_ARN,
        **more,
    }


def metrics_of(arn: str) -> set[tuple[str, str, str]]:
    listed = personalize().list_metric_attribution_metrics(metricAttributionArn=arn)["metrics"]
    return {(m["metricName"], m["eventType"], m["expression"]) for m in listed}


def test_lifecycle_updates_in_place(world: Any) -> None:
    provider, pipe = ready(world)
    grant_publish()
    first = props(pipe, REVENUE)
    created = provider.create(ATTRIBUTION, first)
    arn = created["PhysicalResourceId"]
    assert arn.endswith(":metric-attribution/test-retail-metrics")
    assert created["Data"] == {"Arn": arn, "Name": "test-retail-metrics"}
    assert metrics_of(arn) == {("REVENUE", "PURCHASE", "SUM(Items.PRICE)")}

    # a metric added: UpdateMetricAttribution, same ARN, waited until ACTIVE
    second = props(pipe, REVENUE, VIEWS)
    updated = provider.update(ATTRIBUTION, arn, first, second)
    assert updated["PhysicalResourceId"] == arn and updated["waited"] > 0
    assert metrics_of(arn) == {
        ("REVENUE", "PURCHASE", "SUM(Items.PRICE)"),
        ("VIEWS", "VIEW", "SAMPLECOUNT()"),
    }

    # a metric redefined (its event type) and one removed, in one update; the output gets a path
    third = props(pipe, {**VIEWS, "eventType": "click"}, OutputPath="s3://handler-tests-data/metrics/")
    assert provider.update(ATTRIBUTION, arn, second, third)["PhysicalResourceId"] == arn
    assert metrics_of(arn) == {("VIEWS", "CLICK", "SAMPLECOUNT()")}
    described = personalize().describe_metric_attribution(metricAttributionArn=arn)["metricAttribution"]
    assert described["metricsOutputConfig"]["s3DataDestination"]["path"] == "s3://handler-tests-data/metrics/"

    # the group holds one: it cannot go first; the attribution's delete waits until it is gone
    provider.delete(ATTRIBUTION, arn, third)
    with pytest.raises(ClientError) as missing:
        personalize().describe_metric_attribution(metricAttributionArn=arn)
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_an_import_job_asks_for_attribution_reports(world: Any) -> None:
    provider, pipe = ready(world)
    props = {
        **pipe.import_props("interactions"),
        "JobName": "test-retail-interactions-rep1",
        "PublishAttributionMetricsToS3": "true",
    }  # as CloudFormation sends a boolean
    job = provider.create("Custom::PersonalizeDatasetImportJob", props)["PhysicalResourceId"]
    described = personalize().describe_dataset_import_job(datasetImportJobArn=job)["datasetImportJob"]
    assert described["publishAttributionMetricsToS3"] is True


def test_a_role_that_cannot_publish_fails_the_create_with_the_services_reason(world: Any) -> None:
    provider, pipe = ready(world)  # the role reads S3 only
    with pytest.raises(
        HandlerError,
        match=r"MetricAttribution test-retail-metrics: CreateMetricAttribution "
        r"failed: .*cloudwatch:PutMetricData",
    ):
        provider.create(ATTRIBUTION, props(pipe, VIEWS))


def test_metrics_as_cloudformation_sends_them_and_bad_ones_named(world: Any) -> None:
    provider, pipe = ready(world)
    grant_publish()
    with pytest.raises(HandlerError, match=r"property Metrics: expected a list"):
        provider.create(ATTRIBUTION, props(pipe) | {"Metrics": json.dumps([VIEWS])})
    with pytest.raises(HandlerError, match=r"Metrics\[0\].function: expected a member of MetricAttribute"):
        provider.create(ATTRIBUTION, props(pipe, {**VIEWS, "function": "SUM"}))
    with pytest.raises(HandlerError, match=r"CreateMetricAttribution failed: .*only to numeric columns"):
        provider.create(ATTRIBUTION, props(pipe, {**REVENUE, "expression": "SUM(Items.BRAND)"}))


def test_the_dataset_group_clears_an_orphaned_attribution(world: Any) -> None:
    provider, pipe = ready(world)
    grant_publish()
    # created by a call whose answer was lost: no resource of the stack knows it
    personalize().create_metric_attribution(
        name="test-retail-metrics",
        datasetGroupArn=pipe.group,
        metrics=[VIEWS],
        metricsOutputConfig={"roleArn": ROLE_ARN},
    )
    world.clock.advance(300)
    for kind, arn in pipe.datasets.items():
        provider.delete("Custom::PersonalizeDataset", arn, {"Name": f"test-retail-{kind}"})
    provider.delete(DG, pipe.group, {"Name": "test-retail"})
    assert personalize().list_metric_attributions()["metricAttributions"] == []
