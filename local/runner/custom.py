"""Custom resources: the CDK Provider framework, BucketDeployment and S3 auto-delete, emulated.

The framework's Node.js Lambdas are never run. A custom resource whose ServiceToken is a Provider
framework onEvent function (recognised by its USER_ON_EVENT_FUNCTION_ARN variable) is served the way
aws-cdk-lib/custom-resources/lib/provider-framework/runtime/framework.ts serves it:

- onEvent gets the CloudFormation request (properties stringified, ResponseURL masked); a missing
  PhysicalResourceId defaults to the RequestId on Create and to the current id on Update/Delete; a
  Delete may not change it.
- With an isComplete function, the waiter state machine calls isComplete at once and then every
  `IntervalSeconds` (x `BackoffRate`) up to `MaxAttempts` retries, read from the framework's waiter
  state machine in the template; exhausting them answers FAILED "Operation timed out". isComplete
  returning Data with IsComplete false is an error; the final Data is onEvent's merged with
  isComplete's.
- A failure on Create answers with the marker physical id
  `AWSCDK::CustomResourceProviderFramework::CREATE_FAILED` when no id was known yet; the Delete that
  CloudFormation sends for it during rollback is answered by the framework without calling the user.
- CloudFormation itself gives up on a custom resource after ServiceTimeout (default 3600 s).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import uuid
from typing import Any

from botocore.exceptions import ClientError

from local.runner.host import Host
from local.runner.intrinsics import stringify
from local.runner.lambdas import LambdaError, LambdaFunction
from local.runner.resources import Op, ResourceFailed, ResourceType, StateMachine, unzip_into
from local.runner.sim import Proc, Sleep
from local.runner.stepfunctions import StatesError

CREATE_FAILED_MARKER = "AWSCDK::CustomResourceProviderFramework::CREATE_FAILED"
CFN_TIMEOUT_SECONDS = 3600
NO_RESPONSE = (
    "CloudFormation did not receive a response from your Custom Resource. Please check your "
    "logs for requestId [{request_id}]. If you are using the Python cfn-response module, you "
    "may need to update your Lambda function code so that CloudFormation can attach the "
    "updated version."
)


class ProviderSettings:
    """queryInterval / totalTimeout as the framework's waiter state machine encodes them."""

    def __init__(self, interval: float = 5, max_attempts: int = 360, backoff: float = 1.0) -> None:
        self.interval = interval
        self.max_attempts = max_attempts
        self.backoff = backoff

    @classmethod
    def from_definition(cls, definition: dict[str, Any]) -> ProviderSettings:
        task = definition.get("States", {}).get("framework-isComplete-task")
        if not task:
            raise ResourceFailed("the Provider's waiter state machine has no framework-isComplete-task")
        retry: dict[str, Any] = next(
            (r for r in task.get("Retry", []) if "States.ALL" in r.get("ErrorEquals", [])), {}
        )
        return cls(
            float(retry.get("IntervalSeconds", 1)),
            int(retry.get("MaxAttempts", 3)),
            float(retry.get("BackoffRate", 2.0)),
        )


def provider_settings(host: Host, framework: LambdaFunction) -> ProviderSettings:
    """The settings of the Provider whose onEvent function is `framework`, from its waiter state
    machine (the function's WAITER_STATE_MACHINE_ARN), a resource of the same stack."""
    arn = framework.environment.get("WAITER_STATE_MACHINE_ARN")
    props = host.resource_properties("AWS::StepFunctions::StateMachine", arn) if arn else None
    if props is None:
        raise ResourceFailed(f"the Provider's waiter state machine {arn} is not in the stack")
    return ProviderSettings.from_definition(StateMachine.definition(props))


class CustomResource(ResourceType):
    """Any Custom::* / AWS::CloudFormation::CustomResource: dispatch on what serves it."""

    def create(self, host: Host, op: Op) -> Proc:
        return (yield from self._request(host, op, "Create"))

    def update(self, host: Host, op: Op) -> Proc:
        return (yield from self._request(host, op, "Update"))

    def delete(self, host: Host, op: Op) -> Proc:
        yield from self._request(host, op, "Delete")

    def _request(self, host: Host, op: Op, request_type: str) -> Proc:
        emulated = EMULATED.get(op.type)
        if emulated is not None:
            return (yield from emulated(host, op, request_type))
        token = str(op.properties.get("ServiceToken", ""))
        try:
            fn = host.lambdas.find(token)
        except LambdaError as error:
            raise ResourceFailed(
                f"ServiceToken {token} is not a function of this stack: {error.message}"
            ) from error
        if "USER_ON_EVENT_FUNCTION_ARN" in fn.environment:
            return (yield from provider_request(host, op, request_type, fn))
        raise ResourceFailed(
            f"custom resource {op.type} is served by {fn.name} ({fn.runtime}), which is not a CDK Provider "
            "framework function: only Provider-backed custom resources, BucketDeployment and S3 "
            "auto-delete are emulated locally"
        )


def request_id(host: Host, op: Op, request_type: str) -> str:
    seed = f"{host.stack_id}/{op.logical_id}/{request_type}/{host.next_request_number()}"
    return str(uuid.UUID(hashlib.md5(seed.encode()).hexdigest()))


