"""Renaming the event tracker: a dataset group holds one tracker (CreateEventTracker), so the
Update deletes the old tracker before it creates the new one, and every later event (tags, delete,
another rename) finds the new tracker by the name its physical id carries."""

from __future__ import annotations

from typing import Any

from tests.handlers.helpers import TRACKER, Pipeline, Provider, personalize


def _trackers(group: str) -> list[dict[str, Any]]:
    return personalize().list_event_trackers(datasetGroupArn=group)["eventTrackers"]


def test_a_renamed_tracker_replaces_the_old_one_in_the_same_dataset_group(world: Any) -> None:
    provider = Provider(world)
    pipeline = Pipeline(provider)
    pipeline.with_data(imported=False)
    old = {"Name": "test-retail-web", "DatasetGroupArn": pipeline.group}
    created = provider.create(TRACKER, old, logical_id="EventTrackerWeb")
    new = {**old, "Name": "test-retail-site"}

    renamed = provider.update(TRACKER, created["PhysicalResourceId"], old, new, logical_id="EventTrackerWeb")

    (tracker,) = _trackers(pipeline.group)
    assert tracker["name"] == "test-retail-site" and tracker["status"] == "ACTIVE"
    assert renamed["Data"]["Arn"] == tracker["eventTrackerArn"] != created["Data"]["Arn"]
    assert renamed["Data"]["Name"] == "test-retail-site"
    # a new tracker: a new tracking id for PutEvents
    assert renamed["Data"]["TrackingId"] != created["Data"]["TrackingId"]
    physical = renamed["PhysicalResourceId"]

    # CloudFormation's cleanup Delete of the old physical id finds nothing left to delete
    provider.delete(TRACKER, created["PhysicalResourceId"], old, logical_id="EventTrackerWeb")
    assert [t["name"] for t in _trackers(pipeline.group)] == ["test-retail-site"]

    # tags change in place, on the tracker the pending id names, and keep that id
    tagged = {**new, "Tags": [{"tagKey": "team", "tagValue": "recs"}]}
    again = provider.update(TRACKER, physical, new, tagged, logical_id="EventTrackerWeb")
    assert again["PhysicalResourceId"] == physical and again["Data"]["Arn"] == tracker["eventTrackerArn"]
    tags = personalize().list_tags_for_resource(resourceArn=tracker["eventTrackerArn"])["tags"]
    assert {"tagKey": "team", "tagValue": "recs"} in tags

    # a delete (even with other properties) removes the tracker its id names
    provider.delete(TRACKER, physical, {**tagged, "Name": "someone-else"}, logical_id="EventTrackerWeb")
    assert _trackers(pipeline.group) == []

