"""Test helpers: a Provider-framework mimic on the virtual clock, and the AWS set-up an import
needs (bucket with data, bucket policy, service role) in the local world."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import boto3
from personalize_handlers import entry
from personalize_handlers.clients import RETRY_CONFIG
from personalize_handlers.contract import TYPES

from pipeline.naming import REPO_ROOT

REGION = "us-east-1"
ACCOUNT = "123456789012"
BUCKET = "handler-tests-data"
ROLE_NAME = "handler-tests-personalize"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}"


class ProviderTimeout(Exception):
    """isComplete never answered true within the total timeout."""


@dataclass
class Provider:
    """What aws_cdk.custom_resources.Provider does with our handlers: onEvent, then isComplete at
    once and every `query_interval` seconds (virtual) until true, an exception (FAILED) or
    `total_timeout`. The isComplete event is the request merged with onEvent's answer."""

    world: Any
    query_interval: int = 30
    total_timeout: int = 3600
    invocations: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)

    def event(self, request_type: str, resource_type: str, props: dict[str, Any], *,
              physical_id: str | None = None, old_props: dict[str, Any] | None = None,
              request_id: str | None = None, logical_id: str = "Resource") -> dict[str, Any]:
        event: dict[str, Any] = {
            "RequestType": request_type,
            "ResourceType": resource_type,
            "LogicalResourceId": logical_id,
            "RequestId": request_id or str(uuid.uuid4()),
            "StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/test/1",
            "ResponseURL": "https://cloudformation-custom-resource-response.example/x",
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:provider",
            "ResourceProperties": {"ServiceToken": "arn:aws:lambda:x", **props},
        }
        if physical_id is not None:
            event["PhysicalResourceId"] = physical_id
        if old_props is not None:
            event["OldResourceProperties"] = {"ServiceToken": "arn:aws:lambda:x", **old_props}
        return event

    def send(self, event: dict[str, Any]) -> dict[str, Any]:
        """One request to completion: {"PhysicalResourceId", "Data", "waited"}."""
        self.events.append(event)
        self.invocations += 1
        answer = entry.on_event(event)
        merged = {**event, **answer}
        merged.setdefault("PhysicalResourceId", event.get("PhysicalResourceId"))
        waited = 0
        while True:
            self.invocations += 1
            done = entry.is_complete(merged)
            if done["IsComplete"]:
                data = {**(answer.get("Data") or {}), **(done.get("Data") or {})}
                if event["RequestType"] != "Delete":
                    check_data(event["ResourceType"], data)
                return {"PhysicalResourceId": merged["PhysicalResourceId"], "Data": data, "waited": waited}
            if waited + self.query_interval > self.total_timeout:
                raise ProviderTimeout(f"{event['ResourceType']} {event['RequestType']} not complete after "
                                      f"{waited} s")
            self.world.clock.advance(self.query_interval)
            waited += self.query_interval

    def create(self, resource_type: str, props: dict[str, Any], **kw: Any) -> dict[str, Any]:
        return self.send(self.event("Create", resource_type, props, **kw))

    def update(self, resource_type: str, physical_id: str, old: dict[str, Any], new: dict[str, Any],
               **kw: Any) -> dict[str, Any]:
        event = self.event("Update", resource_type, new, physical_id=physical_id, old_props=old, **kw)
        return self.send(event)

    def delete(self, resource_type: str, physical_id: str, props: dict[str, Any],
               **kw: Any) -> dict[str, Any]:
        return self.send(self.event("Delete", resource_type, props, physical_id=physical_id, **kw))


def check_data(resource_type: str, data: dict[str, Any]) -> None:
    """A finished Create or Update returns the contract's Data keys: each of them, and no other
    (unless the type's Data depends on the resource, as SolutionMetrics' one key per metric)."""
    spec = TYPES[resource_type]
    missing, extra = set(spec.data) - set(data), set(data) - set(spec.data)
    assert not missing, f"{resource_type}: Data lacks {sorted(missing)} (contract: {spec.data})"
    assert not extra or spec.more_data, f"{resource_type}: Data has {sorted(extra)} beyond the contract"


