"""The World: activation, isolation, persistence round trip, stats, clocks; and fault injection
(throttling, failing calls before and after effect, failing/hanging imports, trainings, campaigns)."""

from __future__ import annotations

import json
import pickle
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError

from local.emulator.clock import DEFAULT_START, ScaledClock, VirtualClock
from local.emulator.faults import FaultInjector
from local.emulator.personalize.durations import Durations
from local.emulator.world import World
from tests.local.helpers import ACCOUNT, REGION, Pipeline, Trained, wait_for

STANDARD = Config(retries={"mode": "standard", "max_attempts": 10})


# --- clocks ---------------------------------------------------------------------------------------
def test_virtual_clock() -> None:
    clock = VirtualClock()
    assert clock.now() == DEFAULT_START
    assert clock.advance(90) == DEFAULT_START + 90
    clock.advance_to(DEFAULT_START + 30)  # never back
    assert clock.now() == DEFAULT_START + 90
    with pytest.raises(ValueError):
        clock.advance(-1)
    clock.set(5.0)
    assert clock.now() == 5.0
    assert pickle.loads(pickle.dumps(clock)).now() == 5.0


def test_scaled_clock_runs_faster_and_resumes() -> None:
    clock = ScaledClock(speed=1000, start=100.0)
    time.sleep(0.01)
    assert clock.now() >= 100.0 + 5
    restored = pickle.loads(pickle.dumps(clock))
    assert restored.now() >= clock.now() - 1 and restored.speed == 1000
    with pytest.raises(ValueError):
        ScaledClock(speed=0)


# --- durations ------------------------------------------------------------------------------------
def test_durations_grow_with_data_and_can_be_pinned() -> None:
    d = Durations()
    assert d.import_job(1_000_000) > d.import_job(1000) > 0
    assert d.training("aws-user-personalization-v2", 10**6) > d.training("aws-user-personalization-v2", 10**3)
    assert d.training("aws-sims", 1000, hpo=True) == pytest.approx(3 * d.training("aws-sims", 1000))
    d.override("training", 6 * 3600)
    assert d.training("aws-sims", 5) == 6 * 3600
    d.scale = 0.5
    assert d.of("campaign") == 300
    d.jitter = 0.3
    spread = {round(d.import_job(1000, name=f"job{n}")) for n in range(10)}
    assert len(spread) > 5 and spread == {round(d.import_job(1000, name=f"job{n}")) for n in range(10)}
    with pytest.raises(ValueError):
        d.override("nothing", 1)


# --- world ----------------------------------------------------------------------------------------
def test_one_active_world_and_isolation() -> None:
    first, second = World(), World()
    with first.active():
        boto3.client("s3", region_name=REGION).create_bucket(Bucket="only-in-first")
        with pytest.raises(RuntimeError), second.active():
            pass
        with first.active():  # re-entrant
            pass
    with second.active():
        assert boto3.client("s3", region_name=REGION).list_buckets()["Buckets"] == []
    with first.active():
        names = [b["Name"] for b in boto3.client("s3", region_name=REGION).list_buckets()["Buckets"]]
        assert names == ["only-in-first"]
    first.close()
    second.close()


