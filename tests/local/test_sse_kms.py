"""SSE-KMS objects: reading one needs kms:Decrypt on its key and writing one kms:GenerateDataKey,
for the caller (a role session through S3, or Personalize's service role on an import), allowed by
the caller's policy and the key policy (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html,
https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local.emulator.world import World
from tests.local.helpers import ACCOUNT, BUCKET, REGION, ROLE, Pipeline, upload

ROOT = {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
ADMIN_ONLY = ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:EnableKey", "kms:DisableKey"]


def _key(delegate: bool = True, allow: list[str] | None = None) -> str:
    """A customer key; `delegate`: its policy lets the account's IAM policies decide (the default key
    policy); else the account may only administer it; `allow`: role ARNs the policy names for use."""
    statements: list[dict[str, Any]] = [
        {"Effect": "Allow", "Principal": ROOT, "Action": "kms:*" if delegate else ADMIN_ONLY, "Resource": "*"}
    ]
    if allow:
        statements.append(
            {
                "Effect": "Allow",
                "Principal": {"AWS": allow},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": "*",
            }
        )
    created = boto3.client("kms", region_name=REGION).create_key(
        Policy=json.dumps({"Version": "2012-10-17", "Statement": statements}),
        BypassPolicyLockoutSafetyCheck=True,
    )
    return str(created["KeyMetadata"]["Arn"])


def _encrypt_by_default(s3: Any, bucket: str, key_arn: str) -> None:
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}}
            ]
        },
    )


def _grant(iam: Any, role: str, name: str, actions: list[str], resource: str) -> None:
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}],
    }
    iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(document))


def _role_session(iam: Any, bucket: str) -> tuple[str, Any]:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    arn = iam.create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    _grant(iam, "fn", "s3", ["s3:GetObject", "s3:PutObject"], f"arn:aws:s3:::{bucket}/*")
    creds = boto3.client("sts", region_name=REGION).assume_role(RoleArn=arn, RoleSessionName="fn")[
        "Credentials"
    ]
    session = boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=REGION,
    )
    return arn, session.client("s3")


def _refused(call: Any, action: str) -> str:
    with pytest.raises(ClientError) as refused:
        call()
    response = refused.value.response
    assert (response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]) == (
        "AccessDenied",
        403,
    )
    message: str = response["Error"]["Message"]
    assert f"is not authorized to perform: {action} on resource: arn:aws:kms:" in message
    return message


def test_a_role_reads_and_writes_an_sse_kms_object_only_with_the_key(world: World, s3: Any, iam: Any) -> None:
    s3.create_bucket(Bucket="kms-data")
    key = _key()
    _encrypt_by_default(s3, "kms-data", key)
    s3.put_object(Bucket="kms-data", Key="in/k.csv", Body=b"x")  # the administrator
    s3.put_object(Bucket="kms-data", Key="plain.csv", Body=b"p", ServerSideEncryption="AES256")
    _, role = _role_session(iam, "kms-data")
    # S3 permissions alone: the SSE-S3 object reads, the SSE-KMS one does not, nor can one be written
    assert role.get_object(Bucket="kms-data", Key="plain.csv")["Body"].read() == b"p"
    _refused(lambda: role.get_object(Bucket="kms-data", Key="in/k.csv"), "kms:Decrypt")
    _refused(lambda: role.put_object(Bucket="kms-data", Key="in/new.csv", Body=b"y"), "kms:GenerateDataKey")
    # the role's policy allows the key, and the key policy delegates to the account: both pass
    _grant(iam, "fn", "key", ["kms:Decrypt", "kms:GenerateDataKey"], key)
    assert role.get_object(Bucket="kms-data", Key="in/k.csv")["Body"].read() == b"x"
    role.put_object(Bucket="kms-data", Key="in/new.csv", Body=b"y")


def test_the_key_policy_must_allow_the_reader_too(world: World, s3: Any, iam: Any) -> None:
    s3.create_bucket(Bucket="kms-data")
    key = _key(delegate=False)
    _encrypt_by_default(s3, "kms-data", key)
    s3.put_object(Bucket="kms-data", Key="in/k.csv", Body=b"x")
    _, role = _role_session(iam, "kms-data")
    _grant(iam, "fn", "key", ["kms:Decrypt"], key)
    _refused(lambda: role.get_object(Bucket="kms-data", Key="in/k.csv"), "kms:Decrypt")
    # a key policy that names the role lets it use the key (KMS: the key policy alone may allow)
    arn = iam.get_role(RoleName="fn")["Role"]["Arn"]
    kms = boto3.client("kms", region_name=REGION)
    named = _key(delegate=False, allow=[arn])
    s3.put_object(
        Bucket="kms-data", Key="in/named.csv", Body=b"n", ServerSideEncryption="aws:kms", SSEKMSKeyId=named
    )
    iam.delete_role_policy(RoleName="fn", PolicyName="key")
    assert role.get_object(Bucket="kms-data", Key="in/named.csv")["Body"].read() == b"n"
    assert kms.describe_key(KeyId=named)["KeyMetadata"]["Enabled"]


@pytest.mark.parametrize("missing", ["kms:Decrypt on the role", "the key policy"])
def test_an_import_of_an_sse_kms_object_needs_decrypt_for_the_service_role(
    world: World, pz: Any, pipeline: Pipeline, missing: str
) -> None:
    pipeline.group()
    pipeline.dataset("interactions")
    key = _key(delegate=missing != "the key policy")
    _encrypt_by_default(pipeline.s3, BUCKET, key)
    location = upload(pipeline.s3, "interactions.csv", kind="interactions")
    if missing != "kms:Decrypt on the role":
        _grant(pipeline.iam, ROLE, "key", ["kms:Decrypt"], key)
    job = pipeline.imported("interactions", location, "encrypted")
    assert job["status"] == "CREATE FAILED"
    reason = job["failureReason"]
    assert "Insufficient privileges" in reason and "kms:Decrypt" in reason and key in reason
    assert "SSE-KMS" in reason and ROLE in reason
    # with the role allowed and a key policy that lets the account's policies decide, it imports
    if missing == "the key policy":
        _encrypt_by_default(pipeline.s3, BUCKET, key := _key())
        location = upload(pipeline.s3, "interactions2.csv", kind="interactions")
    _grant(pipeline.iam, ROLE, "key", ["kms:Decrypt"], key)
    assert pipeline.imported("interactions", location, "encrypted-ok")["status"] == "ACTIVE"
