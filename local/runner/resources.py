"""Resource types the runner deploys, each as CloudFormation's resource provider would.

A type has `create`, `update` and `delete`, generators run by the simulation (they may wait in
virtual time) with the stack operation as their `Host` (host.py). Whether a property change is an
update in place, a replacement (the engine creates the new physical resource, the cleanup phase
deletes the old one) or refused is not the type's to say: update_rules.py reads it from
CloudFormation's resource schemas.

Native types are created in moto (S3, IAM, Logs, Step Functions) or recorded (Lambda: the runner is
the Lambda service). Custom resources go to `local.runner.custom`.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from local.emulator import moto_internals
from local.runner.host import Host
from local.runner.lambdas import LambdaFunction
from local.runner.sim import Cancelled, Proc, Until
from local.runner.stepfunctions import AslError, Interpreter

Result = tuple[str, dict[str, Any]]


class ResourceFailed(Exception):
    """The resource operation failed; the message is CloudFormation's status reason."""


@dataclass
class Op:
    """One resource operation: what the provider needs to know."""

    logical_id: str
    type: str
    properties: dict[str, Any]
    old_properties: dict[str, Any] | None = None
    physical_id: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    generation: int = 0


class ResourceType:
    def create(self, host: Host, op: Op) -> Proc:
        raise NotImplementedError
        yield

    def update(self, host: Host, op: Op) -> Proc:
        """Default: apply the new properties in place (create-style idempotent calls)."""
        return (yield from self.create(host, op))

    def delete(self, host: Host, op: Op) -> Proc:
        return None
        yield


def generated_name(host: Host, op: Op, max_len: int, lower: bool = False, sep: str = "-") -> str:
    """CloudFormation's generated names: <stack>-<logical id>-<random>, deterministic here."""
    digest = hashlib.sha256(f"{host.stack_id}/{op.logical_id}/{op.generation}".encode()).hexdigest()
    suffix = digest[:12].upper()
    head = f"{host.stack_name}{sep}{op.logical_id}"
    head = head[: max_len - len(suffix) - 1]
    name = f"{head}{sep}{suffix}"
    if lower:
        name = re.sub(r"[^a-z0-9.-]", "-", name.lower())
    return name


def _client_error(error: ClientError) -> str:
    err = error.response.get("Error", {})
    return f"{err.get('Code')}: {err.get('Message')}"


@contextmanager
def _gone_is_fine(*codes: str) -> Iterator[None]:
    """A delete that finds its resource already gone succeeded; any other error fails the resource."""
    try:
        yield
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in codes:
            raise ResourceFailed(_client_error(error)) from error


def _note_unemulated(host: Host, op: Op, applied: tuple[str, ...]) -> None:
    extra = sorted(set(op.properties) - set(applied))
    if extra:
        host.note(f"{op.type} {op.logical_id}: {', '.join(extra)} recorded, not emulated")


def _tags(props: dict[str, Any]) -> list[dict[str, str]]:
    return [{"Key": str(t["Key"]), "Value": str(t["Value"])} for t in props.get("Tags", [])]


