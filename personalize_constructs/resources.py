"""One construct per Personalize resource kind, each a custom resource of the shared Provider.

Types, properties and Data keys are the handlers' contract (lambda/personalize_handlers/contract.py,
read through personalize_constructs.contract): PersonalizeResource emits only a type's properties
and reads only its Data keys, checked at synth. Every value is a string (CloudFormation hands them
to the handler as strings anyway), JSON objects excepted. Logical ids are readable
(`DatasetInteractions`, `TrainUserPersonalization`, ...) so deploy events, the runner's progress and
`cdk diff` name what they act on.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aws_cdk as cdk
from constructs import Construct, IConstruct

from personalize_constructs.contract import contract
from personalize_constructs.hashing import logical_label
from personalize_constructs.long_wait import LongWait
from pipeline.config import CampaignConfig, EventTrackerConfig, FilterConfig, SolutionConfig
from pipeline.naming import digest, physical_name
from pipeline.recipes import RECIPES

#: The handler appends a per-request suffix to job names (the contract's length), so ours leave room.
JOB_NAME_MAX: int = contract.JOB_NAME_MAX


@dataclass(frozen=True)
class PersonalizeContext:
    """What every Personalize construct needs: the environment, the names' prefix, the Provider's
    service token and the tags."""

    env: str
    dataset_group: str
    service_token: str
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def prefix(self) -> str:
        return physical_name(self.env, self.dataset_group)

    def name(self, *parts: str, version_of: Any = None) -> str:
        name = physical_name(self.env, self.dataset_group, *parts, version_of=version_of)
        if not name.startswith(self.prefix + "-"):
            # The provider's IAM policy scopes by this prefix; a truncated name would fall outside it.
            raise ValueError(
                f"derived name {name!r} does not start with {self.prefix + '-'!r}; shorten the names"
            )
        return name

    def tag_list(self) -> list[dict[str, str]]:
        return [{"tagKey": k, "tagValue": v} for k, v in sorted(self.tags.items())]


class PersonalizeResource(cdk.CustomResource):
    """A `Custom::Personalize<kind>` of the Provider that holds to the handlers' contract: its
    properties (None values left out) are checked at synth against the type's (none it does not
    have, every required one, literal values its type accepts; a token is known only at deploy
    time), and `data(key)` reads only Data keys the handler returns."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        kind: str,
        service_token: str,
        properties: Mapping[str, Any],
        logical_id: str | None = None,
    ) -> None:
        spec = contract.TYPES[f"Custom::Personalize{kind}"]
        props = {k: v for k, v in properties.items() if v is not None}
        problems = spec.problems(props, deferred=cdk.Token.is_unresolved)
        if problems:
            raise ValueError(f"{scope.node.path}/{id}: {spec.type} {'; '.join(problems)}")
        super().__init__(
            scope,
            id,
            service_token=service_token,
            resource_type=spec.type,
            properties=props,
            # Personalize resources go with the stack; the retained thing is the data (bucket), which
            # the dataset group can be rebuilt from.
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        self.spec = spec
        if logical_id is not None:
            cfn(self).override_logical_id(logical_id)

    def data(self, key: str) -> str:
        """Fn::GetAtt of a Data key the contract says the handler returns."""
        if key not in self.spec.data:
            raise ValueError(f"{self.spec.type} returns no Data {key!r}; its contract has {self.spec.data}")
        return self.get_att_string(key)


def personalize_resource(
    scope: Construct,
    id: str,
    ctx: PersonalizeContext,
    kind: str,
    logical_id: str,
    properties: dict[str, Any],
) -> PersonalizeResource:
    """A PersonalizeResource of the shared Provider, with the context's tags when its type takes tags."""
    props = dict(properties)
    if ctx.tags and contract.TYPES[f"Custom::Personalize{kind}"].taggable:
        props["Tags"] = ctx.tag_list()
    return PersonalizeResource(
        scope, id, kind=kind, service_token=ctx.service_token, properties=props, logical_id=logical_id
    )


#: construct -> its CfnResource: each lookup is two jsii round trips (node, defaultChild) and the
#: stack asks for the same ones again and again (DependsOn, waits, logical ids).
_CFN: weakref.WeakKeyDictionary[IConstruct, cdk.CfnResource] = weakref.WeakKeyDictionary()


def cfn(resource: IConstruct) -> cdk.CfnResource:
    if isinstance(resource, cdk.CfnResource):
        return resource
    known = _CFN.get(resource)
    if known is not None:
        return known
    child = resource.node.default_child
    assert isinstance(child, cdk.CfnResource), resource.node.path
    _CFN[resource] = child
    return child


def depends(resource: Construct, *on: Construct) -> None:
    """DependsOn at the CloudFormation level (order without a data reference)."""
    source = cfn(resource)
    for other in on:
        source.add_resource_dependency(cfn(other))


class DatasetGroup(Construct):
    """`Custom::PersonalizeDatasetGroup`; exposes `resource`, `arn`, `name`."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        ctx: PersonalizeContext,
        kms_key_arn: str | None,
        role_arn: str,
        domain: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.name = ctx.prefix
        self.domain = domain
        self.resource = personalize_resource(
            self,
            "Resource",
            ctx,
            "DatasetGroup",
            "DatasetGroup",
            {
                "Name": self.name,
                "KmsKeyArn": kms_key_arn,
                "RoleArn": role_arn if kms_key_arn else None,
                "Domain": domain,
            },
        )
        self.arn = self.resource.data("Arn")


class Dataset(Construct):
    """Schema -> dataset -> import job (-> WaitCondition). Exposes `schema`, `dataset`, `import_job`,
    `wait`, `arn`, `import_hash` (what a training's trigger is built from)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        ctx: PersonalizeContext,
        dataset_type: str,
        schema_json: str,
        dataset_group: DatasetGroup,
        data_location: str,
        source_hash: str,
        import_mode: str,
        role_arn: str,
        import_timeout: int,
        import_after: Sequence[Construct] = (),
    ) -> None:
        super().__init__(scope, id)
        label = logical_label(dataset_type)
        api_type = dataset_type.capitalize()  # Interactions / Items / Users
        schema_text = json.dumps(json.loads(schema_json), separators=(",", ":"))  # field order kept
        self.schema = personalize_resource(
            self,
            "Schema",
            ctx,
            "Schema",
            f"Schema{label}",
            {
                # A domain schema is another schema (CreateSchema's `domain`): the domain is in the name.
                "Name": ctx.name(
                    dataset_type, version_of=(schema_text, dataset_group.domain) if dataset_group.domain
                    else schema_text
                ),
                "Schema": schema_text,
                "Domain": dataset_group.domain,
            },
        )
        depends(self.schema, dataset_group.resource)
        self.dataset = personalize_resource(
            self,
            "Dataset",
            ctx,
            "Dataset",
            f"Dataset{label}",
            {
                "Name": ctx.name(dataset_type),
                "DatasetGroupArn": dataset_group.arn,
                "DatasetType": api_type,
                "SchemaArn": self.schema.data("Arn"),
            },
        )
        self.arn = self.dataset.data("Arn")

        # A changed file, mode or schema is a new import: new hash, new wait ids.
        self.import_hash = digest(ctx.prefix, dataset_type, source_hash, import_mode, schema_text)
        job_name = ctx.name(dataset_type, source_hash[:6])
        if len(job_name) > JOB_NAME_MAX:
            raise ValueError(f"import job name {job_name!r} is longer than {JOB_NAME_MAX} characters")
        self.wait = LongWait(
            self, "Wait", label=f"Import{label}", inputs_hash=self.import_hash, timeout_seconds=import_timeout
        )
        self.import_job = personalize_resource(
            self,
            "ImportJob",
            ctx,
            "DatasetImportJob",
            f"Import{label}",
            {
                "JobName": job_name,
                "DatasetArn": self.arn,
                "DataLocation": data_location,
                "RoleArn": role_arn,
                "ImportMode": import_mode,
                "SourceHash": source_hash,
                "WaitHandle": self.wait.handle_ref,
            },
        )
        depends(self.import_job, *import_after)
        self.wait.after(cfn(self.import_job))


#: solutionConfig members UpdateSolution takes (botocore SolutionUpdateConfig): not in the name.
SOLUTION_UPDATE_KEYS = frozenset({"autoTrainingConfig", "eventsConfig"})


class Solution(Construct):
    """Solution -> solution version (training, -> WaitCondition). Exposes `solution`, `version`,
    `wait`, `version_arn`, `trigger`, `name`, `recipe`."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        ctx: PersonalizeContext,
        config: SolutionConfig,
        dataset_group: DatasetGroup,
        datasets: Sequence[Dataset],
    ) -> None:
        super().__init__(scope, id)
        label = logical_label(config.name)
        self.recipe = RECIPES[config.recipe]
        # What UpdateSolution changes in place (automatic training, its schedule, the events
        # configuration) stays out of the name, so a change is an Update, not a new solution and a
        # new training. performAutoTraining is hashed as the constant it always was before, so the
        # name of a solution without those keys is the one earlier releases gave it.
        immutable = {
            "recipe": config.recipe,
            "performHPO": config.perform_hpo,
            "performAutoTraining": False,
            "eventType": config.event_type,
            "solutionConfig": {k: v for k, v in config.api_solution_config.items()
                               if k not in SOLUTION_UPDATE_KEYS},
        }
        self.name = ctx.name(config.name, version_of=immutable)
        self.solution = personalize_resource(
            self,
            "Solution",
            ctx,
            "Solution",
            f"Solution{label}",
            {
                "Name": self.name,
                "DatasetGroupArn": dataset_group.arn,
                "RecipeArn": self.recipe.arn_in(cdk.Aws.PARTITION),
                "PerformHPO": str(config.perform_hpo).lower(),
                "PerformAutoTraining": str(config.auto_training).lower(),
                "SolutionConfig": config.api_solution_config or None,
                "EventType": config.event_type,
            },
        )
        # After the datasets exist and their imports have started (not finished: creating the
        # solution needs no data, so it overlaps the imports).
        depends(self.solution, *(d.import_job for d in datasets))

        # Training uses every dataset in the group: any new data, or a new solution, retrains.
        # The training mode too: a new mode is a new training (its own wait ids).
        self.training_mode = config.training_mode
        mode = () if config.training_mode == "FULL" else (config.training_mode,)
        self.trigger = digest(self.name, sorted(d.import_hash for d in datasets), *mode)
        self.wait = LongWait(
            self,
            "Wait",
            label=f"Train{label}",
            inputs_hash=self.trigger,
            timeout_seconds=config.training_timeout,
        )
        self.version = personalize_resource(
            self,
            "Version",
            ctx,
            "SolutionVersion",
            f"Train{label}",
            {
                "SolutionArn": self.solution.data("Arn"),
                "TrainingMode": config.training_mode,
                "Trigger": self.trigger,
                "WaitHandle": self.wait.handle_ref,
            },
        )
        depends(self.version, *(d.wait.condition for d in datasets))
        self.wait.after(cfn(self.version))
        self.version_arn = self.version.data("Arn")


class Campaign(Construct):
    """`Custom::PersonalizeCampaign` (-> WaitCondition); a new solution version updates it in place.
    Exposes `campaign`, `wait`, `arn`, `name`, `solution`."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        ctx: PersonalizeContext,
        config: CampaignConfig,
        solution: Solution,
    ) -> None:
        super().__init__(scope, id)
        label = logical_label(config.name)
        self.solution = solution
        self.name = ctx.name(config.name)
        inputs = digest(solution.trigger, config.min_provisioned_tps, config.api_campaign_config, self.name)
        self.wait = LongWait(
            self, "Wait", label=f"Campaign{label}", inputs_hash=inputs, timeout_seconds=config.create_timeout
        )
        self.campaign = personalize_resource(
            self,
            "Campaign",
            ctx,
            "Campaign",
            f"Campaign{label}",
            {
                "Name": self.name,
                "SolutionVersionArn": self.version_arn(config, solution),
                "MinProvisionedTPS": str(config.min_provisioned_tps),
                "CampaignConfig": config.api_campaign_config or None,
                "WaitHandle": self.wait.handle_ref,
            },
        )
        depends(self.campaign, solution.wait.condition)
        self.wait.after(cfn(self.campaign))
        self.arn = self.campaign.data("Arn")

    @staticmethod
    def version_arn(config: CampaignConfig, solution: Solution) -> str:
        """The trained version, or with syncWithLatestSolutionVersion the `<solution ARN>/$LATEST`
        form Personalize requires then (CreateCampaignRequest.solutionVersionArn); the campaign still
        waits for the first training (DependsOn its wait)."""
        if config.follows_latest:
            return cdk.Fn.join("", [solution.solution.data("Arn"), "/$LATEST"])
        return solution.version_arn