def test_persistence_round_trip(trained_path: tuple[Path, Trained], tmp_path: Path) -> None:
    path, t = trained_path
    world = World.load(path)
    with world.active():
        rt = boto3.client("personalize-runtime", region_name=REGION)
        before = rt.get_recommendations(campaignArn=t.up_campaign, userId="u0005")["itemList"]
        boto3.client("s3", region_name=REGION).put_object(Bucket="local-test-data", Key="new.txt", Body=b"x")
        world.clock.advance(123)  # type: ignore[attr-defined]
        world.faults.fail_import("later-*", "kept")
        saved_at = world.now()
    copy = tmp_path / "copy.pkl"
    world.save(copy)
    world.close()
    loaded = World.load(copy)
    assert loaded.now() == saved_at
    assert loaded.faults.import_failures == {"later-*": "kept"}
    with loaded.active():
        s3 = boto3.client("s3", region_name=REGION)
        assert s3.get_object(Bucket="local-test-data", Key="new.txt")["Body"].read() == b"x"
        assert len(s3.get_object(Bucket="local-test-data", Key="interactions.csv")["Body"].read()) > 100_000
        role = boto3.client("iam", region_name=REGION).get_role(RoleName="personalize-service-role")["Role"]
        assert role["Arn"] == t.role
        assert "personalize.amazonaws.com" in json.dumps(role["AssumeRolePolicyDocument"])
        policy = json.loads(s3.get_bucket_policy(Bucket="local-test-data")["Policy"])
        assert any(s.get("Sid") == "TlsOnly" for s in policy["Statement"])
        rt = boto3.client("personalize-runtime", region_name=REGION)
        assert rt.get_recommendations(campaignArn=t.up_campaign, userId="u0005")["itemList"] == before
        pz = boto3.client("personalize", region_name=REGION)
        assert pz.describe_campaign(campaignArn=t.up_campaign)["campaign"]["status"] == "ACTIVE"
        assert {g["name"] for g in pz.list_dataset_groups()["datasetGroups"]} == {"tr-dg"}
    loaded.close()


def test_stats_count_every_call(world: World, pz: Any) -> None:
    pz.create_dataset_group(name="counted")
    for _ in range(3):
        pz.list_dataset_groups()
    with pytest.raises(ClientError):
        pz.describe_dataset_group(
            datasetGroupArn="arn:aws:personalize:us-east-1:123456789012:dataset-group/x"
        )
    boto3.client("iam", region_name=REGION).list_roles()
    assert world.stats.calls["personalize:CreateDatasetGroup"] == 1
    assert world.stats.calls["personalize:ListDatasetGroups"] == 3
    assert world.stats.describe_calls() == 1
    assert world.stats.errors["personalize:DescribeDatasetGroup:ResourceNotFoundException"] == 1
    assert world.stats.calls["iam:ListRoles"] == 1


def test_list_all_by_prefix(world: World, pz: Any) -> None:
    pz.create_dataset_group(name="dev-retail")
    pz.create_dataset_group(name="prod-retail")
    assert [r.name for r in world.personalize.list_all(prefix="dev-")] == ["dev-retail"]
    assert world.personalize.next_transition() == DEFAULT_START + 2.0


# --- faults ---------------------------------------------------------------------------------------
def test_fault_injector_is_deterministic() -> None:
    def pattern(seed: int) -> list[bool]:
        faults = FaultInjector()
        faults.throttle(0.3, seed=seed)
        return [faults.on_call("personalize", "DescribeCampaign") is not None for _ in range(200)]

    assert pattern(1) == pattern(1)
    assert pattern(1) != pattern(2)
    assert 30 < sum(pattern(1)) < 90
    faults = FaultInjector()
    faults.throttle(1.0, operations={"CreateCampaign"})
    assert faults.on_call("personalize", "DescribeCampaign") is None
    assert faults.on_call("personalize-runtime", "CreateCampaign") is None
    assert faults.on_call("personalize", "CreateCampaign") is not None
    with pytest.raises(ValueError):
        faults.throttle(1.5)


@pytest.mark.parametrize("code", ["ThrottlingException", "LimitExceededException"])
def test_throttling_is_retried_on_virtual_time(world: World, code: str) -> None:
    pz = boto3.client("personalize", region_name=REGION, config=STANDARD)
    world.faults.throttle(0.3, seed=3, error_code=code)
    started, wall = world.now(), time.monotonic()
    for n in range(40):
        pz.create_schema(
            name=f"s{n}",
            schema=json.dumps(
                {
                    "type": "record",
                    "name": "U",
                    "fields": [{"name": "USER_ID", "type": "string"}, {"name": "AGE", "type": "int"}],
                }
            ),
        )
    assert len(pz.list_schemas()["schemas"]) == 40
    injected = world.faults.injected
    assert sum(n for k, n in injected.items() if k.startswith("throttle:")) >= 10
    assert world.stats.errors[f"personalize:CreateSchema:{code}"] >= 5
    assert world.now() > started  # the retries' back-off passed on the virtual clock ...
    assert time.monotonic() - wall < 5  # ... not in real time