# --- S3 ----------------------------------------------------------------------------------------
class S3Bucket(ResourceType):
    #: applied in moto; anything else is recorded and listed in the deploy notes
    APPLIED = (
        "BucketName",
        "Tags",
        "VersioningConfiguration",
        "BucketEncryption",
        "PublicAccessBlockConfiguration",
        "OwnershipControls",
        "LoggingConfiguration",
    )

    def create(self, host: Host, op: Op) -> Proc:
        props = op.properties
        s3 = host.client("s3")
        name = op.physical_id or props.get("BucketName") or generated_name(host, op, 63, lower=True)
        if op.physical_id is None:
            args: dict[str, Any] = {"Bucket": name}
            if host.region != "us-east-1":
                args["CreateBucketConfiguration"] = {"LocationConstraint": host.region}
            try:
                s3.create_bucket(**args)
            except ClientError as error:
                raise ResourceFailed(
                    f"{name} already exists" if "Already" in _client_error(error) else _client_error(error)
                ) from error
            op.physical_id = name  # exists now: a failure below still leaves it to delete
        self._configure(host, s3, name, props, op.old_properties or {})
        _note_unemulated(host, op, self.APPLIED)
        return name, self.attributes(host, name)
        yield

    def _configure(self, host: Host, s3: Any, name: str, props: dict[str, Any], old: dict[str, Any]) -> None:
        try:
            if props.get("Tags"):
                s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": _tags(props)})
            elif old.get("Tags"):
                s3.delete_bucket_tagging(Bucket=name)
            if "VersioningConfiguration" in props:
                s3.put_bucket_versioning(
                    Bucket=name,
                    VersioningConfiguration={"Status": props["VersioningConfiguration"]["Status"]},
                )
            if "BucketEncryption" in props:
                rules = [
                    {
                        (
                            "ApplyServerSideEncryptionByDefault"
                            if k == "ServerSideEncryptionByDefault"
                            else k
                        ): v
                        for k, v in rule.items()
                    }
                    for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
                ]
                s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
            if "PublicAccessBlockConfiguration" in props:
                s3.put_public_access_block(
                    Bucket=name,
                    PublicAccessBlockConfiguration={
                        k: bool(v) for k, v in props["PublicAccessBlockConfiguration"].items()
                    },
                )
            if "OwnershipControls" in props:
                s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=props["OwnershipControls"])
            if "LoggingConfiguration" in props:
                logging = props["LoggingConfiguration"]
                enabled: dict[str, Any] = {
                    "TargetBucket": logging.get("DestinationBucketName", name),
                    "TargetPrefix": logging.get("LogFilePrefix", ""),
                }
                try:
                    s3.put_bucket_logging(Bucket=name, BucketLoggingStatus={"LoggingEnabled": enabled})
                except ClientError as error:
                    if error.response.get("Error", {}).get(
                        "Code"
                    ) != "InvalidTargetBucketForLogging" or "does not exist" in str(error):
                        raise
                    # moto checks the target's log-delivery permission at PutBucketLogging; S3 does
                    # not, and CDK's target policy names this bucket's ARN, so it comes later.
                    _set_logging_directly(host, name, enabled)
                    host.note(
                        f"bucket {name}: logging set without moto's target-permission check "
                        "(the target bucket policy is created after this bucket)"
                    )
        except ClientError as error:
            raise ResourceFailed(_client_error(error)) from error

    def attributes(self, host: Host, name: str) -> dict[str, Any]:
        return {
            "Arn": f"arn:{host.partition}:s3:::{name}",
            "DomainName": f"{name}.s3.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{host.region}.amazonaws.com",
            "DualStackDomainName": f"{name}.s3.dualstack.{host.region}.amazonaws.com",
            "WebsiteURL": f"http://{name}.s3-website-{host.region}.amazonaws.com",
        }

    def delete(self, host: Host, op: Op) -> Proc:
        s3 = host.client("s3")
        try:
            s3.delete_bucket(Bucket=op.physical_id)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code == "NoSuchBucket":
                return None
            if code == "BucketNotEmpty":
                raise ResourceFailed(
                    "The bucket you tried to delete is not empty (Service: S3, Status Code: 409)"
                ) from error
            raise ResourceFailed(_client_error(error)) from error
        return None
        yield


def _set_logging_directly(host: Host, name: str, enabled: dict[str, Any]) -> None:
    moto_internals.set_bucket_logging(host.account, host.partition, name, enabled)


class S3BucketPolicy(ResourceType):
    def create(self, host: Host, op: Op) -> Proc:
        bucket = op.properties["Bucket"]
        try:
            host.client("s3").put_bucket_policy(
                Bucket=bucket, Policy=json.dumps(op.properties["PolicyDocument"])
            )
        except ClientError as error:
            raise ResourceFailed(_client_error(error)) from error
        return op.physical_id or generated_name(host, op, 128), {}
        yield

    def delete(self, host: Host, op: Op) -> Proc:
        with _gone_is_fine("NoSuchBucket"):
            host.client("s3").delete_bucket_policy(Bucket=op.properties["Bucket"])
        return None
        yield


