"""IAM on every call, proved on the shipped template: each test deploys a template whose IAM is
mutated from the synthesized one (a permission removed or narrowed) and shows the local deploy
refuse it the way AWS would, next to the same change with the permission in place succeeding.

The bad templates are built by mutating the good one, so these tests hold whether or not the
product's own templates already carry the permission (the positive paths add it when missing).
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from local.emulator.policy.conditions import glob
from local.runner import StackArtifact
from tests.e2e.helpers import Local, auto_training_on

pytestmark = pytest.mark.slow
HANDLER_ROLE = "ProviderHandlerRole"
SERVICE_ROLE = "ServiceRole"


def _with(artifact: StackArtifact, template: dict[str, Any]) -> StackArtifact:
    return dataclasses.replace(artifact, template=template)


def _resource(template: dict[str, Any], prefix: str, kind: str) -> tuple[str, dict[str, Any]]:
    found = [
        (lid, r) for lid, r in template["Resources"].items() if lid.startswith(prefix) and r["Type"] == kind
    ]
    assert len(found) == 1, f"{prefix} {kind}: {[lid for lid, _ in found]}"
    return found[0]


def _statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for p in role["Properties"].get("Policies", []) for s in p["PolicyDocument"]["Statement"]]


def _actions(statement: dict[str, Any]) -> list[str]:
    value = statement.get("Action", [])
    return value if isinstance(value, list) else [value]


def grant(template: dict[str, Any], role_prefix: str, action: str) -> dict[str, Any]:
    """The template with `action` allowed on "*" to the handler role (when no statement grants it)."""
    assert role_prefix == HANDLER_ROLE
    out = copy.deepcopy(template)
    _, role = _resource(out, role_prefix, "AWS::IAM::Role")
    if not any(glob(a, action, case=False) for s in _policies(out) for a in _actions(s)):
        role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"].append(
            {"Sid": "TestGrant", "Effect": "Allow", "Action": action, "Resource": "*"}
        )
    return out


def revoke(template: dict[str, Any], role_prefix: str, action: str) -> dict[str, Any]:
    """The template with `action` removed from every statement of the handler role's policies
    (inline or attached AWS::IAM::Policy); none may still match it."""
    assert role_prefix == HANDLER_ROLE
    out = copy.deepcopy(template)
    statements = _policies(out)
    for statement in statements:
        kept = [a for a in _actions(statement) if not glob(a, action, case=False)]
        statement["Action"] = kept or ["personalize:ListRecipes"]
    assert not any(glob(a, action, case=False) for s in statements for a in _actions(s))
    return out


def _add_field_to_items_schema(template: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(template)
    _, schema = _resource(out, "SchemaItems", "Custom::PersonalizeSchema")
    body = json.loads(schema["Properties"]["Schema"])
    body["fields"].append({"name": "COLOUR", "type": ["null", "string"], "categorical": True})
    schema["Properties"]["Schema"] = json.dumps(body)
    schema["Properties"]["Name"] = schema["Properties"]["Name"] + "-v2"
    return out


def test_schema_change_without_update_dataset_fails_access_denied(
    local: Local, assemblies: Callable[[str], StackArtifact]
) -> None:
    artifact = assemblies("dev")
    good = grant(artifact.template, HANDLER_ROLE, "personalize:UpdateDataset")
    first = local.runner.deploy(_with(artifact, good))
    assert first.ok, first.reason

    bad_update = _add_field_to_items_schema(revoke(good, HANDLER_ROLE, "personalize:UpdateDataset"))
    refused = local.runner.deploy(_with(artifact, bad_update))
    assert refused.status == "UPDATE_ROLLBACK_COMPLETE", refused.reason
    assert "AccessDeniedException" in refused.reason and "personalize:UpdateDataset" in refused.reason

    good_update = _add_field_to_items_schema(good)
    updated = local.runner.deploy(_with(artifact, good_update))
    assert updated.status == "UPDATE_COMPLETE", updated.reason


def test_auto_training_switched_on_without_update_solution_fails_access_denied(
    local: Local, assemblies: Callable[[str], StackArtifact], tmp_path: Path
) -> None:
    """The in-place solution update (UpdateSolution) needs its statement: without it the update is
    refused and rolled back; with it, it completes (tests/e2e/test_solution_update.py)."""
    first = local.runner.deploy(assemblies("dev"))
    assert first.ok, first.reason
    on = auto_training_on(tmp_path)
    denied = local.runner.deploy(_with(on, revoke(on.template, HANDLER_ROLE, "personalize:UpdateSolution")))
    assert denied.status == "UPDATE_ROLLBACK_COMPLETE", denied.reason
    assert "AccessDeniedException" in denied.reason and "personalize:UpdateSolution" in denied.reason
    updated = local.runner.deploy(_with(on, grant(on.template, HANDLER_ROLE, "personalize:UpdateSolution")))
    assert updated.status == "UPDATE_COMPLETE", updated.reason


def _folder_source(template: dict[str, Any], role_object_resource: str) -> dict[str, Any]:
    """Items imported from the folder s3://<bucket>/datasets/items/; for items the service role may
    read `role_object_resource` (a suffix of the bucket ARN) only."""
    out = copy.deepcopy(template)
    _, job = _resource(out, "ImportItems", "Custom::PersonalizeDatasetImportJob")
    location = job["Properties"]["DataLocation"]
    parts = location["Fn::Join"][1]
    assert parts[-1] == "/datasets/items/items.csv"
    parts[-1] = "/datasets/items/"
    _, role = _resource(out, SERVICE_ROLE, "AWS::IAM::Role")
    read = next(s for s in _statements(role) if "s3:GetObject" in _actions(s))
    bucket_arn = read["Resource"]["Fn::Join"][1][0]
    read["Resource"] = [
        {"Fn::Join": ["", [bucket_arn, suffix]]}
        for suffix in ("/datasets/interactions/*", "/datasets/users/*", role_object_resource)
    ]
    return out


def test_folder_source_needs_get_object_on_the_objects_under_the_folder(
    local: Local, assemblies: Callable[[str], StackArtifact]
) -> None:
    artifact = assemblies("dev")
    bad = _folder_source(artifact.template, "/datasets/items/")  # the folder, not what is in it
    refused = local.runner.deploy(_with(artifact, bad))
    assert refused.status == "ROLLBACK_COMPLETE", refused.reason
    assert "s3:GetObject" in refused.reason and "datasets/items/items.csv" in refused.reason

    good = _folder_source(artifact.template, "/datasets/items/*")
    deployed = local.runner.deploy(_with(artifact, good))
    assert deployed.status in ("CREATE_COMPLETE", "UPDATE_COMPLETE"), deployed.reason


ROLE_KEY_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:ListGrants"]
SERVICE_KEY_ACTIONS = [*ROLE_KEY_ACTIONS, "kms:CreateGrant"]


def _key(local: Local, delegate: bool) -> str:
    """A customer key as the Personalize guide asks: its policy lets personalize.amazonaws.com use
    it and (`delegate`) lets the account's IAM policies decide for the role (the default key
    policy's root statement); without `delegate` the account may only administer the key."""
    root = {"AWS": f"arn:aws:iam::{local.world.account_id}:root"}
    admin = ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:EnableKey", "kms:DisableKey"]
    statements = [
        {
            "Sid": "Account",
            "Effect": "Allow",
            "Principal": root,
            "Action": "kms:*" if delegate else admin,
            "Resource": "*",
        },
        {
            "Sid": "Personalize",
            "Effect": "Allow",
            "Principal": {"Service": "personalize.amazonaws.com"},
            "Action": SERVICE_KEY_ACTIONS,
            "Resource": "*",
        },
    ]
    with local.world.active():
        kms = boto3.client("kms", region_name=local.runner.region)
        created = kms.create_key(
            Policy=json.dumps({"Version": "2012-10-17", "Statement": statements}),
            BypassPolicyLockoutSafetyCheck=True,
        )
    return str(created["KeyMetadata"]["Arn"])


