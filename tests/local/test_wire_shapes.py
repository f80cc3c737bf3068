"""Every operation the local Personalize serves answers exactly what botocore's service model
describes: each raw response body recorded in a broad scenario is validated against the
operation's output shape (unknown members, wrong types), and the scenario must cover every
implemented operation."""

from __future__ import annotations

import json
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.validate import ParamValidator

from local.emulator.personalize.backend import CONTROL_PLANE
from local.emulator.world import World
from tests.local.helpers import BUCKET, REGION, Trained, schema_text, vod_group, wait_for


@pytest.fixture
def recorded(
    trained: tuple[World, Trained], monkeypatch: pytest.MonkeyPatch
) -> tuple[World, Trained, list[Any]]:
    world, t = trained
    seen: list[Any] = []
    original = world.personalize_request

    def record(service: str, operation: str, region: str, body: Any, in_process: bool = False,
               access_key: str | None = None) -> Any:
        response = original(service, operation, region, body, in_process, access_key)
        seen.append((service, operation, response))
        return response

    monkeypatch.setattr(world, "personalize_request", record)
    return world, t, seen


def test_every_response_matches_the_service_model(recorded: tuple[World, Trained, list[Any]]) -> None:
    world, t, seen = recorded
    pz = boto3.client("personalize", region_name=REGION)
    rt = boto3.client("personalize-runtime", region_name=REGION)
    ev = boto3.client("personalize-events", region_name=REGION)
    items_dataset = t.dg.replace("dataset-group/tr-dg", "dataset/tr-dg/ITEMS")
    pz.list_dataset_groups()
    pz.describe_dataset_group(datasetGroupArn=t.dg)
    pz.list_schemas()
    schema = pz.create_schema(name="shape-schema", schema=schema_text("users"))["schemaArn"]
    pz.describe_schema(schemaArn=schema)
    pz.delete_schema(schemaArn=schema)
    assert "shape-schema" not in {s["name"] for s in pz.list_schemas()["schemas"]}
    datasets = pz.list_datasets(datasetGroupArn=t.dg)["datasets"]
    assert {d["datasetType"] for d in datasets} == {"INTERACTIONS", "ITEMS", "USERS"}
    pz.describe_dataset(datasetArn=items_dataset)
    users_dataset = t.dg.replace("dataset-group/tr-dg", "dataset/tr-dg/USERS")
    users = json.loads(schema_text("users"))
    users["fields"].append({"name": "TIER", "type": ["null", "string"], "categorical": True})
    wider = pz.create_schema(name="shape-users-v2", schema=json.dumps(users))["schemaArn"]
    pz.update_dataset(datasetArn=users_dataset, schemaArn=wider)
    assert (
        pz.describe_dataset(datasetArn=users_dataset)["dataset"]["latestDatasetUpdate"]["schemaArn"] == wider
    )
    jobs = pz.list_dataset_import_jobs(datasetArn=items_dataset)["datasetImportJobs"]
    pz.describe_dataset_import_job(datasetImportJobArn=jobs[0]["datasetImportJobArn"])
    pz.create_dataset_import_job(
        jobName="shape-job",
        datasetArn=items_dataset,
        roleArn=t.role,
        dataSource={"dataLocation": "s3://local-test-data/items.csv"},
        importMode="INCREMENTAL",
    )
    pz.list_solutions(datasetGroupArn=t.dg)
    assert (
        pz.describe_solution(solutionArn=t.up_solution)["solution"]["latestSolutionVersion"]["status"]
        == "ACTIVE"
    )
    pz.list_solution_versions(solutionArn=t.up_solution)
    pz.describe_solution_version(solutionVersionArn=t.up_version)
    pz.get_solution_metrics(solutionVersionArn=t.up_version)
    extra = pz.create_solution(
        name="shape-solution",
        datasetGroupArn=t.dg,
        recipeArn="arn:aws:personalize:::recipe/aws-trending-now",
        solutionConfig={"featureTransformationParameters": {"x": "1"}},
    )["solutionArn"]
    wait_for(world, lambda: pz.describe_solution(solutionArn=extra)["solution"])
    version = pz.create_solution_version(solutionArn=extra, name="shape-version")["solutionVersionArn"]
    pz.stop_solution_version_creation(solutionVersionArn=version)
    pz.describe_solution_version(solutionVersionArn=version)
    pz.update_solution(solutionArn=extra, performAutoTraining=True,
                       solutionUpdateConfig={"autoTrainingConfig": {"schedulingExpression": "rate(2 days)"}})
    assert pz.describe_solution(solutionArn=extra)["solution"]["latestSolutionUpdate"]["performAutoTraining"]
    pz.list_campaigns(solutionArn=t.up_solution)
    pz.describe_campaign(campaignArn=t.up_campaign)
    pz.update_campaign(
        campaignArn=t.up_campaign, campaignConfig={"itemExplorationConfig": {"explorationWeight": "0.3"}}
    )
    assert pz.describe_campaign(campaignArn=t.up_campaign)["campaign"]["latestCampaignUpdate"][
        "campaignConfig"
    ]
    campaign = pz.create_campaign(name="shape-campaign", solutionVersionArn=t.sims_version)["campaignArn"]
    wait_for(world, lambda: pz.describe_campaign(campaignArn=campaign)["campaign"])
    pz.delete_campaign(campaignArn=campaign)
    pz.list_event_trackers(datasetGroupArn=t.dg)
    pz.describe_event_tracker(eventTrackerArn=t.tracker)
    pz.list_filters(datasetGroupArn=t.dg)
    pz.describe_filter(filterArn=t.filter)
    flt = pz.create_filter(
        name="shape-filter",
        datasetGroupArn=t.dg,
        filterExpression='EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("view")',
    )["filterArn"]
    tracker_group = pz.create_dataset_group(name="shape-dg")["datasetGroupArn"]
    wait_for(world, lambda: pz.describe_dataset_group(datasetGroupArn=tracker_group)["datasetGroup"])
    tracker = pz.create_event_tracker(name="shape-tracker", datasetGroupArn=tracker_group)["eventTrackerArn"]
    users_schema = pz.create_schema(name="shape-users", schema=schema_text("users"))["schemaArn"]
    users = pz.create_dataset(
        name="shape-users", schemaArn=users_schema, datasetGroupArn=tracker_group, datasetType="USERS"
    )["datasetArn"]
    wait_for(world, lambda: pz.describe_dataset(datasetArn=users)["dataset"])
    pz.delete_dataset(datasetArn=users)
    wait_for(world, lambda: pz.describe_filter(filterArn=flt)["filter"])
    pz.delete_filter(filterArn=flt)
    wait_for(world, lambda: pz.describe_event_tracker(eventTrackerArn=tracker)["eventTracker"])
    pz.delete_event_tracker(eventTrackerArn=tracker)
    pz.tag_resource(resourceArn=t.up_campaign, tags=[{"tagKey": "k", "tagValue": "v"}])
    pz.list_tags_for_resource(resourceArn=t.up_campaign)
    pz.untag_resource(resourceArn=t.up_campaign, tagKeys=["k"])
    pz.list_recipes()
    pz.describe_recipe(recipeArn="arn:aws:personalize:::recipe/aws-sims")
    world.clock.advance(3600)  # type: ignore[attr-defined]
    pz.delete_dataset_group(datasetGroupArn=tracker_group)
    solution = pz.create_solution(
        name="shape-gone", datasetGroupArn=t.dg, recipeArn="arn:aws:personalize:::recipe/aws-sims"
    )["solutionArn"]
    wait_for(world, lambda: pz.describe_solution(solutionArn=solution)["solution"])
    pz.delete_solution(solutionArn=solution)
    rt.get_recommendations(campaignArn=t.up_campaign, userId="u0001", numResults=3)
    rt.get_recommendations(campaignArn=t.sims_campaign, itemId="i0001", filterArn=t.filter)
    rt.get_personalized_ranking(campaignArn=t.rank_campaign, userId="u0001", inputList=["i0001", "i0002"])
    ev.put_events(
        trackingId=t.tracking_id,
        userId="u0001",
        sessionId="s",
        eventList=[{"eventType": "view", "itemId": "i0003", "sentAt": world.now(), "eventValue": 1.0}],
    )
    with pytest.raises(pz.exceptions.ResourceNotFoundException):
        pz.describe_solution(solutionArn=solution + "-nope")
    # batch inference the role and the bucket policy may write the output
    s3 = boto3.client("s3", region_name=REGION)
    s3.put_object(Bucket=BUCKET, Key="batch-in/users.jsonl", Body=b'{"userId": "u0001"}\n')
    write = {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/batch-out/*"}
    boto3.client("iam", region_name=REGION).put_role_policy(
        RoleName=t.role.rsplit("/", 1)[-1],
        PolicyName="batch-out",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [write]}),
    )
    bucket_policy = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    bucket_policy["Statement"].append({**write, "Principal": {"Service": "personalize.amazonaws.com"}})
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(bucket_policy))
    job = pz.create_batch_inference_job(
        jobName="shape-batch",
        solutionVersionArn=t.up_version,
        jobInput={"s3DataSource": {"path": f"s3://{BUCKET}/batch-in/users.jsonl"}},
        jobOutput={"s3DataDestination": {"path": f"s3://{BUCKET}/batch-out/"}},
        roleArn=t.role,
        numResults=3,
    )["batchInferenceJobArn"]
    done = wait_for(
        world, lambda: pz.describe_batch_inference_job(batchInferenceJobArn=job)["batchInferenceJob"]
    )
    assert done["status"] == "ACTIVE", done
    pz.list_batch_inference_jobs(solutionVersionArn=t.up_version)
    # a data deletion job, completed (numDeleted) and listed
    s3.put_object(Bucket=BUCKET, Key="deletions/users.csv", Body=b"USER_ID\nu0002\n")
    deletion = pz.create_data_deletion_job(
        jobName="shape-deletion", datasetGroupArn=t.dg, roleArn=t.role,
        dataSource={"dataLocation": f"s3://{BUCKET}/deletions/users.csv"},
    )["dataDeletionJobArn"]
    deleted = wait_for(
        world, lambda: pz.describe_data_deletion_job(dataDeletionJobArn=deletion)["dataDeletionJob"],
        done=("COMPLETED",),
    )
    assert deleted["status"] == "COMPLETED" and deleted["numDeleted"] > 0, deleted
    pz.list_data_deletion_jobs(datasetGroupArn=t.dg)

    # a metric attribution through its lifecycle (the role may publish its metrics)
    boto3.client("iam", region_name=REGION).put_role_policy(
        RoleName=t.role.rsplit("/", 1)[-1],
        PolicyName="publish-metrics",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*"}]}),
    )
    def attribution_now() -> dict[str, Any]:
        return pz.describe_metric_attribution(metricAttributionArn=attribution)["metricAttribution"]  # type: ignore[no-any-return]

    views = {"eventType": "view", "metricName": "views", "expression": "SAMPLECOUNT()"}
    attribution = pz.create_metric_attribution(
        name="shape-metrics", datasetGroupArn=t.dg, metrics=[views], metricsOutputConfig={"roleArn": t.role}
    )["metricAttributionArn"]
    wait_for(world, attribution_now)
    pz.list_metric_attributions(datasetGroupArn=t.dg)
    pz.update_metric_attribution(metricAttributionArn=attribution, addMetrics=[{**views, "metricName": "v2"}])
    wait_for(world, attribution_now)
    pz.list_metric_attribution_metrics(metricAttributionArn=attribution)
    pz.delete_metric_attribution(metricAttributionArn=attribution)

    # domain recommenders (a VIDEO_ON_DEMAND dataset group of their own)
    group = vod_group(world, pz, t.role, "shape-vod")
    recommender = pz.create_recommender(
        name="shape-top-picks", datasetGroupArn=group,
        recipeArn="arn:aws:personalize:::recipe/aws-vod-top-picks",
        recommenderConfig={"minRecommendationRequestsPerSecond": 1},
    )["recommenderArn"]
    assert wait_for(world, lambda: pz.describe_recommender(recommenderArn=recommender)["recommender"])[
        "status"] == "ACTIVE"
    pz.list_recommenders(datasetGroupArn=group)
    rt.get_recommendations(recommenderArn=recommender, userId="p0001", numResults=3)
    pz.update_recommender(recommenderArn=recommender,
                          recommenderConfig={"minRecommendationRequestsPerSecond": 2})
    updated = wait_for(world, lambda: pz.describe_recommender(recommenderArn=recommender)["recommender"][
        "latestRecommenderUpdate"])
    assert updated["status"] == "ACTIVE", updated
    pz.stop_recommender(recommenderArn=recommender)
    wait_for(world, lambda: pz.describe_recommender(recommenderArn=recommender)["recommender"], ("INACTIVE",))
    pz.start_recommender(recommenderArn=recommender)
    wait_for(world, lambda: pz.describe_recommender(recommenderArn=recommender)["recommender"])
    pz.delete_recommender(recommenderArn=recommender)

    session = botocore.session.get_session()
    validator = ParamValidator()
    covered: set[str] = set()
    for service, operation, (status, _, body) in seen:
        model = session.get_service_model(service).operation_model(operation)
        payload = json.loads(body)
        if status >= 300:
            assert set(payload) == {"__type", "message"} and payload["__type"] in {
                s.name for s in model.error_shapes
            } | {"InvalidInputException"}, (operation, payload)
            continue
        covered.add(operation)
        if model.output_shape is not None:
            report = validator.validate(payload, model.output_shape)
            assert not report.has_errors(), f"{operation}: {report.generate_report()}"
        else:
            assert payload == {}
    implemented = set(CONTROL_PLANE)
    implemented |= {"GetRecommendations", "GetPersonalizedRanking", "PutEvents"}
    assert implemented - covered == set()