# --- IAM ---------------------------------------------------------------------------------------
class IamRole(ResourceType):
    def create(self, host: Host, op: Op) -> Proc:
        props = op.properties
        iam = host.client("iam")
        name = op.physical_id or props.get("RoleName") or generated_name(host, op, 64)
        old = op.old_properties or {}
        try:
            if op.physical_id is None:
                args: dict[str, Any] = {
                    "RoleName": name,
                    "Path": props.get("Path", "/"),
                    "AssumeRolePolicyDocument": json.dumps(props["AssumeRolePolicyDocument"]),
                }
                if props.get("Description"):
                    args["Description"] = props["Description"]
                if props.get("MaxSessionDuration"):
                    args["MaxSessionDuration"] = int(props["MaxSessionDuration"])
                if props.get("PermissionsBoundary"):
                    args["PermissionsBoundary"] = props["PermissionsBoundary"]
                if props.get("Tags"):
                    args["Tags"] = _tags(props)
                iam.create_role(**args)
                op.physical_id = name
            else:
                iam.update_assume_role_policy(
                    RoleName=name, PolicyDocument=json.dumps(props["AssumeRolePolicyDocument"])
                )
            for arn in set(old.get("ManagedPolicyArns", [])) - set(props.get("ManagedPolicyArns", [])):
                iam.detach_role_policy(RoleName=name, PolicyArn=arn)
            for arn in props.get("ManagedPolicyArns", []):
                self._attach(host, iam, name, arn)
            new_inline = {p["PolicyName"]: p["PolicyDocument"] for p in props.get("Policies", [])}
            for policy in old.get("Policies", []):
                if policy["PolicyName"] not in new_inline:
                    iam.delete_role_policy(RoleName=name, PolicyName=policy["PolicyName"])
            for policy_name, document in new_inline.items():
                iam.put_role_policy(
                    RoleName=name, PolicyName=policy_name, PolicyDocument=json.dumps(document)
                )
            role = iam.get_role(RoleName=name)["Role"]
        except ClientError as error:
            raise ResourceFailed(_client_error(error)) from error
        return name, {"Arn": role["Arn"], "RoleId": role["RoleId"]}
        yield

    def _attach(self, host: Host, iam: Any, name: str, arn: str) -> None:
        try:
            iam.attach_role_policy(RoleName=name, PolicyArn=arn)
        except ClientError as error:
            # moto may not carry every AWS managed policy; the attachment only matters for the
            # Lambda execution roles, which the local Lambda service does not enforce.
            if ":iam::aws:policy/" in arn and error.response.get("Error", {}).get("Code") == "NoSuchEntity":
                host.note(f"AWS managed policy {arn} is not in moto: attachment recorded only")
                return
            raise

    def delete(self, host: Host, op: Op) -> Proc:
        iam = host.client("iam")
        name = op.physical_id
        with _gone_is_fine("NoSuchEntity"):
            for policy in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
                iam.detach_role_policy(RoleName=name, PolicyArn=policy["PolicyArn"])
            for policy_name in iam.list_role_policies(RoleName=name)["PolicyNames"]:
                iam.delete_role_policy(RoleName=name, PolicyName=policy_name)
            iam.delete_role(RoleName=name)
        return None
        yield


class IamPolicy(ResourceType):
    """An inline policy put on each role (users and groups are not emulated: an error)."""

    def create(self, host: Host, op: Op) -> Proc:
        props = op.properties
        if props.get("Users") or props.get("Groups"):
            raise ResourceFailed("AWS::IAM::Policy on Users or Groups is not emulated locally")
        iam = host.client("iam")
        old = op.old_properties or {}
        try:
            for role in set(old.get("Roles", [])) - set(props.get("Roles", [])):
                iam.delete_role_policy(RoleName=role, PolicyName=old["PolicyName"])
            if old.get("PolicyName") and old["PolicyName"] != props["PolicyName"]:
                for role in old.get("Roles", []):
                    iam.delete_role_policy(RoleName=role, PolicyName=old["PolicyName"])
            for role in props.get("Roles", []):
                iam.put_role_policy(
                    RoleName=role,
                    PolicyName=props["PolicyName"],
                    PolicyDocument=json.dumps(props["PolicyDocument"]),
                )
        except ClientError as error:
            raise ResourceFailed(_client_error(error)) from error
        return op.physical_id or generated_name(host, op, 128), {}
        yield

    def delete(self, host: Host, op: Op) -> Proc:
        iam = host.client("iam")
        for role in op.properties.get("Roles", []):
            with _gone_is_fine("NoSuchEntity"):
                iam.delete_role_policy(RoleName=role, PolicyName=op.properties["PolicyName"])
        return None
        yield


