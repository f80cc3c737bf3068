"""IAM in `pz serve`: a client that signs with a role session's credentials (STS AssumeRole against
the server) is evaluated on every S3 request as in process, against the role's policies and the
bucket policy, and refused as S3 refuses (the XML error `AccessDenied`, HTTP 403); the
administrator's key is not evaluated."""

from __future__ import annotations

import http.client
import json
from typing import Any

import boto3
import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.local.helpers import ACCOUNT, REGION

pytestmark = pytest.mark.slow
BUCKET = "serve-iam-data"
ADMIN = {"aws_access_key_id": "local", "aws_secret_access_key": "local", "region_name": REGION}


def _client(port: int, service: str, **credentials: Any) -> Any:
    return boto3.client(service, endpoint_url=f"http://127.0.0.1:{port}", **(credentials or ADMIN))


def _role_session(port: int) -> dict[str, str]:
    """A bucket with two objects, a bucket policy that denies the role one prefix, and a role that
    may list the bucket and read `in/*`; returns the role session's credentials."""
    s3, iam = _client(port, "s3"), _client(port, "iam")
    s3.create_bucket(Bucket=BUCKET)
    for key in ("in/k.csv", "out/k.csv", "secret/k.csv"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    arn = iam.create_role(RoleName="reader", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{BUCKET}"},
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": [f"arn:aws:s3:::{BUCKET}/in/*", f"arn:aws:s3:::{BUCKET}/secret/*"],
            },
        ],
    }
    iam.put_role_policy(RoleName="reader", PolicyName="read", PolicyDocument=json.dumps(policy))
    bucket_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": {"AWS": arn},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{BUCKET}/secret/*",
            }
        ],
    }
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(bucket_policy))
    creds = _client(port, "sts").assume_role(RoleArn=arn, RoleSessionName="reader")["Credentials"]
    return {
        "aws_access_key_id": creds["AccessKeyId"],
        "aws_secret_access_key": creds["SecretAccessKey"],
        "aws_session_token": creds["SessionToken"],
        "region_name": REGION,
    }


def test_an_allowed_s3_call_of_a_role_session_is_answered(served: int) -> None:
    role = _client(served, "s3", **_role_session(served))
    assert role.get_object(Bucket=BUCKET, Key="in/k.csv")["Body"].read() == b"x"
    listed = role.list_objects_v2(Bucket=BUCKET, Prefix="in/")
    assert [o["Key"] for o in listed["Contents"]] == ["in/k.csv"]


@pytest.mark.parametrize(
    ("key", "because"),
    [
        ("out/k.csv", "because no identity-based policy allows"),
        ("secret/k.csv", "with an explicit deny in a resource-based policy"),
    ],
)
def test_a_denied_s3_call_answers_access_denied_as_s3_does(served: int, key: str, because: str) -> None:
    credentials = _role_session(served)
    with pytest.raises(ClientError) as refused:
        _client(served, "s3", **credentials).get_object(Bucket=BUCKET, Key=key)
    error = refused.value.response["Error"]
    assert error["Code"] == "AccessDenied"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert (
        f"assumed-role/reader/reader is not authorized to perform: s3:GetObject on resource: "
        f"arn:aws:s3:::{BUCKET}/{key}" in error["Message"]
    )
    assert because in error["Message"]
    # on the wire, S3's XML error document (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html)
    status, content_type, body = _raw_get(served, key, credentials)
    assert (status, content_type) == (403, "application/xml")
    assert body.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>')
    # the administrator reads it; the role session's write is refused too
    assert _client(served, "s3").get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"x"
    with pytest.raises(ClientError) as write:
        _client(served, "s3", **credentials).put_object(Bucket=BUCKET, Key="in/new.csv", Body=b"y")
    assert write.value.response["Error"]["Code"] == "AccessDenied"
    assert _client(served, "s3").list_objects_v2(Bucket=BUCKET, Prefix="in/")["KeyCount"] == 1


def _raw_get(port: int, key: str, credentials: dict[str, str]) -> tuple[int, str, str]:
    """One SigV4-signed GET of `key`, as any HTTP client would send it: (status, Content-Type, body)."""
    url = f"http://127.0.0.1:{port}/{BUCKET}/{key}"
    request = AWSRequest("GET", url, headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    signer = Credentials(
        credentials["aws_access_key_id"],
        credentials["aws_secret_access_key"],
        credentials["aws_session_token"],
    )
    S3SigV4Auth(signer, "s3", REGION).add_auth(request)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", f"/{BUCKET}/{key}", headers=dict(request.headers.items()))
    answer = connection.getresponse()
    return answer.status, answer.getheader("Content-Type") or "", answer.read().decode()
