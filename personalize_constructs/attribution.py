"""Metric attribution: `Custom::PersonalizeMetricAttribution` and what it needs around it.

Personalize reports, per event attribution source (a campaign, a page, a recommender), the metrics
the config lists (`SUM(Items.PRICE)` of purchases, `SAMPLECOUNT()` of views) from the events the
event tracker records: to CloudWatch, and with an output prefix as reports in the data bucket
(docs/metric-attribution.md). A dataset group holds one metric attribution, so its name is fixed by
the dataset group's (`<env>-<group>-metrics`) and one logical id (`MetricAttribution`) holds it:
metric changes reach the handler as an Update (UpdateMetricAttribution in place).

A native `AWS::Personalize::MetricAttribution` exists, but its Metrics are create-only: any metric
change is a replacement, created before the old one is deleted, which the one-per-group rule refuses.

Order: after the interactions dataset ("Your Interactions dataset must have an EVENT_TYPE column"),
and with a SUM() of an items column after the items import ("To apply a SUM() function to a column
in an Items dataset, you must first import item metadata"); after the service role's and the bucket's
grants (the service checks the role when it creates the attribution).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from personalize_constructs.provider import PersonalizeProvider
from personalize_constructs.resources import (
    Dataset,
    DatasetGroup,
    PersonalizeContext,
    cfn,
    depends,
    personalize_resource,
)
from personalize_constructs.service_role import METRICS_NAMESPACE, PersonalizeServiceRole
from pipeline.config import MetricAttributionConfig

PERSONALIZE = "personalize.amazonaws.com"


class MetricAttribution(Construct):
    """Exposes `resource`, `arn`, `name`, `output_path` (or None), `metrics` (metric name as
    CloudWatch shows it -> event type) and `namespace`."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        ctx: PersonalizeContext,
        config: MetricAttributionConfig,
        dataset_group: DatasetGroup,
        datasets: Mapping[str, Dataset],
        service_role: PersonalizeServiceRole,
        bucket: s3.IBucket,
        provider: PersonalizeProvider,
    ) -> None:
        super().__init__(scope, id)
        stack = cdk.Stack.of(self)
        self.namespace = METRICS_NAMESPACE
        self.name = ctx.name("metrics")
        # Personalize stores (and CloudWatch shows) names and event types upper-cased.
        self.metrics = {m.name.upper(): m.event_type.upper() for m in config.metrics}
        service_role.grant_metric_attribution(bucket=bucket, output_prefix=config.output)
        provider.grant_metric_attribution()
        after: list[Any] = [datasets["interactions"].dataset]
        if any(m.summed and m.summed[0] == "items" for m in config.metrics) and "items" in datasets:
            after.append(datasets["items"].wait.condition)
        self.output_path: str | None = None
        if config.output:
            self.output_path = f"s3://{bucket.bucket_name}/{config.output}"
            # Confused-deputy conditions as the batch output's: which ARN Personalize sends as
            # aws:SourceArn when it writes a report is not documented, so any of this account's.
            personalize_arns = f"arn:{stack.partition}:personalize:{stack.region}:{stack.account}:*"
            bucket.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="PersonalizeWriteAttributionReports",
                    principals=[iam.ServicePrincipal(PERSONALIZE)],
                    actions=["s3:PutObject"],
                    resources=[bucket.arn_for_objects(f"{config.output}*")],
                    conditions={
                        "StringEquals": {"aws:SourceAccount": stack.account},
                        "ArnLike": {"aws:SourceArn": personalize_arns},
                    },
                )
            )
            if bucket.policy is not None:
                after.append(bucket.policy)
        self.resource = personalize_resource(
            self,
            "Resource",
            ctx,
            "MetricAttribution",
            "MetricAttribution",
            {
                "Name": self.name,
                "DatasetGroupArn": dataset_group.arn,
                "Metrics": [m.api() for m in config.metrics],
                "RoleArn": service_role.role.role_arn,
                "OutputPath": self.output_path,
            },
        )
        depends(self.resource, *after)
        self.arn = self.resource.data("Arn")
        if config.output and "interactions" in datasets:
            # Reports of bulk imports: "you can choose to publish metric reports to your Amazon S3
            # bucket each time you create a dataset import job for interactions data"
            # (publishAttributionMetricsToS3), for imports after the attribution exists.
            job = datasets["interactions"].import_job
            cfn(job).add_property_override("PublishAttributionMetricsToS3", "true")
            depends(job, self.resource)
