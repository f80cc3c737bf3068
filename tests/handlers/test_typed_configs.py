"""solution_config and campaign_config as CloudFormation delivers them (every nested scalar a string)
reach the API typed as botocore's input shapes say, checked by botocore's own parameter validator;
a synced campaign is sent `<solution ARN>/$LATEST`."""

from __future__ import annotations

import copy
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ParamValidationError
from botocore.validate import validate_parameters
from personalize_handlers.base import Ctx
from personalize_handlers.campaign import Campaign
from personalize_handlers.common import Event, HandlerError
from personalize_handlers.solution import Solution

MODEL = botocore.session.get_session().get_service_model("personalize")
SOLUTION_ARN = "arn:aws:personalize:us-east-1:123456789012:solution/dev-retail-recs-a1b2c3d4"
VERSION_ARN = f"{SOLUTION_ARN}/0f1e2d3c"

#: As a team writes them in config/<env>.toml (typed). Strings that look like numbers where the
#: model says string (hpoResourceConfig's counts, algorithmHyperParameters, itemExplorationConfig).
SOLUTION_CONFIG: dict[str, Any] = {
    "eventValueThreshold": "0.5",
    "hpoConfig": {
        "hpoResourceConfig": {"maxNumberOfTrainingJobs": "10", "maxParallelTrainingJobs": "3"},
        "algorithmHyperParameterRanges": {
            "integerHyperParameterRanges": [{"name": "bptt", "minValue": 20, "maxValue": 40}],
            "continuousHyperParameterRanges": [{"name": "recency_mask", "minValue": 0.0, "maxValue": 0.5}],
            "categoricalHyperParameterRanges": [{"name": "recency_mask", "values": ["true", "false"]}],
        },
    },
    "algorithmHyperParameters": {"hidden_dimension": "100"},
    "eventsConfig": {
        "eventParametersList": [{"eventType": "click", "eventValueThreshold": 0.1, "weight": 0.7}]
    },
    "autoTrainingConfig": {"schedulingExpression": "rate(7 days)"},
}
CAMPAIGN_CONFIG: dict[str, Any] = {
    "syncWithLatestSolutionVersion": True,
    "enableMetadataWithRecommendations": False,
    "itemExplorationConfig": {"explorationWeight": "0.3", "explorationItemAgeCutOff": "30"},
    "rankingInfluence": {"POPULARITY": 0.5},
}


