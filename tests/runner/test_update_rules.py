"""CloudFormation's update rules in the runner, each read from AWS's resource type schemas (as the
installed cfn-lint ships them) or a cited page, never from a list of our own: every rule is shown
refusing a template CloudFormation refuses, and passing the same template without that change."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import boto3
import pytest

from local.runner import StackError, schemas
from local.runner.state import StackState
from local.runner.update_rules import REFUSALS, decide
from tests.runner.helpers import REGION, Harness, custom, provider, template

REPO = Path(__file__).resolve().parents[2]
SNAPSHOTS = REPO / "tests" / "stack" / "__snapshots__" / "test_snapshot"


def stack(harness: Harness, name: str = "Test-dev") -> StackState:
    found = harness.runner.state(name)
    assert found is not None
    return found


def events_of(result: Any, lid: str) -> list[tuple[str, str]]:
    return [(e.status, e.reason) for e in result.events if e.logical_id == lid]


def on_event_calls(harness: Harness, since: int) -> list[tuple[str, str, str | None, str | None]]:
    """(RequestType, logical id, Setting, old Setting) of every onEvent call after `since`."""
    return [
        (e["type"], e["id"], e["props"].get("Setting"), (e["old"] or {}).get("Setting"))
        for e in harness.events()[since:]
        if e["fn"] == "on_event"
    ]


# --- the schemas: every native type the shipped templates use has one -------------------------
def test_every_native_type_of_the_shipped_templates_has_a_cfn_lint_schema() -> None:
    types: set[str] = set()
    for path in SNAPSHOTS.glob("*.json"):
        types |= {r["Type"] for r in json.loads(path.read_text())["Resources"].values()}
    assert "AWS::CloudFormation::WaitCondition" in types and "AWS::IAM::Role" in types
    for type_name in sorted(types):
        found = schemas.schema(type_name, REGION)
        assert found.source.startswith("cfnlint/data/schemas/resources/"), type_name
    with pytest.raises(schemas.SchemaError, match="AWS::Nope::Nope"):
        schemas.schema("AWS::Nope::Nope", REGION)


def test_the_rules_come_from_the_schema_files() -> None:
    """Spot checks against the schema file itself (read here with json, not through schemas.py)."""
    index = json.loads((schemas.schemas_dir() / "providers" / f"{REGION}.json").read_text())
    raw = json.loads((schemas.schemas_dir() / "resources" / f"{index['AWS::IAM::Role']}.json").read_text())
    role = schemas.schema("AWS::IAM::Role", REGION)
    assert (
        set(role.create_only)
        == set(raw["createOnlyProperties"])
        == {"/properties/Path", "/properties/RoleName"}
    )
    assert decide("AWS::IAM::Role", {"Path": "/"}, {"Path": "/x/"}, REGION).action == "Replace"
    assert decide(
        "AWS::IAM::Role", {"MaxSessionDuration": 3600}, {"MaxSessionDuration": 7200}, REGION
    ).action == ("Update")
    # the WaitCondition schema lists nothing createOnly: the refusal is the reference page's
    assert schemas.schema("AWS::CloudFormation::WaitCondition", REGION).create_only == ()
    assert "waitcondition" in REFUSALS["AWS::CloudFormation::WaitCondition"].source


# --- createOnlyProperties: a new physical resource, the old one deleted in the cleanup phase ----
def log_group(**props: Any) -> dict[str, Any]:
    return {"Type": "AWS::Logs::LogGroup", "Properties": props}


def log_groups(harness: Harness) -> set[str]:
    with harness.world.active():
        client = boto3.client("logs", region_name=REGION)
        return {g["logGroupName"] for g in client.describe_log_groups()["logGroups"]}


def test_a_create_only_change_replaces_the_resource_and_cleans_up_the_old_one(harness: Harness) -> None:
    assert harness.deploy(template({"Logs": log_group(LogGroupName="/app/one")})).ok
    result = harness.deploy(template({"Logs": log_group(LogGroupName="/app/two")}))
    assert result.status == "UPDATE_COMPLETE", result.reason
    assert stack(harness, "Test-dev").resources["Logs"].physical_id == "/app/two"
    statuses = [e.status for e in result.events]
    assert any("new physical resource" in reason for _, reason in events_of(result, "Logs"))
    # the new one first, the old one in UPDATE_COMPLETE_CLEANUP_IN_PROGRESS
    assert statuses.index("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS") < max(
        i
        for i, e in enumerate(result.events)
        if e.logical_id == "Logs (old)" and e.status == "DELETE_COMPLETE"
    )
    assert log_groups(harness) == {"/app/two"}


def test_a_property_that_is_not_create_only_updates_in_place(harness: Harness) -> None:
    assert harness.deploy(template({"Logs": log_group(LogGroupName="/app/one", RetentionInDays=7)})).ok
    result = harness.deploy(template({"Logs": log_group(LogGroupName="/app/one", RetentionInDays=30)}))
    assert result.status == "UPDATE_COMPLETE", result.reason
    assert not any("new physical resource" in reason for _, reason in events_of(result, "Logs"))
    assert not any(e.logical_id == "Logs (old)" for e in result.events)
    assert log_groups(harness) == {"/app/one"}


def role(**props: Any) -> dict[str, Any]:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    return {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": trust, **props}}


def test_replacing_a_custom_named_resource_is_refused_and_rolled_back(harness: Harness) -> None:
    assert harness.deploy(template({"Role": role(RoleName="fixed", Path="/")})).ok
    result = harness.deploy(template({"Role": role(RoleName="fixed", Path="/team/")}))
    assert result.status == "UPDATE_ROLLBACK_COMPLETE"
    assert "custom-named resource requires replacing. Rename fixed" in result.reason
    assert ("UPDATE_FAILED", result.reason.split(": ", 1)[1]) in events_of(result, "Role")
    with harness.world.active():
        assert boto3.client("iam").get_role(RoleName="fixed")["Role"]["Path"] == "/"
    # the same change without the custom name: replaced, under a generated name
    other = harness.deploy(template({"Role": role(Path="/")}), name="Other-dev")
    assert other.ok
    old_name = stack(harness, "Other-dev").resources["Role"].physical_id
    moved = harness.deploy(template({"Role": role(Path="/team/")}), name="Other-dev")
    assert moved.status == "UPDATE_COMPLETE", moved.reason
    assert stack(harness, "Other-dev").resources["Role"].physical_id != old_name


# --- readOnlyProperties cannot be set ---------------------------------------------------------
def test_a_read_only_property_is_refused_before_anything_is_created(harness: Harness) -> None:
    with pytest.raises(StackError, match=r"Logs \(AWS::Logs::LogGroup\) sets read-only property Arn"):
        harness.deploy(template({"Logs": log_group(LogGroupName="/app/ro", Arn="arn:aws:logs:x")}))
    assert log_groups(harness) == set()
    assert harness.deploy(template({"Logs": log_group(LogGroupName="/app/ro")})).ok


def test_a_custom_resource_may_name_any_property(harness: Harness) -> None:
    """The CustomResource schema's read-only `Id` is not a property its provider may not get."""
    result = harness.deploy(template({**provider(), "Thing": custom(Name="t", Id="mine")}))
    assert result.status == "CREATE_COMPLETE", result.reason