def personalize() -> Any:
    """The tests' own client: standard retries too, so injected throttling cannot fail an assertion."""
    return boto3.client("personalize", region_name=REGION, config=RETRY_CONFIG)


def setup_data_access(files: dict[str, bytes] | None = None) -> None:
    """Bucket with the repo's CSVs (or `files`), a bucket policy and a service role that let
    Personalize read it, as the stack sets them up."""
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    if files is None:
        files = {f"{name}.csv": (REPO_ROOT / "data" / f"{name}.csv").read_bytes()
                 for name in ("interactions", "items", "users")}
    for key, body in files.items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    service = {"Service": "personalize.amazonaws.com"}
    condition = {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": service, "Action": ["s3:GetObject", "s3:ListBucket"],
        "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"], "Condition": condition}]}))
    iam = boto3.client("iam", region_name=REGION)
    iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": service,
                                                "Action": "sts:AssumeRole", "Condition": condition}]}))
    iam.put_role_policy(RoleName=ROLE_NAME, PolicyName="read-data", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]}]}))


def grant_batch_access(input_prefix: str, output_prefix: str) -> None:
    """What the stack grants a batch inference job on top of setup_data_access: the service role
    reads `input_prefix`* and writes `output_prefix`*, and the bucket policy lets Personalize (for
    this account only) write the output."""
    statement = [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/{input_prefix}*"},
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/{output_prefix}*"},
    ]
    boto3.client("iam", region_name=REGION).put_role_policy(
        RoleName=ROLE_NAME, PolicyName="batch",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statement}))
    s3 = boto3.client("s3", region_name=REGION)
    policy = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    policy["Statement"].append({
        "Effect": "Allow", "Principal": {"Service": "personalize.amazonaws.com"}, "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/{output_prefix}*",
        "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}})
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))


def schema_text(kind: str) -> str:
    return (REPO_ROOT / "data" / "schemas" / f"{kind}.json").read_text()


DG = "Custom::PersonalizeDatasetGroup"
SCHEMA = "Custom::PersonalizeSchema"
DATASET = "Custom::PersonalizeDataset"
IMPORT = "Custom::PersonalizeDatasetImportJob"
SOLUTION = "Custom::PersonalizeSolution"
VERSION = "Custom::PersonalizeSolutionVersion"
CAMPAIGN = "Custom::PersonalizeCampaign"
TRACKER = "Custom::PersonalizeEventTracker"
FILTER = "Custom::PersonalizeFilter"
BATCH = "Custom::PersonalizeBatchInferenceJob"


