"""Fresh data and models on the local deploy: a refresh of an s3:// source with no code edit
(`-c refresh=<token>`) imports INCREMENTAL, trains UPDATE and moves the campaign in place; the
service's automatic training on a schedule, with a campaign that follows the newest version."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from cli.support import region_of
from local.runner import CloudAssembly, StackArtifact
from pipeline.config import load_config
from pipeline.naming import stack_name
from tests.e2e.helpers import REPO, Local

pytestmark = pytest.mark.slow
BUCKET = "producer-exports"
KEY = "recs/interactions.csv"

REFRESH_CONFIG = f"""\
[environment]
name = "dev"
region = "ap-southeast-2"

[dataset_group]
name = "fresh"

[datasets.interactions]
schema = "data/schemas/interactions.json"
source = "s3://{BUCKET}/{KEY}"
import_mode = "INCREMENTAL"

[[solutions]]
name = "up"
recipe = "aws-user-personalization"
training_mode = "UPDATE"

[[campaigns]]
name = "recs"
solution = "up"
"""

AUTO_CONFIG = """\
[environment]
name = "dev"
region = "ap-southeast-2"

[dataset_group]
name = "auto"

[datasets.interactions]
schema = "data/schemas/interactions.json"
source = "data/interactions.csv"

[[solutions]]
name = "up"
recipe = "aws-user-personalization-v2"
auto_training = true
auto_training_schedule = "rate(2 days)"

[[campaigns]]
name = "recs"
solution = "up"
sync_with_latest = true