# --- WaitCondition: Count, Handle and Timeout cannot be updated --------------------------------
def wait_stack(
    timeout: str = "600", count: int | None = None, suffix: str = "", setting: str = "1"
) -> dict[str, Any]:
    """A signalled wait (names suffixed to give it new logical ids) and a resource it waits for,
    whose Setting changes with the update (so the rollback has something to send back)."""
    wait: dict[str, Any] = {"Handle": {"Ref": f"Handle{suffix}"}, "Timeout": timeout}
    if count is not None:
        wait["Count"] = count
    return template(
        {
            **provider(),
            "Other": custom(Name="other", Setting=setting),
            f"Handle{suffix}": {"Type": "AWS::CloudFormation::WaitConditionHandle"},
            f"Op{suffix}": custom(
                Name=f"op{suffix}", WaitHandle={"Ref": f"Handle{suffix}"}, Signal="SUCCESS"
            ),
            f"Wait{suffix}": {
                "Type": "AWS::CloudFormation::WaitCondition",
                "DependsOn": [f"Op{suffix}", "Other"],
                "Properties": wait,
            },
        }
    )


def test_a_wait_conditions_timeout_cannot_be_updated_and_the_stack_rolls_back(harness: Harness) -> None:
    assert harness.deploy(wait_stack("600")).ok
    before = len(harness.events())
    result = harness.deploy(wait_stack("900", setting="2"))
    assert result.status == "UPDATE_ROLLBACK_COMPLETE"
    assert result.reason.startswith("Wait: Updates aren't supported for AWS::CloudFormation::WaitCondition")
    assert "(changed: Timeout)" in result.reason
    assert [s for s, _ in events_of(result, "Wait")] == ["UPDATE_FAILED"]
    # what the update changed first is updated back (OldResourceProperties: the failed new ones)
    assert on_event_calls(harness, before) == [("Update", "Other", "2", "1"), ("Update", "Other", "1", "2")]
    state = stack(harness, "Test-dev")
    assert state.status == "UPDATE_ROLLBACK_COMPLETE"
    assert state.resources["Wait"].properties["Timeout"] == "600"
    assert state.resources["Other"].properties["Setting"] == "1"