class IamManagedPolicy(ResourceType):
    def create(self, host: Host, op: Op) -> Proc:
        props = op.properties
        iam = host.client("iam")
        try:
            if op.physical_id is None:
                name = props.get("ManagedPolicyName") or generated_name(host, op, 128)
                arn = iam.create_policy(
                    PolicyName=name,
                    Path=props.get("Path", "/"),
                    PolicyDocument=json.dumps(props["PolicyDocument"]),
                )["Policy"]["Arn"]
            else:
                arn = op.physical_id
                versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
                for version in versions:
                    if not version["IsDefaultVersion"]:
                        iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
                iam.create_policy_version(
                    PolicyArn=arn, PolicyDocument=json.dumps(props["PolicyDocument"]), SetAsDefault=True
                )
            old_roles = set((op.old_properties or {}).get("Roles", []))
            for role in old_roles - set(props.get("Roles", [])):
                iam.detach_role_policy(RoleName=role, PolicyArn=arn)
            for role in props.get("Roles", []):
                iam.attach_role_policy(RoleName=role, PolicyArn=arn)
        except ClientError as error:
            raise ResourceFailed(_client_error(error)) from error
        return arn, {"PolicyArn": arn}
        yield

    def delete(self, host: Host, op: Op) -> Proc:
        iam = host.client("iam")
        with _gone_is_fine("NoSuchEntity"):
            for role in op.properties.get("Roles", []):
                iam.detach_role_policy(RoleName=role, PolicyArn=op.physical_id)
            for version in iam.list_policy_versions(PolicyArn=op.physical_id)["Versions"]:
                if not version["IsDefaultVersion"]:
                    iam.delete_policy_version(PolicyArn=op.physical_id, VersionId=version["VersionId"])
            iam.delete_policy(PolicyArn=op.physical_id)
        return None
        yield


# --- Lambda ------------------------------------------------------------------------------------
class LambdaFunctionType(ResourceType):
    """Recorded, not created in moto: the runner is the Lambda service (Python handlers run
    in-process from their asset; other runtimes are only recorded)."""

    def create(self, host: Host, op: Op) -> Proc:
        props = op.properties
        name = op.physical_id or props.get("FunctionName") or generated_name(host, op, 64)
        arn = f"arn:{host.partition}:lambda:{host.region}:{host.account}:function:{name}"
        code_dir = host.function_code(op.logical_id, props.get("Code", {}), str(props.get("Runtime", "")))
        op.extra["code_dir"] = str(code_dir) if code_dir else None
        self.register(host, name, arn, props, code_dir, op.logical_id)
        return name, {"Arn": arn}
        yield

    @staticmethod
    def register(
        host: Host, name: str, arn: str, props: dict[str, Any], code_dir: Path | None, logical_id: str
    ) -> None:
        env = {k: str(v) for k, v in props.get("Environment", {}).get("Variables", {}).items()}
        host.lambdas.register(
            LambdaFunction(
                name=name,
                arn=arn,
                handler=str(props.get("Handler", "")),
                runtime=str(props.get("Runtime", "")),
                environment=env,
                code_dir=code_dir,
                timeout=int(props.get("Timeout", 3)),
                memory=int(props.get("MemorySize", 128)),
                logical_id=logical_id,
                role_arn=str(props.get("Role", "")),
            )
        )

    def delete(self, host: Host, op: Op) -> Proc:
        host.lambdas.unregister(op.attributes.get("Arn", ""))
        return None
        yield


class LambdaLayer(ResourceType):
    def create(self, host: Host, op: Op) -> Proc:
        name = op.properties.get("LayerName") or generated_name(host, op, 64)
        arn = f"arn:{host.partition}:lambda:{host.region}:{host.account}:layer:{name}:1"
        return arn, {"LayerVersionArn": arn}
        yield


