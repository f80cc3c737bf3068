"""Dependency order from DependsOn, Ref and Fn::GetAtt: what CloudFormation (and the local runner)
will respect, and what may run in parallel."""

from __future__ import annotations

import itertools

from tests.stack.helpers import Synth, ancestors, before

TYPES = ("Interactions", "Items", "Users")
SOLUTIONS = ("UserPersonalization", "SimilarItems", "Ranking")
CAMPAIGNS = {"UserRecs": "UserPersonalization", "SimilarItems": "SimilarItems", "Ranking": "Ranking"}


def _one(synth: Synth, prefix: str, kind: str) -> str:
    found = [k for k, r in synth.resources.items() if k.startswith(prefix) and r["Type"] == kind]
    assert len(found) == 1, (prefix, found)
    return found[0]


def _wait(synth: Synth, label: str) -> str:
    return _one(synth, f"{label}Wait", "AWS::CloudFormation::WaitCondition")


def test_chain_dataset_group_to_campaign(dev: Synth) -> None:
    t = dev.template
    for kind in TYPES:
        assert before(t, "DatasetGroup", f"Schema{kind}")
        assert before(t, f"Schema{kind}", f"Dataset{kind}")
        assert before(t, f"Dataset{kind}", f"Import{kind}")
        assert before(t, f"Import{kind}", _wait(dev, f"Import{kind}"))
        upload = _one(dev, f"Upload{kind}", "Custom::PersonalizeDataObject")
        assert before(t, upload, f"Import{kind}")
        assert before(t, _one(dev, "DataPolicy", "AWS::S3::BucketPolicy"), f"Import{kind}")
    for solution in SOLUTIONS:
        for kind in TYPES:
            assert before(t, f"Import{kind}", f"Solution{solution}")
            # Training starts only once every import has finished (their WaitConditions).
            assert before(t, _wait(dev, f"Import{kind}"), f"Train{solution}")
        assert before(t, f"Solution{solution}", f"Train{solution}")
        assert before(t, f"Train{solution}", _wait(dev, f"Train{solution}"))
    for campaign, solution in CAMPAIGNS.items():
        assert before(t, _wait(dev, f"Train{solution}"), f"Campaign{campaign}")
        assert before(t, f"Campaign{campaign}", _wait(dev, f"Campaign{campaign}"))


def test_filters_and_event_tracker_after_datasets(dev: Synth) -> None:
    for resource in ("FilterExcludePurchased", "EventTracker"):
        for kind in TYPES:
            assert before(dev.template, f"Dataset{kind}", resource)
        # ...but they need no data: they do not wait for imports or training.
        assert not any(a.startswith(("Import", "Train")) for a in ancestors(dev.template, resource))


def test_independent_branches_can_run_in_parallel(dev: Synth) -> None:
    t = dev.template
    for a, b in itertools.permutations(TYPES, 2):
        assert not before(t, f"Import{a}", f"Import{b}")
        assert not before(t, f"Dataset{a}", f"Dataset{b}")
    for a, b in itertools.permutations(SOLUTIONS, 2):
        assert not before(t, f"Train{a}", f"Train{b}")
        assert not before(t, f"Solution{a}", f"Solution{b}")
    for a, b in itertools.permutations(CAMPAIGNS, 2):
        assert not before(t, f"Campaign{a}", f"Campaign{b}")


def test_waits_reference_their_handles(dev: Synth) -> None:
    for logical_id, resource in dev.of_type("AWS::CloudFormation::WaitCondition").items():
        handle = resource["Properties"]["Handle"]["Ref"]
        assert dev.resources[handle]["Type"] == "AWS::CloudFormation::WaitConditionHandle"
        assert handle == logical_id.replace("Wait", "WaitHandle", 1)
        # Exactly one custom resource carries that handle, and the condition waits after it.
        holders = [
            k
            for k, r in dev.resources.items()
            if r.get("Properties", {}).get("WaitHandle") == {"Ref": handle}
        ]
        assert len(holders) == 1
        assert before(dev.template, holders[0], logical_id)


def test_no_cycles(shipped: Synth) -> None:
    for logical_id in shipped.resources:
        assert logical_id not in ancestors(shipped.template, logical_id)

