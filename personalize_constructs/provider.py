"""One CDK Provider for every Personalize resource kind, plus the Step Functions waiter.

Four functions from the one `lambda/` asset (a Lambda function has one handler string, the contract
has four): OnEvent and IsComplete (the Provider's handlers, sharing one role) and Poll and Signal
(the waiter's tasks, sharing another). Permissions are listed action by action and scoped to this
environment's resources by name prefix (`<env>-<dataset group>`).
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import custom_resources as cr
from constructs import Construct

from personalize_constructs.waiter import WaiterStateMachine
from pipeline.config import MAX_WAIT_SECONDS

HANDLER_MODULE = "personalize_handlers.entry"
RUNTIME = lambda_.Runtime.PYTHON_3_13
#: The runtime's bundled botocore reads the Personalize model shipped in the asset first
#: (lambda/botocore_models, pinned: docs/aws-contracts.md, "The boto3 in the Lambda runtime");
#: AWS_DATA_PATH is botocore's documented search path for models (botocore.loaders).
SDK_ENVIRONMENT = {"AWS_DATA_PATH": "/var/task/botocore_models"}
#: The Provider's isComplete cadence and ceiling: a custom resource cannot wait past one hour, so
#: the total stays under it (long operations wait through a WaitCondition instead).
QUERY_INTERVAL = cdk.Duration.seconds(30)
TOTAL_TIMEOUT = cdk.Duration.minutes(55)
LOG_RETENTION = logs.RetentionDays.ONE_MONTH

#: Personalize actions the handlers call, by resource kind (ARN `<kind>/<name>`); nothing else.
ACTIONS_BY_KIND: dict[str, list[str]] = {
    "dataset-group": ["CreateDatasetGroup", "DescribeDatasetGroup", "DeleteDatasetGroup"],
    "schema": ["CreateSchema", "DescribeSchema", "DeleteSchema"],
    "dataset": ["CreateDataset", "DescribeDataset", "UpdateDataset", "DeleteDataset"],
    "dataset-import-job": ["CreateDatasetImportJob", "DescribeDatasetImportJob"],
    "solution": [
        "CreateSolution",
        "DescribeSolution",
        "UpdateSolution",  # automatic training and events configuration in place
        "DeleteSolution",
        "CreateSolutionVersion",
        "DescribeSolutionVersion",
        "StopSolutionVersionCreation",
        "GetSolutionMetrics",
    ],
    "campaign": ["CreateCampaign", "DescribeCampaign", "UpdateCampaign", "DeleteCampaign"],
    "filter": ["CreateFilter", "DescribeFilter", "DeleteFilter"],
    "event-tracker": ["CreateEventTracker", "DescribeEventTracker", "DeleteEventTracker"],
    # Always: an attribution removed from the config is deleted after the update, under the new
    # policy (found with ListMetricAttributions), and the dataset group deletes an orphaned one.
    # The rest: grant_metric_attribution.
    "metric-attribution": ["DeleteMetricAttribution"],
}
#: What the recommender handler calls (lambda/personalize_handlers/recommender.py), on recommender ARNs.
RECOMMENDER_ACTIONS = ["CreateRecommender", "DescribeRecommender", "UpdateRecommender", "DeleteRecommender"]
#: The parents a Create names, by the parent's kind: the Service Authorization Reference lists, for
#: each Create, the resource types IAM authorizes it on (its own kind, granted above, and these);
#: CreateSolution names a recipe, but IAM does not authorize it on recipe ARNs.
CREATE_IN_PARENT: dict[str, list[str]] = {
    "dataset-group": ["CreateDataset", "CreateSolution", "CreateEventTracker", "CreateFilter"],
    "dataset": ["CreateDatasetImportJob"],
    "solution": ["CreateCampaign"],  # the version it deploys: solution/<name>/<id>
}
#: Kinds Personalize tags (TagResource's resource types; schemas take no tags).
TAGGABLE_KINDS = ["dataset-group", "dataset", "dataset-import-job", "solution", "campaign", "filter",
                  "event-tracker"]
TAG_ACTIONS = ["TagResource", "UntagResource", "ListTagsForResource"]
#: List calls find a resource by name (adoption after a lost response); the API takes no resource.
LIST_ACTIONS = [
    "ListDatasetGroups",
    "ListSchemas",
    "ListDatasets",
    "ListDatasetImportJobs",
    "ListSolutions",
    "ListSolutionVersions",
    "ListCampaigns",
    "ListEventTrackers",
    "ListFilters",
    "ListMetricAttributions",
    "ListRecommenders",  # the dataset group's delete lists a domain group's leftovers
]
#: What the waiter's Poll function describes, and the kind each describe is authorized on.
POLL_ACTIONS = {
    "DescribeDatasetImportJob": "dataset-import-job",
    "DescribeSolutionVersion": "solution",  # solution/<name>/<version id>
    "DescribeCampaign": "campaign",
}


def _log_group(scope: Construct, id: str) -> logs.LogGroup:
    return logs.LogGroup(scope, id, retention=LOG_RETENTION, removal_policy=cdk.RemovalPolicy.DESTROY)


def data_object_statements(
    *, sids: tuple[str, str, str], source_object_arn: str, bucket: s3.IBucket, prefix: str
) -> list[iam.PolicyStatement]:
    """What the handler needs to copy one Custom::PersonalizeDataObject: read of its one asset
    object, put/delete under its prefix only, and with SSE-KMS, data keys from the bucket's key.
    `sids`: (read, write, encrypt)."""
    read, write, encrypt = sids
    statements = [
        iam.PolicyStatement(sid=read, actions=["s3:GetObject"], resources=[source_object_arn]),
        iam.PolicyStatement(
            sid=write,
            actions=["s3:PutObject", "s3:DeleteObject"],
            resources=[bucket.arn_for_objects(f"{prefix}*")],
        ),
    ]
    if bucket.encryption_key is not None:
        statements.append(
            iam.PolicyStatement(
                sid=encrypt, actions=["kms:GenerateDataKey"], resources=[bucket.encryption_key.key_arn]
            )
        )
    return statements


class PersonalizeProvider(Construct):
    """Exposes `service_token`, `provider`, the four functions, their two roles, `waiter` and
    `resource_arns(kind)`."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        asset_dir: Path,
        name_prefix: str,
        service_role: iam.IRole,
    ) -> None:
        super().__init__(scope, id)
        self.name_prefix = name_prefix
        stack = cdk.Stack.of(self)
        # What Stack.format_arn(SLASH_RESOURCE_NAME) starts with, read once: resource_arns was 23
        # format_arn calls (~50 jsii round trips) per synth.
        self._arn_base = f"arn:{stack.partition}:personalize:{stack.region}:{stack.account}:"
        code = lambda_.Code.from_asset(
            str(asset_dir), exclude=["**/__pycache__", "**/*.pyc", "tests", "**/.pytest_cache"]
        )

        log_groups = {
            fid: _log_group(self, f"{fid}Logs") for fid in ("OnEvent", "IsComplete", "Poll", "Signal")
        }

        def logs_statement(*fids: str) -> iam.PolicyStatement:
            # CloudWatch Logs for the functions' own log groups only (no AWSLambdaBasicExecutionRole);
            # a log group's Arn attribute already ends in ":*" (its streams).
            return iam.PolicyStatement(
                sid="WriteOwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_groups[fid].log_group_arn for fid in fids],
            )

        def function(fid: str, handler: str, role: iam.IRole, timeout: int, **env: str) -> lambda_.Function:
            return lambda_.Function(
                self,
                fid,
                code=code,
                handler=f"{HANDLER_MODULE}.{handler}",
                runtime=RUNTIME,
                architecture=lambda_.Architecture.ARM_64,
                memory_size=256,
                timeout=cdk.Duration.seconds(timeout),
                role=role,
                environment={**SDK_ENVIRONMENT, **env},
                log_group=log_groups[fid],
                description=f"Personalize pipeline: {handler} (docs/handler-contract.md)",
            )

        # Policies are inline in their roles: a function can never run before its permissions exist
        # (a separate AWS::IAM::Policy would need DependsOn from everything that invokes it).

        # --- waiter: Poll + Signal and the state machine -------------------------------------
        # Kept: grant_recommenders adds the recommenders' describe later (still inline).
        self.waiter_document = iam.PolicyDocument(
            statements=[
                *(
                    iam.PolicyStatement(
                        sid=action,
                        actions=[f"personalize:{action}"],
                        resources=self.resource_arns(kind),
                    )
                    for action, kind in POLL_ACTIONS.items()
                ),
                logs_statement("Poll", "Signal"),
            ]
        )
        self.waiter_role = iam.Role(
            self,
            "WaiterRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Personalize pipeline waiter: describes long operations, signals WaitConditions",
            inline_policies={"Waiter": self.waiter_document},
        )
        self.poll_function = function("Poll", "poll", self.waiter_role, 60)
        self.signal_function = function("Signal", "signal", self.waiter_role, 60)
        self.waiter = WaiterStateMachine(
            self,
            "Waiter",
            poll_function=self.poll_function,
            signal_function=self.signal_function,
            log_group=_log_group(self, "WaiterLogs"),
            max_wait=cdk.Duration.seconds(MAX_WAIT_SECONDS + 1800),
        )

        # --- Provider: OnEvent + IsComplete ---------------------------------------------------
        handler_statements = [
            iam.PolicyStatement(
                sid=f"Personalize{kind.title().replace('-', '')}",
                actions=[f"personalize:{a}" for a in actions],
                resources=self.resource_arns(kind),
            )
            for kind, actions in ACTIONS_BY_KIND.items()
        ]
        handler_statements += [
            iam.PolicyStatement(
                sid="PersonalizeTags",
                actions=[f"personalize:{a}" for a in TAG_ACTIONS],
                resources=[arn for kind in TAGGABLE_KINDS for arn in self.resource_arns(kind)],
            ),
            iam.PolicyStatement(
                sid="PersonalizeList", actions=[f"personalize:{a}" for a in LIST_ACTIONS], resources=["*"]
            ),
            # A create names its parent (dataset group, dataset, the version a campaign deploys):
            # each Create on its own parents only, this environment's.
            *(
                iam.PolicyStatement(
                    sid=f"PersonalizeCreateIn{kind.title().replace('-', '')}",
                    actions=[f"personalize:{a}" for a in actions],
                    resources=self.resource_arns(kind),
                )
                for kind, actions in CREATE_IN_PARENT.items()
            ),
            iam.PolicyStatement(
                sid="PassServiceRoleToPersonalize",
                actions=["iam:PassRole"],
                resources=[service_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "personalize.amazonaws.com"}},
            ),
            iam.PolicyStatement(
                sid="StartWaiter",
                actions=["states:StartExecution"],
                resources=[self.waiter.state_machine.state_machine_arn],
            ),
            logs_statement("OnEvent", "IsComplete"),
        ]
        # Kept: grant_data_object adds statements later (resolved at synth, still inline).
        self.handler_document = iam.PolicyDocument(statements=handler_statements)
        self.handler_role = iam.Role(
            self,
            "HandlerRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Personalize pipeline custom resources: this environment's Personalize resources",
            inline_policies={"Handler": self.handler_document},
        )
        env = {"WAITER_STATE_MACHINE_ARN": self.waiter.state_machine.state_machine_arn}
        self.on_event_function = function("OnEvent", "on_event", self.handler_role, 120, **env)
        self.is_complete_function = function("IsComplete", "is_complete", self.handler_role, 120, **env)
        self.provider = cr.Provider(
            self,
            "Provider",
            on_event_handler=self.on_event_function,
            is_complete_handler=self.is_complete_function,
            query_interval=QUERY_INTERVAL,
            total_timeout=TOTAL_TIMEOUT,
            log_group=_log_group(self, "FrameworkLogs"),
            disable_waiter_state_machine_logging=False,
            waiter_state_machine_log_options=cr.LogOptions(
                destination=_log_group(self, "FrameworkWaiterLogs"), level=cdk.aws_stepfunctions.LogLevel.ALL
            ),
        )
        self.service_token = self.provider.service_token

    def grant_data_object(
        self, *, label: str, source_object_arn: str, bucket: s3.IBucket, prefix: str
    ) -> None:
        """What one Custom::PersonalizeDataObject needs, inline in the handler role, so it exists
        before the function runs (see data_object_statements)."""
        self.handler_document.add_statements(
            *data_object_statements(
                sids=(f"{label}ReadAsset", f"{label}WriteObject", f"{label}EncryptObject"),
                source_object_arn=source_object_arn,
                bucket=bucket,
                prefix=prefix,
            )
        )

    def grant_metric_attribution(self) -> None:
        """Custom::PersonalizeMetricAttribution's create, describe and update (its delete and list are
        always granted, ACTIONS_BY_KIND): CreateMetricAttribution and UpdateMetricAttribution on this
        environment's attributions, ListMetricAttributionMetrics (a List* call: no resource-level
        permissions). The role they pass is the service role (PassServiceRoleToPersonalize)."""
        self.handler_document.add_statements(
            iam.PolicyStatement(
                sid="PersonalizeMetricAttributionWrite",
                actions=[
                    "personalize:CreateMetricAttribution",
                    "personalize:DescribeMetricAttribution",
                    "personalize:UpdateMetricAttribution",
                ],
                resources=self.resource_arns("metric-attribution"),
            ),
            # CreateMetricAttribution names its dataset group, which the Service Authorization
            # Reference lists among the resource types the action is authorized on.
            iam.PolicyStatement(
                sid="PersonalizeCreateMetricAttributionInDatasetGroup",
                actions=["personalize:CreateMetricAttribution"],
                resources=self.resource_arns("dataset-group"),
            ),
            iam.PolicyStatement(
                sid="PersonalizeMetricAttributionMetrics",
                actions=["personalize:ListMetricAttributionMetrics"],
                resources=["*"],
            ),
        )

    def grant_retired_uploads(self, *, bucket: s3.IBucket, prefixes: list[str]) -> None:
        """DeleteObject under the prefixes of datasets this stack no longer uploads (now read from
        an s3:// source, or dropped): an earlier deploy may have copied a file there, and
        CloudFormation deletes that Custom::PersonalizeDataObject after the update, with the new
        policy, so the new policy must still allow it (else the object is left behind)."""
        if prefixes:
            self.handler_document.add_statements(
                iam.PolicyStatement(
                    sid="DeleteRetiredUploads",
                    actions=["s3:DeleteObject"],
                    resources=[bucket.arn_for_objects(f"{prefix}*") for prefix in prefixes],
                )
            )

    def grant_recommenders(self) -> None:
        """What the Custom::PersonalizeRecommender handler and the waiter call, for a domain dataset
        group: each action on this environment's `recommender/<prefix>-*` ARNs (the Service
        Authorization Reference authorizes every recommender operation on the recommender type), and
        CreateRecommender on the dataset group it names. ListRecommenders is among LIST_ACTIONS: the
        dataset group's Delete lists a domain group's leftover recommenders. Start/StopRecommender are
        not here: the handlers never call them (`pz recommender` does, with the caller's credentials)."""
        arns = self.resource_arns("recommender")
        self.handler_document.add_statements(
            iam.PolicyStatement(
                sid="PersonalizeRecommender",
                actions=[f"personalize:{a}" for a in RECOMMENDER_ACTIONS],
                resources=arns,
            ),
            iam.PolicyStatement(
                sid="PersonalizeRecommenderTags",
                actions=[f"personalize:{a}" for a in TAG_ACTIONS],
                resources=arns,
            ),
            # CreateRecommender names its dataset group, which the Service Authorization Reference
            # lists among the resource types the action is authorized on.
            iam.PolicyStatement(
                sid="PersonalizeCreateRecommenderInDatasetGroup",
                actions=["personalize:CreateRecommender"],
                resources=self.resource_arns("dataset-group"),
            ),
        )
        self.waiter_document.add_statements(
            iam.PolicyStatement(sid="DescribeRecommender", actions=["personalize:DescribeRecommender"],
                                resources=arns)
        )

    def resource_arns(self, kind: str) -> list[str]:
        """ARN patterns of this environment's resources of one kind (names start with the prefix)."""

        def arn(resource_name: str) -> str:
            return f"{self._arn_base}{kind}/{resource_name}"

        prefix = self.name_prefix
        if kind == "dataset-group":
            return [arn(prefix)]
        if kind == "dataset":
            return [arn(f"{prefix}/*")]  # dataset/<dataset group name>/<TYPE>
        if kind == "event-tracker":
            # The service names trackers by a generated id, not by our name: no prefix to scope by.
            return [arn("*")]
        return [arn(f"{prefix}-*")]  # solution/<name>-... also covers solution/<name>/<version id>