def provider_request(host: Host, op: Op, request_type: str, framework: LambdaFunction) -> Proc:
    started = host.now()
    rid = request_id(host, op, request_type)
    event: dict[str, Any] = {
        "RequestType": request_type,
        "ServiceToken": framework.arn,
        "ResponseURL": "...",
        "StackId": host.stack_id,
        "RequestId": rid,
        "LogicalResourceId": op.logical_id,
        "ResourceType": op.type,
        "ResourceProperties": stringify(op.properties),
    }
    if request_type != "Create":
        event["PhysicalResourceId"] = op.physical_id
    if request_type == "Update":
        event["OldResourceProperties"] = stringify(op.old_properties or {})
    if request_type == "Delete" and op.physical_id == CREATE_FAILED_MARKER:
        return op.physical_id, {}
    deadline = started + float(op.properties.get("ServiceTimeout", CFN_TIMEOUT_SECONDS))
    env = framework.environment
    user_on_event = env["USER_ON_EVENT_FUNCTION_ARN"]
    user_is_complete = env.get("USER_IS_COMPLETE_FUNCTION_ARN")

    def fail(message: str, physical_id: str | None) -> ResourceFailed:
        if physical_id is None and request_type == "Create":
            physical_id = CREATE_FAILED_MARKER
        op.physical_id = physical_id
        return ResourceFailed(message)

    def user_call(arn: str, payload: dict[str, Any]) -> Any:
        try:
            result = host.invoke(arn, payload, op.logical_id)
        except LambdaError as error:
            name = arn.rsplit(":", 1)[-1]
            raise fail(
                f"{error.message} (Logs: /aws/lambda/{name})", payload.get("PhysicalResourceId")
            ) from error
        if result is not None and not isinstance(result, dict):
            raise fail(
                f"handler returned {type(result).__name__}, expected an object",
                payload.get("PhysicalResourceId"),
            )
        return result or {}

    result = user_call(user_on_event, event)
    if host.duplicate_deliveries:
        # CloudFormation invokes the framework asynchronously, at least once: a second delivery of
        # the same request (same RequestId) runs the handler again; the first answer counts.
        try:
            user_call(user_on_event, dict(event))
        except ResourceFailed:
            host.note(
                f"{op.logical_id}: the duplicate {request_type} delivery failed (the first answer counts)"
            )
        op.physical_id = None if request_type == "Create" else op.physical_id
    physical_id = result.get("PhysicalResourceId") or (rid if request_type == "Create" else op.physical_id)
    if request_type == "Delete" and physical_id != op.physical_id:
        raise fail(
            f'DELETE: cannot change the physical resource ID from "{op.physical_id}" to '
            f'"{result.get("PhysicalResourceId")}" during deletion',
            op.physical_id,
        )
    resource_event = {**event, **result, "PhysicalResourceId": physical_id}
    if not user_is_complete:
        op.physical_id = physical_id
        return physical_id, dict(result.get("Data") or {})
    settings = provider_settings(host, framework)
    attempt = 0
    while True:
        done = user_call(user_is_complete, resource_event)
        if done.get("IsComplete"):
            op.physical_id = physical_id
            return physical_id, {**(resource_event.get("Data") or {}), **(done.get("Data") or {})}
        if done.get("Data"):
            raise fail('"Data" is not allowed if "IsComplete" is "False"', physical_id)
        if attempt >= settings.max_attempts:
            raise fail("Operation timed out", physical_id)
        delay = settings.interval * settings.backoff**attempt
        attempt += 1
        if host.now() + delay > deadline:
            yield Sleep(max(0.0, deadline - host.now()))
            op.physical_id = physical_id
            raise ResourceFailed(NO_RESPONSE.format(request_id=rid))
        yield Sleep(delay)


