"""What the local Personalize tests share (their fixtures live in conftest.py): laying out S3 + IAM
as the stack does, uploads and imports, driving the virtual clock, a pipeline built step by step
through boto3, and the trained pipeline built once per session."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3

from local.emulator.world import World

REGION = "us-east-1"
ACCOUNT = "123456789012"
REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "data"
BUCKET = "local-test-data"
ROLE = "personalize-service-role"


def trust_policy() -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "personalize.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": ACCOUNT},
                    "ArnLike": {"aws:SourceArn": f"arn:aws:personalize:{REGION}:{ACCOUNT}:*"},
                },
            }
        ],
    }


def s3_statements(bucket: str) -> list[dict[str, Any]]:
    return [
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"},
    ]


def setup_access(
    s3: Any,
    iam: Any,
    *,
    bucket: str = BUCKET,
    role: str = ROLE,
    role_grants: bool = True,
    bucket_grants: bool = True,
) -> str:
    """A bucket and a service role as the stack makes them (TLS-only deny included); returns the role ARN."""
    s3.create_bucket(Bucket=bucket)
    statements: list[dict[str, Any]] = [
        {
            "Sid": "TlsOnly",
            "Effect": "Deny",
            "Principal": {"AWS": "*"},
            "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ]
    if bucket_grants:
        statements += [
            dict(
                s,
                Principal={"Service": "personalize.amazonaws.com"},
                Condition={"StringEquals": {"aws:SourceAccount": ACCOUNT}},
            )
            for s in s3_statements(bucket)
        ]
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": statements}))
    created = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust_policy()))
    arn: str = created["Role"]["Arn"]
    if role_grants:
        iam.put_role_policy(
            RoleName=role,
            PolicyName="s3-read",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": s3_statements(bucket)}),
        )
    return arn


def schema_text(kind: str) -> str:
    return (DATA / "schemas" / f"{kind}.json").read_text()


def upload(
    s3: Any, key: str, body: bytes | str | None = None, *, kind: str | None = None, bucket: str = BUCKET
) -> str:
    if body is None:
        body = (DATA / f"{kind}.csv").read_bytes()
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    return f"s3://{bucket}/{key}"


def import_rows(
    world: World, pz: Any, dataset_arn: str, role_arn: str, job_name: str, key: str,
    rows: list[dict[str, Any]], **job: Any,
) -> dict[str, Any]:
    """Upload `rows` as a CSV (header: the first row's keys) to `key`, import it into the dataset
    (CreateDatasetImportJob `job_name`, plus `job` parameters) and wait: the finished job."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    location = upload(boto3.client("s3", region_name=REGION), key, out.getvalue())
    arn = pz.create_dataset_import_job(
        jobName=job_name, datasetArn=dataset_arn, roleArn=role_arn, dataSource={"dataLocation": location},
        **job,
    )["datasetImportJobArn"]
    return wait_for(
        world, lambda: pz.describe_dataset_import_job(datasetImportJobArn=arn)["datasetImportJob"]
    )


def wait_for(
    world: World,
    describe: Callable[[], dict[str, Any]],
    done: tuple[str, ...] = ("ACTIVE",),
    step: float = 30.0,
    limit: float = 24 * 3600,
) -> dict[str, Any]:
    """Advance the virtual clock by `step` until `describe()["status"]` is in `done` (or FAILED)."""
    waited = 0.0
    while True:
        found = describe()
        if found["status"] in done or found["status"].endswith("FAILED") or waited >= limit:
            return found
        world.clock.advance(step)  # type: ignore[attr-defined]
        waited += step


class Pipeline:
    """Builds the dev-like pipeline step by step through boto3, waiting on the virtual clock."""

    def __init__(self, world: World, pz: Any, s3: Any, iam: Any, prefix: str = "t") -> None:
        self.world, self.pz, self.s3, self.iam, self.prefix = world, pz, s3, iam, prefix
        self.role_arn = ""
        self.dg = ""
        self.datasets: dict[str, str] = {}

    def group(self, access: bool = True, **grants: bool) -> str:
        self.role_arn = setup_access(self.s3, self.iam, **grants) if access else ""
        self.dg = self.pz.create_dataset_group(name=f"{self.prefix}-dg")["datasetGroupArn"]
        wait_for(self.world, lambda: self.pz.describe_dataset_group(datasetGroupArn=self.dg)["datasetGroup"])
        return self.dg

    def dataset(self, kind: str) -> str:
        schema = self.pz.create_schema(name=f"{self.prefix}-{kind}", schema=schema_text(kind))["schemaArn"]
        arn: str = self.pz.create_dataset(
            name=f"{self.prefix}-{kind}", schemaArn=schema, datasetGroupArn=self.dg, datasetType=kind.title()
        )["datasetArn"]
        wait_for(self.world, lambda: self.pz.describe_dataset(datasetArn=arn)["dataset"])
        self.datasets[kind] = arn
        return arn

    def start_import(
        self, kind: str, location: str | None = None, name: str | None = None, mode: str = "FULL"
    ) -> str:
        location = location or upload(self.s3, f"{kind}.csv", kind=kind)
        arn: str = self.pz.create_dataset_import_job(
            jobName=name or f"{self.prefix}-{kind}-import",
            datasetArn=self.datasets[kind],
            dataSource={"dataLocation": location},
            roleArn=self.role_arn,
            importMode=mode,
        )["datasetImportJobArn"]
        return arn

    def imported(self, kind: str, location: str | None = None, name: str | None = None) -> dict[str, Any]:
        arn = self.start_import(kind, location, name)
        return wait_for(
            self.world,
            lambda: self.pz.describe_dataset_import_job(datasetImportJobArn=arn)["datasetImportJob"],
            step=60,
        )

    def solution(self, name: str, recipe: str, **extra: Any) -> str:
        arn: str = self.pz.create_solution(
            name=f"{self.prefix}-{name}",
            datasetGroupArn=self.dg,
            recipeArn=f"arn:aws:personalize:::recipe/{recipe}",
            performAutoTraining=False,
            **extra,
        )["solutionArn"]
        wait_for(self.world, lambda: self.pz.describe_solution(solutionArn=arn)["solution"])
        return arn

    def trained(self, solution_arn: str) -> dict[str, Any]:
        arn = self.pz.create_solution_version(solutionArn=solution_arn)["solutionVersionArn"]
        return wait_for(
            self.world,
            lambda: self.pz.describe_solution_version(solutionVersionArn=arn)["solutionVersion"],
            step=300,
        )

    def campaign(self, name: str, version_arn: str) -> dict[str, Any]:
        arn = self.pz.create_campaign(name=f"{self.prefix}-{name}", solutionVersionArn=version_arn)[
            "campaignArn"
        ]
        return wait_for(self.world, lambda: self.pz.describe_campaign(campaignArn=arn)["campaign"], step=60)


class Trained:
    """ARNs of the trained pipeline built once per session (see `trained_path`)."""

    def __init__(self) -> None:
        self.dg = self.role = self.up_campaign = self.sims_campaign = self.rank_campaign = ""
        self.up_version = self.sims_version = self.rank_version = self.up_solution = ""
        self.tracker = self.tracking_id = self.filter = self.param_filter = ""


def build_trained(path: Path) -> Trained:
    """Dev-like pipeline: 3 datasets imported, user-personalization, sims and ranking trained and
    deployed, an event tracker and two filters; saved to `path`."""
    t = Trained()
    w = World()
    with w.active():
        pz = boto3.client("personalize", region_name=REGION)
        p = Pipeline(
            w, pz, boto3.client("s3", region_name=REGION), boto3.client("iam", region_name=REGION), "tr"
        )
        t.dg = p.group()
        t.role = p.role_arn
        for kind in ("interactions", "items", "users"):
            p.dataset(kind)
            assert p.imported(kind)["status"] == "ACTIVE"
        t.up_solution = p.solution("up", "aws-user-personalization-v2")
        versions = {}
        for name, recipe in (("up", None), ("sims", "aws-sims"), ("rank", "aws-personalized-ranking-v2")):
            solution = t.up_solution if recipe is None else p.solution(name, recipe)
            trained = p.trained(solution)
            assert trained["status"] == "ACTIVE", trained.get("failureReason")
            versions[name] = trained["solutionVersionArn"]
        t.up_version, t.sims_version, t.rank_version = versions["up"], versions["sims"], versions["rank"]
        t.up_campaign = p.campaign("up", t.up_version)["campaignArn"]
        t.sims_campaign = p.campaign("sims", t.sims_version)["campaignArn"]
        t.rank_campaign = p.campaign("rank", t.rank_version)["campaignArn"]
        tracker = pz.create_event_tracker(name="tr-tracker", datasetGroupArn=t.dg)
        t.tracker, t.tracking_id = tracker["eventTrackerArn"], tracker["trackingId"]
        t.filter = pz.create_filter(
            name="tr-no-purchased",
            datasetGroupArn=t.dg,
            filterExpression=('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")'),
        )["filterArn"]
        t.param_filter = pz.create_filter(
            name="tr-category",
            datasetGroupArn=t.dg,
            filterExpression=("INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ($CATEGORY)"),
        )["filterArn"]
        wait_for(w, lambda: pz.describe_filter(filterArn=t.param_filter)["filter"])
        wait_for(w, lambda: pz.describe_event_tracker(eventTrackerArn=t.tracker)["eventTracker"])
    w.save(path)
    w.close()
    return t


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(world_path: Path) -> Iterator[int]:
    """`python -m cli serve` on a free port with a fresh world at `world_path`; yields the port."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    command = [sys.executable, "-m", "cli", "serve", "--port", str(port), "--world", str(world_path)]
    command.append("--fresh")
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    deadline = time.monotonic() + 60
    while True:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(process.stdout.read() if process.stdout else "the server did not start")
        time.sleep(0.1)
    try:
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def vod_group(world: World, pz: Any, role_arn: str, name: str = "vod-dg") -> str:
    """A VIDEO_ON_DEMAND dataset group with the example's domain schemas and data
    (data/schemas/vod/, data/vod/) imported: its ARN."""
    s3 = boto3.client("s3", region_name=REGION)
    group = pz.create_dataset_group(name=name, domain="VIDEO_ON_DEMAND")["datasetGroupArn"]
    wait_for(world, lambda: pz.describe_dataset_group(datasetGroupArn=group)["datasetGroup"])
    for kind in ("interactions", "items", "users"):
        text = (DATA / "schemas" / "vod" / f"{kind}.json").read_text()
        schema = pz.create_schema(name=f"{name}-{kind}", schema=text, domain="VIDEO_ON_DEMAND")["schemaArn"]
        dataset = pz.create_dataset(name=f"{name}-{kind}", schemaArn=schema, datasetGroupArn=group,
                                    datasetType=kind.upper())["datasetArn"]
        wait_for(world, lambda d=dataset: pz.describe_dataset(datasetArn=d)["dataset"])
        location = upload(s3, f"vod/{kind}.csv", (DATA / "vod" / f"{kind}.csv").read_bytes())
        job = pz.create_dataset_import_job(jobName=f"{name}-{kind}", datasetArn=dataset, roleArn=role_arn,
                                           dataSource={"dataLocation": location})["datasetImportJobArn"]
        done = wait_for(world, lambda j=job: pz.describe_dataset_import_job(datasetImportJobArn=j)[
            "datasetImportJob"])
        assert done["status"] == "ACTIVE", done
    return group