def stringified(value: Any) -> Any:
    """What CloudFormation hands a custom resource: every scalar a string, nested ones included."""
    if isinstance(value, dict):
        return {k: stringified(v) for k, v in value.items()}
    if isinstance(value, list):
        return [stringified(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def ctx(resource_type: str, props: dict[str, Any]) -> Ctx:
    event = Event(request_type="Create", resource_type=resource_type, logical_id="Test", request_id="r-1",
                  properties=stringified(props))
    return Ctx(event=event, name="test", pz=None)  # type: ignore[arg-type]


def solution_params(config: dict[str, Any]) -> dict[str, Any]:
    c = ctx("Custom::PersonalizeSolution", {
        "Name": "dev-retail-recs-a1b2c3d4",
        "DatasetGroupArn": SOLUTION_ARN.replace("solution/", "dataset-group/"),
        "RecipeArn": "arn:aws:personalize:::recipe/aws-user-personalization-v2", "PerformHPO": True,
        "SolutionConfig": config})
    return Solution().create_params(c, "dev-retail-recs-a1b2c3d4")


def campaign_params(config: dict[str, Any], version: str = VERSION_ARN) -> dict[str, Any]:
    c = ctx("Custom::PersonalizeCampaign", {
        "Name": "dev-retail-user-recs", "SolutionVersionArn": version, "MinProvisionedTPS": 2,
        "CampaignConfig": config})
    return Campaign().create_params(c, "dev-retail-user-recs")


def test_solution_config_reaches_the_api_typed() -> None:
    params = solution_params(SOLUTION_CONFIG)
    validate_parameters(params, MODEL.operation_model("CreateSolution").input_shape)
    assert params["solutionConfig"] == SOLUTION_CONFIG
    ranges = params["solutionConfig"]["hpoConfig"]["algorithmHyperParameterRanges"]
    assert type(ranges["integerHyperParameterRanges"][0]["minValue"]) is int
    assert type(ranges["continuousHyperParameterRanges"][0]["maxValue"]) is float
    # strings in the model stay strings, however numeric they look
    assert params["solutionConfig"]["hpoConfig"]["hpoResourceConfig"]["maxNumberOfTrainingJobs"] == "10"


def test_campaign_config_reaches_the_api_typed_and_a_synced_campaign_deploys_latest() -> None:
    params = campaign_params(CAMPAIGN_CONFIG)
    validate_parameters(params, MODEL.operation_model("CreateCampaign").input_shape)
    update = {k: v for k, v in params.items() if k != "name"}
    validate_parameters({"campaignArn": "arn:aws:personalize:us-east-1:123456789012:campaign/c", **update},
                        MODEL.operation_model("UpdateCampaign").input_shape)
    assert params["campaignConfig"] == CAMPAIGN_CONFIG
    assert params["minProvisionedTPS"] == 2
    # CreateCampaignRequest.solutionVersionArn: "You must use this format if you set
    # syncWithLatestSolutionVersion to True in the CampaignConfig."
    assert params["solutionVersionArn"] == f"{SOLUTION_ARN}/$LATEST"
    from_solution = campaign_params(CAMPAIGN_CONFIG, version=SOLUTION_ARN)
    assert from_solution["solutionVersionArn"] == f"{SOLUTION_ARN}/$LATEST"


def test_an_unsynced_campaign_deploys_its_version() -> None:
    config = {**CAMPAIGN_CONFIG, "syncWithLatestSolutionVersion": False}
    assert campaign_params(config)["solutionVersionArn"] == VERSION_ARN


def test_as_received_the_configs_fail_botocores_validation() -> None:
    """What the handlers sent before: the dicts as CloudFormation delivers them."""
    with pytest.raises(ParamValidationError, match="syncWithLatestSolutionVersion"):
        validate_parameters({"name": "c", "solutionVersionArn": VERSION_ARN,
                             "campaignConfig": stringified(CAMPAIGN_CONFIG)},
                            MODEL.operation_model("CreateCampaign").input_shape)


@pytest.mark.parametrize(
    ("kind", "edit", "expected"),
    [
        ("campaign", lambda c: c.update(syncWithLatestSolutionVersion="yes"),
         "property CampaignConfig.syncWithLatestSolutionVersion: expected a boolean (true or false), "
         "got 'yes'"),
        ("campaign", lambda c: c.update(rankingInfluence={"POPULARITY": "lots"}),
         "property CampaignConfig.rankingInfluence.POPULARITY: expected a number, got 'lots'"),
        ("solution", lambda c: c["eventsConfig"]["eventParametersList"][0].update(weight="heavy"),
         "property SolutionConfig.eventsConfig.eventParametersList[0].weight: expected a number, "
         "got 'heavy'"),
        ("solution",
         lambda c: c["hpoConfig"]["algorithmHyperParameterRanges"]["integerHyperParameterRanges"][0].update(
             minValue=1.5),
         "integerHyperParameterRanges[0].minValue: expected an integer, got '1.5'"),
        ("solution", lambda c: c.update(hpoObjectiv={}),
         "property SolutionConfig.hpoObjectiv: expected a member of SolutionConfig"),
    ],
)
def test_a_bad_value_is_refused_naming_its_key_and_type(kind: str, edit: Any, expected: str) -> None:
    config = copy.deepcopy(CAMPAIGN_CONFIG if kind == "campaign" else SOLUTION_CONFIG)
    edit(config)
    with pytest.raises(HandlerError) as info:
        (campaign_params if kind == "campaign" else solution_params)(config)
    assert expected in str(info.value), str(info.value)
