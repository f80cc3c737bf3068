"""IAM on every call at the World's door: a role session's requests are evaluated against its
role's policies and refused as each service refuses them; other callers are not evaluated."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local.emulator.world import World

REGION = "us-east-1"


def _session(policy: list[dict[str, Any]]) -> boto3.session.Session:
    iam = boto3.client("iam", region_name=REGION)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    arn = iam.create_role(RoleName="fn", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(
        RoleName="fn",
        PolicyName="p",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": policy}),
    )
    creds = boto3.client("sts", region_name=REGION).assume_role(RoleArn=arn, RoleSessionName="fn")[
        "Credentials"
    ]
    return boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=REGION,
    )


def test_role_session_calls_are_evaluated_and_refused_as_each_service_refuses(world: World) -> None:
    boto3.client("s3", region_name=REGION).create_bucket(Bucket="gate-data")
    boto3.client("s3", region_name=REGION).put_object(Bucket="gate-data", Key="in/k.csv", Body=b"x")
    session = _session(
        [
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::gate-data"},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::gate-data/in/"},
            {"Effect": "Allow", "Action": "personalize:List*", "Resource": "*"},
        ]
    )
    s3, pz = session.client("s3"), session.client("personalize")
    assert s3.list_objects_v2(Bucket="gate-data")["KeyCount"] == 1
    with pytest.raises(ClientError) as refused:
        s3.get_object(Bucket="gate-data", Key="in/k.csv")  # GetObject on the folder key only
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert pz.list_dataset_groups()["datasetGroups"] == []
    with pytest.raises(ClientError) as denied:
        pz.create_dataset_group(name="g")
    error = denied.value.response["Error"]
    assert error["Code"] == "AccessDeniedException"
    assert (
        "is not authorized to perform: personalize:CreateDatasetGroup on resource: "
        "arn:aws:personalize:us-east-1:123456789012:dataset-group/g" in error["Message"]
    )
    assert "assumed-role/fn/fn" in error["Message"]
    # the administrator (the default credentials) is not evaluated
    assert boto3.client("personalize", region_name=REGION).create_dataset_group(name="g")["datasetGroupArn"]
    # and with IAM turned off the role session passes too
    world.iam.enforced = False
    assert s3.get_object(Bucket="gate-data", Key="in/k.csv")["Body"].read() == b"x"
