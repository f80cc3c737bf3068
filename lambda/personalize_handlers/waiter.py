"""The Step Functions waiter: start it (from on_event), poll the operation, signal the
WaitCondition handle. Waits past the custom resource's one-hour limit go through here."""

from __future__ import annotations

import contextlib
import json
import os
import time
import urllib.request
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from .clients import Api, error_code, error_message, log
from .common import HandlerError, digest, truncate
from .schedule import next_delay

KINDS = ("DatasetImportJob", "SolutionVersion", "Campaign", "CampaignUpdate", "BatchInferenceJob",
         "Recommender", "RecommenderUpdate")
ENV_STATE_MACHINE = "WAITER_STATE_MACHINE_ARN"
PENDING, SUCCEEDED, FAILED = "PENDING", "SUCCEEDED", "FAILED"
SIGNAL_TIMEOUT_SECONDS = 30


def execution_name(handle_url: str) -> str:
    """Deterministic per WaitHandle (<= 80 chars): a duplicated event starts nothing new."""
    return "wait-" + digest(handle_url, length=64)


def check_configured(label: str, name: str) -> str:
    """The waiter's state machine ARN, or a clear error when the function lacks it."""
    state_machine = os.environ.get(ENV_STATE_MACHINE)
    if not state_machine:
        raise HandlerError(f"{label} {name}: StartExecution failed: WaitHandle is set but the "
                           f"environment variable {ENV_STATE_MACHINE} is not")
    return state_machine


def start_waiter(kind: str, arn: str, handle_url: str, resource: str, label: str, name: str) -> None:
    """StartExecution on the waiter state machine; ExecutionAlreadyExists means a duplicate
    event already started it, which is fine."""
    state_machine = check_configured(label, name)
    payload = {"kind": kind, "arn": arn, "handleUrl": handle_url, "startedAt": int(time.time()),
               "resource": resource}
    sfn = Api("stepfunctions", label, name)
    try:
        sfn("start_execution", stateMachineArn=state_machine, name=execution_name(handle_url),
            input=json.dumps(payload))
    except ClientError as exc:
        if error_code(exc) == "ExecutionAlreadyExists":
            return
        raise HandlerError(f"{label} {name}: StartExecution failed: {error_message(exc)}") from exc


def operation_state(kind: str, arn: str, resource: str, pz: Api) -> tuple[str, str]:
    """(state, reason) of the operation from one describe."""
    try:
        if kind == "DatasetImportJob":
            obj = pz("describe_dataset_import_job", datasetImportJobArn=arn)["datasetImportJob"]
            op = "CreateDatasetImportJob"
        elif kind == "BatchInferenceJob":
            obj = pz("describe_batch_inference_job", batchInferenceJobArn=arn)["batchInferenceJob"]
            op = "CreateBatchInferenceJob"
        elif kind in ("Recommender", "RecommenderUpdate"):
            recommender = pz("describe_recommender", recommenderArn=arn)["recommender"]
            obj, op = recommender, "CreateRecommender"
            if kind == "RecommenderUpdate" and recommender.get("latestRecommenderUpdate"):
                obj, op = recommender["latestRecommenderUpdate"], "UpdateRecommender"
        elif kind == "SolutionVersion":
            obj = pz("describe_solution_version", solutionVersionArn=arn)["solutionVersion"]
            op = "CreateSolutionVersion"
        else:
            campaign = pz("describe_campaign", campaignArn=arn)["campaign"]
            obj, op = campaign, "CreateCampaign"
            if kind == "CampaignUpdate" and campaign.get("latestCampaignUpdate"):
                obj, op = campaign["latestCampaignUpdate"], "UpdateCampaign"
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return FAILED, f"{kind} {resource}: {arn} no longer exists (deleted while being waited for)"
        raise
    status = str(obj.get("status", ""))
    if status == "ACTIVE":
        return SUCCEEDED, f"{kind} {resource} is ACTIVE"
    if status == "INACTIVE" and kind == "RecommenderUpdate":
        # stopped (StopRecommender) and nothing to update: a new wait of a stopped recommender ends
        return SUCCEEDED, f"{kind} {resource} is INACTIVE (stopped)"
    if status in ("CREATE FAILED", "CREATE STOPPED"):
        why = obj.get("failureReason") or ("training was stopped" if status == "CREATE STOPPED" else status)
        return FAILED, truncate(f"{kind} {resource}: {op} failed: {why}", 1024)
    return PENDING, f"{kind} {resource} is {status}"