def test_fail_call_before_effect(world: World, pz: Any) -> None:
    world.faults.fail_call("CreateDatasetGroup", "InvalidInputException", "injected bad input")
    with pytest.raises(ClientError) as failed:
        pz.create_dataset_group(name="never")
    assert failed.value.response["Error"]["Message"] == "injected bad input"
    assert pz.list_dataset_groups()["datasetGroups"] == []
    pz.create_dataset_group(name="second-try")  # times=1: the next call works


def test_fail_call_after_effect_loses_the_response(world: World) -> None:
    pz = boto3.client("personalize", region_name=REGION, config=Config(retries={"max_attempts": 0}))
    world.faults.fail_call("CreateDatasetGroup", after_effect=True)
    with pytest.raises(ConnectionClosedError):
        pz.create_dataset_group(name="happened")
    # it took effect: a retry meets ResourceAlreadyExists, as a retrying handler does
    assert [g["name"] for g in pz.list_dataset_groups()["datasetGroups"]] == ["happened"]
    with pytest.raises(pz.exceptions.ResourceAlreadyExistsException):
        pz.create_dataset_group(name="happened")


def test_lost_response_is_retried_by_botocore(world: World) -> None:
    pz = boto3.client("personalize", region_name=REGION, config=STANDARD)
    world.faults.fail_call("CreateSchema", after_effect=True)
    with pytest.raises(pz.exceptions.ResourceAlreadyExistsException):
        pz.create_schema(
            name="twice",
            schema=json.dumps(
                {
                    "type": "record",
                    "name": "U",
                    "fields": [{"name": "USER_ID", "type": "string"}, {"name": "AGE", "type": "int"}],
                }
            ),
        )
    assert world.stats.calls["personalize:CreateSchema"] == 2


def test_fail_import(world: World, pipeline: Pipeline) -> None:
    pipeline.group()
    pipeline.dataset("interactions")
    world.faults.fail_import("t-interactions-*", "injected: the file vanished")
    job = pipeline.imported("interactions")
    assert job["status"] == "CREATE FAILED" and job["failureReason"] == "injected: the file vanished"


def test_fail_and_hang_training_and_fail_campaign(trained: tuple[World, Trained]) -> None:
    world, t = trained
    pz = boto3.client("personalize", region_name=REGION)
    world.faults.fail_training("tr-sims", "AlgorithmError: injected")
    failed = pz.create_solution_version(solutionArn=t.sims_version.rsplit("/", 1)[0])["solutionVersionArn"]
    result = wait_for(
        world, lambda: pz.describe_solution_version(solutionVersionArn=failed)["solutionVersion"]
    )
    assert result["status"] == "CREATE FAILED" and result["failureReason"] == "AlgorithmError: injected"
    world.faults.hang_training("tr-up")
    hung = pz.create_solution_version(solutionArn=t.up_solution)["solutionVersionArn"]
    world.clock.advance(48 * 3600)  # type: ignore[attr-defined]
    assert (
        pz.describe_solution_version(solutionVersionArn=hung)["solutionVersion"]["status"]
        == "CREATE IN_PROGRESS"
    )
    pz.stop_solution_version_creation(solutionVersionArn=hung)
    world.clock.advance(600)  # type: ignore[attr-defined]
    assert (
        pz.describe_solution_version(solutionVersionArn=hung)["solutionVersion"]["status"] == "CREATE STOPPED"
    )
    world.faults.fail_campaign("tr-broken", "injected: no capacity")
    arn = pz.create_campaign(name="tr-broken", solutionVersionArn=t.sims_version)["campaignArn"]
    campaign = wait_for(world, lambda: pz.describe_campaign(campaignArn=arn)["campaign"])
    assert campaign["status"] == "CREATE FAILED" and campaign["failureReason"] == "injected: no capacity"
    pz.delete_campaign(campaignArn=arn)  # a failed campaign deletes cleanly
    world.faults.fail_campaign("tr-up", "injected: update failed")
    pz.update_campaign(campaignArn=t.up_campaign, minProvisionedTPS=3)
    world.clock.advance(3600)  # type: ignore[attr-defined]
    after = pz.describe_campaign(campaignArn=t.up_campaign)["campaign"]
    assert after["status"] == "ACTIVE" and after["minProvisionedTPS"] == 1
    assert after["latestCampaignUpdate"]["status"] == "CREATE FAILED"
    assert boto3.client("personalize-runtime", region_name=REGION).get_recommendations(
        campaignArn=t.up_campaign, userId="u0001"
    )["itemList"]


