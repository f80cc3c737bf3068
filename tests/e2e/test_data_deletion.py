"""`pz delete-users` on the local deploy of dev: the users' data leaves the dataset group, the next
training no longer knows them (the version trained before still does, as the service says), destroy
leaves nothing; and with the service role's read permission taken out of what the template granted,
the job fails as the service reports it."""

from __future__ import annotations

import csv
import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import pytest

from cli.exitcodes import ExitCode
from cli.main import main as pz
from local.emulator.personalize.resources import Dataset
from local.emulator.world import World
from local.runner.state import StackStore
from pipeline.naming import stack_name
from tests.e2e.helpers import REPO

pytestmark = pytest.mark.slow
LABEL = "UserPersonalization"


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dev synthesized in-process and deployed with `pz deploy` once; each test works on a copy."""
    from pipeline.config import load_config
    from stacks import build_app

    cdk_out = tmp_path_factory.mktemp("deletion-cdk")
    build_app("dev", str(cdk_out), config=load_config("dev"), root=REPO, asset_dir=REPO / "lambda",
              nag=False).synth()
    state = tmp_path_factory.mktemp("deletion-state")
    assert pz(["deploy", "-c", "env=dev", "--app", str(cdk_out), "--state-dir", str(state), "--quiet"]) == 0
    shutil.rmtree(cdk_out, ignore_errors=True)
    return state


def _copy(deployed: Path, tmp_path: Path) -> Path:
    target = tmp_path / "state"
    shutil.copytree(deployed, target)
    return target


def _outputs(state: Path) -> dict[str, str]:
    found = StackStore(state).load(stack_name("dev"))
    assert found is not None
    return {key: str(value) for key, value in found.outputs.items()}


def _heaviest_users(count: int) -> tuple[list[str], int]:
    """The users with the most interactions in data/, and how many records a deletion removes."""
    with open(REPO / "data" / "interactions.csv", newline="", encoding="utf-8") as stream:
        per_user = Counter(row["USER_ID"] for row in csv.DictReader(stream))
    with open(REPO / "data" / "users.csv", newline="", encoding="utf-8") as stream:
        profiles = {row["USER_ID"] for row in csv.DictReader(stream)}
    users = [user for user, _ in per_user.most_common(count)]
    return users, sum(per_user[u] for u in users) + sum(1 for u in users if u in profiles)


def _model(world: World, version_arn: str) -> Any:
    return world.personalize.resources[version_arn].model  # type: ignore[attr-defined]


def _group_data(world: World, group: str, kind: str) -> Any:
    return next(r.data for r in world.personalize.resources.values()
                if isinstance(r, Dataset) and r.dataset_group_arn == group and r.dataset_type.lower() == kind)


def test_deleted_users_are_unknown_to_the_next_training_and_destroy_leaves_nothing(
    deployed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = _copy(deployed, tmp_path)
    outputs = _outputs(state)
    old_version = outputs[f"SolutionVersionArn{LABEL}"]
    users, records = _heaviest_users(3)
    world = World.load(state / "world.pkl")
    assert all(_model(world, old_version).known_user(u) for u in users)
    world.close()

    capsys.readouterr()
    assert pz(["delete-users", "-c", "env=dev", "--state-dir", str(state), "--json", *users]) == ExitCode.OK
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["status"] == "COMPLETED" and result["numDeleted"] == records and result["users"] == 3
    assert result["dataLocation"].startswith(f"s3://{outputs['DataBucketName']}/deletions/")
    assert any("new solution version" in entry["what"] for entry in result["notCovered"])
    assert "IN_PROGRESS" in captured.err and "COMPLETED" in captured.err

    world = World.load(state / "world.pkl")
    with world.active():
        group = outputs["DatasetGroupArn"]
        assert not set(users) & set(_group_data(world, group, "interactions").user_ids)
        client = boto3.client("personalize", region_name=world.personalize.resources[group].region)

        def version(arn: str) -> dict[str, Any]:
            answer: dict[str, Any] = client.describe_solution_version(solutionVersionArn=arn)
            return dict(answer["solutionVersion"])

        new_version = client.create_solution_version(solutionArn=version(old_version)["solutionArn"])[
            "solutionVersionArn"
        ]
        while version(new_version)["status"] not in ("ACTIVE", "CREATE FAILED"):
            world.clock.advance(600)  # type: ignore[attr-defined]
        trained = version(new_version)
        assert trained["status"] == "ACTIVE", trained.get("failureReason")
    new, old = _model(world, new_version), _model(world, old_version)
    assert not any(new.known_user(u) for u in users)
    assert all(old.known_user(u) for u in users)  # trained before the deletion: retrain to forget
    assert len(new.histories) == len(old.histories) - len(users)
    world.save(state / "world.pkl")
    world.close()

    capsys.readouterr()
    assert pz(["destroy", "-c", "env=dev", "--state-dir", str(state), "--json"]) == ExitCode.OK
    destroyed = json.loads(capsys.readouterr().out)
    assert not any(destroyed["left"].values()), destroyed["left"]
    world = World.load(state / "world.pkl")
    assert [r.arn for r in world.personalize.resources.values() if r.name.startswith("dev-")] == []
    world.close()


def test_without_the_role_s_read_permission_the_job_fails_as_the_service_reports(
    deployed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = _copy(deployed, tmp_path)
    outputs = _outputs(state)
    role = outputs["ServiceRoleArn"].rsplit("/", 1)[-1]
    users, _ = _heaviest_users(1)
    world = World.load(state / "world.pkl")
    with world.active():
        iam = boto3.client("iam", region_name="us-east-1")
        names = iam.list_role_policies(RoleName=role)["PolicyNames"]
        (name,) = names
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        kept = [s for s in document["Statement"] if s.get("Sid") != "ReadDeletionLists"]
        assert len(kept) == len(document["Statement"]) - 1
        iam.put_role_policy(RoleName=role, PolicyName=name,
                            PolicyDocument=json.dumps({**document, "Statement": kept}))
    world.save(state / "world.pkl")
    world.close()

    capsys.readouterr()
    argv = ["delete-users", "-c", "env=dev", "--state-dir", str(state), "--json", *users]
    assert pz(argv) == ExitCode.FAILED
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["status"] == "FAILED" and result["numDeleted"] is None
    assert result["failureReason"].startswith("Insufficient privileges for accessing data in Amazon S3")
    assert "s3:GetObject" in result["failureReason"] and "FAILED" in captured.err
    world = World.load(state / "world.pkl")
    assert users[0] in set(_group_data(world, outputs["DatasetGroupArn"], "interactions").user_ids)
    world.close()