def _encrypted(template: dict[str, Any], key_arn: str, role_actions: list[str]) -> dict[str, Any]:
    """The dataset group encrypted with `key_arn`, the service role allowed `role_actions` on it."""
    out = copy.deepcopy(template)
    service_lid, role = _resource(out, SERVICE_ROLE, "AWS::IAM::Role")
    role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"].append(
        {"Sid": "UseKey", "Effect": "Allow", "Action": role_actions, "Resource": key_arn}
    )
    _, group = _resource(out, "DatasetGroup", "Custom::PersonalizeDatasetGroup")
    group["Properties"]["KmsKeyArn"] = key_arn
    group["Properties"]["RoleArn"] = {"Fn::GetAtt": [service_lid, "Arn"]}
    return out


@pytest.mark.parametrize("missing", ["kms:ListGrants on the role", "the role in the key policy"])
def test_encrypted_dataset_group_needs_the_key_policy_and_list_grants(
    local: Local, assemblies: Callable[[str], StackArtifact], missing: str
) -> None:
    artifact = assemblies("dev")
    good_key = _key(local, delegate=True)
    if missing == "the role in the key policy":
        bad = _encrypted(artifact.template, _key(local, delegate=False), ROLE_KEY_ACTIONS)
    else:
        bad = _encrypted(artifact.template, good_key, [a for a in ROLE_KEY_ACTIONS if a != "kms:ListGrants"])
    refused = local.runner.deploy(_with(artifact, bad))
    assert refused.status == "ROLLBACK_COMPLETE", refused.reason
    assert "KMS key" in refused.reason and "not authorized" in refused.reason

    deployed = local.runner.deploy(_with(artifact, _encrypted(artifact.template, good_key, ROLE_KEY_ACTIONS)))
    assert deployed.ok, deployed.reason


