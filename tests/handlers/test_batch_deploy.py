"""End to end: the dev app with a `[[batch_jobs]]` entry, synthesized and deployed by the local
runner as CloudFormation would. The input file is copied into the bucket, the job runs after
training with exactly the stack's IAM (the local world enforces the role and bucket policies), the
output lands under its prefix, the outputs carry the solution metrics, and destroy leaves nothing."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import boto3
import pytest

from pipeline.naming import REPO_ROOT

pytestmark = pytest.mark.slow

JOB = """
[[batch_jobs]]
name = "nightly-users"
solution = "user-personalization"
input = "data/batch/users.jsonl"
num_results = 5
"""


def test_dev_with_a_batch_job_deploys_scores_and_destroys(tmp_path: Path) -> None:
    from cli.support import region_of
    from local.emulator.world import World
    from local.runner import CloudAssembly, Runner, StackStore
    from local.runner.inventory import leftovers
    from pipeline.config import load_config
    from pipeline.naming import stack_name
    from stacks import build_app

    root = tmp_path / "root"
    shutil.copytree(REPO_ROOT / "data", root / "data")
    shutil.copytree(REPO_ROOT / "config", root / "config")
    rows = (root / "data" / "interactions.csv").read_text().splitlines()[1:]
    users = [*sorted({row.split(",")[0] for row in rows})[:4], "never-seen-user"]
    (root / "data" / "batch").mkdir()
    (root / "data" / "batch" / "users.jsonl").write_text(
        "".join(json.dumps({"userId": u}) + "\n" for u in users)
    )
    config_file = root / "config" / "dev.toml"
    config_file.write_text(config_file.read_text() + JOB)

    out = Path(tempfile.mkdtemp(dir=tmp_path))
    app = build_app(
        "dev",
        str(out),
        config=load_config("dev", config_file),
        root=root,
        asset_dir=REPO_ROOT / "lambda",
        nag=False,
    )
    app.synth()
    artifact = CloudAssembly.load(out).stack(stack_name("dev"))
    world = World()
    runner = Runner(world, StackStore(tmp_path / "state"), out=lambda line: None, region=region_of(artifact))
    try:
        result = runner.deploy(artifact)
        assert result.status == "CREATE_COMPLETE", result.reason
        metrics = json.loads(result.outputs["MetricsUserPersonalization"])
        assert 0 < metrics["coverage"] <= 1 and "normalized_discounted_cumulative_gain_at_10" in metrics
        bucket = result.outputs["DataBucketName"]
        assert result.outputs["BatchOutputNightlyUsers"] == f"s3://{bucket}/batch-output/nightly-users/"
        with world.active():
            s3 = boto3.client("s3", region_name=runner.region)
            keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
            assert {
                "batch-input/nightly-users/users.jsonl",
                "batch-output/nightly-users/users.jsonl.out",
            } <= keys
            body = s3.get_object(Bucket=bucket, Key="batch-output/nightly-users/users.jsonl.out")[
                "Body"
            ].read()
            records = [json.loads(line) for line in body.decode().splitlines()]
            runtime = boto3.client("personalize-runtime", region_name=runner.region)
            campaign = result.outputs["CampaignArnUserRecs"]
            assert [r["input"]["userId"] for r in records] == users
            for record in records:
                assert record["error"] is None and len(record["output"]["recommendedItems"]) == 5
                # the same model as the campaign: offline scores equal what the campaign serves
                served = runtime.get_recommendations(
                    campaignArn=campaign, userId=record["input"]["userId"], numResults=5
                )["itemList"]
                assert record["output"]["recommendedItems"] == [i["itemId"] for i in served]
        gone = runner.destroy(stack_name("dev"))
        assert gone is not None and gone.status == "DELETE_COMPLETE", gone.reason
        with world.active():
            assert leftovers(
                world, "dev", runner.region, runner.state(stack_name("dev")), stack=stack_name("dev")
            ) == {}
    finally:
        runner.close()
