"""Metric attribution end to end: dev plus a [metric_attribution] section (written here, not shipped:
dev.toml and prod.toml stay without it) deployed to the local world; events attributed to a campaign
move its metrics in the local CloudWatch; a metric added is an UpdateMetricAttribution in place;
destroy leaves nothing. And IAM on every call: without the handler's statement the deploy fails,
without the service role's PutMetricData the attribution fails to create."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from local.runner import StackArtifact
from pipeline.config import load_config
from pipeline.naming import stack_name
from tests.e2e.helpers import REPO, Local, send_attributed_events, synth

pytestmark = pytest.mark.slow

SECTION = """
[metric_attribution]
output = "metrics/"

[[metric_attribution.metrics]]
name = "revenue"
event_type = "purchase"
expression = "SUM(Items.PRICE)"

[[metric_attribution.metrics]]
name = "views"
event_type = "view"
expression = "SAMPLECOUNT()"
"""
CLICKS = """
[[metric_attribution.metrics]]
name = "clicks"
event_type = "click"
expression = "SAMPLECOUNT()"
"""


def attributed(tmp: Path, section: str) -> StackArtifact:
    path = tmp / "dev.toml"
    path.write_text((REPO / "config" / "dev.toml").read_text() + section)
    return synth("dev", tmp / "out", config=load_config("dev", path))


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, StackArtifact]:
    return {
        "first": attributed(tmp_path_factory.mktemp("attributed"), SECTION),
        "more": attributed(tmp_path_factory.mktemp("attributed-more"), SECTION + CLICKS),
    }


def metrics_of(region: str, arn: str) -> set[str]:
    pz = boto3.client("personalize", region_name=region)
    return {m["metricName"] for m in pz.list_metric_attribution_metrics(metricAttributionArn=arn)["metrics"]}


def test_attributed_events_move_metrics_and_an_added_metric_updates_in_place(
    local: Local, artifacts: dict[str, StackArtifact]
) -> None:
    region = local.runner.region
    first = local.runner.deploy(artifacts["first"])
    assert first.status == "CREATE_COMPLETE", first.reason
    out = first.outputs
    arn = out["MetricAttributionArn"]
    with local.world.active():
        pz = boto3.client("personalize", region_name=region)
        described = pz.describe_metric_attribution(metricAttributionArn=arn)["metricAttribution"]
        assert described["status"] == "ACTIVE" and described["datasetGroupArn"] == out["DatasetGroupArn"]
        assert described["metricsOutputConfig"]["s3DataDestination"]["path"] == (
            f"s3://{out['DataBucketName']}/metrics/"
        )
        assert metrics_of(region, arn) == {"REVENUE", "VIEWS"}
        # the interactions import ran after the attribution and asked for its report, written as the role
        reports = boto3.client("s3", region_name=region).list_objects_v2(
            Bucket=out["DataBucketName"], Prefix="metrics/AggregatedAttributionMetrics - FULL - "
        )
        assert reports.get("KeyCount") == 1, reports
        runtime = boto3.client("personalize-runtime", region_name=region)
        campaign = out["CampaignArnUserRecs"]
        common = {
            "tracking_id": out["EventTrackingId"],
            "dataset_group_arn": out["DatasetGroupArn"],
            "served_by": campaign,
        }
        # a page that shows the campaign's recommendations names itself as the source
        recommended = runtime.get_recommendations(campaignArn=campaign, userId="u0001", numResults=5)
        moved = send_attributed_events(
            local.world,
            region,
            recommendation=recommended,
            event_type="view",
            metric="views",
            source="home-page",
            **common,
        )
        assert moved == 3
        # events with the recommendationId only are attributed to the campaign that answered it
        recommended = runtime.get_recommendations(campaignArn=campaign, userId="u0002", numResults=5)
        assert (
            send_attributed_events(
                local.world,
                region,
                recommendation=recommended,
                event_type="purchase",
                metric="revenue",
                **common,
            )
            > 0
        )

    second = local.runner.deploy(artifacts["more"])
    assert second.status == "UPDATE_COMPLETE", second.reason
    assert second.outputs["MetricAttributionArn"] == arn  # in place: the same attribution
    assert local.world.stats.calls["personalize:UpdateMetricAttribution"] >= 1
    assert local.world.stats.calls["personalize:CreateMetricAttribution"] == 1
    with local.world.active():
        assert metrics_of(region, arn) == {"REVENUE", "VIEWS", "CLICKS"}
        recommended = boto3.client("personalize-runtime", region_name=region).get_recommendations(
            campaignArn=campaign, userId="u0003", numResults=5
        )
        assert (
            send_attributed_events(
                local.world,
                region,
                recommendation=recommended,
                event_type="click",
                metric="clicks",
                source="email",
                **common,
            )
            == 3
        )

    gone = local.runner.destroy(stack_name("dev"))
    assert gone is not None and gone.status == "DELETE_COMPLETE", gone.reason
    assert local.left("dev") == {}
    assert local.personalize("dev") == []


def test_a_removed_section_deletes_the_attribution_under_the_new_policy(
    local: Local, artifacts: dict[str, StackArtifact], assemblies: Callable[[str], StackArtifact]
) -> None:
    """CloudFormation deletes a resource the new template dropped after the update, with the new
    policies: the handler role keeps what that delete needs (DeleteMetricAttribution,
    ListMetricAttributions), nothing more."""
    first = local.runner.deploy(artifacts["first"])
    assert first.status == "CREATE_COMPLETE", first.reason
    removed = local.runner.deploy(assemblies("dev"))
    assert removed.status == "UPDATE_COMPLETE", removed.reason
    assert [r for r in local.personalize("dev") if r.KIND == "metric-attribution"] == []
    assert "MetricAttributionArn" not in removed.outputs
    gone = local.runner.destroy(stack_name("dev"))
    assert gone is not None and gone.status == "DELETE_COMPLETE", gone.reason
    assert local.left("dev") == {}


def _without(artifact: StackArtifact, role_prefix: str, sid: str) -> StackArtifact:
    """The template with the statement `sid` removed from the role's inline policies."""
    template: dict[str, Any] = copy.deepcopy(artifact.template)
    (role,) = [
        r
        for lid, r in template["Resources"].items()
        if lid.startswith(role_prefix) and r["Type"] == "AWS::IAM::Role"
    ]
    removed = 0
    for policy in role["Properties"]["Policies"]:
        statements = policy["PolicyDocument"]["Statement"]
        kept = [s for s in statements if s.get("Sid") != sid]
        removed += len(statements) - len(kept)
        policy["PolicyDocument"]["Statement"] = kept
    assert removed == 1, f"{role_prefix} has no statement {sid}"
    return dataclasses.replace(artifact, template=template)


@pytest.mark.parametrize(
    ("role", "sid", "expected"),
    [
        ("ProviderHandlerRole", "PersonalizeMetricAttributionWrite", "personalize:CreateMetricAttribution"),
        ("ServiceRole", "PublishAttributedMetrics", "cloudwatch:PutMetricData"),
    ],
)
def test_a_missing_permission_fails_the_deploy(
    local: Local, artifacts: dict[str, StackArtifact], role: str, sid: str, expected: str
) -> None:
    refused = local.runner.deploy(_without(artifacts["first"], role, sid))
    assert refused.status == "ROLLBACK_COMPLETE", refused.reason
    assert "MetricAttribution" in refused.reason and expected in refused.reason, refused.reason
    assert local.left("dev") == {}


def test_attribution_section_is_not_in_the_shipped_configs(
    assemblies: Callable[[str], StackArtifact],
) -> None:
    for env in ("dev", "prod"):
        resources = assemblies(env).template["Resources"]
        assert not [r for r in resources.values() if r["Type"] == "Custom::PersonalizeMetricAttribution"]
