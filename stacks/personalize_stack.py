"""One stack per environment, named by pipeline.naming.stack_name (`Personalize-<env>`). Thin: it
wires constructs in dependency order and declares the outputs; the constructs own the resources."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
from constructs import Construct

from personalize_constructs import (
    Campaign,
    DataBucket,
    Dataset,
    DatasetGroup,
    DatasetUpload,
    EventTracker,
    Filter,
    PersonalizeContext,
    PersonalizeProvider,
    PersonalizeServiceRole,
    Solution,
    file_digest,
    logical_label,
)
from personalize_constructs.attribution import MetricAttribution
from personalize_constructs.batch import BatchInference
from personalize_constructs.monitoring import (
    AttributedMetrics,
    CampaignMonitoring,
    SolutionMetrics,
    WatchedCampaign,
)
from personalize_constructs.recommenders import Recommenders
from personalize_constructs.service_role import key_policy_statement
from personalize_constructs.upload import DATA_PREFIX
from pipeline.config import PipelineConfig
from pipeline.naming import digest
from pipeline.recipes import RecipeFamily
from pipeline.schema import DATASET_TYPES
from stacks.samples import sample_ids


class PersonalizeStack(cdk.Stack):
    """The whole pipeline for one environment. Attributes: `data` (DataBucket), `service_role`,
    `provider`, `dataset_group`, `datasets`, `solutions`, `campaigns`, `filters`, `event_tracker`."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: PipelineConfig,
        root: Path,
        asset_dir: Path,
        env: cdk.Environment,
    ) -> None:
        super().__init__(
            scope,
            id,
            env=env,
            description=f"Amazon Personalize pipeline, environment {config.environment.name}",
        )
        environment = config.environment
        retain = environment.removal_policy == "retain"

        self.data = DataBucket(
            self, "Data", removal=environment.removal_policy, kms_key_arn=config.dataset_group.kms_key_arn
        )
        self.service_role = PersonalizeServiceRole(
            self,
            "ServiceRole",
            bucket=self.data.bucket,
            key=self.data.key,
            data_prefix=DATA_PREFIX,
            external_sources=tuple(d.source for d in config.datasets.present().values() if d.is_s3),
        )
        self.provider = PersonalizeProvider(
            self,
            "Provider",
            asset_dir=asset_dir,
            name_prefix=f"{environment.name}-{config.dataset_group.name}",
            service_role=self.service_role.role,
        )
        ctx = PersonalizeContext(
            env=environment.name,
            dataset_group=config.dataset_group.name,
            service_token=self.provider.service_token,
            tags=environment.tags,
        )
        role_arn = self.service_role.role.role_arn
        self.dataset_group = DatasetGroup(
            self,
            "DatasetGroup",
            ctx=ctx,
            kms_key_arn=config.dataset_group.kms_key_arn,
            role_arn=role_arn,
            domain=config.dataset_group.domain,
        )

        # `cdk deploy -c refresh=<token>`: a new token imports each s3:// source again
        # (docs/fresh-models.md).
        refresh = refresh_token(self)
        self.datasets: dict[str, Dataset] = {}
        self.uploads: dict[str, DatasetUpload] = {}
        bucket_policy = self.data.bucket.policy
        for dataset_type, dataset in config.datasets.present().items():
            if dataset.is_s3:
                # Not ours to upload: the URI and the refresh markers are the input.
                source_hash = refreshed(digest(dataset.source, length=16), dataset.source_version, refresh)
                location = dataset.source
                after: list[Construct] = []
            else:
                path = root / dataset.source
                source_hash = refreshed(file_digest(path), dataset.source_version, None)
                upload = DatasetUpload(
                    self,
                    f"Upload{logical_label(dataset_type)}",
                    bucket=self.data.bucket,
                    source=path,
                    dataset_type=dataset_type,
                    retain=retain,
                    provider=self.provider,
                )
                self.uploads[dataset_type] = upload
                location = upload.data_location
                after = [upload.resource]
            if bucket_policy is not None:
                after.append(bucket_policy)
            schema_json = (root / dataset.schema_path).read_text(encoding="utf-8")
            self.datasets[dataset_type] = Dataset(
                self,
                f"Dataset{logical_label(dataset_type)}",
                ctx=ctx,
                dataset_type=dataset_type,
                schema_json=schema_json,
                dataset_group=self.dataset_group,
                data_location=location,
                source_hash=source_hash,
                import_mode=dataset.import_mode,
                role_arn=role_arn,
                import_timeout=dataset.import_timeout,
                import_after=after,
            )
        self.provider.grant_retired_uploads(
            bucket=self.data.bucket,
            prefixes=[
                f"{DATA_PREFIX}{kind}/"
                for kind in DATASET_TYPES
                if kind not in self.uploads
            ],
        )
        datasets = list(self.datasets.values())
        self.solutions = {
            s.name: Solution(
                self,
                f"Solution{logical_label(s.name)}",
                ctx=ctx,
                config=s,
                dataset_group=self.dataset_group,
                datasets=datasets,
            )
            for s in config.solutions
        }
        self.campaigns = {
            c.name: Campaign(
                self,
                f"Campaign{logical_label(c.name)}",
                ctx=ctx,
                config=c,
                solution=self.solutions[c.solution],
            )
            for c in config.campaigns
        }
        self.filters = {
            f.name: Filter(
                self,
                f"Filter{logical_label(f.name)}",
                ctx=ctx,
                config=f,
                dataset_group=self.dataset_group,
                datasets=datasets,
            )
            for f in config.filters
        }
        self.event_tracker = (
            EventTracker(
                self,
                "EventTracker",
                ctx=ctx,
                config=config.event_tracker,
                dataset_group=self.dataset_group,
                datasets=datasets,
            )
            if config.event_tracker
            else None
        )

        self.metric_attribution = (
            MetricAttribution(
                self,
                "MetricAttribution",
                ctx=ctx,
                config=config.metric_attribution,
                dataset_group=self.dataset_group,
                datasets=self.datasets,
                service_role=self.service_role,
                bucket=self.data.bucket,
                provider=self.provider,
            )
            if config.metric_attribution
            else None
        )

        self.recommenders = (
            Recommenders(
                self,
                "Recommenders",
                ctx=ctx,
                configs=config.recommenders,
                dataset_group=self.dataset_group,
                datasets=datasets,
                provider=self.provider,
            )
            if config.dataset_group.domain
            else None
        )

        # What was deployed, made visible: each trained version's metrics, the campaigns' dashboard
        # and idle alarms, and the offline scoring jobs.
        self.metrics = {
            name: SolutionMetrics(
                self,
                f"SolutionMetrics{logical_label(name)}",
                ctx=ctx,
                solution=solution,
                label=logical_label(name),
            )
            for name, solution in self.solutions.items()
        }
        self.monitoring = CampaignMonitoring(
            self,
            "Monitoring",
            prefix=ctx.prefix,
            config=config.monitoring,
            campaigns=[
                WatchedCampaign(
                    name=c.name,
                    arn=self.campaigns[c.name].arn,
                    api=(
                        "GetPersonalizedRanking"
                        if self.campaigns[c.name].solution.recipe.family == RecipeFamily.PERSONALIZED_RANKING
                        else "GetRecommendations"
                    ),
                    min_provisioned_tps=c.min_provisioned_tps,
                )
                for c in config.campaigns
            ]
            + (self.recommenders.watched if self.recommenders else []),
            attribution=(
                AttributedMetrics(self.dataset_group.arn, self.metric_attribution.metrics)
                if self.metric_attribution is not None
                else None
            ),
        )
        self.batch = (
            BatchInference(
                self,
                "Batch",
                ctx=ctx,
                configs=config.batch_jobs,
                solutions=self.solutions,
                filters=self.filters,
                bucket=self.data.bucket,
                service_role=self.service_role.role,
                provider=self.provider,
                root=root,
                retain=retain,
                after=[bucket_policy] if bucket_policy is not None else [],
            )
            if config.batch_jobs
            else None
        )

        for key, value in sorted(environment.tags.items()):
            cdk.Tags.of(self).add(key, value)
        _tag_raw_resources(self, environment.tags)
        interactions = config.datasets.interactions
        self._outputs(None if interactions.is_s3 else root / interactions.source)

    def _outputs(self, interactions: Path | None) -> None:
        out = {
            "DataBucketName": (self.data.bucket.bucket_name, "Bucket holding the datasets' source files"),
            "ServiceRoleArn": (self.service_role.role.role_arn, "Role Amazon Personalize assumes to import"),
            "DatasetGroupArn": (self.dataset_group.arn, "Dataset group"),
        }
        for name, solution in self.solutions.items():
            out[f"SolutionVersionArn{logical_label(name)}"] = (
                solution.version_arn,
                f"Trained solution version of {name}",
            )
        samples = sample_ids(interactions)
        region = cdk.Stack.of(self).region
        for name, campaign in self.campaigns.items():
            label = logical_label(name)
            out[f"CampaignArn{label}"] = (campaign.arn, f"Campaign {name}")
            family = campaign.solution.recipe.family
            if family == RecipeFamily.PERSONALIZED_RANKING:
                tail = f" --user-id {samples.user_id} --input-list {' '.join(samples.items)}"
                command = "get-personalized-ranking"
            elif family == RecipeFamily.RELATED_ITEMS:
                tail, command = f" --item-id {samples.item_id} --num-results 10", "get-recommendations"
            else:
                tail, command = f" --user-id {samples.user_id} --num-results 10", "get-recommendations"
            out[f"Command{label}"] = (
                cdk.Fn.join(
                    "",
                    [
                        f"aws personalize-runtime {command} --region ",
                        region,
                        " --campaign-arn ",
                        campaign.arn,
                        tail,
                    ],
                ),
                f"Query campaign {name} (AWS CLI)",
            )
        if self.metric_attribution is not None:
            out["MetricAttributionArn"] = (self.metric_attribution.arn, "Metric attribution")
        for name, recommender in (self.recommenders.recommenders if self.recommenders else {}).items():
            out[f"RecommenderArn{logical_label(name)}"] = (recommender.arn, f"Recommender {name}")
        if self.event_tracker is not None:
            out["EventTrackingId"] = (self.event_tracker.tracking_id, "Tracking id for PutEvents")
        for name, metrics in self.metrics.items():
            out[f"Metrics{logical_label(name)}"] = (
                metrics.json,
                f"GetSolutionMetrics of the trained version of {name} (JSON)",
            )
        monitoring = self.monitoring
        if monitoring.dashboard is not None:
            out["DashboardUrl"] = (
                cdk.Fn.join(
                    "",
                    [
                        "https://console.aws.amazon.com/cloudwatch/home?region=",
                        region,
                        "#dashboards:name=",
                        monitoring.dashboard.dashboard_name,
                    ],
                ),
                "CloudWatch dashboard of the campaigns",
            )
        if monitoring.topic is not None:
            out["AlarmTopicArn"] = (monitoring.topic.topic_arn, "SNS topic of the idle-campaign alarms")
        if self.batch is not None:
            for name, job in self.batch.jobs.items():
                out[f"BatchOutput{logical_label(name)}"] = (
                    job.output_path,
                    f"Batch inference job {name}: output prefix",
                )
        if self.data.key is not None:
            # The configured key is the user's: its policy must let Personalize and the service
            # role use it, which the stack cannot do for them. The statement to add, exactly.
            out["KmsKeyPolicyStatement"] = (
                self.to_json_string(key_policy_statement(self.service_role.role.role_arn)),
                "Add this statement to the key policy of dataset_group.kms_key_arn "
                "(docs/aws-contracts.md)",
            )
            cdk.Annotations.of(self).add_info(
                "dataset_group.kms_key_arn: the key's policy must allow Personalize and the service role "
                "kms:Decrypt, GenerateDataKey, DescribeKey, CreateGrant and ListGrants; the statement is "
                "the stack output KmsKeyPolicyStatement (docs/aws-contracts.md)"
            )
        for key, (value, description) in out.items():
            cdk.CfnOutput(self, key, value=value, description=description)
        # What the runner / recommend CLI need to find things by config name, in one place.
        cdk.CfnOutput(
            self,
            "CampaignNames",
            value=json.dumps({n: c.name for n, c in self.campaigns.items()}, sort_keys=True),
            description="Config campaign name -> Personalize campaign name",
        )
        if self.recommenders is not None:
            cdk.CfnOutput(
                self,
                "RecommenderNames",
                value=json.dumps(
                    {n: r.name for n, r in self.recommenders.recommenders.items()}, sort_keys=True
                ),
                description="Config recommender name -> Personalize recommender name",
            )


