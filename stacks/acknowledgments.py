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
from constructs import IConstruct

from personalize_constructs.batch import BatchInference
from personalize_constructs.resources import cfn
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


def _policy_source(resource: cdk.CfnResource) -> Any:
    """What holds a policy or role's statements, unresolved."""
    if isinstance(resource, iam.CfnPolicy):
        return resource.policy_document
    if isinstance(resource, iam.CfnRole):
        return resource.policies
    return None


def _resolve_each(stack: cdk.Stack, values: list[Any]) -> list[Any]:
    """`stack.resolve` of each value in one jsii round trip. Keyed by position: resolving drops
    what resolves to undefined (an empty lazy list), which in a list would shift the rest."""
    resolved = stack.resolve({str(i): v for i, v in enumerate(values) if v is not None}) or {}
    return [resolved.get(str(i)) for i in range(len(values))]


def _documents(resolved: Any, resource: cdk.CfnResource) -> list[Any]:
    if isinstance(resource, iam.CfnPolicy):
        return [resolved]
    if isinstance(resource, iam.CfnRole):
        return [policy["policyDocument"] for policy in resolved or []]
    return []


def _findings_in(documents: Iterable[Any]) -> list[str]:
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


def wildcard_findings(resource: cdk.CfnResource) -> list[str]:
    """AwsSolutions-IAM5 finding suffixes (`Action::...`, `Resource::...`) of a policy or role."""
    (resolved,) = _resolve_each(cdk.Stack.of(resource), [_policy_source(resource)])
    return _findings_in(_documents(resolved, resource))


def ack(construct: IConstruct, rule: str, reason: str) -> None:
    # The id as cdk-nag prints it ("Acknowledge with ..."): plugin name, "::", finding id.
    cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=f"AwsSolutions::{rule}", reason=reason))


def ack_wildcards(construct: IConstruct, reasons: Iterable[tuple[str, str]]) -> None:
    """Acknowledge each IAM5 finding of `construct` (a CfnPolicy/CfnRole or an L2 holding one) with
    the reason of the first regex matching it; raise when a finding has no reason."""
    ack_all_wildcards(cdk.Stack.of(construct), [(construct, reasons)])


def ack_all_wildcards(
    stack: cdk.Stack, items: Iterable[tuple[IConstruct, Iterable[tuple[str, str]]]]
) -> None:
    """`ack_wildcards` for several policies of one stack: their documents are resolved in a single
    jsii round trip (resolving each one alone was ~15 calls of a synth)."""
    work = [(cfn(construct), reasons) for construct, reasons in items]
    resolved = _resolve_each(stack, [_policy_source(resource) for resource, _ in work])
    for (resource, reasons), value in zip(work, resolved, strict=True):
        table = [(re.compile(pattern), reason) for pattern, reason in reasons]
        acknowledgments = []
        for finding in _findings_in(_documents(value, resource)):
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
            rf"^Resource::arn:[^:]+:personalize:[^:]*:{ACCOUNT}:(schema|dataset-import-job|solution|campaign|filter|metric-attribution|recommender)/"
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
            "Only the personalize:List* calls (finding a resource by name after a lost response, and a "
            "metric attribution's metrics) are on '*': those APIs support no resource-level permissions.",
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


def _batch_wildcards(
    batch: BatchInference, prefix: str
) -> list[tuple[IConstruct, Iterable[tuple[str, str]]]]:
    """The batch-inference policies and the reason for each of their IAM5 findings."""
    jobs = (
        rf"^Resource::arn:[^:]+:personalize:[^:]*:{ACCOUNT}:batch-inference-job/{re.escape(prefix)}-\*$",
        f"Batch inference jobs of this environment only: every job name the stack makes starts with "
        f"'{prefix}-' and carries a hash of its inputs; the handler appends a per-request suffix.",
    )
    parents = (
        rf"^Resource::arn:[^:]+:personalize:[^:]*:{ACCOUNT}:solution/{re.escape(prefix)}-\*$",
        f"CreateBatchInferenceJob is authorized on the solution version it runs: this environment's "
        f"only (names start with '{prefix}-'; versions are solution/<name>/<id>).",
    )
    listing = (
        r"^Resource::\*$",
        "personalize:ListBatchInferenceJobs (finding a job by name after a lost response) supports no "
        "resource-level permissions.",
    )
    objects = (
        r"^Resource::(<[A-Za-z0-9]+\.Arn>|arn:[^:]+:s3:::[^/]+)/.+/\*$",
        "The Personalize service role reads each batch job's own input prefix (batch-input/<job>/) and "
        "writes only under each job's configured output prefix, where the service names the files.",
    )
    inputs = (
        r"^Resource::<[A-Za-z0-9]+\.Arn>/batch-input/[A-Za-z0-9_-]+/\*$",
        "Put/DeleteObject for one batch job's input prefix (batch-input/<job>/) of this stack's data "
        "bucket: the Custom::PersonalizeDataObject copy of the job's input file, whose name comes from "
        "config (a renamed file's old object is deleted there).",
    )
    return [
        (batch.handler_policy, [jobs, parents, listing, inputs]),
        (batch.waiter_policy, [jobs]),
        (batch.service_policy, [objects]),
    ]


