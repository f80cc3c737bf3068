"""What exists in the local world for an environment: after `destroy` this should be nothing (dev)
or only what was retained on purpose (prod: the data bucket and its objects)."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.exceptions import ClientError

from local.runner.state import StackState


def leftovers(
    world: Any, env: str, region: str, state: StackState | None, *, stack: str
) -> dict[str, list[str]]:
    """Call inside `world.active()`. `stack` is the environment's stack name (the caller's naming:
    the runner knows none); its resources' physical names start with it. Keys: kind of thing;
    values: one line per item."""
    found: dict[str, list[str]] = {}
    personalize = getattr(world, "personalize", None)
    if personalize is not None:
        for resource in personalize.resources.values():
            if resource.name.startswith(f"{env}-") or f"/{env}-" in resource.arn:
                found.setdefault(f"personalize {resource.KIND}", []).append(
                    f"{resource.arn} ({resource.status})"
                )
    s3 = boto3.client("s3", region_name=region)
    retained = {r["physical_id"] for r in (state.retained if state else [])}
    for bucket in s3.list_buckets().get("Buckets", []):
        name = bucket["Name"]
        if not (name.startswith(stack.lower() + "-") or name in retained):
            continue
        keys = _count_objects(s3, name)
        mark = " (retained: DeletionPolicy Retain)" if name in retained else ""
        found.setdefault("s3 bucket", []).append(f"{name}: {keys} objects{mark}")
        for key in _first_keys(s3, name, 10):
            found.setdefault("s3 object", []).append(f"s3://{name}/{key}")
    iam = boto3.client("iam", region_name=region)
    for role in iam.list_roles().get("Roles", []):
        if role["RoleName"].startswith(stack + "-"):
            found.setdefault("iam role", []).append(role["RoleName"])
    logs = boto3.client("logs", region_name=region)
    for group in logs.describe_log_groups().get("logGroups", []):
        if group["logGroupName"].startswith(stack + "-"):
            found.setdefault("log group", []).append(group["logGroupName"])
    sfn = boto3.client("stepfunctions", region_name=region)
    for machine in sfn.list_state_machines().get("stateMachines", []):
        if machine["name"].startswith(stack) or (
            state and any(r.physical_id == machine["stateMachineArn"] for r in state.resources.values())
        ):
            found.setdefault("state machine", []).append(machine["name"])
    sns = boto3.client("sns", region_name=region)
    for topic in sns.list_topics().get("Topics", []):
        if topic["TopicArn"].rsplit(":", 1)[-1].startswith(stack + "-"):
            found.setdefault("sns topic", []).append(topic["TopicArn"])
    cloudwatch = boto3.client("cloudwatch", region_name=region)
    for alarm in cloudwatch.describe_alarms(AlarmNamePrefix=f"{env}-").get("MetricAlarms", []):
        found.setdefault("cloudwatch alarm", []).append(alarm["AlarmName"])
    for board in cloudwatch.list_dashboards().get("DashboardEntries", []):
        if board["DashboardName"].startswith((f"{env}-", stack + "-")):
            found.setdefault("cloudwatch dashboard", []).append(board["DashboardName"])
    if state is not None:
        for res in state.resources.values():
            found.setdefault("stack resource (not deleted)", []).append(
                f"{res.logical_id} {res.type} {res.physical_id} ({res.status}: {res.reason})"
            )
    return found


def _first_keys(s3: Any, bucket: str, limit: int) -> list[str]:
    try:
        return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, MaxKeys=limit).get("Contents", [])]
    except ClientError:
        return []


def _count_objects(s3: Any, bucket: str) -> int:
    count = 0
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            count += len(page.get("Versions", [])) + len(page.get("DeleteMarkers", []))
    except ClientError:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            count += len(page.get("Contents", []))
    return count
