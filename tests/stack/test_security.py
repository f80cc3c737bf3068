"""Secure by default: no '*' principal, TLS-only encrypted private buckets, confused-deputy
conditions, least-privilege IAM scoped to this environment. Runs on both shipped configs and on a
KMS variant."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.stack.helpers import Synth, config_with, synth

KMS_KEY = "arn:aws:kms:ap-southeast-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.fixture(scope="module")
def kms(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    tmp = tmp_path_factory.mktemp("kms")
    config = config_with("dev", tmp, lambda t: t.replace('kms_key_arn = ""', f'kms_key_arn = "{KMS_KEY}"'))
    return synth("dev", tmp / "out", config=config)


@pytest.fixture(scope="module", params=["dev", "prod", "kms"])
def any_synth(request: pytest.FixtureRequest, dev: Synth, prod: Synth, kms: Synth) -> Synth:
    return {"dev": dev, "prod": prod, "kms": kms}[request.param]


def _walk(node: Any, key: str) -> Iterator[Any]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                yield v
            yield from _walk(v, key)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v, key)


def _statements(synth: Synth) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, resource in synth.resources.items():
        props = resource.get("Properties", {})
        docs = [props.get("PolicyDocument")] + [p.get("PolicyDocument") for p in props.get("Policies", [])]
        for doc in docs:
            for statement in (doc or {}).get("Statement", []):
                yield logical_id, statement


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_no_star_principal_anywhere(any_synth: Synth) -> None:
    for key in ("Principal", "NotPrincipal"):
        for principal in _walk(any_synth.template, key):
            assert principal != "*"
            if isinstance(principal, dict):
                for value in principal.values():
                    assert "*" not in _as_list(value), principal


def test_no_wildcard_service_actions(any_synth: Synth) -> None:
    for logical_id, statement in _statements(any_synth):
        if statement["Effect"] != "Allow":
            continue
        for action in _as_list(statement["Action"]):
            assert action not in ("*", "personalize:*", "s3:*", "iam:*", "kms:*"), (logical_id, action)
            assert not action.startswith("personalize:") or "*" not in action, (logical_id, action)


def test_personalize_permissions_scoped_to_this_environment(any_synth: Synth) -> None:
    prefix = f"{any_synth.env}-retail"
    seen = 0
    for logical_id, statement in _statements(any_synth):
        actions = [a for a in _as_list(statement["Action"]) if a.startswith("personalize:")]
        if not actions:
            continue
        seen += 1
        resources = _as_list(statement["Resource"])
        if all(a.startswith("personalize:List") for a in actions):
            assert resources == ["*"]  # List* takes no resource
            continue
        for resource in resources:
            text = json.dumps(resource)
            if "recipe/" in text:
                assert ":::recipe/aws-" in text
            elif "event-tracker/" in text:
                assert all("EventTracker" in a or a.endswith("Resource") for a in actions), actions
            else:
                assert f"/{prefix}" in text, (logical_id, text)
    assert seen >= 5


def test_pass_role_only_to_personalize_for_the_service_role(any_synth: Synth) -> None:
    passes = [(k, s) for k, s in _statements(any_synth) if "iam:PassRole" in _as_list(s["Action"])]
    assert len(passes) == 1
    _, statement = passes[0]
    assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "personalize.amazonaws.com"}}
    assert statement["Resource"]["Fn::GetAtt"][0].startswith("ServiceRole")


def _service_role(synth: Synth) -> dict[str, Any]:
    return next(r for k, r in synth.of_type("AWS::IAM::Role").items() if k.startswith("ServiceRole"))


def test_service_role_trust_has_confused_deputy_conditions(any_synth: Synth) -> None:
    trust = _service_role(any_synth)["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert len(trust) == 1
    assert trust[0]["Principal"] == {"Service": "personalize.amazonaws.com"}
    assert trust[0]["Action"] == "sts:AssumeRole"
    condition = trust[0]["Condition"]
    assert condition["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
    source_arn = json.dumps(condition["ArnLike"]["aws:SourceArn"])
    assert "arn:aws:personalize:ap-southeast-2:" in source_arn


def test_service_role_is_read_only(any_synth: Synth) -> None:
    role = _service_role(any_synth)["Properties"]
    assert "ManagedPolicyArns" not in role
    actions = {
        a for p in role["Policies"] for s in p["PolicyDocument"]["Statement"] for a in _as_list(s["Action"])
    }
    allowed = {"s3:GetObject", "s3:ListBucket", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey",
               "kms:ListGrants"}
    assert actions <= allowed
    has_key = "KmsKeyArn" in any_synth.resources["DatasetGroup"]["Properties"]
    assert ("kms:Decrypt" in actions) == has_key


def _data_bucket(synth: Synth) -> tuple[str, dict[str, Any]]:
    # The data bucket is the one that logs to the other.
    return next(
        (k, r)
        for k, r in synth.of_type("AWS::S3::Bucket").items()
        if "LoggingConfiguration" in r["Properties"]
    )


def _policy_of(synth: Synth, bucket_id: str) -> list[dict[str, Any]]:
    policy = next(
        r
        for r in synth.of_type("AWS::S3::BucketPolicy").values()
        if r["Properties"]["Bucket"] == {"Ref": bucket_id}
    )
    return policy["Properties"]["PolicyDocument"]["Statement"]


def test_bucket_policy_grants_personalize_read_with_conditions(any_synth: Synth) -> None:
    bucket_id, _ = _data_bucket(any_synth)
    statements = {s.get("Sid"): s for s in _policy_of(any_synth, bucket_id)}
    for sid, action in (
        ("PersonalizeReadObjects", "s3:GetObject"),
        ("PersonalizeListBucket", "s3:ListBucket"),
    ):
        statement = statements[sid]
        assert statement["Effect"] == "Allow"
        assert statement["Principal"] == {"Service": "personalize.amazonaws.com"}
        assert statement["Action"] == action
        assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
        assert "aws:SourceArn" in statement["Condition"]["ArnLike"]
        assert bucket_id in json.dumps(statement["Resource"])


def test_buckets_are_private_encrypted_and_tls_only(any_synth: Synth) -> None:
    for bucket_id, bucket in any_synth.of_type("AWS::S3::Bucket").items():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        deny = [s for s in _policy_of(any_synth, bucket_id) if s["Effect"] == "Deny"]
        assert len(deny) == 1
        assert deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert "AWS" in deny[0]["Principal"] and "Service" in deny[0]["Principal"]
    _, data = _data_bucket(any_synth)
    assert data["Properties"]["LoggingConfiguration"]["DestinationBucketName"]["Ref"].startswith(
        "DataAccessLogs"
    )


def test_kms_key_used_for_bucket_role_and_dataset_group(kms: Synth, dev: Synth) -> None:
    _, bucket = _data_bucket(kms)
    rule = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KMS_KEY}
    role = _service_role(kms)["Properties"]
    kms_statements = [
        s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"] if s["Sid"] == "UseDataKey"
    ]
    assert kms_statements[0]["Resource"] == KMS_KEY
    group = kms.resources["DatasetGroup"]["Properties"]
    assert group["KmsKeyArn"] == KMS_KEY and "RoleArn" in group
    _, plain = _data_bucket(dev)
    rule = plain["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert "KmsKeyArn" not in dev.resources["DatasetGroup"]["Properties"]


def test_removal_policies_per_environment(dev: Synth, prod: Synth) -> None:
    for bucket in dev.of_type("AWS::S3::Bucket").values():
        assert bucket["DeletionPolicy"] == "Delete"
        assert "VersioningConfiguration" not in bucket["Properties"]
    assert len(dev.of_type("Custom::S3AutoDeleteObjects")) == 2
    for bucket in prod.of_type("AWS::S3::Bucket").values():
        assert bucket["DeletionPolicy"] == "Retain" and bucket["UpdateReplacePolicy"] == "Retain"
        assert bucket["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}
    assert not prod.of_type("Custom::S3AutoDeleteObjects")
    # prod's uploads keep their objects when the stack goes; dev's go with the bucket.
    prod_objects = prod.of_type("Custom::PersonalizeDataObject").values()
    dev_objects = dev.of_type("Custom::PersonalizeDataObject").values()
    assert prod_objects and all(r["Properties"]["RetainOnDelete"] == "true" for r in prod_objects)
    assert dev_objects and all(r["Properties"]["RetainOnDelete"] == "false" for r in dev_objects)


def test_no_account_or_secret_literals(any_synth: Synth) -> None:
    text = json.dumps(any_synth.template)
    assert "AKIA" not in text
    # Account comes from the CLI (pseudo parameter); the only literal account is the KMS key's own.
    import re

    # (letters or digits around 12 digits: part of a content hash such as an asset key, not an account)
    accounts = set(re.findall(r"(?<![0-9A-Za-z])[0-9]{12}(?![0-9A-Za-z])", text)) - {"111122223333"}
    assert not accounts, accounts


def test_account_and_region_from_config(tmp_path: Path) -> None:
    config = config_with("dev", tmp_path, lambda t: t.replace('account = ""', 'account = "123456789012"'))
    result = synth("dev", tmp_path / "out", config=config)
    text = json.dumps(result.template)
    assert "arn:aws:personalize:ap-southeast-2:123456789012:campaign/dev-retail-*" in text


def test_a_configured_kms_key_is_usable_as_the_personalize_kms_page_asks(kms: Synth) -> None:
    """"Giving Amazon Personalize permission to use your AWS KMS key": the service role's policy
    allows Decrypt, GenerateDataKey, DescribeKey and ListGrants on the key; the key policy (the
    user's) must allow those and CreateGrant to the role and personalize.amazonaws.com, which the
    stack shows as the KmsKeyPolicyStatement output, the page's statement with the role filled in."""
    from tests.security.helpers import Resolver, roles

    role_id = next(k for k in kms.of_type("AWS::IAM::Role") if k.startswith("ServiceRole"))
    role = roles(kms.template, Resolver(kms.template, "ap-southeast-2"))[role_id]
    for action in ("kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:ListGrants"):
        assert role.allows(action, KMS_KEY, {}), action
    output = kms.template["Outputs"]["KmsKeyPolicyStatement"]["Value"]
    parts = output["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else "ROLE" for p in parts)
    assert {"Fn::GetAtt": [role_id, "Arn"]} in parts
    statement = json.loads(text)
    assert statement == {
        "Sid": "Allow use of the key",
        "Effect": "Allow",
        "Principal": {"AWS": "ROLE", "Service": "personalize.amazonaws.com"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant",
                   "kms:ListGrants"],
        "Resource": "*",
    }


def test_no_key_no_key_policy_output(dev: Synth) -> None:
    assert "KmsKeyPolicyStatement" not in dev.template["Outputs"]