BATCH = """
[[batch_jobs]]
name = "nightly-users"
solution = "user-personalization"
input = "data/batch/users.jsonl"
num_results = 5
"""


@pytest.fixture(scope="module")
def batch_assembly(tmp_path_factory: pytest.TempPathFactory) -> StackArtifact:
    """dev with one batch inference job (input uploaded from the repo copy)."""
    import shutil

    from pipeline.config import load_config
    from pipeline.naming import stack_name
    from stacks import build_app
    from tests.e2e.helpers import REPO

    root = tmp_path_factory.mktemp("batch-root")
    shutil.copytree(REPO / "data", root / "data")
    shutil.copytree(REPO / "config", root / "config")
    (root / "data" / "batch").mkdir(exist_ok=True)
    (root / "data" / "batch" / "users.jsonl").write_text('{"userId": "u0246"}\n{"userId": "u0001"}\n')
    config = root / "config" / "dev.toml"
    config.write_text(config.read_text() + BATCH)
    outdir = tmp_path_factory.mktemp("cdk-dev-batch")
    app = build_app(
        "dev",
        str(outdir),
        config=load_config("dev", config, root=root),
        root=root,
        asset_dir=REPO / "lambda",
        nag=False,
    )
    app.synth()
    from local.runner import CloudAssembly

    return CloudAssembly.load(outdir).stack(stack_name("dev"))


def _policies(template: dict[str, Any]) -> list[dict[str, Any]]:
    """Every statement of the handler role's policies (inline and AWS::IAM::Policy)."""
    found = []
    for lid, r in template["Resources"].items():
        if r["Type"] == "AWS::IAM::Role" and lid.startswith(HANDLER_ROLE):
            found += _statements(r)
        if r["Type"] == "AWS::IAM::Policy" and HANDLER_ROLE in json.dumps(r["Properties"].get("Roles")):
            found += r["Properties"]["PolicyDocument"]["Statement"]
    return found


def _retagged(template: dict[str, Any], untag: bool) -> dict[str, Any]:
    """The batch job with one tag removed (retag: UntagResource), the handler role granted
    UntagResource on batch inference jobs or stripped of it everywhere."""
    out = copy.deepcopy(template)
    _, job = next(
        (lid, r) for lid, r in out["Resources"].items() if r["Type"] == "Custom::PersonalizeBatchInferenceJob"
    )
    job["Properties"]["Tags"] = job["Properties"]["Tags"][:-1]
    statements = _policies(out)
    for statement in statements:
        kept = [a for a in _actions(statement) if not glob(a, "personalize:UntagResource", case=False)]
        statement["Action"] = kept or ["personalize:ListRecipes"]
    if untag:
        _, role = _resource(out, HANDLER_ROLE, "AWS::IAM::Role")
        role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"].append(
            {
                "Effect": "Allow",
                "Action": "personalize:UntagResource",
                "Resource": "arn:*:personalize:*:*:batch-inference-job/*",
            }
        )
    return out


def test_retag_of_a_batch_job_needs_untag_resource(local: Local, batch_assembly: StackArtifact) -> None:
    first = local.runner.deploy(batch_assembly)
    assert first.ok, first.reason
    refused = local.runner.deploy(_with(batch_assembly, _retagged(batch_assembly.template, untag=False)))
    assert refused.status == "UPDATE_ROLLBACK_COMPLETE", refused.reason
    assert "AccessDeniedException" in refused.reason and "personalize:UntagResource" in refused.reason
    updated = local.runner.deploy(_with(batch_assembly, _retagged(batch_assembly.template, untag=True)))
    assert updated.status == "UPDATE_COMPLETE", updated.reason


