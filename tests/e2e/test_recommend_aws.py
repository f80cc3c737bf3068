"""`recommend --target aws`: the campaign is found through CloudFormation DescribeStacks, as on AWS.

The stack is deployed by the runner, then registered in moto's CloudFormation with the runner's
outputs (what `cdk deploy` leaves in CloudFormation), and the command runs against that."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest

from local.cli import main
from local.runner import StackArtifact
from local.runner.state import StackStore
from local.world import World

pytestmark = pytest.mark.slow
REGION = "ap-southeast-2"  # config/dev.toml


def test_recommend_finds_the_campaign_through_describe_stacks(
    tmp_path: Path, assemblies: Callable[[str], StackArtifact], capsys: pytest.CaptureFixture[str]
) -> None:
    cdk_out = str(assemblies("dev").directory)
    assert (
        main(["deploy", "-c", "env=dev", "--cdk-out", cdk_out, "--state-dir", str(tmp_path), "--quiet"]) == 0
    )
    capsys.readouterr()
    state = StackStore(tmp_path).load("Personalize-dev")
    assert state is not None
    world = World.load(tmp_path / "world.pkl")
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {key: {"Value": str(value)} for key, value in state.outputs.items()},
    }
    with world.active():
        cloudformation = boto3.client("cloudformation", region_name=REGION)
        cloudformation.create_stack(StackName="Personalize-dev", TemplateBody=json.dumps(template))
        args = [
            "recommend",
            "-c",
            "env=dev",
            "--target",
            "aws",
            "--campaign",
            "user-recs",
            "--user-id",
            "u0246",
        ]
        assert main([*args, "--num", "5", "--json"]) == 0
        rows = json.loads(capsys.readouterr().out)
        direct = boto3.client("personalize-runtime", region_name=REGION).get_recommendations(
            campaignArn=state.outputs["CampaignArnUserRecs"], userId="u0246", numResults=5
        )["itemList"]
        assert [r["itemId"] for r in rows] == [r["itemId"] for r in direct] and len(rows) == 5

        assert main([*args, "--num", "3"]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert state.outputs["CampaignArnUserRecs"] in lines[0] and len(lines) == 2 + 3

        assert main([*args[:-1], "stranger", "--num", "3"]) == 0
        out = capsys.readouterr().out
        assert "note: user 'stranger' has no interactions in the imported data (cold start)" in out
        assert len(out.splitlines()) == 1 + 2 + 3

        assert (
            main(["recommend", "-c", "env=dev", "--target", "aws", "--campaign", "nope", "--user-id", "u1"])
            == 1
        )
        assert "campaign 'nope' is not in the deployed stack" in capsys.readouterr().out

        assert (
            main(
                [
                    "recommend",
                    "-c",
                    "env=prod",
                    "--target",
                    "aws",
                    "--campaign",
                    "user-recs",
                    "--user-id",
                    "u1",
                ]
            )
            == 1
        )
        out = capsys.readouterr().out
        assert (
            "no stack Personalize-prod in ap-southeast-2: deploy it with `npx cdk deploy -c env=prod`" in out
        )
    world.close()


def test_recommend_on_aws_without_credentials_says_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    args = ["recommend", "-c", "env=dev", "--target", "aws", "--campaign", "user-recs", "--user-id", "u1"]
    assert main(args) == 1
    assert "AWS credentials are missing" in capsys.readouterr().out