def test_a_wait_conditions_count_cannot_be_updated(harness: Harness) -> None:
    assert harness.deploy(wait_stack("600")).ok
    result = harness.deploy(wait_stack("600", count=1))
    assert result.status == "UPDATE_ROLLBACK_COMPLETE"
    assert "(changed: Count)" in result.reason


def test_a_new_timeout_under_a_new_logical_id_deploys(harness: Harness) -> None:
    """The same change CloudFormation accepts: a new wait (and handle) under new logical ids."""
    assert harness.deploy(wait_stack("600")).ok
    result = harness.deploy(wait_stack("900", suffix="B", setting="2"))
    assert result.status == "UPDATE_COMPLETE", result.reason
    state = stack(harness, "Test-dev")
    assert state.resources["WaitB"].properties["Timeout"] == "900" and "Wait" not in state.resources


# --- custom resources: a changed ServiceToken is refused ---------------------------------------
def second_provider() -> dict[str, Any]:
    """provider() under other logical ids (P2...), references included."""
    names = list(provider())
    text = json.dumps(provider())
    for name in names:
        text = re.sub(rf'"{name}"', f'"P2{name}"', text)
    return dict(json.loads(text))


def test_a_changed_service_token_is_refused_and_the_handler_never_sees_it(harness: Harness) -> None:
    both = {**provider(), **second_provider()}
    assert harness.deploy(template({**both, "Thing": custom(Name="t", Setting="1")})).ok
    moved = custom(Name="t", Setting="1")
    moved["Properties"]["ServiceToken"] = {"Fn::GetAtt": ["P2FrameworkOnEvent", "Arn"]}
    before = len(harness.events())
    result = harness.deploy(template({**both, "Thing": moved}))
    assert result.status == "UPDATE_ROLLBACK_COMPLETE"
    assert result.reason == "Thing: Modifying service token is not allowed."
    assert on_event_calls(harness, before) == []
    # the same template without the token change updates the resource
    changed = harness.deploy(template({**both, "Thing": custom(Name="t", Setting="2")}))
    assert changed.status == "UPDATE_COMPLETE", changed.reason
    assert on_event_calls(harness, before) == [("Update", "Thing", "2", "1")]