class LambdaPermission(ResourceType):
    def create(self, host: Host, op: Op) -> Proc:
        return op.physical_id or generated_name(host, op, 128), {}
        yield


# --- Logs, metadata ----------------------------------------------------------------------------
class LogGroup(ResourceType):
    def create(self, host: Host, op: Op) -> Proc:
        props = op.properties
        logs = host.client("logs")
        name = op.physical_id or props.get("LogGroupName") or generated_name(host, op, 512)
        try:
            if op.physical_id is None:
                logs.create_log_group(
                    logGroupName=name,
                    **({"tags": {t["Key"]: t["Value"] for t in _tags(props)}} if props.get("Tags") else {}),
                )
                op.physical_id = name
            if props.get("RetentionInDays"):
                logs.put_retention_policy(logGroupName=name, retentionInDays=int(props["RetentionInDays"]))
        except ClientError as error:
            raise ResourceFailed(_client_error(error)) from error
        arn = f"arn:{host.partition}:logs:{host.region}:{host.account}:log-group:{name}:*"
        return name, {"Arn": arn}
        yield

    def delete(self, host: Host, op: Op) -> Proc:
        with _gone_is_fine("ResourceNotFoundException"):
            host.client("logs").delete_log_group(logGroupName=op.physical_id)
        return None
        yield


class CdkMetadata(ResourceType):
    def create(self, host: Host, op: Op) -> Proc:
        return op.physical_id or generated_name(host, op, 128), {}
        yield


# --- Step Functions ----------------------------------------------------------------------------
class StateMachine(ResourceType):
    def create(self, host: Host, op: Op) -> Proc:
        props = op.properties
        definition = self.definition(props)
        try:
            Interpreter(definition, host.lambdas, host.now).validate()
        except AslError as error:
            raise ResourceFailed(f"state machine definition: {error}") from error
        sfn = host.client("stepfunctions")
        try:
            if op.physical_id is None:
                name = props.get("StateMachineName") or generated_name(host, op, 80).split("-", 1)[-1]
                arn = sfn.create_state_machine(
                    name=name,
                    definition=json.dumps(definition),
                    roleArn=props["RoleArn"],
                    type=props.get("StateMachineType", "STANDARD"),
                    **(
                        {"tags": [{"key": t["Key"], "value": t["Value"]} for t in _tags(props)]}
                        if props.get("Tags")
                        else {}
                    ),
                )["stateMachineArn"]
            else:
                arn = op.physical_id
                sfn.update_state_machine(
                    stateMachineArn=arn, definition=json.dumps(definition), roleArn=props["RoleArn"]
                )
        except ClientError as error:
            raise ResourceFailed(_client_error(error)) from error
        name = arn.rsplit(":", 1)[-1]
        return arn, {"Arn": arn, "Name": name, "StateMachineRevisionId": "INITIAL"}
        yield

    @staticmethod
    def definition(props: dict[str, Any]) -> dict[str, Any]:
        if "DefinitionString" in props:
            text = props["DefinitionString"]
        elif "Definition" in props:
            text = json.dumps(props["Definition"])
        else:
            raise ResourceFailed(
                "state machine needs DefinitionString or Definition (S3 locations are not emulated)"
            )
        for key, value in props.get("DefinitionSubstitutions", {}).items():
            text = text.replace("${" + key + "}", str(value))
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as error:
            raise ResourceFailed(f"state machine definition is not JSON: {error}") from error
        if not isinstance(parsed, dict):
            raise ResourceFailed("state machine definition must be a JSON object")
        return parsed

    def delete(self, host: Host, op: Op) -> Proc:
        with _gone_is_fine("StateMachineDoesNotExist"):
            host.client("stepfunctions").delete_state_machine(stateMachineArn=op.physical_id)
        return None
        yield


# --- wait conditions ---------------------------------------------------------------------------
class WaitConditionHandle(ResourceType):
    def create(self, host: Host, op: Op) -> Proc:
        if op.physical_id is not None:  # no properties: an update changes nothing
            return op.physical_id, {}
        token = hashlib.sha256(f"{host.stack_id}/{op.logical_id}/{op.generation}".encode()).hexdigest()[:32]
        op.extra["token"] = token
        url = host.signals.open_handle(token)
        return url, {}
        yield

    def delete(self, host: Host, op: Op) -> Proc:
        if op.physical_id:
            host.signals.close_handle(host.signals.token_of(op.physical_id))
        return None
        yield