class Filter(Construct):
    """`Custom::PersonalizeFilter`, after the datasets its expression can name. Exposes `resource`, `arn`,
    `expression`."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        ctx: PersonalizeContext,
        config: FilterConfig,
        dataset_group: DatasetGroup,
        datasets: Sequence[Dataset],
    ) -> None:
        super().__init__(scope, id)
        self.expression = config.expression
        self.name = ctx.name(config.name, version_of=config.expression)
        self.resource = personalize_resource(
            self,
            "Resource",
            ctx,
            "Filter",
            f"Filter{logical_label(config.name)}",
            {"Name": self.name, "DatasetGroupArn": dataset_group.arn, "FilterExpression": config.expression},
        )
        depends(self.resource, *(d.dataset for d in datasets))
        self.arn = self.resource.data("Arn")


class EventTracker(Construct):
    """`Custom::PersonalizeEventTracker`, after the datasets (PutEvents writes to Interactions).
    Exposes `resource`, `arn`, `tracking_id`."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        ctx: PersonalizeContext,
        config: EventTrackerConfig,
        dataset_group: DatasetGroup,
        datasets: Sequence[Dataset],
    ) -> None:
        super().__init__(scope, id)
        self.resource = personalize_resource(
            self,
            "Resource",
            ctx,
            "EventTracker",
            # One logical id whatever the name: a dataset group holds one tracker, so a rename must
            # reach the handler as an Update (delete the old tracker, then create the new one),
            # never as a Create beside the old tracker.
            "EventTracker",
            {"Name": ctx.name(config.name), "DatasetGroupArn": dataset_group.arn},
        )
        depends(self.resource, *(d.dataset for d in datasets))
        self.arn = self.resource.data("Arn")
        self.tracking_id = self.resource.data("TrackingId")
