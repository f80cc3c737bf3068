"""The Step Functions waiter path: on_event starts it (once, whatever the duplicates), poll follows
the schedule on the virtual clock, signal PUTs the outcome to the WaitCondition handle."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from personalize_handlers import entry
from personalize_handlers.common import HandlerError
from personalize_handlers.schedule import next_delay

from tests.handlers.helpers import (
    CAMPAIGN,
    IMPORT,
    REGION,
    VERSION,
    Pipeline,
    Provider,
    personalize,
    setup_data_access,
)


class _Handle(http.server.BaseHTTPRequestHandler):
    bodies: list[dict[str, Any]]
    content_types: list[str | None]

    def do_PUT(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.bodies.append(json.loads(raw))
        self.content_types.append(self.headers.get("Content-Type"))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def handle() -> Iterator[tuple[str, type[_Handle]]]:
    recorder = type("Handle", (_Handle,), {"bodies": [], "content_types": []})
    server = http.server.HTTPServer(("127.0.0.1", 0), recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/wait/", recorder
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def state_machine(world: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = sfn.create_state_machine(
        name="waiter", roleArn="arn:aws:iam::123456789012:role/waiter",
        definition=json.dumps({"StartAt": "Poll", "States": {"Poll": {"Type": "Pass", "End": True}}}),
    )["stateMachineArn"]
    monkeypatch.setenv("WAITER_STATE_MACHINE_ARN", arn)
    return str(arn)


def executions(state_machine: str) -> list[dict[str, Any]]:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    found = sfn.list_executions(stateMachineArn=state_machine)["executions"]
    return [json.loads(sfn.describe_execution(executionArn=e["executionArn"])["input"]) for e in found]


def run_waiter(world: Any, execution_input: dict[str, Any]) -> dict[str, Any]:
    """What the state machine does: Poll, Wait waitSeconds, Poll ... until done."""
    state, first = dict(execution_input), True
    while True:
        describes = world.stats.describe_calls()
        state = entry.poll(state)
        # the first invocation only schedules; every later one is exactly one describe
        assert world.stats.describe_calls() - describes == (0 if first else 1)
        first = False
        if state["state"] != "PENDING":
            return state
        assert state["waitSeconds"] == next_delay(state["waitedSeconds"] - state["waitSeconds"])
        world.clock.advance(state["waitSeconds"])


def trained_pipeline(world: Any) -> Pipeline:
    setup_data_access()
    pipe = Pipeline(Provider(world)).with_data()
    pipe.add_solution()
    return pipe


def test_training_through_the_waiter(world: Any, state_machine: str,
                                     handle: tuple[str, type[_Handle]]) -> None:
    url, recorder = handle
    pipe = trained_pipeline(world)
    props = {"SolutionArn": pipe.solution, "Trigger": "t1", "WaitHandle": url + "train-1"}
    event = pipe.provider.event("Create", VERSION, props, request_id="req-train-1")
    answer = entry.on_event(event)
    version = answer["PhysicalResourceId"]
    # at-least-once delivery: the same event again adopts the training and starts no second waiter
    assert entry.on_event(event)["PhysicalResourceId"] == version
    assert len(personalize().list_solution_versions(solutionArn=pipe.solution)["solutionVersions"]) == 1
    (started,) = executions(state_machine)
    assert started["kind"] == "SolutionVersion" and started["arn"] == version
    assert started["handleUrl"] == url + "train-1"
    # the custom resource completes at once: the WaitCondition does the waiting
    done = entry.is_complete({**event, **answer})
    assert done["IsComplete"] is True and done["Data"]["Arn"] == version

    start = world.clock.now()
    final = run_waiter(world, started)
    assert final["state"] == "SUCCEEDED"
    described = personalize().describe_solution_version(solutionVersionArn=version)["solutionVersion"]
    finished = described["lastUpdatedDateTime"].timestamp()
    duration = finished - start
    lateness = world.clock.now() - finished
    assert 0 <= lateness < next_delay(duration)  # noticed within one gap of the schedule
    assert final["polls"] <= duration / 65 + 1  # one describe per 65 s, plus the last
    entry.signal(final)
    assert recorder.bodies == [{"Status": "SUCCESS", "Reason": final["reason"], "UniqueId": version,
                                "Data": version}]
    assert recorder.content_types == [""]


def test_failed_import_signals_failure_with_reason(world: Any, state_machine: str,
                                                   handle: tuple[str, type[_Handle]]) -> None:
    url, recorder = handle
    setup_data_access({"interactions.csv": b"USER_ID,ITEM_ID\nu1,i1\n"})
    pipe = Pipeline(Provider(world)).with_data(imported=False)
    props = {**pipe.import_props("interactions"), "WaitHandle": url + "import-1"}
    result = pipe.provider.create(IMPORT, props, logical_id="ImportInteractions")
    (started,) = executions(state_machine)
    assert started["arn"] == result["PhysicalResourceId"] and started["resource"] == "ImportInteractions"
    final = run_waiter(world, started)
    assert final["state"] == "FAILED"
    assert final["reason"].startswith("DatasetImportJob ImportInteractions: CreateDatasetImportJob failed: ")
    entry.signal(final)
    assert recorder.bodies[0]["Status"] == "FAILURE"
    assert "CreateDatasetImportJob failed" in recorder.bodies[0]["Reason"]


def test_campaign_update_through_the_waiter(world: Any, state_machine: str,
                                            handle: tuple[str, type[_Handle]]) -> None:
    url, _ = handle
    pipe = trained_pipeline(world)
    v1 = pipe.provider.create(VERSION, {"SolutionArn": pipe.solution, "Trigger": "t1"})["PhysicalResourceId"]
    v2 = pipe.provider.create(VERSION, {"SolutionArn": pipe.solution, "Trigger": "t2"})["PhysicalResourceId"]
    props = {"Name": "test-recs", "SolutionVersionArn": v1, "WaitHandle": url + "c1"}
    campaign = pipe.provider.create(CAMPAIGN, props)["PhysicalResourceId"]
    first = executions(state_machine)
    assert [e["kind"] for e in first] == ["Campaign"]
    assert run_waiter(world, first[0])["state"] == "SUCCEEDED"

    moved = {**props, "SolutionVersionArn": v2, "WaitHandle": url + "c2"}
    updated = pipe.provider.update(CAMPAIGN, campaign, props, moved)
    assert updated["PhysicalResourceId"] == campaign
    (second,) = [e for e in executions(state_machine) if e["handleUrl"].endswith("c2")]
    assert second["kind"] == "CampaignUpdate"
    assert personalize().describe_campaign(campaignArn=campaign)["campaign"]["status"] == "ACTIVE"
    assert run_waiter(world, second)["state"] == "SUCCEEDED"
    assert personalize().describe_campaign(campaignArn=campaign)["campaign"]["solutionVersionArn"] == v2


def test_poll_reports_a_deleted_resource_as_failed(world: Any) -> None:
    arn = "arn:aws:personalize:us-east-1:123456789012:dataset-import-job/nope"
    first = {"kind": "DatasetImportJob", "arn": arn, "handleUrl": "http://127.0.0.1:1/x",
             "resource": "ImportX"}
    scheduled = entry.poll(first)  # the first invocation only schedules
    assert scheduled["state"] == "PENDING" and scheduled["polls"] == 0
    assert scheduled["waitSeconds"] == 65
    out = entry.poll(scheduled)
    assert out["state"] == "FAILED" and "no longer exists" in out["reason"] and out["polls"] == 1


def test_missing_state_machine_fails_before_training_starts(world: Any,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WAITER_STATE_MACHINE_ARN", raising=False)
    pipe = trained_pipeline(world)
    props = {"SolutionArn": pipe.solution, "Trigger": "t", "WaitHandle": "http://x/"}
    with pytest.raises(HandlerError, match="WAITER_STATE_MACHINE_ARN is not"):
        pipe.provider.create(VERSION, props)
    assert personalize().list_solution_versions(solutionArn=pipe.solution)["solutionVersions"] == []
