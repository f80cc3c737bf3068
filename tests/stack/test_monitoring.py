"""Campaign analytics in the template: the dashboard (requests, latency, errors, TPS against
minProvisionedTPS per campaign), the idle alarm per campaign and its encrypted, TLS-only topic, the
solution-metrics custom resources and their outputs; and the `[monitoring]` options."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipeline.config import load_config
from pipeline.problems import ProblemReport
from tests.stack.helpers import Synth, config_with, render, synth

CAMPAIGN_API = {
    "UserRecs": "GetRecommendations",
    "SimilarItems": "GetRecommendations",
    "Ranking": "GetPersonalizedRanking",
}


def dashboard_body(synth: Synth) -> dict[str, Any]:
    (dashboard,) = synth.of_type("AWS::CloudWatch::Dashboard").values()
    return json.loads(render(dashboard["Properties"]["DashboardBody"]))  # type: ignore[no-any-return]


def graph_metrics(widget: dict[str, Any]) -> list[list[Any]]:
    return widget["properties"].get("metrics", [])


def widgets_of(body: dict[str, Any], campaign: str) -> dict[str, dict[str, Any]]:
    """The campaign's graphs by the part of their title after `<campaign>: `."""
    found = {}
    for widget in body["widgets"]:
        title = widget.get("properties", {}).get("title", "")
        if title.startswith(f"{campaign}: "):
            found[title.removeprefix(f"{campaign}: ")] = widget
    return found


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_dashboard_per_environment_with_every_campaign(env: str, dev: Synth, prod: Synth) -> None:
    synth = dev if env == "dev" else prod
    (dashboard,) = synth.of_type("AWS::CloudWatch::Dashboard").values()
    assert dashboard["Properties"]["DashboardName"] == f"{env}-retail-campaigns-ap-southeast-2"
    body = dashboard_body(synth)
    config = load_config(env)
    for campaign in config.campaigns:
        label = "".join(w.title() for w in campaign.name.split("-"))
        api = CAMPAIGN_API[label]
        arn = f"<Campaign{label}.Arn>"
        graphs = widgets_of(body, campaign.name)
        assert set(graphs) == {f"{api} requests", "latency (ms)", "errors", "TPS vs minProvisionedTPS"}
        requests = graph_metrics(graphs[f"{api} requests"])
        assert requests[0][:4] == ["AWS/Personalize", api, "CampaignArn", arn]
        assert requests[0][4]["stat"] == "Sum"  # the only statistic these two metrics support
        latency = graph_metrics(graphs["latency (ms)"])
        # Average is the graph default, which CDK leaves out
        assert [(m[1], m[3], m[4].get("stat", "Average")) for m in latency] == [
            (f"{api}Latency", arn, "Average"),
            (f"{api}Latency", arn, "Maximum"),
        ]
        errors = graph_metrics(graphs["errors"])
        assert [(m[1], m[3]) for m in errors] == [(f"{api}4xxErrors", arn), (f"{api}5xxErrors", arn)]
        tps = graphs["TPS vs minProvisionedTPS"]["properties"]
        expression, source = graph_metrics(graphs["TPS vs minProvisionedTPS"])
        assert expression[0]["expression"] == "requests / PERIOD(requests)"
        assert source[:4] == ["AWS/Personalize", api, "CampaignArn", arn] and source[4]["id"] == "requests"
        (line,) = tps["annotations"]["horizontal"]
        assert line["value"] == campaign.min_provisioned_tps
        assert "minProvisionedTPS" in line["label"]
    # prod's user-recs runs at 2 TPS: the line follows config
    if env == "prod":
        line = widgets_of(body, "user-recs")["TPS vs minProvisionedTPS"]["properties"]["annotations"]
        assert line["horizontal"][0]["value"] == 2


def test_idle_alarm_per_campaign(dev: Synth) -> None:
    alarms = dev.of_type("AWS::CloudWatch::Alarm")
    (topic_id,) = dev.of_type("AWS::SNS::Topic")
    assert len(alarms) == len(load_config("dev").campaigns) == 3
    by_campaign = {
        render(a["Properties"]["Dimensions"][0]["Value"]): a["Properties"] for a in alarms.values()
    }
    for label, api in CAMPAIGN_API.items():
        props = by_campaign[f"<Campaign{label}.Arn>"]
        assert props["Namespace"] == "AWS/Personalize" and props["MetricName"] == api
        assert props["Dimensions"][0]["Name"] == "CampaignArn"
        assert props["Statistic"] == "Sum" and props["Period"] == 3600
        assert props["EvaluationPeriods"] == 24 and props["DatapointsToAlarm"] == 24
        assert props["ComparisonOperator"] == "LessThanThreshold" and props["Threshold"] == 1
        # nobody calling = no datapoints = idle
        assert props["TreatMissingData"] == "breaching"
        assert props["AlarmActions"] == [{"Ref": topic_id}] and props["OKActions"] == [{"Ref": topic_id}]
        assert props["AlarmName"].startswith("dev-retail-") and props["AlarmName"].endswith("-idle")
    # the dashboard shows their state
    body = dashboard_body(dev)
    status = [w for w in body["widgets"] if w["type"] == "alarm"]
    assert len(status) == 1 and len(status[0]["properties"]["alarms"]) == 3