def test_six_hour_training_passes_in_virtual_time(trained: tuple[World, Trained]) -> None:
    world, t = trained
    pz = boto3.client("personalize", region_name=REGION)
    world.personalize.durations.override("training", 6 * 3600)
    wall = time.monotonic()
    arn = pz.create_solution_version(solutionArn=t.up_solution)["solutionVersionArn"]
    done = wait_for(
        world, lambda: pz.describe_solution_version(solutionVersionArn=arn)["solutionVersion"], step=600
    )
    assert done["status"] == "ACTIVE" and done["trainingHours"] == 6.0
    took = (done["lastUpdatedDateTime"] - done["creationDateTime"]).total_seconds()
    assert 6 * 3600 <= took <= 6 * 3600 + 610
    assert time.monotonic() - wall < 10
    assert ACCOUNT in arn


def test_saved_server_world_loads_with_a_virtual_clock(tmp_path: Path) -> None:
    world = World(clock=ScaledClock(speed=60, start=DEFAULT_START))
    assert world.retry_sleep == "clock"
    world.save(tmp_path / "w.pkl")
    loaded = World.load(tmp_path / "w.pkl")
    assert isinstance(loaded.clock, VirtualClock)
    assert DEFAULT_START <= loaded.now() < DEFAULT_START + 600
    assert loaded.personalize.clock is loaded.clock


def test_save_while_active_is_a_snapshot(tmp_path: Path) -> None:
    world = World()
    with world.active():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="live-bucket")
        s3.put_object(Bucket="live-bucket", Key="before", Body=b"v" * 100_000)
        world.save(tmp_path / "live.pkl")
        s3.put_object(Bucket="live-bucket", Key="after", Body=b"x")
    world.close()
    loaded = World.load(tmp_path / "live.pkl")
    with loaded.active():
        s3 = boto3.client("s3", region_name=REGION)
        assert [o["Key"] for o in s3.list_objects_v2(Bucket="live-bucket")["Contents"]] == ["before"]
        assert len(s3.get_object(Bucket="live-bucket", Key="before")["Body"].read()) == 100_000
    loaded.close()


def test_a_world_with_a_kms_key_saves_without_the_runner(tmp_path: Path) -> None:
    """moto's KMS keys hold `cryptography` keys that do not pickle as is; World.save must manage them
    in any process, also one that never imported the runner (`pz serve`)."""
    import subprocess
    import sys

    script = f"""
import sys, boto3
from local.emulator.world import World
world = World()
with world.active():
    key_id = boto3.client("kms", region_name="{REGION}").create_key()["KeyMetadata"]["KeyId"]
world.save(sys.argv[1])
world.close()
loaded = World.load(sys.argv[1])
with loaded.active():
    kms = boto3.client("kms", region_name="{REGION}")
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyId"] == key_id
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"secret")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"secret"
loaded.close()
"""
    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "world.pkl")], cwd=repo, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
