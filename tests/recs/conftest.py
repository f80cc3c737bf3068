"""One local deploy of dev per session, shared by every test here (none of them changes it).

The deployed config is config/dev.toml, whose parameterised filter (`in-category`, INCLUDE by
Items.CATEGORY_L1 IN ($CATEGORY)) exercises filter values end to end."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from pipeline.naming import stack_name
from tests.recs.helpers import PARAM_EXPRESSION, PARAM_FILTER, REGION, REPO, Deployed


@pytest.fixture(scope="session")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Deployed:
    """dev synthesized in-process and deployed with `pz deploy` into a session state
    directory."""
    from cli.main import main as pz
    from local.runner.state import StackStore
    from pipeline.config import load_config
    from stacks import build_app

    config = load_config("dev")
    assert {f.name: f.expression for f in config.filters}.get(PARAM_FILTER) == PARAM_EXPRESSION
    cdk_out = tmp_path_factory.mktemp("recs-cdk")
    build_app("dev", str(cdk_out), config=config, root=REPO, asset_dir=REPO / "lambda", nag=False).synth()
    state_dir = tmp_path_factory.mktemp("recs-state")
    args = ["deploy", "-c", "env=dev", "--app", str(cdk_out), "--state-dir", str(state_dir), "--quiet"]
    assert pz(args) == 0
    state = StackStore(state_dir).load(stack_name("dev"))
    assert state is not None and state.status == "CREATE_COMPLETE"
    shutil.rmtree(cdk_out, ignore_errors=True)
    return Deployed(state_dir, {k: str(v) for k, v in state.outputs.items()})


@pytest.fixture(scope="session")
def aws_world(deployed: Deployed) -> Iterator[Any]:
    """A copy of the deployed world in which moto's CloudFormation also holds the stack with the
    runner's outputs (what `cdk deploy` leaves in CloudFormation): the AWS target's view."""
    from local.emulator.world import World

    world = World.load(deployed.state_dir / "world.pkl")
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {key: {"Value": value} for key, value in deployed.outputs.items()},
    }
    with world.active():
        boto3.client("cloudformation", region_name=REGION).create_stack(
            StackName=stack_name("dev"), TemplateBody=json.dumps(template)
        )
    yield world
    world.close()


@pytest.fixture
def on_aws(aws_world: Any) -> Iterator[Any]:
    """The AWS-target world, active for one test, with no faults left armed afterwards."""
    with aws_world.active():
        yield aws_world
    aws_world.faults.clear()


@pytest.fixture(scope="session")
def items_csv() -> dict[str, dict[str, str]]:
    with open(REPO / "data" / "items.csv", newline="", encoding="utf-8") as stream:
        return {row["ITEM_ID"]: row for row in csv.DictReader(stream)}


@pytest.fixture(scope="session")
def purchases() -> dict[str, set[str]]:
    """USER_ID -> items the user purchased in data/interactions.csv."""
    bought: dict[str, set[str]] = {}
    with open(REPO / "data" / "interactions.csv", newline="", encoding="utf-8") as stream:
        for row in csv.DictReader(stream):
            if row["EVENT_TYPE"] == "purchase":
                bought.setdefault(row["USER_ID"], set()).add(row["ITEM_ID"])
    return bought