#: the configured key at synth; each test swaps in a key it created in its world (KMS gives new keys
#: random ids)
PLACEHOLDER_KEY = "arn:aws:kms:ap-southeast-2:123456789012:key/00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def kms_assembly(tmp_path_factory: pytest.TempPathFactory) -> StackArtifact:
    """dev as shipped with `dataset_group.kms_key_arn` set: the data bucket is SSE-KMS with the key,
    the dataset group is encrypted with it, the service role and the handler role use it."""
    import shutil

    from local.runner import CloudAssembly
    from pipeline.config import load_config
    from pipeline.naming import stack_name
    from stacks import build_app
    from tests.e2e.helpers import REPO

    root = tmp_path_factory.mktemp("kms-root")
    shutil.copytree(REPO / "data", root / "data")
    shutil.copytree(REPO / "config", root / "config")
    config = root / "config" / "dev.toml"
    text = config.read_text()
    assert 'kms_key_arn = ""' in text
    config.write_text(text.replace('kms_key_arn = ""', f'kms_key_arn = "{PLACEHOLDER_KEY}"'))
    outdir = tmp_path_factory.mktemp("cdk-dev-kms")
    app = build_app(
        "dev",
        str(outdir),
        config=load_config("dev", config, root=root),
        root=root,
        asset_dir=REPO / "lambda",
        nag=False,
    )
    app.synth()
    return CloudAssembly.load(outdir).stack(stack_name("dev"))


def _keyed(template: dict[str, Any], key_arn: str) -> dict[str, Any]:
    text = json.dumps(template)
    assert PLACEHOLDER_KEY in text
    return dict(json.loads(text.replace(PLACEHOLDER_KEY, key_arn)))


def _without_role_decrypt(template: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(template)
    _, role = _resource(out, SERVICE_ROLE, "AWS::IAM::Role")
    for statement in _statements(role):
        statement["Action"] = [a for a in _actions(statement) if a != "kms:Decrypt"] or ["s3:ListBucket"]
    assert not any("kms:Decrypt" in _actions(s) for s in _statements(role))
    return out


def _bucket_key(template: dict[str, Any], key_arn: str) -> dict[str, Any]:
    """The data bucket encrypted by default with `key_arn` (and the handler's data keys from it, as
    the stack would grant them), the dataset group and the service role still on their own key."""
    out = copy.deepcopy(template)
    buckets = [
        r
        for r in out["Resources"].values()
        if r["Type"] == "AWS::S3::Bucket" and "aws:kms" in json.dumps(r["Properties"].get("BucketEncryption"))
    ]
    assert len(buckets) == 1
    for rule in buckets[0]["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]:
        rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"] = key_arn
    moved = [s for s in _policies(out) if _actions(s) == ["kms:GenerateDataKey"]]
    assert moved, "the handler role gets data keys for its uploads"
    for statement in moved:
        statement["Resource"] = key_arn
    return out


def test_the_shipped_kms_variant_deploys_and_a_reader_without_decrypt_is_refused(
    local: Local, kms_assembly: StackArtifact
) -> None:
    """The KMS variant as shipped deploys (the key policy: the account's default statement and the
    Personalize guide's statement for the service principal). Without kms:Decrypt on the service role
    the deploy fails; with the data bucket's objects under a key the service role may not use, the
    import itself is refused: Personalize reads each SSE-KMS object as the role, which needs
    kms:Decrypt on the object's key."""
    key = _key(local, delegate=True)
    no_decrypt = local.runner.deploy(
        _with(kms_assembly, _without_role_decrypt(_keyed(kms_assembly.template, key)))
    )
    assert no_decrypt.status == "ROLLBACK_COMPLETE", no_decrypt.reason
    assert "kms:Decrypt" in no_decrypt.reason and key in no_decrypt.reason

    other = _key(local, delegate=True)
    unreadable = local.runner.deploy(
        _with(kms_assembly, _bucket_key(_keyed(kms_assembly.template, key), other))
    )
    assert unreadable.status == "ROLLBACK_COMPLETE", unreadable.reason
    assert (
        "SSE-KMS" in unreadable.reason and "kms:Decrypt" in unreadable.reason and other in unreadable.reason
    )

    deployed = local.runner.deploy(_with(kms_assembly, _keyed(kms_assembly.template, key)))
    assert deployed.ok, deployed.reason
    with local.world.active():
        s3 = boto3.client("s3", region_name=local.runner.region)
        bucket = next(
            b["Name"]
            for b in s3.list_buckets()["Buckets"]
            if s3.list_objects_v2(Bucket=b["Name"], Prefix="datasets/").get("KeyCount")
        )
        head = s3.head_object(Bucket=bucket, Key="datasets/interactions/interactions.csv")
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", key)
