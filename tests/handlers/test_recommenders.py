"""Custom::PersonalizeRecommender against the local Personalize: create after the imports, update
in place with UpdateRecommender (typed values although CloudFormation sends strings), stop and start,
delete (and wait) before the dataset group, which Personalize refuses to delete while a recommender
is left; the domain's rules refused as the service refuses them."""

from __future__ import annotations

from typing import Any

import pytest
from personalize_handlers.common import HandlerError

from tests.handlers.helpers import (
    DG,
    RECOMMENDER,
    SCHEMA,
    Provider,
    personalize,
    recommender_props,
    schema_text,
    setup_data_access,
    vod_files,
    vod_pipeline,
)


def gone(op: str, **params: Any) -> bool:
    from botocore.exceptions import ClientError

    try:
        getattr(personalize(), op)(**params)
    except ClientError as exc:
        return exc.response["Error"]["Code"] == "ResourceNotFoundException"
    return False


def test_recommender_lifecycle(world: Any) -> None:
    setup_data_access(vod_files())
    provider = Provider(world)
    pipe = vod_pipeline(provider)
    assert personalize().describe_dataset_group(datasetGroupArn=pipe.group)["datasetGroup"]["domain"] == \
        "VIDEO_ON_DEMAND"
    props = recommender_props(pipe, itemExplorationConfig={"explorationWeight": "0.3"})
    created = provider.create(RECOMMENDER, props)
    arn = created["PhysicalResourceId"]
    assert created["Data"] == {"Arn": arn, "Name": "test-vod-top-picks"}
    described = personalize().describe_recommender(recommenderArn=arn)["recommender"]
    assert described["status"] == "ACTIVE"
    # botocore-typed: an integer went out although the property was the string "1"
    assert described["recommenderConfig"]["minRecommendationRequestsPerSecond"] == 1
    import boto3

    runtime = boto3.client("personalize-runtime", region_name="us-east-1")
    served = runtime.get_recommendations(recommenderArn=arn, userId="p0001", numResults=5)
    assert len(served["itemList"]) == 5

    # in place: a new recommenderConfig is an UpdateRecommender, the ARN stays
    moved = recommender_props(pipe, itemExplorationConfig={"explorationWeight": "0.5"})
    moved["RecommenderConfig"]["minRecommendationRequestsPerSecond"] = "2"
    updated = provider.update(RECOMMENDER, arn, props, moved)
    assert updated["PhysicalResourceId"] == arn
    world.clock.advance(3600)
    after = personalize().describe_recommender(recommenderArn=arn)["recommender"]
    assert after["latestRecommenderUpdate"]["status"] == "ACTIVE"
    assert after["recommenderConfig"]["minRecommendationRequestsPerSecond"] == 2
    assert after["recommenderConfig"]["itemExplorationConfig"] == {"explorationWeight": "0.5"}

    # the dataset group refuses to go while the recommender is there
    with pytest.raises(Exception) as refused:
        personalize().delete_dataset_group(datasetGroupArn=pipe.group)
    assert "recommenders" in str(refused.value)

    # delete waits until it is gone; then the group deletes
    provider.delete(RECOMMENDER, arn, moved)
    assert gone("describe_recommender", recommenderArn=arn)


def test_a_stopped_recommender_refuses_recommendations_until_started(world: Any) -> None:
    setup_data_access(vod_files())
    provider = Provider(world)
    pipe = vod_pipeline(provider)
    arn = provider.create(RECOMMENDER, recommender_props(pipe))["PhysicalResourceId"]
    import boto3
    from botocore.exceptions import ClientError

    runtime = boto3.client("personalize-runtime", region_name="us-east-1")
    personalize().stop_recommender(recommenderArn=arn)
    assert personalize().describe_recommender(recommenderArn=arn)["recommender"]["status"] == "STOP PENDING"
    world.clock.advance(3600)
    assert personalize().describe_recommender(recommenderArn=arn)["recommender"]["status"] == "INACTIVE"
    with pytest.raises(ClientError) as stopped:
        runtime.get_recommendations(recommenderArn=arn, userId="p0001")
    assert stopped.value.response["Error"]["Code"] == "InvalidInputException"
    with pytest.raises(ClientError) as again:
        personalize().stop_recommender(recommenderArn=arn)
    assert again.value.response["Error"]["Code"] == "ResourceInUseException"
    personalize().start_recommender(recommenderArn=arn)
    world.clock.advance(3600)
    assert runtime.get_recommendations(recommenderArn=arn, userId="p0001")["itemList"]
    # a stopped recommender still deletes (the stack's teardown)
    personalize().stop_recommender(recommenderArn=arn)
    world.clock.advance(3600)
    provider.delete(RECOMMENDER, arn, recommender_props(pipe))
    assert gone("describe_recommender", recommenderArn=arn)


