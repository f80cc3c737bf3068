"""`[metric_attribution]` in the template: the custom resource and its order, the service role's and
bucket's grants (PutMetricData in its namespace, PutObject on the report prefix), the handler's
permissions, the dashboard's widgets per event attribution source; cdk-nag and cfn-lint clean; no
attribution, no trace of it but the always-granted describe/delete."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pipeline.naming import REPO_ROOT
from tests.stack.helpers import Synth, config_with, contract_problems, nag_violations, render, synth

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
ATTRIBUTION = "Custom::PersonalizeMetricAttribution"


@pytest.fixture(scope="module")
def attributed(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    tmp = tmp_path_factory.mktemp("attributed")
    # the repository's data: its items schema has a numeric PRICE (the fixtures' small one has none)
    config = config_with("dev", tmp, lambda text: text + SECTION)
    return synth("dev", tmp / "out", config=config, root=REPO_ROOT)


def statements(resource: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for p in resource["Properties"].get("Policies", []) for s in p["PolicyDocument"]["Statement"]]


def role(synth_: Synth, prefix: str) -> dict[str, Any]:
    (found,) = [r for k, r in synth_.of_type("AWS::IAM::Role").items() if k.startswith(prefix)]
    return found


def test_one_resource_after_the_interactions_and_the_items_import(attributed: Synth) -> None:
    (logical_id,) = attributed.of_type(ATTRIBUTION)
    assert logical_id == "MetricAttribution"  # one per dataset group: one logical id, updates in place
    resource = attributed.resources[logical_id]
    props = resource["Properties"]
    assert props["Name"] == "dev-retail-metrics"
    assert props["DatasetGroupArn"] == {"Fn::GetAtt": ["DatasetGroup", "Arn"]}
    assert props["Metrics"] == [
        {"eventType": "purchase", "metricName": "revenue", "expression": "SUM(Items.PRICE)"},
        {"eventType": "view", "metricName": "views", "expression": "SAMPLECOUNT()"},
    ]
    bucket = next(
        k for k in attributed.of_type("AWS::S3::Bucket") if k.startswith("Data") and "Access" not in k
    )
    assert render(props["OutputPath"]) == f"s3://<{bucket}>/metrics/"
    assert render(props["RoleArn"]).startswith("<ServiceRole")
    depends = set(resource["DependsOn"])
    assert "DatasetInteractions" in depends
    assert any(d.startswith("ImportItemsWait") for d in depends)  # SUM(Items.PRICE): items imported first
    assert any(attributed.resources[d]["Type"] == "AWS::S3::BucketPolicy" for d in depends)
    assert contract_problems(attributed.template) == []
    # bulk imports of interactions after it publish their reports to the output prefix
    interactions = attributed.resources["ImportInteractions"]
    assert interactions["Properties"]["PublishAttributionMetricsToS3"] == "true"
    assert "MetricAttribution" in interactions["DependsOn"]
    assert "PublishAttributionMetricsToS3" not in attributed.resources["ImportItems"]["Properties"]
    assert (
        render(attributed.template["Outputs"]["MetricAttributionArn"]["Value"]) == "<MetricAttribution.Arn>"
    )


def test_service_role_may_publish_in_its_namespace_and_write_only_the_report_prefix(
    attributed: Synth,
) -> None:
    by_sid = {s.get("Sid"): s for s in statements(role(attributed, "ServiceRole"))}
    publish = by_sid["PublishAttributedMetrics"]
    assert publish["Action"] == "cloudwatch:PutMetricData" and publish["Resource"] == "*"
    assert publish["Condition"] == {"StringEquals": {"cloudwatch:namespace": "AWS/Personalize"}}
    write = by_sid["WriteAttributionReports"]
    assert write["Action"] == "s3:PutObject" and render(write["Resource"]).endswith("/metrics/*")
    grants = [
        s
        for p in attributed.of_type("AWS::S3::BucketPolicy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Sid") == "PersonalizeWriteAttributionReports"
    ]
    (grant,) = grants
    assert (
        grant["Principal"] == {"Service": "personalize.amazonaws.com"} and grant["Action"] == "s3:PutObject"
    )
    assert set(grant["Condition"]) == {"StringEquals", "ArnLike"}  # confused-deputy conditions


def test_handler_may_create_update_and_pass_only_the_service_role(attributed: Synth, dev: Synth) -> None:
    def actions(synth_: Synth) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for statement in statements(role(synth_, "ProviderHandlerRole")):
            for action in (
                statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            ):
                listed = (
                    statement["Resource"]
                    if isinstance(statement["Resource"], list)
                    else [statement["Resource"]]
                )
                out.setdefault(action, []).extend(render(r) for r in listed)
        return out

    granted = actions(attributed)
    for action in (
        "CreateMetricAttribution",
        "UpdateMetricAttribution",
        "DescribeMetricAttribution",
        "DeleteMetricAttribution",
    ):
        resources = granted[f"personalize:{action}"]
        own = [r for r in resources if r.endswith(":metric-attribution/dev-retail-*")]
        # Create also on the dataset group it names: the Service Authorization Reference authorizes
        # CreateMetricAttribution on both types
        groups = [r for r in resources if ":dataset-group/dev-retail" in r]
        assert len(own) == 1 and len(own) + len(groups) == len(resources), resources
        assert len(groups) == (1 if action == "CreateMetricAttribution" else 0), resources
    assert granted["personalize:ListMetricAttributionMetrics"] == ["*"]
    # without the section: only what a removal (delete after the update) and the group's cleanup need
    plain = actions(dev)
    for action in ("Create", "Describe", "Update"):
        assert f"personalize:{action}MetricAttribution" not in plain
    assert "personalize:DeleteMetricAttribution" in plain and "personalize:ListMetricAttributions" in plain
    assert dev.of_type(ATTRIBUTION) == {}
    assert not any(s.get("Sid") == "PublishAttributedMetrics" for s in statements(role(dev, "ServiceRole")))


def test_dashboard_shows_each_metric_per_event_attribution_source(attributed: Synth) -> None:
    (dashboard,) = attributed.of_type("AWS::CloudWatch::Dashboard").values()
    body = render(dashboard["Properties"]["DashboardBody"])
    assert "Metric attribution" in body
    for name in ("REVENUE", "VIEWS"):
        search = (
            "SEARCH('{AWS/Personalize,DatasetGroupArn,EventAttributionSource} "
            f'MetricName=\\"{name}\\" DatasetGroupArn=\\"<DatasetGroup.Arn>\\"\', \'Sum\', 900)'
        )
        assert search in body, body[:2000]
    widgets = json.loads(render(dashboard["Properties"]["DashboardBody"]).replace("<DatasetGroup.Arn>", "dg"))
    graphs = [w["properties"] for w in widgets["widgets"] if "SEARCH" in json.dumps(w)]
    assert len(graphs) == 2
    for graph in graphs:
        ((options,),) = [m for m in graph["metrics"]]
        assert options["period"] == 900  # the smallest period the service's metrics support


def test_nag_and_cfn_lint_clean(attributed: Synth) -> None:
    assert nag_violations(attributed.outdir) == []
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("cfn-lint")),
            "--format",
            "parseable",
            str(attributed.template_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode & 3 == 0, result.stdout + result.stderr