def acknowledge_findings(stack: PersonalizeStack) -> None:
    """Every AwsSolutions finding the stack has, acknowledged where it arises."""
    prefix = stack.provider.name_prefix

    # Buckets: TLS-only without a '*' principal (see S10_REASON).
    for bucket in (stack.data.bucket, stack.data.log_bucket):
        ack(bucket, "AwsSolutions-S10", S10_REASON)

    # Our functions: pinned runtime.
    provider = stack.provider
    for function in (
        provider.on_event_function,
        provider.is_complete_function,
        provider.poll_function,
        provider.signal_function,
    ):
        ack(function, "AwsSolutions-L1", RUNTIME_REASON)

    wildcards: list[tuple[IConstruct, Iterable[tuple[str, str]]]] = [
        # Service role: reads objects under the datasets/ prefix of our bucket only.
        (
            stack.service_role.role,
            [
                (
                    r"^Resource::<[A-Za-z0-9]+\.Arn>/datasets/\*$",
                    "Personalize reads any dataset file under datasets/ of this stack's bucket (one "
                    "prefix per dataset, file names come from config); GetObject only.",
                ),
                (
                    r"^Resource::<[A-Za-z0-9]+\.Arn>/deletions/\*$",
                    "A data deletion job reads the list of user ids `pz delete-users` uploads under "
                    "deletions/<job>/ of this stack's bucket (one object per job, named at run time); "
                    "GetObject only.",
                ),
                (
                    r"^Resource::\*$",
                    "cloudwatch:PutMetricData (the metric attribution's reports) supports no resource-level "
                    "permissions; the statement holds it to the AWS/Personalize namespace "
                    "(cloudwatch:namespace condition).",
                ),
                (
                    r"^Resource::<[A-Za-z0-9]+\.Arn>/[A-Za-z0-9!_.*'()=/-]+/\*$",
                    "The metric attribution's S3 reports: Personalize writes files it names under the one "
                    "configured output prefix of this stack's bucket; PutObject only.",
                ),
                (
                    r"^Resource::arn:[^:]+:s3:::[^/]+/(.*/)?\*$",
                    "An s3:// folder source (s3://bucket/folder/): the import job reads every object "
                    "under that one configured folder; GetObject only, ListBucket held to its prefix.",
                ),
            ],
        ),
        (provider.handler_role, [*_personalize_reasons(prefix), _DATA_OBJECT_REASON]),
        (provider.waiter_role, _personalize_reasons(prefix)),
    ]
    if stack.batch is not None:
        wildcards.extend(_batch_wildcards(stack.batch, prefix))
    waiter_policy = provider.waiter.state_machine.role.node.try_find_child("DefaultPolicy")
    if waiter_policy is not None:
        wildcards.append((waiter_policy, _framework_reasons()))

    # The CDK Provider framework's own functions, roles and state machine (code and policies are
    # CDK's, not ours to change).
    framework_roles: list[iam.CfnRole] = []
    for child in provider.provider.node.find_all():
        if isinstance(child, iam.CfnRole):
            framework_roles.append(child)
        elif isinstance(child, iam.CfnPolicy):
            wildcards.append((child, _framework_reasons()))
        elif isinstance(child, cdk.aws_stepfunctions.CfnStateMachine):
            ack(
                child,
                "AwsSolutions-SF2",
                "The CDK Provider framework's isComplete waiter state machine offers no X-Ray option; it "
                "only loops isComplete every queryInterval and logs ALL events to its log group.",
            )
    managed = _resolve_each(stack, [role.managed_policy_arns for role in framework_roles])
    for role, arns in zip(framework_roles, managed, strict=True):
        if any("AWSLambdaBasicExecutionRole" in _flatten(arn) for arn in arns or []):
            ack(
                role,
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AWSLambdaBasicExecutionRole]",
                "CDK Provider framework function role: AWSLambdaBasicExecutionRole grants only "
                "CreateLogGroup/CreateLogStream/PutLogEvents; the framework code is CDK's.",
            )
    ack_all_wildcards(stack, wildcards)