def test_alarm_topic_is_encrypted_and_tls_only_without_a_star_principal(dev: Synth) -> None:
    (topic,) = dev.of_type("AWS::SNS::Topic").values()
    ((key_id, key),) = dev.of_type("AWS::KMS::Key").items()
    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert key["Properties"]["EnableKeyRotation"] is True
    (policy,) = dev.of_type("AWS::SNS::TopicPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    text = json.dumps(statements)
    assert '"*"' not in text.replace('"Resource": "*"', "")
    deny = next(s for s in statements if s["Effect"] == "Deny")
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert "sns:Publish" in deny["Action"]
    publish = next(s for s in statements if s.get("Sid") == "CloudWatchAlarmsPublish")
    assert publish["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert set(publish["Condition"]) == {"StringEquals", "ArnLike"}
    assert render(publish["Condition"]["ArnLike"]["aws:SourceArn"]).endswith(":alarm:dev-retail-*")
    # CloudWatch may use the key, for this account's alarms only
    key_statements = key["Properties"]["KeyPolicy"]["Statement"]
    cloudwatch = next(s for s in key_statements if s.get("Sid") == "CloudWatchAlarmsEncryptNotifications")
    assert cloudwatch["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert set(cloudwatch["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert set(cloudwatch["Condition"]) == {"StringEquals", "ArnLike"}
    # no email configured: no subscription
    assert dev.of_type("AWS::SNS::Subscription") == {}


def test_outputs_dashboard_and_topic(dev: Synth) -> None:
    outputs = dev.template["Outputs"]
    (dashboard_id,) = dev.of_type("AWS::CloudWatch::Dashboard")
    # Ref of a dashboard is its name
    assert render(outputs["DashboardUrl"]["Value"]) == (
        f"https://console.aws.amazon.com/cloudwatch/home?region=ap-southeast-2#dashboards:name=<{dashboard_id}>"
    )
    (topic_id,) = dev.of_type("AWS::SNS::Topic")
    assert outputs["AlarmTopicArn"]["Value"] == {"Ref": topic_id}


def test_solution_metrics_after_training_and_as_outputs(shipped: Synth) -> None:
    metrics = shipped.of_type("Custom::PersonalizeSolutionMetrics")
    assert set(metrics) == {"MetricsUserPersonalization", "MetricsSimilarItems", "MetricsRanking"}
    for logical_id, resource in metrics.items():
        label = logical_id.removeprefix("Metrics")
        props = resource["Properties"]
        assert props["SolutionVersionArn"] == {"Fn::GetAtt": [f"Train{label}", "Arn"]}
        assert set(props) == {"ServiceToken", "SolutionVersionArn", "Trigger"}  # nothing to tag
        waits = [d for d in resource["DependsOn"] if d.startswith(f"Train{label}Wait")]
        assert len(waits) == 1  # after the training's WaitCondition, i.e. once the version is ACTIVE
        assert props["Trigger"] == shipped.resources[f"Train{label}"]["Properties"]["Trigger"]
        output = shipped.template["Outputs"][f"Metrics{label}"]
        assert output["Value"] == {"Fn::GetAtt": [logical_id, "Json"]}


def test_monitoring_options(tmp_path: Path) -> None:
    def edit(text: str) -> str:
        table = 'dashboard = false\nidle_alarm_hours = 6\nalarm_email = "ops@example.com"'
        return text + f"\n[monitoring]\n{table}\n"

    synthesized = synth("dev", tmp_path / "out", config=config_with("dev", tmp_path, edit))
    assert synthesized.of_type("AWS::CloudWatch::Dashboard") == {}
    assert "DashboardUrl" not in synthesized.template["Outputs"]
    alarms = synthesized.of_type("AWS::CloudWatch::Alarm").values()
    assert {a["Properties"]["EvaluationPeriods"] for a in alarms} == {6}
    (subscription,) = synthesized.of_type("AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == "ops@example.com"


def test_alarms_off(tmp_path: Path) -> None:
    def edit(text: str) -> str:
        return text + "\n[monitoring]\nidle_alarm_hours = 0\n"

    synthesized = synth("dev", tmp_path / "out", config=config_with("dev", tmp_path, edit))
    for kind in ("AWS::CloudWatch::Alarm", "AWS::SNS::Topic", "AWS::KMS::Key"):
        assert synthesized.of_type(kind) == {}
    body = dashboard_body(synthesized)
    assert not [w for w in body["widgets"] if w["type"] == "alarm"]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("idle_alarm_hours = 200", ["idle_alarm_hours must be 0 (no alarm) or 1..168"]),
        # The field, what is wrong and the value given (the wording is pipeline.config's).
        ('alarm_email = "not-an-address"', ["alarm_email", "not an email address", "'not-an-address'"]),
        ("dashbord = true", ["unknown key 'dashbord'"]),
    ],
)
def test_bad_monitoring_config_is_reported_with_its_line(
    tmp_path: Path, table: str, message: list[str]
) -> None:
    with pytest.raises(ProblemReport) as raised:
        config_with("dev", tmp_path, lambda text: text + f"\n[monitoring]\n{table}\n")
    report = str(raised.value)
    for part in message:
        assert part in report
    lines = (tmp_path / "dev-edited.toml").read_text().splitlines()
    assert f":{len(lines)}" in report  # the offending line, the file's last