def test_the_dataset_group_delete_removes_a_leftover_recommender(world: Any) -> None:
    setup_data_access(vod_files())
    provider = Provider(world)
    pipe = vod_pipeline(provider)
    personalize().create_recommender(name="test-vod-orphan", datasetGroupArn=pipe.group,
                                     recipeArn="arn:aws:personalize:::recipe/aws-vod-most-popular")
    world.clock.advance(7200)
    provider.delete(DG, pipe.group, {"Name": "test-vod", "Domain": "VIDEO_ON_DEMAND"})
    assert gone("describe_dataset_group", datasetGroupArn=pipe.group)


@pytest.mark.parametrize(("use_case", "expected"), [
    ("aws-ecomm-recommended-for-you", "ECOMMERCE use case"),
    ("aws-sims", "not a Domain dataset group use case"),
])
def test_a_use_case_of_another_domain_or_a_custom_recipe_is_refused(world: Any, use_case: str,
                                                                    expected: str) -> None:
    setup_data_access(vod_files())
    provider = Provider(world)
    pipe = vod_pipeline(provider, ("interactions",))
    with pytest.raises(HandlerError) as refused:
        provider.create(RECOMMENDER, recommender_props(pipe, use_case=use_case))
    assert "CreateRecommender failed" in str(refused.value) and expected in str(refused.value)


def test_a_use_case_that_trains_on_items_fails_without_them(world: Any) -> None:
    setup_data_access(vod_files())
    provider = Provider(world)
    pipe = vod_pipeline(provider, ("interactions",))
    with pytest.raises(HandlerError) as failed:
        provider.create(RECOMMENDER, recommender_props(pipe, use_case="aws-vod-more-like-x"))
    assert "trains on the Items dataset" in str(failed.value)


def test_exploration_is_refused_for_a_use_case_without_it(world: Any) -> None:
    setup_data_access(vod_files())
    provider = Provider(world)
    pipe = vod_pipeline(provider, ("interactions",))
    props = recommender_props(pipe, use_case="aws-vod-most-popular",
                              itemExplorationConfig={"explorationWeight": "0.3"})
    with pytest.raises(HandlerError) as refused:
        provider.create(RECOMMENDER, props)
    assert "itemExplorationConfig" in str(refused.value)


def test_recommenders_need_a_domain_dataset_group(world: Any) -> None:
    setup_data_access()
    provider = Provider(world)
    group = provider.create(DG, {"Name": "test-custom"})["PhysicalResourceId"]
    props = {"Name": "test-custom-top", "DatasetGroupArn": group,
             "RecipeArn": "arn:aws:personalize:::recipe/aws-vod-top-picks"}
    with pytest.raises(HandlerError) as refused:
        provider.create(RECOMMENDER, props)
    assert "not a Domain dataset group" in str(refused.value)


def test_a_domain_dataset_refuses_a_schema_that_breaks_the_domain_rules(world: Any) -> None:
    setup_data_access(vod_files())
    provider = Provider(world)
    group = provider.create(DG, {"Name": "test-vod", "Domain": "VIDEO_ON_DEMAND"})["PhysicalResourceId"]
    # the retail items schema: no GENRES, so not a VIDEO_ON_DEMAND Items schema
    schema = provider.create(SCHEMA, {"Name": "test-vod-items-bad", "Schema": schema_text("items"),
                                      "Domain": "VIDEO_ON_DEMAND"})["PhysicalResourceId"]
    with pytest.raises(HandlerError) as refused:
        provider.create("Custom::PersonalizeDataset", {"Name": "test-vod-items", "DatasetGroupArn": group,
                                                      "DatasetType": "Items", "SchemaArn": schema})
    assert "GENRES" in str(refused.value)


def test_the_waiter_ends_a_new_wait_of_a_stopped_recommender(world: Any) -> None:
    """A deploy that only renews the WaitCondition of a stopped recommender (nothing to update) must
    not wait until the timeout: the waiter reads INACTIVE as done for an update's wait."""
    from personalize_handlers import waiter
    from personalize_handlers.clients import Api

    setup_data_access(vod_files())
    provider = Provider(world)
    pipe = vod_pipeline(provider, ("interactions",))
    arn = provider.create(RECOMMENDER, recommender_props(pipe, use_case="aws-vod-most-popular"))[
        "PhysicalResourceId"]
    personalize().stop_recommender(recommenderArn=arn)
    api = Api("personalize", "Recommender", "test")
    assert waiter.operation_state("RecommenderUpdate", arn, "R", api)[0] == waiter.PENDING  # STOP PENDING
    world.clock.advance(3600)
    assert waiter.operation_state("RecommenderUpdate", arn, "R", api)[0] == waiter.SUCCEEDED
    assert waiter.operation_state("Recommender", arn, "R", api)[0] == waiter.PENDING
