"""cdk-nag AwsSolutions acknowledgments: each on the narrowest construct, each with its own reason.

Wildcard (IAM5) findings are computed here the way cdk-nag computes them (same flattening of
intrinsics), and every one must match a reason below: a new wildcard nobody explained makes
`acknowledge_findings` raise instead of being waved through.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import IConstruct

from stacks.personalize_stack import PersonalizeStack

RUNTIME_REASON = (
    "The handler asset is built and tested for python3.13 (docs/handler-contract.md; the local runner "
    "and unit tests run it under that contract); moving to a newer runtime is a deliberate change "
    "made together with the handler tests, not a synth-time default."
)
S10_REASON = (
    "TLS-only is enforced by a Deny on aws:SecureTransport=false for s3:* on the bucket and its objects, "
    "naming every principal that can reach the bucket (this account, and the one service principal the "
    "policy admits); public access is blocked. cdk-nag S10 accepts only a '*' principal in that Deny, "
    "and this project forbids a '*' principal in every statement."
)


def _flatten(node: Any) -> str:
    """cdk-nag's flattenCfnReference, so our finding ids are exactly the ones it reports."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if "Fn::Join" in node:
            delimiter, items = node["Fn::Join"]
            return str(delimiter).join(_flatten(i) for i in items)
        if "Fn::Sub" in node:
            return _flatten(node["Fn::Sub"])
        if "Fn::GetAtt" in node:
            resource, attribute = node["Fn::GetAtt"]
            return f"<{_flatten(resource)}.{_flatten(attribute)}>"
        if "Fn::ImportValue" in node:
            return _flatten(node["Fn::ImportValue"])
        if "Ref" in node:
            return f"<{_flatten(node['Ref'])}>"
    import json

    return json.dumps(node, separators=(",", ":"))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def wildcard_findings(resource: cdk.CfnResource) -> list[str]:
    """AwsSolutions-IAM5 finding suffixes (`Action::...`, `Resource::...`) of a policy or role."""
    stack = cdk.Stack.of(resource)
    documents: list[Any] = []
    if isinstance(resource, iam.CfnPolicy):
        documents.append(stack.resolve(resource.policy_document))
    elif isinstance(resource, iam.CfnRole):
        for policy in stack.resolve(resource.policies) or []:
            documents.append(stack.resolve(policy)["policyDocument"])
    found: list[str] = []
    for document in documents:
        for statement in document.get("Statement", []):
            if statement.get("Effect") != "Allow":
                continue
            for action in _as_list(statement.get("Action", [])):
                if "*" in action and f"Action::{action}" not in found:
                    found.append(f"Action::{action}")
            for res in _as_list(statement.get("Resource", [])):
                flat = _flatten(res)
                if "*" in flat and f"Resource::{flat}" not in found:
                    found.append(f"Resource::{flat}")
    return found


def ack(construct: IConstruct, rule: str, reason: str) -> None:
    # The id as cdk-nag prints it ("Acknowledge with ..."): plugin name, "::", finding id.
    cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=f"AwsSolutions::{rule}", reason=reason))


def ack_wildcards(construct: IConstruct, reasons: Iterable[tuple[str, str]]) -> None:
    """Acknowledge each IAM5 finding of `construct` (a CfnPolicy/CfnRole or an L2 holding one) with
    the reason of the first regex matching it; raise when a finding has no reason."""
    table = [(re.compile(pattern), reason) for pattern, reason in reasons]
    resource = construct if isinstance(construct, cdk.CfnResource) else construct.node.default_child
    assert isinstance(resource, cdk.CfnResource), construct.node.path
    acknowledgments = []
    for finding in wildcard_findings(resource):
        reason = next((r for p, r in table if p.search(finding)), None)
        if reason is None:
            raise ValueError(f"{resource.node.path}: unexplained wildcard permission {finding}")
        acknowledgments.append(
            cdk.Acknowledgment(id=f"AwsSolutions::AwsSolutions-IAM5[{finding}]", reason=reason)
        )
    if acknowledgments:  # one jsii call for all of them
        cdk.Validations.of(resource).acknowledge(*acknowledgments)


