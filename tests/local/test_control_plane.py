"""The local Personalize control plane through boto3: lifecycles over virtual time, ARNs, names,
exceptions, quotas, deletion rules, tags, paging. Every call goes through botocore's parser."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.emulator.clock import DEFAULT_START
from local.emulator.world import World
from tests.local.helpers import ACCOUNT, DATA, REGION, Pipeline, schema_text, upload, wait_for

DG_ARN = f"arn:aws:personalize:{REGION}:{ACCOUNT}:dataset-group/"


def code_of(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def fill_quota(create: Callable[[str], Any], names: list[str], one_more: str) -> None:
    """Create one resource per name, then `one_more` must be refused for the quota."""
    for name in names:
        create(name)
    with pytest.raises(ClientError) as full:
        create(one_more)
    assert code_of(full) == "LimitExceededException"


def test_dataset_group_lifecycle_follows_the_clock(world: World, pz: Any) -> None:
    arn = pz.create_dataset_group(name="dg-one")["datasetGroupArn"]
    assert arn == DG_ARN + "dg-one"
    seen = [pz.describe_dataset_group(datasetGroupArn=arn)["datasetGroup"]]
    for _ in range(4):
        world.clock.advance(5)  # type: ignore[attr-defined]
        seen.append(pz.describe_dataset_group(datasetGroupArn=arn)["datasetGroup"])
    statuses = [s["status"] for s in seen]
    assert statuses[0] == "CREATE PENDING"
    assert "CREATE IN_PROGRESS" in statuses
    assert statuses[-1] == "ACTIVE"
    assert seen[0]["creationDateTime"].astimezone(UTC).timestamp() == DEFAULT_START
    assert seen[-1]["lastUpdatedDateTime"] > seen[0]["lastUpdatedDateTime"]

    pz.delete_dataset_group(datasetGroupArn=arn)
    assert pz.describe_dataset_group(datasetGroupArn=arn)["datasetGroup"]["status"] == "DELETE PENDING"
    world.clock.advance(20)  # type: ignore[attr-defined]
    assert pz.describe_dataset_group(datasetGroupArn=arn)["datasetGroup"]["status"] == "DELETE IN_PROGRESS"
    world.clock.advance(600)  # type: ignore[attr-defined]
    with pytest.raises(ClientError) as gone:
        pz.describe_dataset_group(datasetGroupArn=arn)
    assert code_of(gone) == "ResourceNotFoundException"
    # the name is free again once the group is gone
    assert pz.create_dataset_group(name="dg-one")["datasetGroupArn"] == arn


def test_names_unique_per_kind_and_valid(world: World, pz: Any) -> None:
    pz.create_dataset_group(name="same")
    with pytest.raises(pz.exceptions.ResourceAlreadyExistsException):
        pz.create_dataset_group(name="same")
    with pytest.raises(ClientError) as bad:
        pz.create_dataset_group(name="bad name!")
    assert code_of(bad) == "InvalidInputException"
    with pytest.raises(ClientError) as long:
        pz.create_dataset_group(name="x" * 64)
    assert code_of(long) == "InvalidInputException"
    # a schema may share a dataset group's name: uniqueness is per kind
    assert pz.create_schema(name="same", schema=schema_text("users"))["schemaArn"].endswith(":schema/same")


def test_not_found_and_region_in_arn(world: World, pz: Any) -> None:
    import boto3

    other = boto3.client("personalize", region_name="eu-west-1")
    arn = other.create_dataset_group(name="dg-eu")["datasetGroupArn"]
    assert arn == f"arn:aws:personalize:eu-west-1:{ACCOUNT}:dataset-group/dg-eu"
    assert [g["name"] for g in pz.list_dataset_groups()["datasetGroups"]] == []
    for call, key in (
        (pz.describe_dataset_group, "datasetGroupArn"),
        (pz.describe_solution, "solutionArn"),
        (pz.describe_campaign, "campaignArn"),
        (pz.describe_filter, "filterArn"),
        (pz.describe_event_tracker, "eventTrackerArn"),
        (pz.describe_dataset, "datasetArn"),
    ):
        with pytest.raises(ClientError) as missing:
            call(**{key: DG_ARN + "nope"})
        assert code_of(missing) == "ResourceNotFoundException"


def test_dataset_group_quota(world: World, pz: Any) -> None:
    for n in range(5):
        pz.create_dataset_group(name=f"q{n}")
    with pytest.raises(ClientError) as full:
        pz.create_dataset_group(name="q5")
    assert code_of(full) == "LimitExceededException"


def test_schema_validation_and_delete_rules(world: World, pz: Any, pipeline: Pipeline) -> None:
    with pytest.raises(ClientError) as bad_json:
        pz.create_schema(name="broken", schema="{not json")
    assert code_of(bad_json) == "InvalidInputException"
    assert "not valid JSON" in bad_json.value.response["Error"]["Message"]
    nested = json.dumps(
        {"type": "record", "name": "X", "fields": [{"name": "USER_ID", "type": {"type": "array"}}]}
    )
    with pytest.raises(ClientError):
        pz.create_schema(name="nested", schema=nested)
    pipeline.group()
    users_only = pz.create_schema(name="users-only", schema=schema_text("users"))["schemaArn"]
    with pytest.raises(ClientError) as wrong:
        pz.create_dataset(
            name="wrong", schemaArn=users_only, datasetGroupArn=pipeline.dg, datasetType="Interactions"
        )
    assert code_of(wrong) == "InvalidInputException"
    assert "ITEM_ID" in wrong.value.response["Error"]["Message"]
    dataset = pz.create_dataset(
        name="users", schemaArn=users_only, datasetGroupArn=pipeline.dg, datasetType="Users"
    )["datasetArn"]
    assert dataset == f"arn:aws:personalize:{REGION}:{ACCOUNT}:dataset/t-dg/USERS"
    with pytest.raises(ClientError) as used:
        pz.delete_schema(schemaArn=users_only)
    assert code_of(used) == "ResourceInUseException"
    with pytest.raises(ClientError) as second:
        pz.create_dataset(
            name="users2", schemaArn=users_only, datasetGroupArn=pipeline.dg, datasetType="Users"
        )
    assert code_of(second) == "ResourceAlreadyExistsException"
    schema = pz.describe_schema(schemaArn=users_only)["schema"]
    assert json.loads(schema["schema"])["name"] == "Users"
    assert [s["name"] for s in pz.list_schemas()["schemas"]] == ["users-only"]


def test_dataset_in_pending_group_is_refused(world: World, pz: Any) -> None:
    dg = pz.create_dataset_group(name="young")["datasetGroupArn"]
    schema = pz.create_schema(name="s", schema=schema_text("users"))["schemaArn"]
    with pytest.raises(ClientError) as early:
        pz.create_dataset(name="d", schemaArn=schema, datasetGroupArn=dg, datasetType="Users")
    assert code_of(early) == "ResourceInUseException"


def test_delete_dataset_group_with_children_is_in_use(world: World, pz: Any, pipeline: Pipeline) -> None:
    pipeline.group()
    dataset = pipeline.dataset("users")
    with pytest.raises(ClientError) as busy:
        pz.delete_dataset_group(datasetGroupArn=pipeline.dg)
    assert code_of(busy) == "ResourceInUseException"
    assert "datasets" in busy.value.response["Error"]["Message"]
    pz.delete_dataset(datasetArn=dataset)
    # still deleting: the group is still in use
    with pytest.raises(ClientError) as still:
        pz.delete_dataset_group(datasetGroupArn=pipeline.dg)
    assert code_of(still) == "ResourceInUseException"
    with pytest.raises(ClientError) as twice:
        pz.delete_dataset(datasetArn=dataset)
    assert code_of(twice) == "ResourceInUseException"
    world.clock.advance(600)  # type: ignore[attr-defined]
    pz.delete_dataset_group(datasetGroupArn=pipeline.dg)
    world.clock.advance(600)  # type: ignore[attr-defined]
    assert pz.list_dataset_groups()["datasetGroups"] == []


def test_import_job_lifecycle_and_data(world: World, pz: Any, pipeline: Pipeline) -> None:
    pipeline.group()
    pipeline.dataset("interactions")
    arn = pipeline.start_import("interactions")
    assert arn == f"arn:aws:personalize:{REGION}:{ACCOUNT}:dataset-import-job/t-interactions-import"
    job = pz.describe_dataset_import_job(datasetImportJobArn=arn)["datasetImportJob"]
    assert job["status"] == "CREATE PENDING"
    assert job["dataSource"]["dataLocation"] == "s3://local-test-data/interactions.csv"
    world.clock.advance(60)  # type: ignore[attr-defined]
    assert (
        pz.describe_dataset_import_job(datasetImportJobArn=arn)["datasetImportJob"]["status"]
        == "CREATE IN_PROGRESS"
    )
    done = wait_for(
        world, lambda: pz.describe_dataset_import_job(datasetImportJobArn=arn)["datasetImportJob"]
    )
    assert done["status"] == "ACTIVE"
    rows = len(world.personalize.get(pipeline.datasets["interactions"]).data)  # type: ignore[union-attr]
    assert rows == 28974
    # the duration grows with the rows imported (model in durations.py)
    took = (done["lastUpdatedDateTime"] - done["creationDateTime"]).total_seconds()
    assert took == pytest.approx(world.personalize.durations.import_job(rows) + 10, abs=31)
    summaries = pz.list_dataset_import_jobs(datasetArn=pipeline.datasets["interactions"])["datasetImportJobs"]
    assert [s["status"] for s in summaries] == ["ACTIVE"]


def test_incremental_import_appends_full_replaces(world: World, pz: Any, pipeline: Pipeline) -> None:
    pipeline.group()
    dataset = pipeline.dataset("interactions")
    lines = (DATA / "interactions.csv").read_text().splitlines(keepends=True)
    first = upload(pipeline.s3, "a.csv", "".join(lines[:1201]))
    second = upload(pipeline.s3, "b.csv", lines[0] + "".join(lines[1201:2201]))
    job = pipeline.imported("interactions", first, "imp-a")
    assert job["status"] == "ACTIVE", job.get("failureReason")
    arn = pz.create_dataset_import_job(
        jobName="imp-b",
        datasetArn=dataset,
        dataSource={"dataLocation": second},
        roleArn=pipeline.role_arn,
        importMode="INCREMENTAL",
    )["datasetImportJobArn"]
    wait_for(world, lambda: pz.describe_dataset_import_job(datasetImportJobArn=arn)["datasetImportJob"])
    assert len(world.personalize.get(dataset).data) == 2200  # type: ignore[union-attr]
    assert pipeline.imported("interactions", second, "imp-c")["status"] == "ACTIVE"
    assert len(world.personalize.get(dataset).data) == 1000  # type: ignore[union-attr]


def test_import_needs_1000_interactions(world: World, pz: Any, pipeline: Pipeline) -> None:
    pipeline.group()
    pipeline.dataset("interactions")
    small = "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,DEVICE\nu1,i1,1767225600,view,web\n"
    job = pipeline.imported("interactions", upload(pipeline.s3, "small.csv", small), "small")
    assert job["status"] == "CREATE FAILED"
    assert "1000" in job["failureReason"]


def test_import_bad_csv_fails_naming_row_and_column(world: World, pz: Any, pipeline: Pipeline) -> None:
    pipeline.group()
    pipeline.dataset("interactions")
    good = (DATA / "interactions.csv").read_text()
    bad = good + "u2,i2,yesterday,view,web\n"
    job = pipeline.imported("interactions", upload(pipeline.s3, "bad.csv", bad), "bad-import")
    assert job["status"] == "CREATE FAILED"
    reason = job["failureReason"]
    assert "bad.csv:28976" in reason and "TIMESTAMP" in reason and "yesterday" in reason


def test_import_bad_header_fails(world: World, pz: Any, pipeline: Pipeline) -> None:
    pipeline.group()
    pipeline.dataset("interactions")
    job = pipeline.imported("interactions", upload(pipeline.s3, "h.csv", "USER,ITEM\nu1,i1\n"), "hdr")
    assert job["status"] == "CREATE FAILED"
    assert "header" in job["failureReason"]


@pytest.mark.parametrize(
    ("grants", "expected"),
    [
        ({"role_grants": False}, "no identity-based policy allows"),
        ({"bucket_grants": False}, "bucket policy"),
    ],
)
def test_import_access_denied(
    world: World, pz: Any, pipeline: Pipeline, grants: dict[str, bool], expected: str
) -> None:
    pipeline.group(**grants)
    pipeline.dataset("interactions")
    job = pipeline.imported("interactions")
    assert job["status"] == "CREATE FAILED"
    reason = job["failureReason"]
    assert "Insufficient privileges" in reason and "AccessDenied" in reason
    assert expected in reason
    assert "local-test-data" in reason and "personalize-service-role" in reason


def test_import_with_untrusted_role_or_missing_object(world: World, pz: Any, pipeline: Pipeline) -> None:
    pipeline.group()
    pipeline.dataset("interactions")
    pipeline.iam.update_assume_role_policy(
        RoleName="personalize-service-role",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    job = pipeline.imported("interactions", name="untrusted")
    assert job["status"] == "CREATE FAILED" and "trust policy" in job["failureReason"]
    missing = pipeline.imported("interactions", "s3://local-test-data/nothing-here.csv", "missing")
    assert missing["status"] == "CREATE FAILED"


def test_import_location_validated_and_quota(world: World, pz: Any, pipeline: Pipeline) -> None:
    pipeline.group()
    dataset = pipeline.dataset("interactions")
    with pytest.raises(ClientError) as bad:
        pz.create_dataset_import_job(
            jobName="x",
            datasetArn=dataset,
            dataSource={"dataLocation": "http://x/y"},
            roleArn=pipeline.role_arn,
        )
    assert code_of(bad) == "InvalidInputException"
    location = upload(pipeline.s3, "interactions.csv", kind="interactions")
    for n in range(5):
        pipeline.start_import("interactions", location, f"q{n}")
    with pytest.raises(ClientError) as full:
        pipeline.start_import("interactions", location, "q5")
    assert code_of(full) == "LimitExceededException"
    assert (
        full.value.response["Error"]["Message"] == "More than 5 resources with PENDING or IN_PROGRESS status."
    )
    with pytest.raises(ClientError) as busy:
        pz.delete_dataset(datasetArn=dataset)
    assert code_of(busy) == "ResourceInUseException"


def test_solution_recipes_and_quota(world: World, pz: Any, pipeline: Pipeline) -> None:
    pipeline.group()
    with pytest.raises(ClientError) as retired:
        pz.create_solution(
            name="old", datasetGroupArn=pipeline.dg, recipeArn="arn:aws:personalize:::recipe/aws-hrnn"
        )
    assert code_of(retired) == "InvalidInputException"
    assert "aws-user-personalization-v2" in retired.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as unknown:
        pz.create_solution(
            name="nope", datasetGroupArn=pipeline.dg, recipeArn="arn:aws:personalize:::recipe/aws-nothing"
        )
    assert code_of(unknown) == "ResourceNotFoundException"
    first = pipeline.solution("s0", "aws-sims", performHPO=True, solutionConfig={"eventValueThreshold": "0"})
    described = pz.describe_solution(solutionArn=first)["solution"]
    assert described["performHPO"] is True and described["performAutoTraining"] is False
    assert described["solutionConfig"] == {"eventValueThreshold": "0"}
    assert first == f"arn:aws:personalize:{REGION}:{ACCOUNT}:solution/t-s0"
    fill_quota(
        lambda name: pz.create_solution(
            name=name,
            datasetGroupArn=pipeline.dg,
            recipeArn="arn:aws:personalize:::recipe/aws-popularity-count",
        ),
        [f"s{n}" for n in range(1, 10)],
        "s10",
    )
    assert len(pz.list_solutions(datasetGroupArn=pipeline.dg)["solutions"]) == 10


def test_solution_default_auto_training_is_the_service_default(
    world: World, pz: Any, pipeline: Pipeline
) -> None:
    pipeline.group()
    arn = pz.create_solution(
        name="auto", datasetGroupArn=pipeline.dg, recipeArn="arn:aws:personalize:::recipe/aws-sims"
    )["solutionArn"]
    assert pz.describe_solution(solutionArn=arn)["solution"]["performAutoTraining"] is True


def test_solution_version_quota_and_stop(world: World, pz: Any, pipeline: Pipeline) -> None:
    pipeline.group()
    solutions = [pipeline.solution(f"s{n}", "aws-popularity-count") for n in range(3)]
    versions = [
        pz.create_solution_version(solutionArn=solutions[n % 3])["solutionVersionArn"] for n in range(20)
    ]
    assert all(v.startswith(solutions[0].rsplit("/", 1)[0]) for v in versions)
    assert all(len(v.rsplit("/", 1)[1]) == 8 for v in versions)
    assert len(set(versions)) == 20
    with pytest.raises(ClientError) as full:
        pz.create_solution_version(solutionArn=solutions[0])
    assert code_of(full) == "LimitExceededException"
    pz.stop_solution_version_creation(solutionVersionArn=versions[0])
    stopped = pz.describe_solution_version(solutionVersionArn=versions[0])["solutionVersion"]
    assert stopped["status"] == "CREATE STOPPING"
    with pytest.raises(ClientError) as again:
        pz.stop_solution_version_creation(solutionVersionArn=versions[0])
    assert code_of(again) == "InvalidInputException"
    # a stopping training still counts against the quota
    with pytest.raises(ClientError) as stopping:
        pz.create_solution_version(solutionArn=solutions[0])
    assert code_of(stopping) == "LimitExceededException"
    with pytest.raises(ClientError) as busy:
        pz.delete_solution(solutionArn=solutions[1])
    assert code_of(busy) == "ResourceInUseException"
    world.clock.advance(300)  # type: ignore[attr-defined]
    assert (
        pz.describe_solution_version(solutionVersionArn=versions[0])["solutionVersion"]["status"]
        == "CREATE STOPPED"
    )
    # no interactions were imported: the trainings fail with a reason, as the service's do
    world.clock.advance(600)  # type: ignore[attr-defined]
    failed = pz.describe_solution_version(solutionVersionArn=versions[1])["solutionVersion"]
    assert failed["status"] == "CREATE FAILED" and "Interactions" in failed["failureReason"]
    listed = pz.list_solution_versions(solutionArn=solutions[0])["solutionVersions"]
    assert {v["status"] for v in listed} >= {"CREATE STOPPED", "CREATE FAILED"}
    # nothing in progress any more: creating works again, and the solution can go
    pz.create_solution_version(solutionArn=solutions[0])
    world.clock.advance(600)  # type: ignore[attr-defined]
    pz.delete_solution(solutionArn=solutions[1])


def test_tags(world: World, pz: Any) -> None:
    arn = pz.create_dataset_group(name="tagged", tags=[{"tagKey": "env", "tagValue": "dev"}])[
        "datasetGroupArn"
    ]
    assert pz.list_tags_for_resource(resourceArn=arn)["tags"] == [{"tagKey": "env", "tagValue": "dev"}]
    pz.tag_resource(
        resourceArn=arn, tags=[{"tagKey": "team", "tagValue": "data"}, {"tagKey": "env", "tagValue": "p"}]
    )
    assert {t["tagKey"]: t["tagValue"] for t in pz.list_tags_for_resource(resourceArn=arn)["tags"]} == {
        "env": "p",
        "team": "data",
    }
    pz.untag_resource(resourceArn=arn, tagKeys=["env"])
    assert pz.list_tags_for_resource(resourceArn=arn)["tags"] == [{"tagKey": "team", "tagValue": "data"}]
    with pytest.raises(ClientError) as many:
        pz.tag_resource(resourceArn=arn, tags=[{"tagKey": f"k{n}", "tagValue": "v"} for n in range(50)])
    assert code_of(many) == "TooManyTagsException"
    with pytest.raises(ClientError) as missing:
        pz.list_tags_for_resource(resourceArn=DG_ARN + "nope")
    assert code_of(missing) == "ResourceNotFoundException"


def test_paging(world: World, pz: Any) -> None:
    for n in range(5):
        pz.create_schema(name=f"s{n}", schema=schema_text("users"))
    first = pz.list_schemas(maxResults=2)
    assert len(first["schemas"]) == 2 and "nextToken" in first
    names = [s["name"] for s in first["schemas"]]
    token = first["nextToken"]
    while token:
        page = pz.list_schemas(maxResults=2, nextToken=token)
        names += [s["name"] for s in page["schemas"]]
        token = page.get("nextToken")
    assert sorted(names) == [f"s{n}" for n in range(5)]
    paginated = [
        s["name"]
        for page in pz.get_paginator("list_schemas").paginate(PaginationConfig={"PageSize": 2})
        for s in page["schemas"]
    ]
    assert sorted(paginated) == sorted(names)


def test_recipes(world: World, pz: Any) -> None:
    recipes = {r["name"] for r in pz.list_recipes()["recipes"]}
    assert {"aws-user-personalization-v2", "aws-sims", "aws-personalized-ranking-v2"} <= recipes
    assert "aws-hrnn" not in recipes
    recipe = pz.describe_recipe(recipeArn="arn:aws:personalize:::recipe/aws-sims")["recipe"]
    assert recipe["recipeType"] == "RELATED_ITEMS"
    with pytest.raises(ClientError):
        pz.describe_recipe(recipeArn="arn:aws:personalize:::recipe/aws-nothing")


def test_event_tracker_and_filter_lifecycle(world: World, pz: Any, pipeline: Pipeline) -> None:
    pipeline.group()
    created = pz.create_event_tracker(name="tracker", datasetGroupArn=pipeline.dg)
    assert created["eventTrackerArn"] == f"arn:aws:personalize:{REGION}:{ACCOUNT}:event-tracker/tracker"
    assert len(created["trackingId"]) == 36
    with pytest.raises(ClientError) as second:
        pz.create_event_tracker(name="tracker2", datasetGroupArn=pipeline.dg)
    assert code_of(second) == "LimitExceededException"
    tracker = wait_for(
        world, lambda: pz.describe_event_tracker(eventTrackerArn=created["eventTrackerArn"])["eventTracker"]
    )
    assert tracker["status"] == "ACTIVE" and tracker["accountId"] == ACCOUNT
    with pytest.raises(ClientError) as bad:
        pz.create_filter(name="bad", datasetGroupArn=pipeline.dg, filterExpression="EXCLUDE everything")
    assert code_of(bad) == "InvalidInputException"
    flt = pz.create_filter(
        name="no-purchased",
        datasetGroupArn=pipeline.dg,
        filterExpression='EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")',
    )["filterArn"]
    described = wait_for(world, lambda: pz.describe_filter(filterArn=flt)["filter"])
    assert described["status"] == "ACTIVE" and described["filterExpression"].startswith("EXCLUDE")
    assert [f["name"] for f in pz.list_filters(datasetGroupArn=pipeline.dg)["Filters"]] == ["no-purchased"]
    fill_quota(
        lambda name: pz.create_filter(
            name=name,
            datasetGroupArn=pipeline.dg,
            filterExpression='EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("view")',
        ),
        [f"f{n}" for n in range(9)],
        "f10",
    )
    with pytest.raises(ClientError) as pending:
        pz.delete_filter(filterArn=pipeline.dg.replace("dataset-group/t-dg", "filter/f0"))
    assert code_of(pending) == "ResourceInUseException"
    pz.delete_filter(filterArn=flt)
    pz.delete_event_tracker(eventTrackerArn=created["eventTrackerArn"])
    world.clock.advance(120)  # type: ignore[attr-defined]
    assert [t["name"] for t in pz.list_event_trackers(datasetGroupArn=pipeline.dg)["eventTrackers"]] == []
    with pytest.raises(ClientError):
        pz.describe_filter(filterArn=flt)


def test_training_minimums(world: World, pz: Any, pipeline: Pipeline) -> None:
    pipeline.group()
    pipeline.dataset("interactions")
    rows = "".join(f"u{n % 10},i{n % 50},{1767225600 + n},view,web\n" for n in range(1000))
    job = pipeline.imported(
        "interactions",
        upload(pipeline.s3, "few-users.csv", "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,DEVICE\n" + rows),
        "few-users",
    )
    assert job["status"] == "ACTIVE", job.get("failureReason")
    version = pipeline.trained(pipeline.solution("pop", "aws-popularity-count"))
    assert version["status"] == "CREATE FAILED"
    assert "Insufficient data" in version["failureReason"] and "10 of 10 users" in version["failureReason"]
    assert pipeline.imported("interactions", name="full")["status"] == "ACTIVE"
    picky = pipeline.trained(pipeline.solution("picky", "aws-popularity-count", eventType="no-such-event"))
    assert picky["status"] == "CREATE FAILED" and "of event type no-such-event" in picky["failureReason"]
    assert pipeline.trained(pipeline.solution("fine", "aws-popularity-count"))["status"] == "ACTIVE"


def test_import_from_a_folder_reads_every_csv(world: World, pz: Any, pipeline: Pipeline) -> None:
    pipeline.group()
    dataset = pipeline.dataset("interactions")
    lines = (DATA / "interactions.csv").read_text().splitlines(keepends=True)
    upload(pipeline.s3, "batch/part-1.csv", "".join(lines[:1501]))
    upload(pipeline.s3, "batch/part-2.csv", lines[0] + "".join(lines[1501:3001]))
    upload(pipeline.s3, "batch/notes.txt", "not data")
    upload(pipeline.s3, "batch/deeper/part-3.csv", "garbage")
    job = pipeline.imported("interactions", "s3://local-test-data/batch/", "folder")
    assert job["status"] == "ACTIVE", job.get("failureReason")
    assert len(world.personalize.get(dataset).data) == 3000  # type: ignore[union-attr]
    upload(
        pipeline.s3, "batch/part-3.csv", lines[0] + "u9,i9,not-a-time,view,web\n" + "".join(lines[3001:4001])
    )
    bad = pipeline.imported("interactions", "s3://local-test-data/batch/", "folder-bad")
    assert bad["status"] == "CREATE FAILED" and "part-3.csv:2" in bad["failureReason"]
