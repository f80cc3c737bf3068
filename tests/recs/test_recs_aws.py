"""`recommend --target aws` and `Recommender.for_environment(target="aws")`: the stack is found with
CloudFormation DescribeStacks (moto's, holding the runner's outputs as `cdk deploy` would leave them),
the campaigns answer from the local Personalize behind the same boto3 calls."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from pipeline.naming import stack_name
from recs import CredentialsMissing, Recommender, ServiceError, StackNotDeployed
from tests.recs.helpers import PARAM_FILTER, REGION, REPO, Deployed, categories, pz_recommend

pytestmark = pytest.mark.slow
AWS = ["-c", "env=dev", "--target", "aws"]


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = pz_recommend([*AWS, *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_user_recommendations_through_describe_stacks(
    on_aws: Any, deployed: Deployed, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = cli(capsys, "--campaign", "user-recs", "--user-id", "u0246", "--num", "5", "--json")
    assert code == 0 and err == ""
    answer = json.loads(out)
    direct = boto3.client("personalize-runtime", region_name=REGION).get_recommendations(
        campaignArn=deployed.outputs["CampaignArnUserRecs"], userId="u0246", numResults=5
    )["itemList"]
    assert [i["itemId"] for i in answer["items"]] == [i["itemId"] for i in direct] and len(direct) == 5
    assert answer["campaignArn"] == deployed.outputs["CampaignArnUserRecs"]

    code, out, _ = cli(capsys, "--campaign", "user-recs", "--user-id", "u0246", "--num", "3")
    lines = out.splitlines()
    assert code == 0 and deployed.outputs["CampaignArnUserRecs"] in lines[0] and len(lines) == 2 + 3


def test_item_rank_and_filter_values_on_aws(
    on_aws: Any, capsys: pytest.CaptureFixture[str], items_csv: dict[str, dict[str, str]]
) -> None:
    code, out, _ = cli(capsys, "--campaign", "similar-items", "--item-id", "i0103", "--num", "4", "--json")
    assert code == 0 and len(json.loads(out)["items"]) == 4
    code, out, _ = cli(
        capsys, "--campaign", "ranking", "--user-id", "u0246", "--rank", "i0103,i0010", "--json"
    )
    assert code == 0 and sorted(i["itemId"] for i in json.loads(out)["items"]) == ["i0010", "i0103"]
    code, out, _ = cli(
        capsys,
        "--campaign",
        "user-recs",
        "--user-id",
        "u0246",
        "--filter",
        PARAM_FILTER,
        "--filter-value",
        "CATEGORY=toys",
        "--json",
    )
    listed = [i["itemId"] for i in json.loads(out)["items"]]
    assert code == 0 and listed and all("toys" in categories(items_csv[i]) for i in listed)
    code, _, err = cli(capsys, "--campaign", "user-recs", "--user-id", "u0246", "--filter", PARAM_FILTER)
    assert code == 2 and "needs a value for ['CATEGORY']" in err


def test_cold_start_and_unknown_campaign_on_aws(on_aws: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "--campaign", "user-recs", "--user-id", "stranger", "--num", "3")
    assert code == 0 and out.startswith(
        "note: user 'stranger' has no interactions in the imported data (cold start)"
    )
    code, out, err = cli(capsys, "--campaign", "nope", "--user-id", "u1")
    assert (code, out) == (2, "") and "campaign 'nope' is not in the deployed stack Personalize-dev" in err


def test_no_stack(on_aws: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code = pz_recommend(["-c", "env=prod", "--target", "aws", "--campaign", "user-recs", "--user-id", "u1"])
    err = capsys.readouterr().err
    assert code == 2
    assert "no stack Personalize-prod in ap-southeast-2: deploy it with `npx cdk deploy -c env=prod`" in err
    code, _, err = cli(capsys, "--region", "eu-west-1", "--campaign", "user-recs", "--user-id", "u1")
    assert code == 2 and "no stack Personalize-dev in eu-west-1" in err


def test_stack_that_failed_to_create(on_aws: Any) -> None:
    from recs.stack import DeployedStack

    # what CloudFormation shows after a failed first create: no outputs, ROLLBACK_COMPLETE
    stack = DeployedStack("dev", stack_name("dev"), "us-west-2", "ROLLBACK_COMPLETE", {})
    with pytest.raises(
        StackNotDeployed,
        match=r"failed to create and was rolled back \[ROLLBACK_COMPLETE\]: "
        r"delete it \(`npx cdk destroy -c env=dev`\), then deploy",
    ):
        stack.check_serving("deploy it with `npx cdk deploy -c env=dev`")
    # a stack of that name without our outputs (here: none at all) is not a deployed pipeline
    cloudformation = boto3.client("cloudformation", region_name="us-west-2")
    template = {"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}
    cloudformation.create_stack(StackName=stack_name("dev"), TemplateBody=json.dumps(template))
    try:
        with pytest.raises(StackNotDeployed, match=r"has no outputs \(status CREATE_COMPLETE\)"):
            Recommender.for_environment("dev", target="aws", region="us-west-2")
    finally:
        cloudformation.delete_stack(StackName=stack_name("dev"))


def test_service_errors_exit_1(on_aws: Any, capsys: pytest.CaptureFixture[str]) -> None:
    on_aws.faults.throttle(1.0, ["GetRecommendations"], services=("personalize-runtime",))
    code, out, err = cli(capsys, "--campaign", "user-recs", "--user-id", "u0246")
    assert (code, out) == (1, "")
    assert "GetRecommendations failed: ThrottlingException: Rate exceeded; retry later" in err
    with pytest.raises(ServiceError):
        Recommender.for_environment("dev", target="aws").recommend("user-recs", "u0246")


def test_campaign_deleted_outside_the_stack(on_aws: Any, capsys: pytest.CaptureFixture[str]) -> None:
    on_aws.faults.fail_call(
        "GetRecommendations", "ResourceNotFoundException", "Campaign not found", service="personalize-runtime"
    )
    code, _, err = cli(capsys, "--campaign", "user-recs", "--user-id", "u0246")
    arn = "arn:aws:personalize:ap-southeast-2:123456789012:campaign/dev-retail-user-recs"
    assert code == 2 and f"campaign user-recs ({arn}) is not serving: Campaign not found" in err


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_credentials_missing(no_credentials: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "--campaign", "user-recs", "--user-id", "u1")
    assert (code, out) == (2, "")
    assert "AWS credentials are missing" in err and "aws configure" in err and "--target local" in err
    with pytest.raises(CredentialsMissing):
        Recommender.for_environment("dev", target="aws")


def test_unknown_profile(no_credentials: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "--profile", "nobody", "--campaign", "user-recs", "--user-id", "u1")
    assert code == 2 and "The config profile (nobody) could not be found" in err


def test_aws_target_needs_neither_local_nor_moto(tmp_path: Path) -> None:
    """In a fresh interpreter the AWS path runs to DescribeStacks (failing for want of credentials)
    without importing local/ or moto."""
    script = (
        "import sys\n"
        "from recs import Recommender, CredentialsMissing\n"
        "try:\n"
        "    Recommender.for_environment('dev', target='aws')\n"
        "except CredentialsMissing:\n"
        "    pass\n"
        "else:\n"
        "    raise SystemExit('expected CredentialsMissing')\n"
        "heavy = ('local', 'moto', 'aws_cdk', 'stacks')\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in heavy)\n"
        "print(loaded)\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "PYTHONPATH": str(REPO),
    }
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_readme_python_snippet_runs_as_written(on_aws: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """README's "Python API" block, run against the AWS target (moto's CloudFormation + the local
    Personalize behind boto3)."""
    text = (REPO / "README.md").read_text()
    section = text[text.index("### Recommendations: `./recommend` and the Python API") :]
    snippet = section[section.index("```python\n") + len("```python\n") :]
    snippet = snippet[: snippet.index("```")]
    exec(compile(snippet, "README.md", "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5 + 1
    item, score, category = lines[0].split()
    assert item.startswith("i") and 0 < float(score) <= 1 and category
    assert lines[-1].startswith("False ['i0") and "i0103" in lines[-1] and "i0010" in lines[-1]