#: An account in a flattened ARN: a literal (from config) or the pseudo parameter.
ACCOUNT = r"(?:<AWS::AccountId>|\d{12})"


def _personalize_reasons(prefix: str) -> list[tuple[str, str]]:
    return [
        (
            rf"^Resource::arn:[^:]+:personalize:[^:]*:{ACCOUNT}:(schema|dataset-import-job|solution|campaign|filter)/"
            rf"{re.escape(prefix)}-\*$",
            f"Scoped to this environment's resources: every name the stack creates starts with '{prefix}-' "
            "and ends in a content hash chosen at synth time (solution versions are solution/<name>/<id>).",
        ),
        (
            rf"^Resource::arn:[^:]+:personalize:[^:]*:{ACCOUNT}:dataset/{re.escape(prefix)}/\*$",
            "Datasets are named dataset/<dataset group>/<TYPE>: this covers only the datasets of "
            f"'{prefix}'.",
        ),
        (
            rf"^Resource::arn:[^:]+:personalize:[^:]*:{ACCOUNT}:event-tracker/\*$",
            "Event tracker ARNs carry a service-generated id, not our name, so they cannot be scoped by "
            "prefix; the actions are only Create/Describe/DeleteEventTracker and tagging.",
        ),
        (
            r"^Resource::\*$",
            "Only the personalize:List* calls (finding a resource by name after a lost response) are on "
            "'*': those APIs support no resource-level permissions.",
        ),
    ]


#: Custom::PersonalizeDataObject (personalize_constructs.upload): the handler writes one dataset's
#: file under its own prefix; a changed file name is a new key, the old one deleted afterwards.
_DATA_OBJECT_REASON = (
    r"^Resource::<[A-Za-z0-9]+\.Arn>/datasets/[A-Za-z0-9_-]+/\*$",
    "PutObject/DeleteObject for one dataset's prefix (datasets/<type>/) of this stack's data bucket: the "
    "copied source file's name comes from config, and a renamed file's old object is deleted there.",
)


def _framework_reasons() -> list[tuple[str, str]]:
    return [
        (
            r"^Resource::<[A-Za-z0-9]+\.Arn>:\*$",
            "lambda:InvokeFunction on a function of this stack and its versions (':*'), as granted by CDK.",
        ),
        (
            r"^Resource::\*$",
            "X-Ray (PutTraceSegments, PutTelemetryRecords, GetSampling*) and CloudWatch Logs vended "
            "delivery (CreateLogDelivery, ...) support no resource-level permissions.",
        ),
    ]