#: Types CDK's CustomResourceProvider (the auto-delete handler) emits as raw CfnResources, which
#: Tags.of() cannot reach; both accept Tags.
_RAW_TAGGABLE = {"AWS::IAM::Role", "AWS::Lambda::Function"}


def _tag_raw_resources(stack: cdk.Stack, tags: dict[str, str]) -> None:
    if not tags:
        return
    # CustomResourceProviders always sit at the stack's top level; looking only there (the proxies'
    # Python classes tell the type) saves a jsii round trip per construct of the whole tree.
    for provider in stack.node.children:
        if not isinstance(provider, cdk.CustomResourceProviderBase):
            continue
        for child in provider.node.children:
            if (
                isinstance(child, cdk.CfnResource)
                and child.cfn_resource_type in _RAW_TAGGABLE
                and not cdk.TagManager.is_taggable(child)
            ):
                child.add_property_override("Tags", [{"Key": k, "Value": v} for k, v in sorted(tags.items())])


#: The context key of a data refresh without a code edit: `cdk deploy -c refresh=<token>`.
REFRESH_CONTEXT = "refresh"


def refresh_token(scope: Construct) -> str | None:
    """The `refresh` context value (a string, e.g. the new object's ETag or a date), or None."""
    value = scope.node.try_get_context(REFRESH_CONTEXT)
    return None if value in (None, "") else str(value)


def refreshed(source_hash: str, source_version: str | None, refresh: str | None) -> str:
    """A dataset's source hash with its refresh markers (`source_version` in config, the `refresh`
    context for s3:// sources): a new marker is new data to import. Without markers the hash is the
    source's alone, so a stack deployed before markers existed does not import again."""
    markers = [m for m in (source_version, refresh) if m is not None]
    return digest(source_hash, *markers, length=16) if markers else source_hash
