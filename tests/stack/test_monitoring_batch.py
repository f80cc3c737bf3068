"""`[[batch_jobs]]` in the template: the job custom resource and its wait, the input upload, the
service role's least-privilege S3 access (PutObject on the output prefix only), the bucket policy's
matching grant, the Provider's permissions; bad input files and references fail synth clearly.
Also: dev's parameterised filter (`in-category`, `$CATEGORY`) reaches Personalize as written and
batch input must carry its values."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pipeline.problems import ProblemReport
from tests.stack.helpers import (
    JOBS,
    USERS,
    Synth,
    acknowledgments,
    config_with,
    contract_problems,
    nag_violations,
    render,
    synth,
)


def with_jobs(tmp_path: Path, workspace: Path, users: str = USERS, jobs: str = JOBS) -> Synth:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (workspace / "data" / "batch").mkdir(parents=True, exist_ok=True)
    (workspace / "data" / "batch" / "users.jsonl").write_text(users)
    config = config_with("dev", tmp_path, lambda text: text + jobs)
    return synth("dev", tmp_path / "out", config=config, root=workspace)


@pytest.fixture
def batch(tmp_path: Path, workspace: Path) -> Synth:
    return with_jobs(tmp_path, workspace)


def statements(resource: dict[str, Any]) -> list[dict[str, Any]]:
    return resource["Properties"]["PolicyDocument"]["Statement"]  # type: ignore[no-any-return]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_jobs_are_custom_resources_after_training_with_a_wait(batch: Synth) -> None:
    jobs = batch.of_type("Custom::PersonalizeBatchInferenceJob")
    assert set(jobs) == {"BatchNightlyUsers", "BatchSimilarOffline"}
    users = jobs["BatchNightlyUsers"]
    props = users["Properties"]
    assert props["SolutionVersionArn"] == {"Fn::GetAtt": ["TrainUserPersonalization", "Arn"]}
    assert props["NumResults"] == "10"
    assert props["FilterArn"] == {"Fn::GetAtt": ["FilterInCategory", "Arn"]}
    service_role = next(k for k in batch.of_type("AWS::IAM::Role") if k.startswith("ServiceRole"))
    assert props["RoleArn"] == {"Fn::GetAtt": [service_role, "Arn"]}
    bucket = next(k for k in batch.of_type("AWS::S3::Bucket") if k.startswith("Data") and "Access" not in k)
    assert render(props["InputPath"]) == f"s3://<{bucket}>/batch-input/nightly-users/users.jsonl"
    assert render(props["OutputPath"]) == f"s3://<{bucket}>/batch-output/nightly-users/"
    assert props["JobName"].startswith("dev-retail-batch-nightly-users-")
    assert len(props["JobName"]) <= 56
    wait_handle = props["WaitHandle"]["Ref"]
    assert wait_handle.startswith("BatchNightlyUsersWaitHandle")
    condition = batch.resources[wait_handle.replace("WaitHandle", "Wait")]
    assert condition["Type"] == "AWS::CloudFormation::WaitCondition"
    assert condition["DependsOn"] == ["BatchNightlyUsers"] and condition["Properties"]["Timeout"] == "21600"
    depends = set(users["DependsOn"])
    assert any(d.startswith("TrainUserPersonalizationWait") for d in depends)  # the version is ACTIVE
    assert "FilterInCategory" in depends
    # the repo input: a file asset copied into the data bucket by the Provider (as dataset files are)
    (upload,) = [d for d in depends if batch.resources[d]["Type"] == "Custom::PersonalizeDataObject"]
    copy = batch.resources[upload]
    assert copy["Properties"]["Key"] == "batch-input/nightly-users/users.jsonl"
    assert copy["Properties"]["Bucket"] == {"Ref": bucket} and copy["Properties"]["RetainOnDelete"] == "false"
    assert copy["Properties"]["SourceKey"].endswith(".jsonl")
    handler_policy = next(k for k in batch.of_type("AWS::IAM::Policy") if k.startswith("BatchHandlerAccess"))
    assert handler_policy in copy["DependsOn"]  # its permissions exist before the copy runs
    assert batch.of_type("Custom::CDKBucketDeployment") == {}
    policies = {
        d for d in depends if batch.resources[d]["Type"] in ("AWS::IAM::Policy", "AWS::S3::BucketPolicy")
    }
    assert len(policies) == 4  # service role, handler, waiter, bucket policy: in place before the job starts

    similar = jobs["BatchSimilarOffline"]["Properties"]
    assert similar["InputPath"] == "s3://partner-drop/in/items.jsonl"
    assert render(similar["OutputPath"]) == f"s3://<{bucket}>/scores/similar/"
    assert similar["NumResults"] == "25" and "FilterArn" not in similar
    outputs = batch.template["Outputs"]
    assert render(outputs["BatchOutputNightlyUsers"]["Value"]) == render(props["OutputPath"])


def test_service_role_reads_inputs_and_writes_only_its_output_prefixes(batch: Synth) -> None:
    (policy,) = [
        r for k, r in batch.of_type("AWS::IAM::Policy").items() if k.startswith("BatchServiceRoleAccess")
    ]
    (role,) = policy["Properties"]["Roles"]
    assert role["Ref"].startswith("ServiceRole")
    by_sid = {s["Sid"]: s for s in statements(policy)}
    assert by_sid["WriteBatchOutput"]["Action"] == "s3:PutObject"
    written = sorted(render(r) for r in as_list(by_sid["WriteBatchOutput"]["Resource"]))
    assert [w.split(">", 1)[1] for w in written] == ["/batch-output/nightly-users/*", "/scores/similar/*"]
    assert by_sid["ReadBatchInput"]["Action"] == "s3:GetObject"
    read = sorted(render(r) for r in as_list(by_sid["ReadBatchInput"]["Resource"]))
    assert read[0].endswith("/batch-input/nightly-users/*")
    assert read[1] == "arn:aws:s3:::partner-drop/in/items.jsonl"
    assert by_sid["ListExternalBatchInput"]["Resource"] == "arn:aws:s3:::partner-drop"
    for statement in statements(policy):
        assert all(a != "*" and not a.endswith(":*") for a in as_list(statement["Action"]))

    # the bucket policy admits the Personalize principal to the output prefixes only, for our jobs
    bucket_policy = next(
        r for k, r in batch.of_type("AWS::S3::BucketPolicy").items() if k.startswith("DataPolicy")
    )
    write = next(s for s in statements(bucket_policy) if s.get("Sid") == "PersonalizeWriteBatchOutput")
    assert (
        write["Principal"] == {"Service": "personalize.amazonaws.com"} and write["Action"] == "s3:PutObject"
    )
    assert sorted(render(r) for r in as_list(write["Resource"])) == written
    assert render(write["Condition"]["ArnLike"]["aws:SourceArn"]).endswith(
        ":personalize:ap-southeast-2:<AWS::AccountId>:*"
    )  # whatever resource ARN Personalize sends: the docs do not say which
    assert "aws:SourceAccount" in write["Condition"]["StringEquals"]


def test_batch_resources_hold_to_the_contract(batch: Synth) -> None:
    assert len(batch.of_type("Custom::PersonalizeBatchInferenceJob")) == 2
    assert contract_problems(batch.template) == []


def test_provider_and_waiter_may_run_and_describe_batch_jobs(batch: Synth) -> None:
    policies = batch.of_type("AWS::IAM::Policy")
    handler = next(r for k, r in policies.items() if k.startswith("BatchHandlerAccess"))
    waiter = next(r for k, r in policies.items() if k.startswith("BatchWaiterAccess"))
    assert handler["Properties"]["Roles"] == [
        {"Ref": next(k for k in batch.resources if k.startswith("ProviderHandlerRole"))}
    ]
    assert waiter["Properties"]["Roles"] == [
        {"Ref": next(k for k in batch.resources if k.startswith("ProviderWaiterRole"))}
    ]
    by_sid = {s["Sid"]: s for s in statements(handler)}
    jobs = by_sid["PersonalizeBatchInferenceJob"]
    assert "personalize:CreateBatchInferenceJob" in jobs["Action"]
    # a changed or removed environment tag: retag untags the job (TagResource alone cannot)
    assert {"personalize:TagResource", "personalize:UntagResource"} <= set(jobs["Action"])
    assert render(jobs["Resource"]).endswith(":batch-inference-job/dev-retail-*")
    # the input copy: read of its asset object, write of its own prefix only
    asset = render(by_sid["NightlyUsersReadInputAsset"]["Resource"])
    assert asset.startswith("arn:aws:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-ap-southeast-2/")
    assert asset.endswith(".jsonl") and "*" not in asset
    assert by_sid["NightlyUsersReadInputAsset"]["Action"] == "s3:GetObject"
    assert render(by_sid["NightlyUsersWriteInput"]["Resource"]).endswith("/batch-input/nightly-users/*")
    assert sorted(by_sid["NightlyUsersWriteInput"]["Action"]) == ["s3:DeleteObject", "s3:PutObject"]
    # its parent in IAM's terms: the solution version it runs (not the filter it names)
    parent = render(by_sid["PersonalizeBatchInferenceParents"]["Resource"])
    assert parent.rsplit(":", 1)[1] == "solution/dev-retail-*"
    assert by_sid["PersonalizeListBatchInferenceJobs"]["Action"] == "personalize:ListBatchInferenceJobs"
    (describe,) = statements(waiter)
    assert describe["Action"] == "personalize:DescribeBatchInferenceJob"


def test_parameterised_filter_reaches_personalize_as_written(batch: Synth) -> None:
    props = batch.resources["FilterInCategory"]["Properties"]
    assert props["FilterExpression"] == "INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ($CATEGORY)"


def test_no_batch_jobs_no_batch_resources(dev: Synth) -> None:
    assert dev.of_type("Custom::PersonalizeBatchInferenceJob") == {}
    assert not [k for k in dev.resources if k.startswith("Batch")]


@pytest.mark.parametrize(
    ("users", "message"),
    [
        (
            '{"userId": "u1", "filterValues": {"CATEGORY": "\\"a\\""}}\n{"user": "u2"}\n',
            r"users.jsonl:2: field userId: expected an id string \(USER_PERSONALIZATION input\), got None",
        ),
        (
            '{"userId": "u1"}\n',
            r"users.jsonl:1: field filterValues: expected values for the filter's "
            r"placeholders \['CATEGORY'\]",
        ),
        ('{"userId": "u1", "filterValues": {"CATEGORY": "\\"a\\""}}\nnot json\n', r"users.jsonl:2: not JSON"),
        ("\n\n", r"has no input records"),
    ],
)
def test_bad_input_file_fails_synth_naming_file_and_line(
    tmp_path: Path, workspace: Path, users: str, message: str
) -> None:
    with pytest.raises(ProblemReport, match=message):
        with_jobs(tmp_path, workspace, users=users)


@pytest.mark.parametrize(
    ("jobs", "message"),
    [
        (
            JOBS.replace('solution = "similar-items"', 'solution = "nope"'),
            r"batch_jobs\[1\]\.solution.*not a configured solution",
        ),
        (
            JOBS.replace('filter = "in-category"', 'filter = "nope"'),
            r"batch_jobs\[0\]\.filter.*not a configured filter",
        ),
        (
            JOBS.replace('output = "scores/similar"', 'output = "batch-output/nightly-users/"'),
            r"writes to the same prefix",
        ),
        (
            JOBS.replace('output = "scores/similar"', 'output = "s3://x/y/"'),
            r"expected a key prefix in the data bucket",
        ),
        (
            JOBS.replace('output = "scores/similar"', 'output = "datasets/x"'),
            r"datasets/ holds the import data",
        ),
        (JOBS.replace('name = "similar-offline"', 'name = "nightly-users"'), r"duplicate batch job name"),
        (JOBS.replace("num_results = 10", "num_results = 501"), r"less than or equal to 500"),
        (
            JOBS.replace('input = "data/batch/users.jsonl"', 'input = "data/batch/missing.jsonl"'),
            r"batch_jobs.nightly-users.input: no such file",
        ),
    ],
)
def test_bad_batch_config_is_reported(tmp_path: Path, workspace: Path, jobs: str, message: str) -> None:
    with pytest.raises(ProblemReport, match=message):
        with_jobs(tmp_path, workspace, jobs=jobs)


def test_trending_now_serves_no_batch_jobs(tmp_path: Path, workspace: Path) -> None:
    jobs = JOBS + '\n[[solutions]]\nname = "trending"\nrecipe = "aws-trending-now"\n'
    jobs += '\n[[batch_jobs]]\nname = "t"\nsolution = "trending"\ninput = "s3://b/k.jsonl"\n'
    with pytest.raises(ProblemReport, match="aws-trending-now, which serves no batch inference jobs"):
        with_jobs(tmp_path, workspace, jobs=jobs)


def test_new_input_runs_a_new_job_and_the_same_input_does_not(
    batch: Synth, tmp_path: Path, workspace: Path
) -> None:
    def ids(synthesized: Synth) -> tuple[str, str]:
        props = synthesized.resources["BatchNightlyUsers"]["Properties"]
        return props["Trigger"], props["WaitHandle"]["Ref"]

    same = with_jobs(tmp_path / "same", workspace)
    assert ids(same) == ids(batch)
    more = USERS + '{"userId": "u3", "filterValues": {"CATEGORY": "\\"hats\\""}}\n'
    changed = with_jobs(tmp_path / "changed", workspace, users=more)
    assert ids(changed)[0] != ids(batch)[0] and ids(changed)[1] != ids(batch)[1]
    # the other job's inputs did not change: it does not run again
    assert (
        changed.resources["BatchSimilarOffline"]["Properties"]["Trigger"]
        == batch.resources["BatchSimilarOffline"]["Properties"]["Trigger"]
    )


def test_batch_template_is_cfn_lint_clean(batch: Synth) -> None:
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run(
        [str(cfn_lint), "--format", "parseable", str(batch.template_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode & 3 == 0, result.stdout + result.stderr
    assert [line for line in result.stdout.splitlines() if ":E" in line] == []


def test_batch_wildcards_are_acknowledged_one_by_one_with_reasons(batch: Synth) -> None:
    assert nag_violations(batch.outdir) == []  # cdk-nag ran in the app and found nothing unexplained
    found = {(path.rsplit("/", 2)[-2], rule) for path, rule, _ in acknowledgments(batch) if "/Batch/" in path}
    assert found == {
        ("HandlerAccess", "AwsSolutions::AwsSolutions-IAM5[Resource::*]"),
        (
            "HandlerAccess",
            "AwsSolutions::AwsSolutions-IAM5[Resource::<Data178AD3D0.Arn>/batch-input/nightly-users/*]",
        ),
        (
            "HandlerAccess",
            "AwsSolutions::AwsSolutions-IAM5[Resource::arn:aws:personalize:ap-southeast-2:<AWS::AccountId>:"
            "batch-inference-job/dev-retail-*]",
        ),
        (
            "HandlerAccess",
            "AwsSolutions::AwsSolutions-IAM5[Resource::arn:aws:personalize:ap-southeast-2:<AWS::AccountId>:"
            "solution/dev-retail-*]",
        ),
        (
            "WaiterAccess",
            "AwsSolutions::AwsSolutions-IAM5[Resource::arn:aws:personalize:ap-southeast-2:<AWS::AccountId>:"
            "batch-inference-job/dev-retail-*]",
        ),
        (
            "ServiceRoleAccess",
            "AwsSolutions::AwsSolutions-IAM5[Resource::<Data178AD3D0.Arn>/batch-input/nightly-users/*]",
        ),
        (
            "ServiceRoleAccess",
            "AwsSolutions::AwsSolutions-IAM5[Resource::<Data178AD3D0.Arn>/batch-output/nightly-users/*]",
        ),
        (
            "ServiceRoleAccess",
            "AwsSolutions::AwsSolutions-IAM5[Resource::<Data178AD3D0.Arn>/scores/similar/*]",
        ),
    }