class WaitCondition(ResourceType):
    """Waits (virtual time) for Count SUCCESS signals on its handle; fails on a FAILURE or timeout."""

    def create(self, host: Host, op: Op) -> Proc:
        props = op.properties
        if op.physical_id is not None:
            if op.old_properties is not None and op.old_properties != props:
                raise ResourceFailed("Updates are not supported for AWS::CloudFormation::WaitCondition")
            return op.physical_id, op.attributes
        handle = str(props.get("Handle", ""))
        if "Timeout" not in props:
            raise ResourceFailed(
                "WaitCondition needs Timeout (CreationPolicy wait conditions are not emulated)"
            )
        timeout = int(str(props["Timeout"]))
        if not 0 < timeout <= 43200:
            raise ResourceFailed(f"WaitCondition Timeout must be 1..43200 seconds, got {timeout}")
        count = int(str(props.get("Count", 1)))
        token = host.signals.token_of(handle)

        def state() -> tuple[int, Any]:
            signals = host.signals.signals(token)
            failure = next((s for s in signals.values() if s.status == "FAILURE"), None)
            successes = sum(1 for s in signals.values() if s.status == "SUCCESS")
            return successes, failure

        def settled() -> bool:
            successes, failure = state()
            return failure is not None or successes >= count

        try:
            finished = yield Until(settled, timeout=float(timeout))
        except Cancelled:
            raise ResourceFailed("Resource creation cancelled") from None
        successes, failure = state()
        if failure is not None:
            raise ResourceFailed(
                f"WaitCondition received failed message: '{failure.reason}' for uniqueId: {failure.unique_id}"
            )
        if not finished:
            raise ResourceFailed(
                f"WaitCondition timed out. Received {successes} conditions when expecting {count}"
            )
        data = {s.unique_id: s.data for s in host.signals.signals(token).values() if s.status == "SUCCESS"}
        physical = (
            f"arn:{host.partition}:cloudformation:{host.region}:{host.account}:stack/"
            f"{host.stack_name}/{host.stack_id.rsplit('/', 1)[-1]}/{op.logical_id}"
        )
        return physical, {"Data": json.dumps(data)}