[event_tracker]
name = "web"
"""


#: The producer's bucket lets Personalize read the export (the service reads with the role, and the
#: bucket's policy must allow the service principal: granting-personalize-s3-access).
PRODUCER_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{
        "Effect": "Allow",
        "Principal": {"Service": "personalize.amazonaws.com"},
        "Action": ["s3:GetObject", "s3:ListBucket"],
        "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"],
    }],
}


def synth(tmp: Path, text: str, label: str, **context: str) -> StackArtifact:
    from stacks import build_app

    path = tmp / f"{label}.toml"
    path.write_text(text)
    out = tmp / f"cdk-{label}"
    app = build_app("dev", str(out), config=load_config("dev", path), root=REPO, asset_dir=REPO / "lambda",
                    nag=False, context=dict(context))
    app.synth()
    return CloudAssembly.load(out).stack(stack_name("dev"))


def split_by_item(cut: str) -> tuple[str, str]:
    header, *rows = (REPO / "data" / "interactions.csv").read_text().splitlines()
    old = [r for r in rows if r.split(",")[1] < cut]
    new = [r for r in rows if r.split(",")[1] >= cut]
    return "\n".join([header, *old]) + "\n", "\n".join([header, *new]) + "\n"


def versions(local: Local, solution: str) -> list[Any]:
    return sorted((r for r in local.world.personalize.resources.values()
                   if r.KIND == "solution-version" and r.solution_name.startswith(solution)),
                  key=lambda v: v.created)


def listed(local: Local, solution_arn: str) -> list[dict[str, Any]]:
    """ListSolutionVersions (a call: the local world runs what its clock has made due)."""
    with local.world.active():
        pz = boto3.client("personalize", region_name=local.runner.region)
        found: list[dict[str, Any]] = pz.list_solution_versions(solutionArn=solution_arn)["solutionVersions"]
    return found


def test_refreshed_s3_source_appends_updates_the_model_and_moves_the_campaign(tmp_path: Path) -> None:
    old_rows, new_rows = split_by_item("i0150")
    first_app = synth(tmp_path, REFRESH_CONFIG, "first")
    refreshed_app = synth(tmp_path, REFRESH_CONFIG, "refreshed", refresh="2026-12-04")
    assert first_app.template != refreshed_app.template  # the token alone is new work
    local = Local(tmp_path / "state", region_of(first_app))
    try:
        with local.world.active():
            s3 = boto3.client("s3", region_name=local.runner.region)
            region = {"LocationConstraint": local.runner.region}
            s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration=region)
            s3.put_object(Bucket=BUCKET, Key=KEY, Body=old_rows)
            s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(PRODUCER_POLICY))
        first = local.runner.deploy(first_app)
        assert first.ok, first.reason
        campaign = first.outputs["CampaignArnRecs"]
        (dataset,) = [r for r in local.world.personalize.resources.values() if r.KIND == "dataset"]
        before = len(dataset.data)

        # the producer writes the new records to the same object; nothing in the repo changes
        with local.world.active():
            s3.put_object(Bucket=BUCKET, Key=KEY, Body=new_rows)
        assert local.runner.deploy(first_app).api_calls.get("personalize:CreateDatasetImportJob", 0) == 0
        second = local.runner.deploy(refreshed_app)
        assert second.status == "UPDATE_COMPLETE", second.reason
        assert second.outputs["CampaignArnRecs"] == campaign  # moved in place, same ARN
        assert second.api_calls.get("personalize:UpdateCampaign", 0) >= 1
        assert second.api_calls.get("personalize:CreateCampaign", 0) == 0

        with local.world.active():
            pz = boto3.client("personalize", region_name=local.runner.region)
            jobs = pz.list_dataset_import_jobs(datasetArn=dataset.arn)["datasetImportJobs"]
            described = pz.describe_campaign(campaignArn=campaign)["campaign"]
        assert sorted(j["importMode"] for j in jobs) == ["FULL", "INCREMENTAL"]  # the first is FULL
        assert len(dataset.data) == before + len(new_rows.splitlines()) - 1  # rows added, none replaced
        old, new = versions(local, "dev-fresh-up")
        assert (old.training_mode, new.training_mode) == ("FULL", "UPDATE")
        assert described["solutionVersionArn"] == new.arn == second.outputs["SolutionVersionArnUp"]
        old_items = set(old.model.catalogue)
        assert old_items <= set(new.model.catalogue) and any(i >= "i0150" for i in new.model.catalogue)
        with local.world.active():
            rt = boto3.client("personalize-runtime", region_name=local.runner.region)
            assert rt.get_recommendations(campaignArn=campaign, userId="u0246")["itemList"]
        gone = local.runner.destroy(stack_name("dev"))
        assert gone is not None and gone.ok, gone.reason
    finally:
        local.runner.close()


def test_auto_training_on_a_schedule_and_a_campaign_that_follows_it(tmp_path: Path) -> None:
    app = synth(tmp_path, AUTO_CONFIG, "auto")
    local = Local(tmp_path / "state", region_of(app))
    try:
        deployed = local.runner.deploy(app)
        assert deployed.ok, deployed.reason
        campaign = deployed.outputs["CampaignArnRecs"]
        (manual,) = versions(local, "dev-auto-up")
        with local.world.active():
            pz = boto3.client("personalize", region_name=local.runner.region)
            solution = pz.describe_solution(solutionArn=manual.solution_arn)["solution"]
            described = pz.describe_campaign(campaignArn=campaign)["campaign"]
            tracker = pz.list_event_trackers()["eventTrackers"][0]["eventTrackerArn"]
            tracking_id = pz.describe_event_tracker(eventTrackerArn=tracker)["eventTracker"]["trackingId"]
        assert solution["performAutoTraining"] is True
        assert solution["solutionConfig"]["autoTrainingConfig"] == {"schedulingExpression": "rate(2 days)"}
        assert described["solutionVersionArn"] == f"{manual.solution_arn}/$LATEST"
        assert described["campaignConfig"]["syncWithLatestSolutionVersion"] is True

        local.world.clock.advance(2 * 86400)  # type: ignore[attr-defined]
        assert len(listed(local, manual.solution_arn)) == 1  # no new interactions: no automatic training
        with local.world.active():
            events = boto3.client("personalize-events", region_name=local.runner.region)
            for n in range(5):
                events.put_events(trackingId=tracking_id, userId=f"u{n:04d}", sessionId=f"s{n}",
                                  eventList=[{"eventType": "view", "itemId": "i0001",
                                              "sentAt": local.world.now()}])
        local.world.clock.advance(2 * 86400 + 6 * 3600)  # type: ignore[attr-defined]
        listed(local, manual.solution_arn)  # the local world catches up with its clock on a call
        found = versions(local, "dev-auto-up")
        assert [(v.training_type, v.status) for v in found] == [("MANUAL", "ACTIVE"), ("AUTOMATIC", "ACTIVE")]
        newest = found[-1]
        with local.world.active():
            served = local.world.personalize.runtime._serving(campaign)  # type: ignore[attr-defined]
        assert served[1] is newest.model  # the synced campaign serves the newest ACTIVE version

        # a refresh by deploy (here: a source_version marker on the repo's file) retrains; the synced
        # campaign needs no UpdateCampaign and the deploy completes
        marked = AUTO_CONFIG.replace('source = "data/interactions.csv"',
                                     'source = "data/interactions.csv"\nsource_version = "2"')
        again = local.runner.deploy(synth(tmp_path, marked, "auto-marked"))
        assert again.status == "UPDATE_COMPLETE", again.reason
        assert again.api_calls.get("personalize:CreateSolutionVersion", 0) == 1
        assert again.api_calls.get("personalize:UpdateCampaign", 0) == 0
        listed(local, manual.solution_arn)
        with local.world.active():
            served = local.world.personalize.runtime._serving(campaign)  # type: ignore[attr-defined]
        assert served[1] is versions(local, "dev-auto-up")[-1].model
        gone = local.runner.destroy(stack_name("dev"))
        assert gone is not None and gone.ok, gone.reason
    finally:
        local.runner.close()