# --- BucketDeployment --------------------------------------------------------------------------
def bucket_deployment(host: Host, op: Op, request_type: str) -> Proc:
    """What aws-cdk-lib/aws-s3-deployment's handler does with `aws s3 sync`: unzip each source
    asset into the destination bucket/prefix; Prune deletes what the sources do not have;
    RetainOnDelete (default true) keeps the files when the resource goes."""
    props = op.properties
    s3 = host.client("s3")
    physical_id = op.physical_id or f"aws.cdk.s3deployment.{request_id(host, op, request_type)}"
    retain = str(props.get("RetainOnDelete", "true")).lower() == "true"
    if request_type == "Delete":
        if not retain:
            _remove_prefix(s3, props["DestinationBucketName"], props.get("DestinationBucketKeyPrefix", ""))
        return physical_id, {}
    for unsupported in ("SourceMarkers", "SourceMarkersConfig", "DistributionId"):
        if (
            any(props.get(unsupported) or [])
            if isinstance(props.get(unsupported), list)
            else props.get(unsupported)
        ):
            raise ResourceFailed(f"BucketDeployment {unsupported} is not emulated locally")
    bucket = props["DestinationBucketName"]
    prefix = props.get("DestinationBucketKeyPrefix", "")
    old = op.old_properties or {}
    if (
        request_type == "Update"
        and not retain
        and (old.get("DestinationBucketName"), old.get("DestinationBucketKeyPrefix", "")) != (bucket, prefix)
    ):
        _remove_prefix(s3, old["DestinationBucketName"], old.get("DestinationBucketKeyPrefix", ""))
    extract = str(props.get("Extract", "true")).lower() == "true"
    wanted: dict[str, bytes] = {}
    keys = props.get("SourceObjectKeys", [])
    if not extract:
        raise ResourceFailed("BucketDeployment with Extract false is not emulated locally")
    for key in keys:
        folder = host.published_asset(key)
        unzip_into(folder, lambda rel, data: wanted.__setitem__(_join(prefix, rel), data))
    excludes = [_glob(p) for p in props.get("Exclude", [])]
    includes = [_glob(p) for p in props.get("Include", [])]
    wanted = {
        k: v
        for k, v in wanted.items()
        if not any(x.match(k[len(prefix) :]) for x in excludes)
        or any(i.match(k[len(prefix) :]) for i in includes)
    }
    try:
        for key, data in sorted(wanted.items()):
            s3.put_object(Bucket=bucket, Key=key, Body=data)
        if str(props.get("Prune", "true")).lower() == "true":
            for key in _list_keys(s3, bucket, prefix):
                if key not in wanted and not any(x.match(key[len(prefix) :]) for x in excludes):
                    s3.delete_object(Bucket=bucket, Key=key)
    except ClientError as error:
        raise ResourceFailed(f"BucketDeployment to s3://{bucket}/{prefix}: {error}") from error
    attributes = {"DestinationBucketArn": f"arn:{host.partition}:s3:::{bucket}"}
    if str(props.get("OutputObjectKeys", "true")).lower() == "true":
        attributes["SourceObjectKeys"] = json.dumps(keys)
    return physical_id, attributes
    yield


def _join(prefix: str, key: str) -> str:
    return f"{prefix.rstrip('/')}/{key}" if prefix else key


def _glob(pattern: str) -> re.Pattern[str]:
    return re.compile("^" + re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".") + "$")


def _list_keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(o["Key"] for o in page.get("Contents", []))
    return keys


def _remove_prefix(s3: Any, bucket: str, prefix: str) -> None:
    try:
        for key in _list_keys(s3, bucket, prefix):
            s3.delete_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "NoSuchBucket":
            raise ResourceFailed(f"BucketDeployment delete s3://{bucket}/{prefix}: {error}") from error


# --- S3 auto-delete objects --------------------------------------------------------------------
AUTO_DELETE_TAG = "aws-cdk:auto-delete-objects"


def auto_delete_objects(host: Host, op: Op, request_type: str) -> Proc:
    """aws-cdk-lib's auto-delete handler: on Delete (or an Update that moves to another bucket)
    empty the bucket, every version, but only while it carries the auto-delete tag."""
    s3 = host.client("s3")
    physical_id = op.physical_id or request_id(host, op, request_type)
    if request_type == "Update":
        old_bucket = (op.old_properties or {}).get("BucketName")
        if old_bucket and old_bucket != op.properties.get("BucketName"):
            empty_bucket(host, s3, old_bucket)
    if request_type == "Delete":
        empty_bucket(host, s3, op.properties["BucketName"])
    return physical_id, {}
    yield


def empty_bucket(host: Host, s3: Any, bucket: str) -> None:
    try:
        tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket).get("TagSet", [])}
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code == "NoSuchBucket":
            return
        if code != "NoSuchTagSet":
            raise ResourceFailed(f"auto-delete objects in {bucket}: {error}") from error
        tags = {}
    if tags.get(AUTO_DELETE_TAG) != "true":
        host.note(f"bucket {bucket} is not tagged {AUTO_DELETE_TAG}=true: objects left in place")
        return
    paginator = s3.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket):
        batch = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        if batch:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})


def log_retention(host: Host, op: Op, request_type: str) -> Proc:
    """Custom::LogRetention (CDK's logRetention on a Function): set or remove the retention."""
    logs = host.client("logs")
    name = op.properties["LogGroupName"]
    if request_type == "Delete":
        if str(op.properties.get("RemovalPolicy", "retain")).lower() == "destroy":
            with contextlib.suppress(ClientError):
                logs.delete_log_group(logGroupName=name)
        return op.physical_id, {}
    with contextlib.suppress(ClientError):  # it may exist already (Lambda creates it on first log)
        logs.create_log_group(logGroupName=name)
    days = op.properties.get("RetentionInDays")
    if days and str(days) != "0":
        logs.put_retention_policy(logGroupName=name, retentionInDays=int(str(days)))
    arn = f"arn:{host.partition}:logs:{host.region}:{host.account}:log-group:{name}"
    return name, {"LogGroupArn": arn}
    yield


EMULATED = {
    "Custom::CDKBucketDeployment": bucket_deployment,
    "Custom::S3AutoDeleteObjects": auto_delete_objects,
    "Custom::LogRetention": log_retention,
}

__all__ = ["CREATE_FAILED_MARKER", "CustomResource", "ProviderSettings", "StatesError"]
