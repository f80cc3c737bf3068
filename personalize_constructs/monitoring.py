"""Campaign analytics: one CloudWatch dashboard per environment and an idle alarm per campaign.

Personalize publishes per-campaign runtime metrics in the `AWS/Personalize` namespace with the
dimension `CampaignArn` (docs/analytics.md cites the metric table): `GetRecommendations` /
`GetPersonalizedRanking` (successful calls; Sum is the only statistic), `<Api>Latency`,
`<Api>4xxErrors` and `<Api>5xxErrors`. A campaign bills its minProvisionedTPS every hour whether or
not anyone calls it, so the dashboard plots the traffic against that line and the alarm fires when a
campaign has served nothing for `idle_alarm_hours`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from personalize_constructs.hashing import logical_label
from personalize_constructs.resources import PersonalizeContext, Solution, depends, personalize_resource
from pipeline.config import MonitoringConfig

NAMESPACE = "AWS/Personalize"
CLOUDWATCH = "cloudwatch.amazonaws.com"
#: The dashboard's graphs: 5-minute points (CloudWatch keeps them 63 days).
GRAPH_PERIOD = cdk.Duration.minutes(5)
#: The idle alarm's period: one hour, evaluated `idle_alarm_hours` times.
IDLE_PERIOD = cdk.Duration.hours(1)


#: Attributed metrics: 15-minute points ("The minimum Period you can graph is 15 minutes", the
#: Personalize guide's metric attribution results page).
ATTRIBUTION_PERIOD = cdk.Duration.minutes(15)


@dataclass(frozen=True)
class AttributedMetrics:
    """What the dashboard shows of a metric attribution: its dataset group (a token at synth) and its
    metrics as CloudWatch names them (upper-cased metric name -> upper-cased event type)."""

    dataset_group_arn: str
    metrics: dict[str, str]


def attributed_metric(metric_name: str, dataset_group_arn: str) -> cw.MathExpression:
    """One attributed metric, a line per event attribution source: a CloudWatch SEARCH over the
    dimensions Personalize publishes it with (EventAttributionSource, DatasetGroupArn; the AWS
    sample "Measuring impact of recommendations" queries exactly these), so sources that appear
    after the deploy (a new page, a new campaign) show up without a new template."""
    query = (
        "{AWS/Personalize,DatasetGroupArn,EventAttributionSource} "
        f'MetricName="{metric_name}" DatasetGroupArn="{dataset_group_arn}"'
    )
    return cw.MathExpression(
        expression=f"SEARCH('{query}', 'Sum', {int(ATTRIBUTION_PERIOD.to_seconds())})",
        using_metrics={},
        label="",
        period=ATTRIBUTION_PERIOD,
    )


@dataclass(frozen=True)
class WatchedCampaign:
    """What the dashboard and the alarm need of one campaign: its config name, ARN (a token at synth),
    the runtime API that serves it and its minProvisionedTPS."""

    name: str
    arn: str
    api: str  # "GetRecommendations" | "GetPersonalizedRanking"
    min_provisioned_tps: int
    #: "campaign", or "recommender" (a domain recommender bills its minRecommendationRequestsPerSecond
    #: every hour it is ACTIVE, like a campaign: same alarm and widgets, its own dimension).
    kind: str = "campaign"

    @property
    def dimension(self) -> str:
        """The metric table (cloudwatch-metrics) documents `CampaignArn` only; for a recommender the
        `RecommenderArn` dimension is this project's assumption (docs/recommenders.md)."""
        return "CampaignArn" if self.kind == "campaign" else "RecommenderArn"

    @property
    def floor(self) -> str:
        """The billed minimum's API name."""
        return "minProvisionedTPS" if self.kind == "campaign" else "minRecommendationRequestsPerSecond"

    @property
    def key(self) -> str:
        """Unique among campaigns and recommenders (alarm names and construct ids)."""
        return self.name if self.kind == "campaign" else f"recommender-{self.name}"


def metric(
    campaign: WatchedCampaign, suffix: str, statistic: str, period: cdk.Duration, label: str | None = None
) -> cw.Metric:
    """`<Api><suffix>` of one campaign (`suffix` "" is the request count)."""
    return cw.Metric(
        namespace=NAMESPACE,
        metric_name=f"{campaign.api}{suffix}",
        dimensions_map={campaign.dimension: campaign.arn},
        statistic=statistic,
        period=period,
        label=label,
    )


