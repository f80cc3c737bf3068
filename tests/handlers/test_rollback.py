"""What CloudFormation sends on an update rollback never starts a billable training.

Retraining (a new Trigger) answers a new physical id, so CloudFormation treats it as a replacement:
the rollback sends Delete for the new version (stopped if still training) and no Update; the
campaign, updated in place, gets an Update back to the old properties, which is an UpdateCampaign
to the old version, not a training (docs/aws-contracts.md)."""

from __future__ import annotations

from typing import Any

from tests.handlers.helpers import CAMPAIGN, VERSION, Pipeline, Provider, personalize, setup_data_access


def _versions(solution: str) -> list[dict[str, Any]]:
    return personalize().list_solution_versions(solutionArn=solution)["solutionVersions"]


def test_a_rolled_back_retraining_trains_nothing_new(world: Any) -> None:
    setup_data_access()
    provider = Provider(world)
    pipe = Pipeline(provider).with_data()
    v1 = pipe.trained()
    campaign_props = {"Name": "test-recs", "SolutionVersionArn": v1}
    campaign = provider.create(CAMPAIGN, campaign_props)["PhysicalResourceId"]
    old = {"SolutionArn": pipe.solution, "Trigger": "t1"}
    new = {"SolutionArn": pipe.solution, "Trigger": "t2"}

    # forward: the new trigger trains v2 (a new physical id) and the campaign moves to it in place
    v2 = provider.update(VERSION, v1, old, new)["PhysicalResourceId"]
    assert v2 != v1 and len(_versions(pipe.solution)) == 2
    moved = {**campaign_props, "SolutionVersionArn": v2}
    assert provider.update(CAMPAIGN, campaign, campaign_props, moved)["PhysicalResourceId"] == campaign

    # a later resource fails; the rollback: Update of the campaign back to the old properties,
    # Delete of the replacement's new physical id (cleanup)
    back = provider.update(CAMPAIGN, campaign, moved, campaign_props)
    assert back["PhysicalResourceId"] == campaign
    provider.delete(VERSION, v2, new)

    versions = _versions(pipe.solution)
    assert len(versions) == 2, versions  # nothing trained by the rollback
    assert all(v["status"] == "ACTIVE" for v in versions), versions
    described = personalize().describe_campaign(campaignArn=campaign)["campaign"]
    assert described["solutionVersionArn"] == v1