def acknowledge_findings(stack: PersonalizeStack) -> None:
    """Every AwsSolutions finding the stack has, acknowledged where it arises."""
    prefix = stack.provider.name_prefix

    # Buckets: TLS-only without a '*' principal (see S10_REASON).
    for bucket in (stack.data.bucket, stack.data.log_bucket):
        ack(bucket, "AwsSolutions-S10", S10_REASON)

    # Service role: reads objects under the datasets/ prefix of our bucket only.
    ack_wildcards(
        stack.service_role.role,
        [
            (
                r"^Resource::<[A-Za-z0-9]+\.Arn>/datasets/\*$",
                "Personalize reads any dataset file under datasets/ of this stack's bucket (one prefix "
                "per dataset, file names come from config); GetObject only.",
            )
        ],
    )

    # Our functions: pinned runtime.
    provider = stack.provider
    for function in (
        provider.on_event_function,
        provider.is_complete_function,
        provider.poll_function,
        provider.signal_function,
    ):
        ack(function, "AwsSolutions-L1", RUNTIME_REASON)

    ack_wildcards(provider.handler_role, [*_personalize_reasons(prefix), _DATA_OBJECT_REASON])
    ack_wildcards(provider.waiter_role, _personalize_reasons(prefix))
    waiter_role = provider.waiter.state_machine.role.node.try_find_child("DefaultPolicy")
    if waiter_role is not None:
        ack_wildcards(waiter_role, _framework_reasons())

    # The CDK Provider framework's own functions, roles and state machine (code and policies are
    # CDK's, not ours to change).
    framework = provider.provider
    for child in framework.node.find_all():
        if isinstance(child, iam.CfnRole):
            for finding in (
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AWSLambdaBasicExecutionRole]",
            ):
                if _uses_basic_execution(child):
                    ack(
                        child,
                        finding,
                        "CDK Provider framework function role: AWSLambdaBasicExecutionRole grants only "
                        "CreateLogGroup/CreateLogStream/PutLogEvents; the framework code is CDK's.",
                    )
        if isinstance(child, iam.CfnPolicy):
            ack_wildcards(child, _framework_reasons())
        if isinstance(child, cdk.aws_stepfunctions.CfnStateMachine):
            ack(
                child,
                "AwsSolutions-SF2",
                "The CDK Provider framework's isComplete waiter state machine offers no X-Ray option; it "
                "only loops isComplete every queryInterval and logs ALL events to its log group.",
            )

    # BucketDeployment's singleton handler (CDK's code): one per stack.
    for child in stack.node.children:
        if isinstance(child, cdk.aws_lambda.Function) and child.node.id.startswith(
            "Custom::CDKBucketDeployment"
        ):
            _acknowledge_bucket_deployment(child)


def _uses_basic_execution(role: iam.CfnRole) -> bool:
    managed = cdk.Stack.of(role).resolve(role.managed_policy_arns) or []
    return any("AWSLambdaBasicExecutionRole" in _flatten(m) for m in managed)


def _acknowledge_bucket_deployment(handler: IConstruct) -> None:
    assert isinstance(handler, cdk.aws_lambda.SingletonFunction | cdk.aws_lambda.Function | IConstruct)
    function = handler.node.try_find_child("Resource")
    if function is not None:
        ack(
            function,
            "AwsSolutions-L1",
            "CDK's BucketDeployment handler: its runtime is chosen by aws-cdk-lib together with its "
            "bundled AWS CLI layer; it follows CDK upgrades.",
        )
    role = handler.node.try_find_child("ServiceRole")
    if role is None:
        return
    ack(
        role,
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
        "CDK's BucketDeployment handler role: AWSLambdaBasicExecutionRole grants only its own logging.",
    )
    policy = role.node.try_find_child("DefaultPolicy")
    if policy is not None:
        ack_wildcards(
            policy,
            [
                (
                    r"^Action::s3:(GetBucket|GetObject|List|Abort|DeleteObject)\*$",
                    "CDK's grantRead/grantReadWrite action groups for copying the data asset into the "
                    "data bucket (and pruning the dataset's prefix); limited to the two buckets below.",
                ),
                (
                    r"^Action::kms:(GenerateDataKey|ReEncrypt)\*$",
                    "With SSE-KMS, CDK's bucket grant lets the deployment encrypt the uploaded objects "
                    "with the configured key (that key's ARN only).",
                ),
                (
                    r"^Resource::arn:[^:]+:s3:::cdk-[a-z0-9]+-assets-[^/]+/\*$",
                    "Read of the CDK bootstrap asset bucket's objects, where `cdk deploy` uploaded the "
                    "dataset zip.",
                ),
                (
                    r"^Resource::<[A-Za-z0-9]+\.Arn>/\*$",
                    "Write to this stack's data bucket objects: the deployment copies each dataset file "
                    "to its prefix.",
                ),
            ],
        )
    _ = s3deploy  # BucketDeployment is created in personalize_constructs.upload