@dataclass
class Pipeline:
    """ARNs of a built-up pipeline (what each test needs of it)."""

    provider: Provider
    group: str = ""
    schemas: dict[str, str] = field(default_factory=dict)
    datasets: dict[str, str] = field(default_factory=dict)
    imports: dict[str, str] = field(default_factory=dict)
    solution: str = ""
    version: str = ""

    def dataset_group(self, name: str = "test-retail") -> str:
        self.group = self.provider.create(DG, {"Name": name, "Tags": [{"tagKey": "env", "tagValue": "test"}]},
                                          logical_id="Group")["PhysicalResourceId"]
        return self.group

    def data(self, kinds: tuple[str, ...] = ("interactions",)) -> None:
        for kind in kinds:
            schema = {"Name": f"test-{kind}-s1", "Schema": schema_text(kind)}
            self.schemas[kind] = self.provider.create(SCHEMA, schema)["PhysicalResourceId"]
            self.datasets[kind] = self.provider.create(DATASET, {
                "Name": f"test-retail-{kind}", "DatasetGroupArn": self.group, "DatasetType": kind.title(),
                "SchemaArn": self.schemas[kind]})["PhysicalResourceId"]

    def import_props(self, kind: str, key: str | None = None) -> dict[str, Any]:
        return {"JobName": f"test-retail-{kind}-abc123", "DatasetArn": self.datasets[kind],
                "DataLocation": f"s3://{BUCKET}/{key or kind + '.csv'}", "RoleArn": ROLE_ARN,
                "SourceHash": "abc123"}

    def imported(self, kinds: tuple[str, ...] = ("interactions",)) -> None:
        for kind in kinds:
            self.imports[kind] = self.provider.create(IMPORT, self.import_props(kind))["PhysicalResourceId"]

    def with_data(self, kinds: tuple[str, ...] = ("interactions",), *, imported: bool = True) -> Pipeline:
        """The start most tests share: the group, datasets of `kinds` and (unless `imported` is
        False) their imports, ACTIVE. The data access (setup_data_access) is the test's to set up."""
        self.dataset_group()
        self.data(kinds)
        if imported:
            self.imported(kinds)
        return self

    def solution_props(self, name: str = "test-retail-pop-a1b2c3",
                       recipe: str = "aws-popularity-count") -> dict[str, Any]:
        return {"Name": name, "DatasetGroupArn": self.group,
                "RecipeArn": f"arn:aws:personalize:::recipe/{recipe}", "PerformHPO": "false",
                "PerformAutoTraining": "false"}

    def add_solution(self, recipe: str = "aws-popularity-count") -> str:
        props = self.solution_props(recipe=recipe)
        self.solution = self.provider.create(SOLUTION, props)["PhysicalResourceId"]
        return self.solution

    def trained(self, recipe: str = "aws-popularity-count") -> str:
        self.add_solution(recipe)
        self.version = self.provider.create(VERSION, {"SolutionArn": self.solution, "Trigger": "t1"})[
            "PhysicalResourceId"]
        return self.version


# ---- domain dataset groups (the VIDEO_ON_DEMAND example's schemas and data) ------------------------
RECOMMENDER = "Custom::PersonalizeRecommender"
VOD_KINDS = ("interactions", "items", "users")


def vod_files() -> dict[str, bytes]:
    """The example's CSVs, under the keys Pipeline.import_props reads (`<kind>.csv`)."""
    return {f"{kind}.csv": (REPO_ROOT / "data" / "vod" / f"{kind}.csv").read_bytes() for kind in VOD_KINDS}


def vod_pipeline(provider: Provider, kinds: tuple[str, ...] = VOD_KINDS) -> Pipeline:
    """A VIDEO_ON_DEMAND dataset group with domain schemas and datasets of `kinds`, imported (the
    data access is the test's: setup_data_access(vod_files()))."""
    pipe = Pipeline(provider)
    pipe.group = provider.create(DG, {"Name": "test-vod", "Domain": "VIDEO_ON_DEMAND"},
                                 logical_id="Group")["PhysicalResourceId"]
    for kind in kinds:
        text = (REPO_ROOT / "data" / "schemas" / "vod" / f"{kind}.json").read_text()
        pipe.schemas[kind] = provider.create(SCHEMA, {"Name": f"test-vod-{kind}-s1", "Schema": text,
                                                      "Domain": "VIDEO_ON_DEMAND"})["PhysicalResourceId"]
        pipe.datasets[kind] = provider.create(DATASET, {
            "Name": f"test-vod-{kind}", "DatasetGroupArn": pipe.group, "DatasetType": kind.title(),
            "SchemaArn": pipe.schemas[kind]})["PhysicalResourceId"]
    pipe.imported(kinds)
    return pipe


def recommender_props(pipe: Pipeline, name: str = "test-vod-top-picks", use_case: str = "aws-vod-top-picks",
                      **config: Any) -> dict[str, Any]:
    """Properties as CloudFormation hands them: every nested scalar a string."""
    settings = {"minRecommendationRequestsPerSecond": "1", **config}
    return {"Name": name, "DatasetGroupArn": pipe.group,
            "RecipeArn": f"arn:aws:personalize:::recipe/{use_case}", "RecommenderConfig": settings}