class CampaignMonitoring(Construct):
    """Exposes `dashboard` (or None), `dashboard_name`, `topic` (or None), `key`, `alarms` (config
    campaign name -> Alarm)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        prefix: str,
        config: MonitoringConfig,
        campaigns: Sequence[WatchedCampaign],
        attribution: AttributedMetrics | None = None,
    ) -> None:
        super().__init__(scope, id)
        stack = cdk.Stack.of(self)
        self.prefix = prefix
        self.alarms: dict[str, cw.Alarm] = {}
        self.topic: sns.Topic | None = None
        self.key: kms.Key | None = None
        self.dashboard: cw.Dashboard | None = None
        self.dashboard_name = f"{prefix}-campaigns-{stack.region}"

        if config.idle_alarm_hours and campaigns:
            self._alarm_topic(stack, config.alarm_email)
            assert self.topic is not None
            action = cw_actions.SnsAction(self.topic)
            for campaign in campaigns:
                alarm = self._idle_alarm(campaign, config.idle_alarm_hours)
                alarm.add_alarm_action(action)
                alarm.add_ok_action(action)
                self.alarms[campaign.key] = alarm

        if config.dashboard and (campaigns or attribution is not None):
            self.dashboard = self._dashboard(campaigns)
            if attribution is not None:
                self.dashboard.add_widgets(*self._attribution_row(attribution))

    # ---- alarm ------------------------------------------------------------------------------

    def _alarm_topic(self, stack: cdk.Stack, email: str | None) -> None:
        """An SNS topic encrypted with its own key. CloudWatch alarms cannot publish to a topic under
        the AWS-managed aws/sns key (its policy cannot be changed), so the key is customer managed and
        lets only this account's alarms named `<prefix>-*` use it."""
        alarms_arn = f"arn:{stack.partition}:cloudwatch:{stack.region}:{stack.account}:alarm:{self.prefix}-*"
        from_our_alarms = {
            "StringEquals": {"aws:SourceAccount": stack.account},
            "ArnLike": {"aws:SourceArn": alarms_arn},
        }
        self.key = kms.Key(
            self,
            "AlarmTopicKey",
            description=f"Encrypts the {self.prefix} campaign alarm topic",
            enable_key_rotation=True,
            pending_window=cdk.Duration.days(7),
            removal_policy=cdk.RemovalPolicy.DESTROY,  # protects alarm notifications only, no data
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsEncryptNotifications",
                principals=[iam.ServicePrincipal(CLOUDWATCH)],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],  # in a key policy, "*" is this key
                conditions=from_our_alarms,
            )
        )
        self.topic = sns.Topic(
            self,
            "AlarmTopic",
            display_name=f"Personalize {self.prefix}: idle campaigns",
            master_key=self.key,
        )
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublish",
                principals=[iam.ServicePrincipal(CLOUDWATCH)],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions=from_our_alarms,
            )
        )
        # TLS only, for every principal that can reach the topic: this account (through IAM) and the
        # one service principal the policy admits. The project forbids a "*" principal anywhere.
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="DenyInsecureTransport",
                effect=iam.Effect.DENY,
                principals=[iam.AccountRootPrincipal(), iam.ServicePrincipal(CLOUDWATCH)],
                actions=["sns:Publish", "sns:Subscribe"],
                resources=[self.topic.topic_arn],
                conditions={"Bool": {"aws:SecureTransport": "false"}},
            )
        )
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))

    def _idle_alarm(self, campaign: WatchedCampaign, hours: int) -> cw.Alarm:
        """ALARM when the campaign served no successful request in each of the last `hours` hours.
        No datapoint at all (nobody called) is what idle looks like, so missing data breaches."""
        # No label: a plain metric alarm (MetricName/Dimensions), readable in the console and the API.
        requests = metric(campaign, "", "Sum", IDLE_PERIOD)
        return cw.Alarm(
            self,
            f"Idle{logical_label(campaign.key)}",
            alarm_name=f"{self.prefix}-{campaign.key}-idle",
            alarm_description=(
                f"{campaign.kind.capitalize()} {campaign.name} served no {campaign.api} request for {hours} "
                f"h; it still bills {campaign.min_provisioned_tps} TPS every hour. "
                + ("Stop it (pz recommender stop), delete it or lower minRecommendationRequestsPerSecond if "
                   if campaign.kind == "recommender" else "Delete it or lower minProvisionedTPS if ")
                + "it is not needed."
            ),
            metric=requests,
            threshold=1,
            comparison_operator=cw.ComparisonOperator.LESS_THAN_THRESHOLD,
            evaluation_periods=hours,
            datapoints_to_alarm=hours,
            treat_missing_data=cw.TreatMissingData.BREACHING,
        )

    # ---- dashboard --------------------------------------------------------------------------

    def _dashboard(self, campaigns: Sequence[WatchedCampaign]) -> cw.Dashboard:
        dashboard = cw.Dashboard(
            self,
            "Dashboard",
            dashboard_name=self.dashboard_name,
            default_interval=cdk.Duration.days(7),
        )
        dashboard.add_widgets(
            cw.TextWidget(
                markdown=(
                    f"# Personalize campaigns: {self.prefix}\n"
                    "Requests, latency and errors per campaign (namespace AWS/Personalize, dimension "
                    "CampaignArn); traffic in transactions per second against the campaign's "
                    "minProvisionedTPS, which is billed every hour whether used or not."
                ),
                width=24,
                height=2,
            )
        )
        if self.alarms:
            dashboard.add_widgets(
                cw.AlarmStatusWidget(title="Idle campaigns", alarms=list(self.alarms.values()), width=24)
            )
        for campaign in campaigns:
            dashboard.add_widgets(*self._campaign_row(campaign))
        return dashboard

    def _attribution_row(self, attribution: AttributedMetrics) -> list[cw.IWidget]:
        header = cw.TextWidget(
            markdown=(
                "## Metric attribution\n"
                "Each metric (Sum per 15 minutes) with a line per event attribution source: the "
                "`metricAttribution.eventAttributionSource` of PutEvents, else the campaign or recommender a "
                "`recommendationId` came from, else SOURCE_NAME_UNDEFINED (docs/metric-attribution.md)."
            ),
            width=24,
            height=2,
        )
        graphs: list[cw.IWidget] = [
            cw.GraphWidget(
                title=f"{name} ({event_type} events) by source",
                left=[attributed_metric(name, attribution.dataset_group_arn)],
                left_y_axis=cw.YAxisProps(min=0, show_units=False),
                width=12,
            )
            for name, event_type in sorted(attribution.metrics.items())
        ]
        return [header, *graphs]

    def _campaign_row(self, campaign: WatchedCampaign) -> list[cw.IWidget]:
        api, name = campaign.api, campaign.name
        requests = metric(campaign, "", "Sum", GRAPH_PERIOD, "requests")
        tps = cw.MathExpression(
            expression="requests / PERIOD(requests)",
            using_metrics={"requests": requests},
            label="transactions per second (average over 5 min)",
            period=GRAPH_PERIOD,
        )
        return [
            cw.GraphWidget(
                title=f"{name}: {api} requests",
                left=[requests],
                left_y_axis=cw.YAxisProps(min=0, show_units=False),
                width=6,
            ),
            cw.GraphWidget(
                title=f"{name}: latency (ms)",
                left=[
                    metric(campaign, "Latency", "Average", GRAPH_PERIOD, "average"),
                    metric(campaign, "Latency", "Maximum", GRAPH_PERIOD, "maximum"),
                ],
                left_y_axis=cw.YAxisProps(min=0, show_units=False),
                width=6,
            ),
            cw.GraphWidget(
                title=f"{name}: errors",
                left=[
                    metric(campaign, "4xxErrors", "Sum", GRAPH_PERIOD, "4xx"),
                    metric(campaign, "5xxErrors", "Sum", GRAPH_PERIOD, "5xx"),
                ],
                left_y_axis=cw.YAxisProps(min=0, show_units=False),
                width=6,
            ),
            cw.GraphWidget(
                title=f"{name}: TPS vs {campaign.floor}",
                left=[tps],
                left_annotations=[
                    cw.HorizontalAnnotation(
                        value=campaign.min_provisioned_tps,
                        label=f"{campaign.floor} {campaign.min_provisioned_tps} (billed)",
                        color=cw.Color.RED,
                    )
                ],
                left_y_axis=cw.YAxisProps(min=0, show_units=False),
                width=6,
            ),
        ]


class SolutionMetrics(Construct):
    """`Custom::PersonalizeSolutionMetrics` of one solution's trained version, after its training's
    WaitCondition: Data holds GetSolutionMetrics (one key per metric, and `Json`). A new version (new
    trigger) reads again. Exposes `resource`, `json` (the metrics as a JSON string token)."""

    def __init__(
        self, scope: Construct, id: str, *, ctx: PersonalizeContext, solution: Solution, label: str
    ) -> None:
        super().__init__(scope, id)
        self.resource = personalize_resource(
            self,
            "Resource",
            ctx,
            "SolutionMetrics",
            f"Metrics{label}",
            {"SolutionVersionArn": solution.version_arn, "Trigger": solution.trigger},
        )
        depends(self.resource, solution.wait.condition)
        self.json = self.resource.data("Json")