# --- KMS, SNS, CloudWatch (monitoring) -----------------------------------------------------------
class KmsKey(ResourceType):
    def create(self, host: Host, op: Op) -> Proc:
        props = op.properties
        kms = host.client("kms")
        try:
            if op.physical_id is None:
                args: dict[str, Any] = {
                    "Policy": json.dumps(props["KeyPolicy"]) if "KeyPolicy" in props else None,
                    "Description": props.get("Description", ""),
                    "KeyUsage": props.get("KeyUsage", "ENCRYPT_DECRYPT"),
                    "KeySpec": props.get("KeySpec", "SYMMETRIC_DEFAULT"),
                }
                if props.get("Tags"):
                    args["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in _tags(props)]
                meta = kms.create_key(**{k: v for k, v in args.items() if v is not None})["KeyMetadata"]
                key_id = meta["KeyId"]
                op.physical_id = key_id
            else:
                key_id = op.physical_id
                if "KeyPolicy" in props:
                    kms.put_key_policy(
                        KeyId=key_id, PolicyName="default", Policy=json.dumps(props["KeyPolicy"])
                    )
                kms.update_key_description(KeyId=key_id, Description=props.get("Description", ""))
            if str(props.get("EnableKeyRotation", "false")).lower() == "true":
                kms.enable_key_rotation(KeyId=key_id)
            elif (
                op.old_properties
                and str(op.old_properties.get("EnableKeyRotation", "false")).lower() == "true"
            ):
                kms.disable_key_rotation(KeyId=key_id)
            arn = kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
        except ClientError as error:
            raise ResourceFailed(_client_error(error)) from error
        return key_id, {"Arn": arn, "KeyId": key_id}
        yield

    def delete(self, host: Host, op: Op) -> Proc:
        days = int(op.properties.get("PendingWindowInDays", 30))
        with _gone_is_fine("NotFoundException", "KMSInvalidStateException"):
            host.client("kms").schedule_key_deletion(KeyId=op.physical_id, PendingWindowInDays=days)
        return None
        yield


class KmsAlias(ResourceType):
    def create(self, host: Host, op: Op) -> Proc:
        kms = host.client("kms")
        name, target = op.properties["AliasName"], op.properties["TargetKeyId"]
        try:
            if op.physical_id is None:
                kms.create_alias(AliasName=name, TargetKeyId=target)
            else:
                kms.update_alias(AliasName=name, TargetKeyId=target)
        except ClientError as error:
            raise ResourceFailed(_client_error(error)) from error
        return name, {}
        yield

    def delete(self, host: Host, op: Op) -> Proc:
        with _gone_is_fine("NotFoundException"):
            host.client("kms").delete_alias(AliasName=op.physical_id)
        return None
        yield


class SnsTopic(ResourceType):
    ATTRIBUTES = (
        "DisplayName",
        "KmsMasterKeyId",
        "FifoTopic",
        "ContentBasedDeduplication",
        "SignatureVersion",
        "TracingConfig",
    )

    def create(self, host: Host, op: Op) -> Proc:
        props = op.properties
        sns = host.client("sns")
        attributes = {
            k: str(v).lower() if isinstance(v, bool) else str(v)
            for k, v in props.items()
            if k in self.ATTRIBUTES
        }
        try:
            if op.physical_id is None:
                name = props.get("TopicName") or generated_name(host, op, 256)
                args: dict[str, Any] = {"Name": name, "Attributes": attributes}
                if props.get("Tags"):
                    args["Tags"] = _tags(props)
                arn = sns.create_topic(**args)["TopicArn"]
                op.physical_id = arn
            else:
                arn = op.physical_id
                for key, value in attributes.items():
                    sns.set_topic_attributes(TopicArn=arn, AttributeName=key, AttributeValue=value)
            for sub in props.get("Subscription", []):
                if op.old_properties is None or sub not in op.old_properties.get("Subscription", []):
                    sns.subscribe(TopicArn=arn, Protocol=sub["Protocol"], Endpoint=sub["Endpoint"])
        except ClientError as error:
            raise ResourceFailed(_client_error(error)) from error
        return arn, {"TopicArn": arn, "TopicName": arn.rsplit(":", 1)[-1]}
        yield

    def delete(self, host: Host, op: Op) -> Proc:
        with _gone_is_fine("NotFound"):
            host.client("sns").delete_topic(TopicArn=op.physical_id)
        return None
        yield


class SnsTopicPolicy(ResourceType):
    def create(self, host: Host, op: Op) -> Proc:
        sns = host.client("sns")
        try:
            for topic in op.properties.get("Topics", []):
                sns.set_topic_attributes(
                    TopicArn=topic,
                    AttributeName="Policy",
                    AttributeValue=json.dumps(op.properties["PolicyDocument"]),
                )
        except ClientError as error:
            raise ResourceFailed(_client_error(error)) from error
        return op.physical_id or generated_name(host, op, 128), {}
        yield


class SnsSubscription(ResourceType):
    def create(self, host: Host, op: Op) -> Proc:
        props = op.properties
        if op.physical_id is not None:
            return op.physical_id, {}
        try:
            arn = host.client("sns").subscribe(
                TopicArn=props["TopicArn"],
                Protocol=props["Protocol"],
                Endpoint=props["Endpoint"],
                ReturnSubscriptionArn=True,
            )["SubscriptionArn"]
        except ClientError as error:
            raise ResourceFailed(_client_error(error)) from error
        return arn, {"Arn": arn}
        yield

    def delete(self, host: Host, op: Op) -> Proc:
        with _gone_is_fine("NotFound"):
            host.client("sns").unsubscribe(SubscriptionArn=op.physical_id)
        return None
        yield


class CloudWatchAlarm(ResourceType):
    INTS = ("Period", "EvaluationPeriods", "DatapointsToAlarm")
    PASS = (
        "AlarmDescription",
        "AlarmActions",
        "OKActions",
        "InsufficientDataActions",
        "MetricName",
        "Namespace",
        "Statistic",
        "ExtendedStatistic",
        "Dimensions",
        "Unit",
        "ComparisonOperator",
        "TreatMissingData",
        "EvaluateLowSampleCountPercentile",
        "Metrics",
        "ThresholdMetricId",
    )

    def create(self, host: Host, op: Op) -> Proc:
        props = op.properties
        name = op.physical_id or props.get("AlarmName") or generated_name(host, op, 255)
        args: dict[str, Any] = {"AlarmName": name, **{k: props[k] for k in self.PASS if k in props}}
        args.update({k: int(props[k]) for k in self.INTS if k in props})
        if "Threshold" in props:
            args["Threshold"] = float(props["Threshold"])
        if "ActionsEnabled" in props:
            args["ActionsEnabled"] = str(props["ActionsEnabled"]).lower() == "true"
        if props.get("Tags"):
            args["Tags"] = _tags(props)
        for query in args.get("Metrics", []):
            if "MetricStat" in query:
                query["MetricStat"]["Period"] = int(query["MetricStat"]["Period"])
            if "ReturnData" in query:
                query["ReturnData"] = str(query["ReturnData"]).lower() == "true"
        cloudwatch = host.client("cloudwatch")
        try:
            cloudwatch.put_metric_alarm(**args)
            arn = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["AlarmArn"]
        except (ClientError, IndexError) as error:
            raise ResourceFailed(f"PutMetricAlarm {name}: {error}") from error
        return name, {"Arn": arn}
        yield

    def delete(self, host: Host, op: Op) -> Proc:
        try:
            host.client("cloudwatch").delete_alarms(AlarmNames=[op.physical_id])
        except ClientError as error:
            raise ResourceFailed(_client_error(error)) from error
        return None
        yield


class CloudWatchDashboard(ResourceType):
    def create(self, host: Host, op: Op) -> Proc:
        name = op.physical_id or op.properties.get("DashboardName") or generated_name(host, op, 255)
        try:
            host.client("cloudwatch").put_dashboard(
                DashboardName=name, DashboardBody=op.properties["DashboardBody"]
            )
        except ClientError as error:
            raise ResourceFailed(_client_error(error)) from error
        return name, {}
        yield

    def delete(self, host: Host, op: Op) -> Proc:
        with _gone_is_fine("ResourceNotFound"):
            host.client("cloudwatch").delete_dashboards(DashboardNames=[op.physical_id])
        return None
        yield


# --- registry ----------------------------------------------------------------------------------
NATIVE: dict[str, ResourceType] = {
    "AWS::S3::Bucket": S3Bucket(),
    "AWS::S3::BucketPolicy": S3BucketPolicy(),
    "AWS::IAM::Role": IamRole(),
    "AWS::IAM::Policy": IamPolicy(),
    "AWS::IAM::ManagedPolicy": IamManagedPolicy(),
    "AWS::Lambda::Function": LambdaFunctionType(),
    "AWS::Lambda::LayerVersion": LambdaLayer(),
    "AWS::Lambda::Permission": LambdaPermission(),
    "AWS::Logs::LogGroup": LogGroup(),
    "AWS::CDK::Metadata": CdkMetadata(),
    "AWS::StepFunctions::StateMachine": StateMachine(),
    "AWS::CloudFormation::WaitConditionHandle": WaitConditionHandle(),
    "AWS::CloudFormation::WaitCondition": WaitCondition(),
    "AWS::KMS::Key": KmsKey(),
    "AWS::KMS::Alias": KmsAlias(),
    "AWS::SNS::Topic": SnsTopic(),
    "AWS::SNS::TopicPolicy": SnsTopicPolicy(),
    "AWS::SNS::Subscription": SnsSubscription(),
    "AWS::CloudWatch::Alarm": CloudWatchAlarm(),
    "AWS::CloudWatch::Dashboard": CloudWatchDashboard(),
}


def unzip_into(path: Path, visit: Callable[[str, bytes], None]) -> None:
    """Call `visit(relative_key, content)` for every file of a directory or a zip archive."""
    if path.is_dir():
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            visit(file.relative_to(path).as_posix(), file.read_bytes())
        return
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.is_dir():
                visit(info.filename, archive.read(info))
