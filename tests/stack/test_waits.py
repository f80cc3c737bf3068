"""WaitCondition logical ids carry a hash of the operation's inputs: a changed input waits again
(new ids), an unchanged deploy does not (same ids); changes update or replace the right things."""

from __future__ import annotations

from pathlib import Path

from tests.stack.helpers import Synth, config_with, synth


def _waits(synth: Synth) -> dict[str, str]:
    """label (ImportItems, TrainRanking, ...) -> WaitCondition logical id."""
    out = {}
    for logical_id in synth.of_type("AWS::CloudFormation::WaitCondition"):
        label, _, digest = logical_id.partition("Wait")
        assert len(digest) == 8
        out[label] = logical_id
    return out


def _names(synth: Synth, kind: str) -> dict[str, str]:
    return {k: r["Properties"]["Name"] for k, r in synth.of_type(kind).items()}


def test_unchanged_inputs_keep_every_logical_id(dev: Synth, tmp_path: Path) -> None:
    again = synth("dev", tmp_path / "again")
    assert set(again.resources) == set(dev.resources)
    assert again.template == dev.template


def test_new_data_reimports_retrains_and_updates_campaigns_in_place(
    dev: Synth, tmp_path: Path, workspace: Path
) -> None:
    before = synth("dev", tmp_path / "before", root=workspace)
    with (workspace / "data" / "items.csv").open("a") as handle:
        handle.write("i999,hats\n")
    after = synth("dev", tmp_path / "after", root=workspace)
    old, new = _waits(before), _waits(after)
    assert old.keys() == new.keys()
    changed = {label for label in old if old[label] != new[label]}
    assert changed == {
        "ImportItems",
        "TrainUserPersonalization",
        "TrainSimilarItems",
        "TrainRanking",
        "CampaignUserRecs",
        "CampaignSimilarItems",
        "CampaignRanking",
    }
    # The import job is the same resource with a new SourceHash (an Update -> a new job).
    assert (
        before.resources["ImportItems"]["Properties"]["SourceHash"]
        != after.resources["ImportItems"]["Properties"]["SourceHash"]
    )
    # Campaigns keep their logical id and name: UpdateCampaign, not a replacement.
    assert _names(before, "Custom::PersonalizeCampaign") == _names(after, "Custom::PersonalizeCampaign")
    # Solutions are untouched; their versions get a new Trigger (retrain).
    assert _names(before, "Custom::PersonalizeSolution") == _names(after, "Custom::PersonalizeSolution")
    for label in ("TrainUserPersonalization", "TrainRanking"):
        assert (
            before.resources[label]["Properties"]["Trigger"]
            != after.resources[label]["Properties"]["Trigger"]
        )
    # The resource with the new handle is the one the new condition waits on.
    assert after.resources["ImportItems"]["Properties"]["WaitHandle"] == {
        "Ref": new["ImportItems"].replace("Wait", "WaitHandle", 1)
    }


def test_changed_recipe_replaces_the_solution_and_moves_the_campaign(dev: Synth, tmp_path: Path) -> None:
    config = config_with(
        "dev",
        tmp_path,
        lambda t: t.replace('recipe = "aws-personalized-ranking-v2"', 'recipe = "aws-personalized-ranking"'),
    )
    after = synth("dev", tmp_path / "out", config=config)
    before_names, after_names = (
        _names(dev, "Custom::PersonalizeSolution"),
        _names(after, "Custom::PersonalizeSolution"),
    )
    assert before_names["SolutionRanking"] != after_names["SolutionRanking"]  # new name => replacement
    assert before_names["SolutionUserPersonalization"] == after_names["SolutionUserPersonalization"]
    old, new = _waits(dev), _waits(after)
    assert {label for label in old if old[label] != new[label]} == {"TrainRanking", "CampaignRanking"}
    assert (
        dev.resources["CampaignRanking"]["Properties"]["Name"]
        == after.resources["CampaignRanking"]["Properties"]["Name"]
    )


def test_campaign_tps_change_waits_for_the_update_only(dev: Synth, tmp_path: Path) -> None:
    config = config_with(
        "dev", tmp_path, lambda t: t.replace("min_provisioned_tps = 1", "min_provisioned_tps = 3")
    )
    after = synth("dev", tmp_path / "out", config=config)
    old, new = _waits(dev), _waits(after)
    assert {label for label in old if old[label] != new[label]} == {"CampaignUserRecs"}


def test_timeouts_come_from_config(dev: Synth, tmp_path: Path) -> None:
    waits = _waits(dev)
    timeout = {label: dev.resources[lid]["Properties"]["Timeout"] for label, lid in waits.items()}
    assert timeout["ImportInteractions"] == str(4 * 3600)  # default import_timeout
    assert timeout["TrainUserPersonalization"] == str(6 * 3600)  # training_timeout = "6h"
    assert timeout["CampaignUserRecs"] == str(2 * 3600)  # default create_timeout
    config = config_with(
        "dev", tmp_path, lambda t: t.replace('training_timeout = "6h"', 'training_timeout = "11h"')
    )
    after = synth("dev", tmp_path / "out", config=config)
    lid = _waits(after)["TrainUserPersonalization"]
    assert after.resources[lid]["Properties"]["Timeout"] == str(11 * 3600)


def test_a_new_timeout_is_a_new_wait_condition_never_an_update(dev: Synth, tmp_path: Path) -> None:
    """CloudFormation cannot update a WaitCondition's Timeout (or Count, or Handle): a template where
    the same logical id carries another Timeout fails the update. Every WaitCondition of the second
    synth with a logical id of the first has the same Timeout, Count and Handle."""
    config = config_with(
        "dev", tmp_path, lambda t: t.replace('training_timeout = "6h"', 'training_timeout = "11h"')
    )
    after = synth("dev", tmp_path / "out", config=config)
    before_waits = dev.of_type("AWS::CloudFormation::WaitCondition")
    after_waits = after.of_type("AWS::CloudFormation::WaitCondition")
    for logical_id, resource in after_waits.items():
        if logical_id in before_waits:
            assert resource["Properties"] == before_waits[logical_id]["Properties"], logical_id
    old, new = _waits(dev), _waits(after)
    assert {label for label in old if old[label] != new[label]} == {"TrainUserPersonalization"}


def test_each_handle_is_created_with_its_operation_not_at_stack_start(dev: Synth) -> None:
    """A handle's presigned URL is minted when the handle is created and lives about 24 hours
    (observed; docs/aws-contracts.md): a training's handle waits for the imports' waits, a campaign's
    for its training's wait, exactly as the operation it belongs to does."""
    resources = dev.resources
    for label, condition_id in _waits(dev).items():
        handle_id = condition_id.replace("Wait", "WaitHandle", 1)
        operation = next(
            k for k in resources[condition_id]["DependsOn"]
            if resources[k]["Type"].startswith("Custom::Personalize")
        )
        wanted = set(resources[operation].get("DependsOn", []))
        assert set(resources[handle_id].get("DependsOn", [])) == wanted, label
    train = _waits(dev)["TrainUserPersonalization"].replace("Wait", "WaitHandle", 1)
    assert any(k.startswith("ImportInteractionsWait") for k in resources[train]["DependsOn"])
    campaign = _waits(dev)["CampaignUserRecs"].replace("Wait", "WaitHandle", 1)
    assert any(k.startswith("TrainUserPersonalizationWait") for k in resources[campaign]["DependsOn"])
