"""Service rules of Personalize the local Personalize holds, each from the service's documentation
or botocore's model (docs/aws-fidelity.md cites each): one event tracker per dataset group."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from pz_helpers import Pipeline, wait_for

from local.emulator.world import World


def code_of(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


# --- one event tracker per dataset group (API_CreateEventTracker) --------------------------------
def test_a_second_event_tracker_in_a_dataset_group_is_refused(
    world: World, pz: Any, pipeline: Pipeline
) -> None:
    pipeline.group()
    first = pz.create_event_tracker(name="first", datasetGroupArn=pipeline.dg)["eventTrackerArn"]
    with pytest.raises(ClientError) as second:
        pz.create_event_tracker(name="second", datasetGroupArn=pipeline.dg)
    assert code_of(second) == "LimitExceededException"
    assert "Only one event tracker can be associated with a dataset group" in str(second.value)
    assert first in str(second.value)
    # still refused once the first is ACTIVE
    wait_for(world, lambda: pz.describe_event_tracker(eventTrackerArn=first)["eventTracker"])
    with pytest.raises(ClientError):
        pz.create_event_tracker(name="second", datasetGroupArn=pipeline.dg)
    # another dataset group has its own
    other = pz.create_dataset_group(name="other-dg")["datasetGroupArn"]
    wait_for(world, lambda: pz.describe_dataset_group(datasetGroupArn=other)["datasetGroup"])
    pz.create_event_tracker(name="second", datasetGroupArn=other)


def test_renaming_a_tracker_must_delete_the_old_one_first(world: World, pz: Any, pipeline: Pipeline) -> None:
    """What a CloudFormation replacement of the tracker does (create the new, then delete the old)
    fails; deleting the old one and waiting until it is gone, then creating the new, works."""
    pipeline.group()
    old = pz.create_event_tracker(name="old-name", datasetGroupArn=pipeline.dg)["eventTrackerArn"]
    wait_for(world, lambda: pz.describe_event_tracker(eventTrackerArn=old)["eventTracker"])
    with pytest.raises(ClientError) as create_first:
        pz.create_event_tracker(name="new-name", datasetGroupArn=pipeline.dg)
    assert code_of(create_first) == "LimitExceededException"
    pz.delete_event_tracker(eventTrackerArn=old)
    with pytest.raises(ClientError):  # still there while DELETE PENDING / IN_PROGRESS
        pz.create_event_tracker(name="new-name", datasetGroupArn=pipeline.dg)
    world.clock.advance(600)  # type: ignore[attr-defined]
    assert pz.list_event_trackers(datasetGroupArn=pipeline.dg)["eventTrackers"] == []
    new = pz.create_event_tracker(name="new-name", datasetGroupArn=pipeline.dg)["eventTrackerArn"]
    assert new.endswith("event-tracker/new-name")
