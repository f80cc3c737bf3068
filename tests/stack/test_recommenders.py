"""The domain example's template (config/vod.toml): a domain dataset group and schemas, a
Custom::PersonalizeRecommender per entry after every import's wait and waited for itself, typed
RecommenderConfig, least-privilege statements on recommender ARNs, the idle alarm, the outputs."""

from __future__ import annotations

import json

from personalize_constructs.contract import contract
from tests.stack.helpers import Synth, ancestors


def test_domain_dataset_group_and_domain_schemas(vod: Synth) -> None:
    assert vod.resources["DatasetGroup"]["Properties"]["Domain"] == "VIDEO_ON_DEMAND"
    schemas = vod.of_type("Custom::PersonalizeSchema")
    assert len(schemas) == 3 and {s["Properties"]["Domain"] for s in schemas.values()} == {"VIDEO_ON_DEMAND"}
    assert not vod.of_type("Custom::PersonalizeSolution") and not vod.of_type("Custom::PersonalizeCampaign")


def test_each_recommender_waits_for_every_import_and_is_waited_for(vod: Synth) -> None:
    recommenders = vod.of_type("Custom::PersonalizeRecommender")
    assert set(recommenders) == {"RecommenderTopPicks", "RecommenderBecauseYouWatched"}
    imports = [k for k, r in vod.resources.items() if r["Type"] == "AWS::CloudFormation::WaitCondition"
               and k.startswith("Import")]
    assert len(imports) == 3
    for logical_id, resource in recommenders.items():
        assert set(imports) <= ancestors(vod.template, logical_id), logical_id
        handle = resource["Properties"]["WaitHandle"]["Ref"]
        assert handle.startswith(f"{logical_id}WaitHandle")
        wait = handle.replace("WaitHandle", "Wait")
        assert logical_id in vod.resources[wait].get("DependsOn", [])
        assert contract.TYPES["Custom::PersonalizeRecommender"].problems(resource["Properties"],
                                                                         lambda v: isinstance(v, dict)) == []


def test_recommender_config_is_what_the_api_takes(vod: Synth) -> None:
    props = vod.resources["RecommenderTopPicks"]["Properties"]
    assert props["RecipeArn"] == "arn:aws:personalize:::recipe/aws-vod-top-picks"
    assert props["Name"].startswith("vod-streaming-top-picks-")
    assert props["RecommenderConfig"] == {
        "minRecommendationRequestsPerSecond": 1, "enableMetadataWithRecommendations": False,
        "itemExplorationConfig": {"explorationWeight": "0.3", "explorationItemAgeCutOff": "30"}}
    watched = vod.resources["RecommenderBecauseYouWatched"]["Properties"]["RecommenderConfig"]
    assert "itemExplorationConfig" not in watched


def _statements(synth: Synth, prefix: str) -> list[dict]:  # type: ignore[type-arg]
    role = next(r for k, r in synth.resources.items()
                if k.startswith(prefix) and r["Type"] == "AWS::IAM::Role")
    return [s for p in role["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]


def test_handler_and_waiter_may_touch_only_this_environments_recommenders(vod: Synth, dev: Synth) -> None:
    by_sid = {s["Sid"]: s for s in _statements(vod, "ProviderHandlerRole")}
    main = by_sid["PersonalizeRecommender"]
    assert sorted(main["Action"]) == sorted(f"personalize:{a}" for a in (
        "CreateRecommender", "DescribeRecommender", "UpdateRecommender", "DeleteRecommender"))
    assert json.dumps(main["Resource"]).count(":recommender/vod-streaming-*") == 1
    assert "personalize:ListRecommenders" in by_sid["PersonalizeList"]["Action"]
    assert by_sid["PersonalizeList"]["Resource"] == "*"
    assert by_sid["PersonalizeCreateRecommenderInDatasetGroup"]["Action"] == "personalize:CreateRecommender"
    everything = json.dumps(_statements(vod, "ProviderHandlerRole"))
    assert "StopRecommender" not in everything and "StartRecommender" not in everything
    waiter = {s["Sid"]: s for s in _statements(vod, "ProviderWaiterRole")}
    assert waiter["DescribeRecommender"]["Action"] == "personalize:DescribeRecommender"
    # a custom dataset group's stack grants nothing on recommenders (ListRecommenders takes none)
    custom = [s for s in _statements(dev, "ProviderHandlerRole") if s["Sid"] != "PersonalizeList"]
    assert "Recommender" not in json.dumps(custom)


def test_each_recommender_has_an_idle_alarm_and_outputs(vod: Synth) -> None:
    alarms = vod.of_type("AWS::CloudWatch::Alarm")
    names = {a["Properties"]["AlarmName"] for a in alarms.values()}
    assert names == {"vod-streaming-recommender-top-picks-idle",
                     "vod-streaming-recommender-because-you-watched-idle"}
    for alarm in alarms.values():
        assert alarm["Properties"]["Dimensions"][0]["Name"] == "RecommenderArn"
        assert "pz recommender stop" in alarm["Properties"]["AlarmDescription"]
    outputs = vod.template["Outputs"]
    assert {"RecommenderArnTopPicks", "RecommenderArnBecauseYouWatched"} <= set(outputs)
    names = json.loads(outputs["RecommenderNames"]["Value"])
    assert names["top-picks"].startswith("vod-streaming-top-picks-")