# --- a KMS key's KeySpec, KeyUsage, Origin, MultiRegion -----------------------------------------
def key(**props: Any) -> dict[str, Any]:
    return {"Type": "AWS::KMS::Key", "Properties": {"Description": "k", **props}}


def test_a_kms_key_spec_change_is_refused_and_an_explicit_default_is_no_change(harness: Harness) -> None:
    assert harness.deploy(template({"Key": key()})).ok
    same = harness.deploy(template({"Key": key(KeySpec="SYMMETRIC_DEFAULT", Description="k2")}))
    assert same.status == "UPDATE_COMPLETE", same.reason
    result = harness.deploy(template({"Key": key(KeySpec="RSA_2048", Description="k2")}))
    assert result.status == "UPDATE_ROLLBACK_COMPLETE"
    assert "You cannot change the values of the KeySpec, KeyUsage, Origin, or MultiRegion" in result.reason


# --- template-level refusals -------------------------------------------------------------------
def test_a_changed_resource_type_is_refused_before_the_update_starts(harness: Harness) -> None:
    assert harness.deploy(template({"Thing": log_group(LogGroupName="/app/t")})).ok
    with pytest.raises(StackError, match=r"Update of resource type is not permitted.*\[Thing\]"):
        harness.deploy(template({"Thing": {"Type": "AWS::SNS::Topic", "Properties": {}}}))
    assert stack(harness, "Test-dev").status == "CREATE_COMPLETE"
    assert log_groups(harness) == {"/app/t"}


def test_getatt_of_an_attribute_the_type_does_not_have_is_a_template_error(harness: Harness) -> None:
    logs = {"Logs": log_group(LogGroupName="/app/g")}
    with pytest.raises(StackError, match="resource Logs does not support attribute type Nope in Fn::GetAtt"):
        harness.deploy(template(logs, outputs={"O": {"Value": {"Fn::GetAtt": ["Logs", "Nope"]}}}))
    assert log_groups(harness) == set()
    result = harness.deploy(template(logs, outputs={"O": {"Value": {"Fn::GetAtt": ["Logs", "Arn"]}}}))
    assert result.ok and result.outputs["O"].endswith(":log-group:/app/g:*")


def test_diff_shows_replacements_and_refusals_from_the_same_rules(harness: Harness) -> None:
    from local.runner.diffing import diff

    v1 = {
        **wait_stack("600"),
        "Resources": {**wait_stack("600")["Resources"], "Logs": log_group(LogGroupName="/a")},
    }
    assert harness.deploy(v1).ok
    v2 = {
        **wait_stack("900"),
        "Resources": {**wait_stack("900")["Resources"], "Logs": log_group(LogGroupName="/b")},
    }
    written = harness.assembly(v2).template  # as deployed: the ledger path filled in
    changes = {c.logical_id: c for c in diff(written, stack(harness), "123456789012", REGION)}
    assert changes["Logs"].action == "Replace" and changes["Logs"].properties == ["LogGroupName"]
    assert (
        changes["Wait"].action == "Modify"
        and "update fails: Updates aren't supported" in changes["Wait"].note
    )
    assert "Other" not in changes


def test_snapshot_on_a_type_that_takes_none_is_noted(harness: Harness) -> None:
    """DeletionPolicy Snapshot applies only to the types cfn-lint's E3035 lists; elsewhere the
    resource is deleted without one, and the runner says so."""
    snapped = {**log_group(LogGroupName="/app/s"), "DeletionPolicy": "Snapshot"}
    result = harness.deploy(template({"Logs": snapped}))
    assert result.ok
    assert any("Logs: DeletionPolicy Snapshot on AWS::Logs::LogGroup" in n for n in result.notes)
    plain = harness.deploy(template({"Logs": log_group(LogGroupName="/app/s")}))
    assert not any("Snapshot" in n for n in plain.notes)
