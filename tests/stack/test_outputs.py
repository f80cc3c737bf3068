"""Stack outputs: what a person (or the recommend CLI) needs without hunting for ARNs."""

from __future__ import annotations

from tests.stack.helpers import FIXTURES, Synth


def _join(value: object) -> str:
    assert isinstance(value, dict) and "Fn::Join" in value
    return "".join(p if isinstance(p, str) else "<" + next(iter(p)) + ">" for p in value["Fn::Join"][1])


def test_outputs_present(shipped: Synth) -> None:
    outputs = shipped.template["Outputs"]
    for key in (
        "DataBucketName",
        "ServiceRoleArn",
        "DatasetGroupArn",
        "SolutionVersionArnUserPersonalization",
        "SolutionVersionArnSimilarItems",
        "SolutionVersionArnRanking",
        "CampaignArnUserRecs",
        "CampaignArnSimilarItems",
        "CampaignArnRanking",
        "CommandUserRecs",
        "CommandSimilarItems",
        "CommandRanking",
        "EventTrackingId",
        "CampaignNames",
    ):
        assert key in outputs, key
    assert outputs["EventTrackingId"]["Value"] == {"Fn::GetAtt": ["EventTracker", "TrackingId"]}
    assert outputs["CampaignArnUserRecs"]["Value"] == {"Fn::GetAtt": ["CampaignUserRecs", "Arn"]}


def test_cli_commands_match_each_recipe_family(dev: Synth) -> None:
    outputs = dev.template["Outputs"]
    user = _join(outputs["CommandUserRecs"]["Value"])
    assert user.startswith(
        "aws personalize-runtime get-recommendations --region ap-southeast-2 --campaign-arn <Fn::GetAtt>"
    )
    assert " --user-id u" in user
    similar = _join(outputs["CommandSimilarItems"]["Value"])
    assert "get-recommendations" in similar and " --item-id i" in similar and "--user-id" not in similar
    ranking = _join(outputs["CommandRanking"]["Value"])
    assert (
        "get-personalized-ranking" in ranking and " --user-id u" in ranking and " --input-list i" in ranking
    )
    # The sample ids are real ones from the interactions file: ready to run.
    first_row = (FIXTURES / "data" / "interactions.csv").read_text().splitlines()[1].split(",")
    assert f" --user-id {first_row[0]} " in user
    assert f" --item-id {first_row[1]} " in similar
