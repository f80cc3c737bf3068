"""What `leftovers` lists is named by the stack name its caller passes (the runner knows no naming)."""

from __future__ import annotations

import boto3

from local.emulator.world import World
from local.runner.inventory import leftovers
from tests.runner.helpers import REGION


def test_leftovers_follow_the_stack_name_given() -> None:
    world = World()
    with world.active():
        iam = boto3.client("iam", region_name=REGION)
        iam.create_role(RoleName="Team-dev-Role", AssumeRolePolicyDocument="{}")
        boto3.client("logs", region_name=REGION).create_log_group(logGroupName="Team-dev-Logs")
        boto3.client("s3", region_name=REGION).create_bucket(
            Bucket="team-dev-data", CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        assert leftovers(world, "dev", REGION, None, stack="Team-dev") == {
            "iam role": ["Team-dev-Role"],
            "log group": ["Team-dev-Logs"],
            "s3 bucket": ["team-dev-data: 0 objects"],
        }
        assert leftovers(world, "dev", REGION, None, stack="Other-dev") == {}
    world.close()
