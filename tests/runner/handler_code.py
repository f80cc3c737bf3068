"""Test handlers for the runner's engine tests (copied into a fake cdk.out asset; stdlib + boto3).

Behaviour comes from the resource properties (strings, as CloudFormation sends them):
- Polls: isComplete answers complete after this many calls (default 0: at once).
- FailOn: "Create" / "Update" / "Delete" / "IsComplete": raise there.
- Version: the physical id is "<Name>-<Version>" (a new Version on Update = a new physical id).
- Signal: "SUCCESS"/"FAILURE": on Create, PUT that to WaitHandle (with UniqueId=Name, Data=Data).
- StartWaiter: a state machine ARN: on Create, StartExecution with {"polls": int(WaiterPolls),
  "handleUrl": WaitHandle, "name": Name}.
Every event is appended as one JSON line to the file in env LEDGER.
"""

import json
import os
import urllib.request

import boto3

_polls = {}


def _ledger(entry):
    with open(os.environ["LEDGER"], "a") as stream:
        stream.write(json.dumps(entry) + "\n")


def on_event(event, context):
    props = event["ResourceProperties"]
    kind = event["RequestType"]
    _ledger(
        {
            "fn": "on_event",
            "type": kind,
            "id": event["LogicalResourceId"],
            "physical": event.get("PhysicalResourceId"),
            "props": props,
            "old": event.get("OldResourceProperties"),
            "key": os.environ.get("AWS_ACCESS_KEY_ID", "")[:4],
        }
    )
    if props.get("FailOn") == kind:
        raise RuntimeError(f"{event['LogicalResourceId']}: injected {kind} failure")
    if kind == "Delete":
        return {}
    physical = f"{props.get('Name', event['LogicalResourceId'])}-{props.get('Version', '1')}"
    if kind == "Create" and props.get("Signal"):
        body = json.dumps(
            {
                "Status": props["Signal"],
                "Reason": "test",
                "UniqueId": props.get("Name", "x"),
                "Data": props.get("Data", ""),
            }
        ).encode()
        request = urllib.request.Request(
            props["WaitHandle"], data=body, method="PUT", headers={"Content-Type": ""}
        )
        urllib.request.urlopen(request).read()
    if kind == "Create" and props.get("StartWaiter"):
        boto3.client("stepfunctions").start_execution(
            stateMachineArn=props["StartWaiter"],
            name=physical,
            input=json.dumps(
                {
                    "polls": int(props.get("WaiterPolls", "1")),
                    "handleUrl": props.get("WaitHandle"),
                    "name": physical,
                }
            ),
        )
    return {"PhysicalResourceId": physical, "Data": {"Name": physical, "Seen": props.get("Number", "")}}


def is_complete(event, context):
    props = event["ResourceProperties"]
    key = (event["PhysicalResourceId"], event["RequestType"])
    _polls[key] = _polls.get(key, 0) + 1
    _ledger(
        {
            "fn": "is_complete",
            "type": event["RequestType"],
            "id": event["LogicalResourceId"],
            "physical": event["PhysicalResourceId"],
            "poll": _polls[key],
        }
    )
    if props.get("FailOn") == "IsComplete" and event["RequestType"] == "Create":
        raise RuntimeError("injected isComplete failure")
    needed = int(props.get("Polls", "0")) if event["RequestType"] != "Delete" else 0
    return {"IsComplete": _polls[key] > needed}


def poll(event, context):
    """Waiter task: counts down `polls`; FAILED when name contains 'bad'."""
    left = int(event["polls"]) - 1
    _ledger({"fn": "poll", "name": event["name"], "left": left})
    state = "FAILED" if "bad" in event["name"] else ("SUCCEEDED" if left <= 0 else "PENDING")
    return {**event, "polls": left, "state": state, "waitSeconds": 100}


def signal(event, context):
    status = "SUCCESS" if event.get("state") == "SUCCEEDED" else "FAILURE"
    body = json.dumps(
        {
            "Status": status,
            "Reason": event.get("state", "error"),
            "UniqueId": event["name"],
            "Data": event["name"],
        }
    ).encode()
    request = urllib.request.Request(
        event["handleUrl"], data=body, method="PUT", headers={"Content-Type": ""}
    )
    urllib.request.urlopen(request).read()
    _ledger({"fn": "signal", "name": event["name"], "status": status})
    return {"signalled": status}


def flaky(event, context):
    """Fails with a Lambda service-style error on the first call per name (for Retry)."""
    _polls[event["name"]] = _polls.get(event["name"], 0) + 1
    if _polls[event["name"]] == 1:
        raise ConnectionError("transient")
    return event