def poll(event: Mapping[str, Any], pz: Api | None = None) -> dict[str, Any]:
    """One describe; the answer carries the input forward, plus state, reason, the next delay
    (from the pure schedule, on the seconds waited so far) and counters (`polls`: describes made).

    The execution's first invocation (no `waitedSeconds` yet) describes nothing: on_event started
    the operation a moment ago, so a describe at t = 0 would only cost a call (see schedule)."""
    kind, arn = event.get("kind"), event.get("arn")
    if kind not in KINDS or not isinstance(arn, str) or not arn:
        raise HandlerError(f"waiter poll: expected kind in {KINDS} and an arn, got {dict(event)!r}"[:1000])
    resource = str(event.get("resource") or arn)
    polls = int(event.get("polls", 0) or 0)
    if "waitedSeconds" not in event:
        delay = next_delay(0)
        return {**event, "state": PENDING, "waitSeconds": delay, "polls": polls, "waitedSeconds": delay,
                "reason": f"{kind} {resource} started; first describe in {delay} s"}
    waited = float(event.get("waitedSeconds") or 0)
    state, reason = operation_state(kind, arn, resource, pz or Api("personalize", kind, resource))
    delay = next_delay(waited) if state == PENDING else 0
    return {**event, "state": state, "reason": reason, "waitSeconds": delay,
            "polls": polls + 1, "waitedSeconds": int(waited + delay)}


def _reason_from(event: Mapping[str, Any]) -> str:
    """The reason: ours from poll, or the error a Catch put into the state (Cause holds the
    Lambda's error JSON)."""
    if event.get("reason"):
        return str(event["reason"])
    for key in ("error", "Error", "errorInfo"):
        info = event.get(key)
        if isinstance(info, Mapping):
            cause = info.get("Cause") or info.get("Error") or ""
            with contextlib.suppress(ValueError, AttributeError):
                cause = json.loads(cause).get("errorMessage", cause)
            return f"waiter failed: {cause}"
    return "waiter failed without a reason"


def signal(event: Mapping[str, Any]) -> dict[str, Any]:
    """PUT the outcome to the WaitCondition handle (presigned URL: empty Content-Type)."""
    url = event.get("handleUrl")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise HandlerError(f"waiter signal: handleUrl must be an http(s) URL, got {url!r}")
    status = "SUCCESS" if event.get("state") == SUCCEEDED else "FAILURE"
    arn = str(event.get("arn") or event.get("resource") or "waiter")
    body = {"Status": status, "Reason": truncate(_reason_from(event), 1024), "UniqueId": arn, "Data": arn}
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="PUT",
                                     headers={"Content-Type": "", "Content-Length": str(len(data))})
    start = time.perf_counter()
    error: str | None = None
    try:
        with urllib.request.urlopen(request, timeout=SIGNAL_TIMEOUT_SECONDS) as response:
            code = response.status
    except OSError as exc:
        error = type(exc).__name__
        raise HandlerError(f"waiter signal: PUT to the WaitCondition handle failed: {exc}") from exc
    finally:
        elapsed_ms = round((time.perf_counter() - start) * 1000, 1)
        log.info(json.dumps({"op": "SignalWaitCondition", "kind": event.get("kind"),
                             "name": event.get("resource"), "ms": elapsed_ms, "error": error}))
    return {**event, "signalled": status, "httpStatus": code}


__all__ = ["execution_name", "poll", "signal", "start_waiter"]
