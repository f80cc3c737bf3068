"""The runner's engine on small hand-written templates: ordering, concurrency in virtual time,
Provider framework semantics, rollback, updates, retain, wait conditions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from local.emulator.clock import VirtualClock
from local.runner import StackError
from local.runner.custom import CREATE_FAILED_MARKER
from local.runner.observe import Moment
from local.runner.sim import Deadlock, Proc, Simulation, Sleep, Until
from tests.runner.helpers import (
    REGION,
    SFN_ROLE,
    Harness,
    custom,
    file_asset_hash,
    fn,
    provider,
    sfn_role,
    template,
)


def timing(result, lid):  # type: ignore[no-untyped-def]
    t = result.timings[lid]
    return round(t.start - result.started), round(t.end - result.started)


def test_dependency_order_and_concurrency_in_virtual_time(harness: Harness) -> None:
    # A and B are independent: 6 polls x 10 s each, overlapping; C needs both (Ref and Fn::Sub).
    tmpl = template(
        {
            **provider(interval=10),
            "A": custom(Polls="6"),
            "B": custom(Polls="3"),
            "C": custom(Polls="2", Input={"Fn::Sub": "${A}/${B.Name}"}),
        }
    )
    result = harness.deploy(tmpl)
    assert result.status == "CREATE_COMPLETE", result.reason
    assert timing(result, "A") == (0, 60)
    assert timing(result, "B") == (0, 30)
    assert timing(result, "C") == (60, 80)  # starts when the slower dependency completes
    assert result.virtual_seconds == pytest.approx(80)
    creates = [i for t, i in harness.calls() if t == "Create"]
    assert creates.index("C") > max(creates.index("A"), creates.index("B"))
    c_props = next(e for e in harness.events() if e["fn"] == "on_event" and e["id"] == "C")["props"]
    assert c_props["Input"] == "A-1/B-1"


def test_depends_on_orders_without_references(harness: Harness) -> None:
    tmpl = template({**provider(interval=5), "First": custom(Polls="4"), "Second": custom(depends=["First"])})
    result = harness.deploy(tmpl)
    assert timing(result, "Second")[0] == timing(result, "First")[1] == 20


def test_properties_are_stringified_as_cloudformation_does(harness: Harness) -> None:
    tmpl = template(
        {**provider(), "A": custom(Number=5, Flag=True, Items=[1, "a", False], Nested={"x": 1.5})}
    )
    assert harness.deploy(tmpl).ok
    props = harness.events()[0]["props"]
    assert props["Number"] == "5" and props["Flag"] == "true"
    assert props["Items"] == ["1", "a", "false"] and props["Nested"] == {"x": "1.5"}


def test_outputs_getatt_of_custom_resource_data(harness: Harness) -> None:
    tmpl = template(
        {**provider(), "A": custom(Number=7)},
        outputs={
            "Name": {"Value": {"Fn::GetAtt": ["A", "Name"]}},
            "Seen": {"Value": {"Fn::GetAtt": ["A", "Seen"]}},
            "Phys": {"Value": {"Ref": "A"}},
        },
    )
    result = harness.deploy(tmpl)
    assert result.outputs == {"Name": "A-1", "Seen": "7", "Phys": "A-1"}


def test_unknown_resource_type_is_an_error_naming_it_and_nothing_is_created(harness: Harness) -> None:
    tmpl = template({**provider(), "A": custom(), "Q": {"Type": "AWS::SQS::Queue", "Properties": {}}})
    with pytest.raises(StackError, match="AWS::SQS::Queue"):
        harness.deploy(tmpl)
    assert harness.events() == []


def test_unknown_intrinsic_is_an_error_naming_it(harness: Harness) -> None:
    tmpl = template({**provider(), "A": custom(X={"Fn::ImportValue": "shared"})})
    with pytest.raises(StackError, match="Fn::ImportValue"):
        harness.deploy(tmpl)


def test_unresolved_dependency_and_cycle_are_template_errors(harness: Harness) -> None:
    with pytest.raises(StackError, match="Unresolved resource dependencies"):
        harness.deploy(template({**provider(), "A": custom(X={"Ref": "Nope"})}))
    with pytest.raises(StackError, match="Circular dependency"):
        harness.deploy(template({**provider(), "A": custom(X={"Ref": "B"}), "B": custom(X={"Ref": "A"})}))


def test_create_failure_rolls_back_created_resources_in_reverse_order(harness: Harness) -> None:
    tmpl = template(
        {
            **provider(interval=10),
            "A": custom(Polls="1"),
            "B": custom(X={"Ref": "A"}),
            "Bad": custom(depends=["A"], Polls="3", FailOn="IsComplete"),
            "Later": custom(depends=["Bad"]),
        }
    )
    result = harness.deploy(tmpl)
    assert result.status == "ROLLBACK_COMPLETE"
    assert "Bad" in result.reason and "injected isComplete failure" in result.reason
    deletes = [i for t, i in harness.calls() if t == "Delete"]
    # isComplete failed after onEvent created it: the real physical id is deleted too; B before A
    assert set(deletes) == {"A", "B", "Bad"}
    assert deletes.index("B") < deletes.index("A") and deletes.index("Bad") < deletes.index("A")
    assert ("Create", "Later") not in harness.calls()
    assert harness.runner.state("Test-dev").resources == {}


def test_onevent_failure_on_create_gets_the_marker_and_its_delete_is_not_forwarded(harness: Harness) -> None:
    result = harness.deploy(
        template({**provider(), "A": custom(), "Bad": custom(FailOn="Create", depends=["A"])})
    )
    assert result.status == "ROLLBACK_COMPLETE"
    assert "injected Create failure" in result.reason and "Logs: /aws/lambda/" in result.reason
    assert ("Delete", "Bad") not in harness.calls()
    assert ("Delete", "A") in harness.calls()
    failed = [e for e in result.events if e.logical_id == "Bad" and e.status == "CREATE_FAILED"]
    assert failed


def test_provider_total_timeout_answers_operation_timed_out(harness: Harness) -> None:
    result = harness.deploy(template({**provider(interval=10, attempts=5), "Slow": custom(Polls="100")}))
    assert result.status == "ROLLBACK_COMPLETE"
    assert "Operation timed out" in result.reason
    polls = [e for e in harness.events() if e["fn"] == "is_complete" and e["type"] == "Create"]
    assert len(polls) == 6  # the first call plus MaxAttempts retries
    assert timing(result, "Slow") == (0, 50)


def test_custom_resource_one_hour_limit(harness: Harness) -> None:
    # the Provider would wait 2 h, CloudFormation gives up at 1 h
    result = harness.deploy(template({**provider(interval=60, attempts=120), "Slow": custom(Polls="500")}))
    assert result.status == "ROLLBACK_COMPLETE"
    assert "did not receive a response from your Custom Resource" in result.reason
    assert timing(result, "Slow") == (0, 3600)


def test_update_in_place_replacement_cleanup_new_and_removed(harness: Harness) -> None:
    v1 = template(
        {
            **provider(),
            "Keep": custom(Name="keep"),
            "Tweak": custom(Name="tw", Setting="a"),
            "Swap": custom(Name="sw", Version="1"),
            "Gone": custom(Name="gone"),
        }
    )
    assert harness.deploy(v1).status == "CREATE_COMPLETE"
    v2 = template(
        {
            **provider(),
            "Keep": custom(Name="keep"),
            "Tweak": custom(Name="tw", Setting="b"),
            "Swap": custom(Name="sw", Version="2"),
            "Fresh": custom(Name="fresh"),
        }
    )
    before = len(harness.events())
    result = harness.deploy(v2)
    assert result.status == "UPDATE_COMPLETE", result.reason
    calls = [(e["type"], e["id"], e["physical"]) for e in harness.events()[before:] if e["fn"] == "on_event"]
    assert ("Update", "Tweak", "tw-1") in calls
    assert ("Update", "Swap", "sw-1") in calls
    assert ("Create", "Fresh", None) in calls
    assert not any(c[1] == "Keep" for c in calls)  # unchanged: no event
    # cleanup after success: the replaced physical id and the removed resource
    assert ("Delete", "Swap", "sw-1") in calls and ("Delete", "Gone", "gone-1") in calls
    assert calls.index(("Delete", "Swap", "sw-1")) > calls.index(("Create", "Fresh", None))
    state = harness.runner.state("Test-dev")
    assert state.resources["Swap"].physical_id == "sw-2" and "Gone" not in state.resources
    update_event = next(e for e in harness.events()[before:] if e["id"] == "Tweak")
    assert update_event["old"]["Setting"] == "a" and update_event["props"]["Setting"] == "b"


def test_update_failure_rolls_back_with_update_to_old_properties(harness: Harness) -> None:
    v1 = template({**provider(), "A": custom(Name="a", Setting="1"), "B": custom(Name="b", Setting="1")})
    assert harness.deploy(v1).ok
    v2 = template(
        {
            **provider(),
            "A": custom(Name="a", Setting="2"),
            "B": custom(Name="b", Setting="2", FailOn="Update", depends=["A"]),
            "New": custom(Name="new"),
        }
    )
    before = len(harness.events())
    result = harness.deploy(v2)
    assert result.status == "UPDATE_ROLLBACK_COMPLETE"
    events = [e for e in harness.events()[before:] if e["fn"] == "on_event"]
    updates = [
        (e["id"], e["props"]["Setting"], (e["old"] or {}).get("Setting"))
        for e in events
        if e["type"] == "Update"
    ]
    assert ("A", "2", "1") in updates  # the update
    assert ("A", "1", "2") in updates  # and back
    assert ("B", "1", "2") in updates  # the failed one is also updated back
    if any(e["id"] == "New" and e["type"] == "Create" for e in events):
        assert any(e["id"] == "New" and e["type"] == "Delete" for e in events)
    state = harness.runner.state("Test-dev")
    assert state.resources["A"].properties["Setting"] == "1" and "New" not in state.resources


def test_destroy_reverse_order_and_retain(harness: Harness) -> None:
    tmpl = template(
        {
            **provider(),
            "Bucket": {
                "Type": "AWS::S3::Bucket",
                "DeletionPolicy": "Retain",
                "Properties": {"BucketName": "kept-data"},
            },
            "Base": custom(Name="base"),
            "Top": custom(Name="top", X={"Ref": "Base"}),
        }
    )
    assert harness.deploy(tmpl).ok
    result = harness.runner.destroy("Test-dev")
    assert result.status == "DELETE_COMPLETE"
    deletes = [i for t, i in harness.calls() if t == "Delete"]
    assert deletes == ["Top", "Base"]
    skipped = [e.logical_id for e in result.events if e.status == "DELETE_SKIPPED"]
    assert skipped == ["Bucket"]
    with harness.world.active():
        names = [b["Name"] for b in boto3.client("s3", region_name=REGION).list_buckets()["Buckets"]]
    assert names == ["kept-data"]
    assert harness.runner.destroy("Test-dev") is None  # gone


def test_conditions_parameters_rules_and_novalue(harness: Harness) -> None:
    tmpl = template(
        {
            **provider(),
            "Always": custom(
                Maybe={"Fn::If": ["IsProd", "p", {"Ref": "AWS::NoValue"}]},
                Region={"Ref": "AWS::Region"},
                Boot={"Ref": "BootstrapVersion"},
            ),
            "ProdOnly": custom(Condition=None),
        },
        Parameters={
            "BootstrapVersion": {
                "Type": "AWS::SSM::Parameter::Value<String>",
                "Default": "/cdk-bootstrap/hnb659fds/version",
            },
            "Stage": {"Type": "String", "Default": "dev"},
        },
        Conditions={"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}},
        Rules={"CheckBootstrapVersion": {"Assertions": []}},
    )
    tmpl["Resources"]["ProdOnly"]["Condition"] = "IsProd"
    del tmpl["Resources"]["ProdOnly"]["Properties"]["Condition"]
    result = harness.deploy(tmpl)
    assert result.ok
    props = harness.events()[0]["props"]
    assert "Maybe" not in props and props["Region"] == REGION and props["Boot"].isdigit()
    assert [i for _, i in harness.calls()] == ["Always"]
    assert any("CheckBootstrapVersion" in n for n in result.notes)
    other = template({**provider(), "A": custom()}, Rules={"MyRule": {"Assertions": []}})
    with pytest.raises(StackError, match="MyRule"):
        harness.deploy(other, name="Other-dev")


def waitcondition_stack(handle_props: dict[str, object], timeout: str = "600") -> dict[str, object]:
    return template(
        {
            **provider(),
            "Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"},
            "Op": custom(Name="op", WaitHandle={"Ref": "Handle"}, **handle_props),
            "Wait": {
                "Type": "AWS::CloudFormation::WaitCondition",
                "DependsOn": ["Op"],
                "Properties": {"Handle": {"Ref": "Handle"}, "Timeout": timeout},
            },
        },
        outputs={"Data": {"Value": {"Fn::GetAtt": ["Wait", "Data"]}}},
    )


def test_waitcondition_success_over_http_with_data(harness: Harness) -> None:
    result = harness.deploy(waitcondition_stack({"Signal": "SUCCESS", "Data": "hello"}))
    assert result.status == "CREATE_COMPLETE", result.reason
    assert json.loads(result.outputs["Data"]) == {"op": "hello"}
    handle = harness.runner.state("Test-dev").resources["Handle"].physical_id
    assert handle.startswith("http://127.0.0.1:")


def test_waitcondition_failure_signal_fails_and_rolls_back(harness: Harness) -> None:
    result = harness.deploy(waitcondition_stack({"Signal": "FAILURE"}))
    assert result.status == "ROLLBACK_COMPLETE"
    assert "WaitCondition received failed message: 'test' for uniqueId: op" in result.reason
    assert ("Delete", "Op") in harness.calls()


def test_waitcondition_timeout_on_the_virtual_clock(harness: Harness) -> None:
    result = harness.deploy(waitcondition_stack({}, timeout="7200"))
    assert result.status == "ROLLBACK_COMPLETE"
    assert "WaitCondition timed out. Received 0 conditions when expecting 1" in result.reason
    assert timing(result, "Wait") == (0, 7200)
    assert result.wall_seconds < 30


WAITER = {
    "StartAt": "Poll",
    "States": {
        "Poll": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "${PollArn}", "Payload.$": "$"},
            "ResultSelector": {"body.$": "$.Payload"},
            "ResultPath": "$.r",
            "OutputPath": "$.r.body",
            "Retry": [{"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 2, "MaxAttempts": 3}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "SignalFailure"}],
            "Next": "Done?",
        },
        "Done?": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.state", "StringEquals": "SUCCEEDED", "Next": "Mark"},
                {"Variable": "$.state", "StringEquals": "FAILED", "Next": "SignalFailure"},
            ],
            "Default": "Wait",
        },
        "Wait": {"Type": "Wait", "SecondsPath": "$.waitSeconds", "Next": "Poll"},
        "Mark": {"Type": "Pass", "Result": "ok", "ResultPath": "$.mark", "Next": "Flaky"},
        "Flaky": {
            "Type": "Task",
            "Resource": "${FlakyArn}",
            "Retry": [{"ErrorEquals": ["ConnectionError"], "IntervalSeconds": 5, "MaxAttempts": 2}],
            "Next": "SignalSuccess",
        },
        "SignalSuccess": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "${SignalArn}", "Payload.$": "$"},
            "Next": "Succeeded",
        },
        "Succeeded": {"Type": "Succeed"},
        "SignalFailure": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "${SignalArn}", "Payload.$": "$"},
            "Next": "Failed",
        },
        "Failed": {"Type": "Fail", "Error": "OperationFailed"},
    },
}


def waiter_stack(name: str, polls: int, timeout: str = "43200") -> dict[str, object]:
    return template(
        {
            **provider(),
            "Poll": fn("handler_code.poll"),
            "Signal": fn("handler_code.signal"),
            "FlakyFn": fn("handler_code.flaky"),
            "Waiter": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "DefinitionString": json.dumps(WAITER),
                    "RoleArn": SFN_ROLE,
                    "DefinitionSubstitutions": {
                        "PollArn": {"Fn::GetAtt": ["Poll", "Arn"]},
                        "SignalArn": {"Fn::GetAtt": ["Signal", "Arn"]},
                        "FlakyArn": {"Fn::GetAtt": ["FlakyFn", "Arn"]},
                    },
                },
            },
            "Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"},
            "Op": custom(
                Name=name, WaitHandle={"Ref": "Handle"}, StartWaiter={"Ref": "Waiter"}, WaiterPolls=str(polls)
            ),
            "Wait": {
                "Type": "AWS::CloudFormation::WaitCondition",
                "DependsOn": ["Op"],
                "Properties": {"Handle": {"Ref": "Handle"}, "Timeout": timeout},
            },
            "After": custom(Name="after", depends=["Wait"]),
        }
    )


def test_step_functions_waiter_runs_from_the_template_on_the_virtual_clock(harness: Harness) -> None:
    result = harness.deploy(waiter_stack("train", polls=4))
    assert result.status == "CREATE_COMPLETE", result.reason
    # 3 waits of 100 s between 4 polls, then the flaky task's one retry (5 s)
    assert timing(result, "Wait") == (0, 305)
    assert timing(result, "After")[0] == 305
    polls = [e for e in harness.events() if e["fn"] == "poll"]
    assert [p["left"] for p in polls] == [3, 2, 1, 0]
    # Poll x4, Done? x4, Wait x3, Mark, Flaky, SignalSuccess, Succeeded
    assert result.state_transitions == 4 + 4 + 3 + 1 + 1 + 1 + 1
    with harness.world.active():
        sfn = boto3.client("stepfunctions", region_name=REGION)
        machine = harness.runner.state("Test-dev").resources["Waiter"].physical_id
        executions = sfn.list_executions(stateMachineArn=machine)["executions"]
    assert [e["status"] for e in executions] == ["SUCCEEDED"]


def test_step_functions_failure_path_signals_failure_and_rolls_back(harness: Harness) -> None:
    result = harness.deploy(waiter_stack("bad-train", polls=3))
    assert result.status == "ROLLBACK_COMPLETE"
    assert "WaitCondition received failed message" in result.reason
    assert [e["status"] for e in harness.events() if e["fn"] == "signal"] == ["FAILURE"]


def test_watchers_see_every_event_and_a_tick_every_interval_of_a_long_wait(harness: Harness) -> None:
    seen: list[Moment] = []
    harness.runner.watchers.every = 60
    harness.runner.watchers.append(seen.append)
    result = harness.deploy(waiter_stack("train", polls=4))
    assert result.status == "CREATE_COMPLETE", result.reason
    events = [m.event for m in seen if m.event is not None]
    assert events == result.events  # every stack event, as recorded, in order
    assert all(m.at == m.event.at for m in seen if m.event is not None)
    ticks = [round(m.at - result.started) for m in seen if m.event is None]
    # the Wait runs from 0 to 305 s (test above): a look every 60 s while it waits
    assert ticks[:5] == [60, 120, 180, 240, 300]
    assert [m.at for m in seen] == sorted(m.at for m in seen)  # in virtual time order


def test_watching_changes_nothing_the_operation_does(tmp_path: Path) -> None:
    """The same deploy and destroy with and without a watcher: the same events at the same virtual
    times (the ticks only wake the scheduler)."""
    runs = []
    for watched in (False, True):
        (tmp_path / str(watched)).mkdir()
        harness = Harness(tmp_path / str(watched))
        if watched:
            harness.runner.watchers.every = 7
            harness.runner.watchers.append(lambda _moment: None)
        try:
            deployed = harness.deploy(waiter_stack("train", polls=4))
            destroyed = harness.runner.destroy("Test-dev")
        finally:
            harness.runner.close()
        assert destroyed is not None
        runs.append(
            [(e.logical_id, e.status, e.at - r.started) for r in (deployed, destroyed) for e in r.events]
        )
    assert runs[0] == runs[1]


def test_an_observer_task_does_not_hide_a_deadlock() -> None:
    sim = Simulation(VirtualClock())

    def stuck() -> Proc:
        yield Until(lambda: False)

    def look() -> Proc:
        while True:
            yield Sleep(60)

    sim.spawn(look(), "watchers", observer=True)
    sim.spawn(stuck(), "stuck")
    with pytest.raises(Deadlock, match="stuck"):
        sim.run()


def test_bucket_deployment_and_auto_delete(harness: Harness) -> None:
    def stack(data: bytes) -> dict[str, object]:
        return template(
            {
                "Data": {
                    "Type": "AWS::S3::Bucket",
                    "Properties": {"Tags": [{"Key": "aws-cdk:auto-delete-objects", "Value": "true"}]},
                },
                "AutoDeleteFn": fn("index.handler", runtime="nodejs22.x"),
                "AutoDelete": {
                    "Type": "Custom::S3AutoDeleteObjects",
                    "Properties": {
                        "ServiceToken": {"Fn::GetAtt": ["AutoDeleteFn", "Arn"]},
                        "BucketName": {"Ref": "Data"},
                    },
                },
                "DeployFn": fn("index.handler", runtime="python3.13"),
                "Upload": {
                    "Type": "Custom::CDKBucketDeployment",
                    "Properties": {
                        "ServiceToken": {"Fn::GetAtt": ["DeployFn", "Arn"]},
                        "SourceBucketNames": ["x"],
                        "SourceObjectKeys": [f"{file_asset_hash('interactions.csv', data)}.zip"],
                        "DestinationBucketName": {"Ref": "Data"},
                        "DestinationBucketKeyPrefix": "datasets/interactions/",
                        "Prune": True,
                        "RetainOnDelete": False,
                    },
                },
            },
            outputs={"Bucket": {"Value": {"Ref": "Data"}}},
        )

    first, second = b"a,b\n1,2\n", b"a,b\n3,4\n"
    result = harness.deploy(stack(first), files={"interactions.csv": first})
    assert result.ok, result.reason
    bucket = result.outputs["Bucket"]
    with harness.world.active():
        s3 = boto3.client("s3", region_name=REGION)
        s3.put_object(Bucket=bucket, Key="datasets/interactions/stale.csv", Body=b"x")
        s3.put_object(Bucket=bucket, Key="other/kept.txt", Body=b"x")
    # an update with new content prunes what the source does not have
    result = harness.deploy(stack(second), files={"interactions.csv": second})
    assert result.ok, result.reason
    with harness.world.active():
        keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
        body = s3.get_object(Bucket=bucket, Key="datasets/interactions/interactions.csv")["Body"].read()
    assert keys == ["datasets/interactions/interactions.csv", "other/kept.txt"]
    assert body == b"a,b\n3,4\n"
    assert harness.runner.destroy("Test-dev").status == "DELETE_COMPLETE"
    with harness.world.active():
        assert s3.list_buckets()["Buckets"] == []


def test_failed_bucket_delete_is_delete_failed_and_kept_in_state(harness: Harness) -> None:
    result = harness.deploy(
        template(
            {"Data": {"Type": "AWS::S3::Bucket", "Properties": {}}}, outputs={"B": {"Value": {"Ref": "Data"}}}
        )
    )
    with harness.world.active():
        boto3.client("s3", region_name=REGION).put_object(Bucket=result.outputs["B"], Key="k", Body=b"x")
    gone = harness.runner.destroy("Test-dev")
    assert gone.status == "DELETE_FAILED" and "not empty" in gone.reason
    assert list(harness.runner.state("Test-dev").resources) == ["Data"]


def test_create_failed_marker_constant_matches_cdk() -> None:
    assert CREATE_FAILED_MARKER == "AWSCDK::CustomResourceProviderFramework::CREATE_FAILED"


def test_duplicate_deliveries_run_onevent_twice_with_the_same_request(harness: Harness) -> None:
    harness.runner.duplicate_deliveries = True
    assert harness.deploy(template({**provider(), "A": custom(Polls="1")})).ok
    creates = [e for e in harness.events() if e["fn"] == "on_event" and e["type"] == "Create"]
    assert len(creates) == 2 and creates[0]["props"] == creates[1]["props"]


def test_cancel_rolls_back_while_a_wait_is_in_progress(harness: Harness) -> None:
    result = harness.runner.deploy(harness.assembly(waiter_stack("train", polls=50)), cancel_after=150)
    assert result.status == "ROLLBACK_COMPLETE"
    assert "User Initiated" in result.reason
    assert timing(result, "Wait") == (0, 150)
    assert ("Delete", "Op") in harness.calls() and ("Create", "After") not in harness.calls()


def test_handlers_run_with_their_execution_roles_credentials(harness: Harness) -> None:
    resources = provider()
    resources["HandlerRole"] = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "sts:AssumeRole",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                    }
                ],
            }
        },
    }
    resources["UserOnEvent"]["Properties"]["Role"] = {"Fn::GetAtt": ["HandlerRole", "Arn"]}
    assert harness.deploy(template({**resources, "A": custom()})).ok
    assert harness.events()[0]["key"] == "ASIA"  # STS temporary credentials, as Lambda gives them


def test_monitoring_types_deploy_destroy_and_the_world_still_saves(harness: Harness) -> None:
    tmpl = template(
        {
            "Key": {
                "Type": "AWS::KMS::Key",
                "Properties": {"Description": "alarms", "EnableKeyRotation": True, "PendingWindowInDays": 7},
            },
            "Topic": {
                "Type": "AWS::SNS::Topic",
                "Properties": {"DisplayName": "alarms", "KmsMasterKeyId": {"Fn::GetAtt": ["Key", "Arn"]}},
            },
            "TopicPolicy": {
                "Type": "AWS::SNS::TopicPolicy",
                "Properties": {
                    "Topics": [{"Ref": "Topic"}],
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": "sns:Publish",
                                "Resource": {"Ref": "Topic"},
                                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                            }
                        ],
                    },
                },
            },
            "Alarm": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "AlarmName": "dev-x-idle",
                    "AlarmActions": [{"Ref": "Topic"}],
                    "ComparisonOperator": "LessThanThreshold",
                    "EvaluationPeriods": 24,
                    "DatapointsToAlarm": 24,
                    "Threshold": 1,
                    "TreatMissingData": "breaching",
                    "Metrics": [
                        {
                            "Id": "m1",
                            "ReturnData": True,
                            "MetricStat": {
                                "Period": 3600,
                                "Stat": "Sum",
                                "Metric": {
                                    "Namespace": "AWS/Personalize",
                                    "MetricName": "GetRecommendations",
                                    "Dimensions": [{"Name": "CampaignArn", "Value": "arn"}],
                                },
                            },
                        }
                    ],
                },
            },
            "Board": {
                "Type": "AWS::CloudWatch::Dashboard",
                "Properties": {
                    "DashboardName": "dev-x",
                    "DashboardBody": {
                        "Fn::Join": ["", ['{"widgets":[],"a":"', {"Fn::GetAtt": ["Alarm", "Arn"]}, '"}']]
                    },
                },
            },
        }
    )
    result = harness.deploy(tmpl)
    assert result.ok, result.reason
    with harness.world.active():
        cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        alarm = cloudwatch.describe_alarms(AlarmNames=["dev-x-idle"])["MetricAlarms"][0]
        topic = harness.runner.state("Test-dev").resources["Topic"].physical_id
        attrs = boto3.client("sns", region_name=REGION).get_topic_attributes(TopicArn=topic)["Attributes"]
    assert alarm["AlarmActions"] == [topic] and alarm["Threshold"] == 1.0
    assert "cloudwatch.amazonaws.com" in attrs["Policy"] and attrs["KmsMasterKeyId"].startswith(
        "arn:aws:kms:"
    )
    harness.world.save(harness.root / "world.pkl")  # moto's KMS key material pickles
    assert harness.runner.destroy("Test-dev").ok
    with harness.world.active():
        assert cloudwatch.describe_alarms()["MetricAlarms"] == []
        keys = boto3.client("kms", region_name=REGION).list_keys()["Keys"]
        states = [
            boto3.client("kms", region_name=REGION).describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"]
            for k in keys
        ]
    assert states == ["PendingDeletion"]


def test_state_machine_role_without_invoke_permission_fails_its_execution(harness: Harness) -> None:
    """Step Functions invokes each Task's function with the state machine's role: a role whose
    policy lacks lambda:InvokeFunction fails the execution (the wait then times out)."""
    stack = waiter_stack("train", polls=2, timeout="600")
    resources: dict[str, Any] = stack["Resources"]  # type: ignore[assignment]
    resources["SfnRole"] = sfn_role(actions=("lambda:GetFunction",))
    result = harness.deploy(stack)
    assert result.status == "ROLLBACK_COMPLETE"
    assert "timed out" in result.reason
    assert [e for e in harness.events() if e["fn"] in ("poll", "signal")] == []
    assert harness.world.iam.decisions["deny lambda:InvokeFunction"] >= 1
    # the same stack with the permission deploys (the rule, not the stack, made it fail)
    assert harness.deploy(waiter_stack("train", polls=2, timeout="600")).status in (
        "CREATE_COMPLETE", "UPDATE_COMPLETE")
