"""The fault matrix's scenarios (docs/reliability.md) as far as the handlers decide them: duplicated
events, a create whose response was lost, throttling, a quota hit, a Delete for a create that never
reported its id."""

from __future__ import annotations

from typing import Any

import pytest
from personalize_handlers import entry
from personalize_handlers.common import CREATE_FAILED_MARKER, HandlerError

from tests.handlers.helpers import (
    CAMPAIGN,
    DATASET,
    DG,
    FILTER,
    IMPORT,
    SCHEMA,
    SOLUTION,
    TRACKER,
    VERSION,
    Pipeline,
    Provider,
    personalize,
    schema_text,
    setup_data_access,
)


class TwiceProvider(Provider):
    """Every event is delivered twice (same RequestId), the second while the first is in flight."""

    def send(self, event: dict[str, Any]) -> dict[str, Any]:
        first = entry.on_event(event)
        self.world.clock.advance(1)
        result = super().send(event)
        assert result["PhysicalResourceId"] == first["PhysicalResourceId"]
        return result


def build_and_destroy(provider: Provider) -> dict[str, int]:
    """The whole chain, up and down; returns how many of each kind existed at the top."""
    pipe = Pipeline(provider).with_data()
    group = pipe.group
    version = pipe.trained()
    campaign_props = {"Name": "test-recs", "SolutionVersionArn": version}
    campaign = provider.create(CAMPAIGN, campaign_props)["PhysicalResourceId"]
    tracker_props = {"Name": "test-events", "DatasetGroupArn": group}
    tracker = provider.create(TRACKER, tracker_props)["PhysicalResourceId"]
    filter_props = {"Name": "test-filter", "DatasetGroupArn": group,
                    "FilterExpression": 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")'}
    filter_arn = provider.create(FILTER, filter_props)["PhysicalResourceId"]
    pz = personalize()
    counts = {
        "imports": len(pz.list_dataset_import_jobs(
            datasetArn=pipe.datasets["interactions"])["datasetImportJobs"]),
        "versions": len(pz.list_solution_versions(solutionArn=pipe.solution)["solutionVersions"]),
        "campaigns": len(pz.list_campaigns()["campaigns"]),
        "groups": len(pz.list_dataset_groups()["datasetGroups"]),
    }
    provider.delete(FILTER, filter_arn, filter_props)
    provider.delete(TRACKER, tracker, {"Name": "test-events"})
    provider.delete(CAMPAIGN, campaign, campaign_props)
    provider.delete(VERSION, version, {"SolutionArn": pipe.solution, "Trigger": "t1"})
    provider.delete(SOLUTION, pipe.solution, pipe.solution_props())
    provider.delete(IMPORT, pipe.imports["interactions"], pipe.import_props("interactions"))
    provider.delete(DATASET, pipe.datasets["interactions"], {"Name": "test-retail-interactions"})
    provider.delete(SCHEMA, pipe.schemas["interactions"], {"Name": "test-interactions-s1"})
    provider.delete(DG, group, {"Name": "test-retail"})
    return counts


def nothing_left() -> bool:
    pz = personalize()
    return not (pz.list_dataset_groups()["datasetGroups"] or pz.list_campaigns()["campaigns"]
                or pz.list_solutions()["solutions"] or pz.list_schemas()["schemas"])


def test_every_event_delivered_twice(world: Any) -> None:
    setup_data_access()
    counts = build_and_destroy(TwiceProvider(world))
    assert counts == {"imports": 1, "versions": 1, "campaigns": 1, "groups": 1}
    assert nothing_left()


@pytest.mark.parametrize("code", ["ThrottlingException", "LimitExceededException"])
def test_thirty_percent_throttling_for_a_whole_deploy_and_destroy(world: Any, code: str) -> None:
    setup_data_access()
    world.faults.throttle(0.3, seed=7, error_code=code)
    counts = build_and_destroy(Provider(world))
    assert counts == {"imports": 1, "versions": 1, "campaigns": 1, "groups": 1}
    assert nothing_left()
    assert sum(n for k, n in world.faults.injected.items() if k.startswith("throttle:")) > 20


def test_lost_create_response_is_adopted(world: Any) -> None:
    """The create took effect but its answer never came back (handler crash / network drop):
    botocore retries, meets ResourceAlreadyExists, and the handler adopts."""
    world.faults.fail_call("CreateDatasetGroup", after_effect=True)
    result = Provider(world).create(DG, {"Name": "test-lost"})
    assert result["PhysicalResourceId"].endswith("dataset-group/test-lost")
    assert world.faults.injected["call:CreateDatasetGroup"] == 1
    assert len(personalize().list_dataset_groups()["datasetGroups"]) == 1


def test_all_responses_lost_then_lookup_adopts(world: Any) -> None:
    """Every attempt's response to the create is lost (botocore gives up with a connection
    error): the create took effect, so the same invocation looks it up by name and adopts it
    instead of failing (a failure would orphan it: the Provider answers the rollback's Delete of
    its CREATE_FAILED marker itself). One job, one training, no failed invocation."""
    setup_data_access()
    provider = Provider(world)
    pipe = Pipeline(provider).with_data(imported=False)
    world.faults.fail_call("CreateDatasetImportJob", after_effect=True, times=30)
    job = provider.create(IMPORT, pipe.import_props("interactions"),
                          request_id="req-import")["PhysicalResourceId"]
    assert world.faults.injected["call:CreateDatasetImportJob"] >= 2  # the client retried, all lost
    jobs = personalize().list_dataset_import_jobs()["datasetImportJobs"]
    assert [j["datasetImportJobArn"] for j in jobs] == [job]
    world.faults.clear()

    pipe.add_solution()
    world.faults.fail_call("CreateSolutionVersion", after_effect=True, times=30)
    version = provider.create(VERSION, {"SolutionArn": pipe.solution, "Trigger": "t"},
                              request_id="req-t")["PhysicalResourceId"]
    versions = personalize().list_solution_versions(solutionArn=pipe.solution)["solutionVersions"]
    assert [v["solutionVersionArn"] for v in versions] == [version]


def test_lost_response_and_lost_lookup_then_redelivery_adopts(world: Any) -> None:
    """The create's responses and the lookup's are all lost: the invocation fails (nothing else
    can be known), and the redelivered event (same RequestId) adopts what the first one made."""
    setup_data_access()
    provider = Provider(world)
    pipe = Pipeline(provider).with_data(imported=False)
    world.faults.fail_call("CreateDatasetImportJob", after_effect=True, times=30)
    world.faults.fail_call("ListDatasetImportJobs", after_effect=True, times=30)
    event = provider.event("Create", IMPORT, pipe.import_props("interactions"), request_id="req-import")
    with pytest.raises(HandlerError, match="DatasetImportJob test-retail-interactions-abc123: "):
        entry.on_event(event)
    world.faults.clear()
    job = provider.send(event)["PhysicalResourceId"]
    assert len(personalize().list_dataset_import_jobs()["datasetImportJobs"]) == 1
    described = personalize().describe_dataset_import_job(datasetImportJobArn=job)["datasetImportJob"]
    assert described["status"] == "ACTIVE"

    pipe.add_solution()
    world.faults.fail_call("CreateSolution", after_effect=True, times=30)
    world.faults.fail_call("ListSolutions", after_effect=True, times=30)
    props = pipe.solution_props(name="test-retail-pop-d4e5f6")
    event = provider.event("Create", SOLUTION, props, request_id="req-s")
    with pytest.raises(HandlerError, match="Solution test-retail-pop-d4e5f6: "):
        entry.on_event(event)
    world.faults.clear()
    second = provider.send(event)["PhysicalResourceId"]
    names = sorted(s["name"] for s in personalize().list_solutions()["solutions"])
    assert names == ["test-retail-pop-a1b2c3", "test-retail-pop-d4e5f6"] and second.endswith("d4e5f6")


def test_delete_after_failed_create_finds_the_orphan_by_name(world: Any) -> None:
    """Create failed without reporting an id (the framework's marker as physical id): the Delete
    still removes what the create left behind, found by its deterministic name."""
    world.faults.fail_call("CreateDatasetGroup", after_effect=True, times=30)
    world.faults.fail_call("ListDatasetGroups", after_effect=True, times=30)  # the lookup fails too
    provider = Provider(world)
    with pytest.raises(HandlerError):
        provider.create(DG, {"Name": "test-orphan"})
    world.faults.clear()
    assert len(personalize().list_dataset_groups()["datasetGroups"]) == 1
    provider.delete(DG, CREATE_FAILED_MARKER, {"Name": "test-orphan"})
    assert personalize().list_dataset_groups()["datasetGroups"] == []
    # and with nothing to find, such a Delete simply succeeds
    assert provider.delete(DG, CREATE_FAILED_MARKER, {"Name": "test-orphan"})["waited"] == 0


def test_group_delete_removes_what_a_crashed_create_left_inside(world: Any, caplog: Any) -> None:
    """A solution (with a campaign on its version), a filter and a tracker whose creates crashed
    after taking effect (their marker Deletes never reach us) and the datasets: the group's
    Delete removes them in the order Personalize requires, logs each, waits, then goes."""
    setup_data_access()
    provider = Provider(world)
    pipe = Pipeline(provider).with_data()
    group = pipe.group
    version = pipe.trained()
    campaign = provider.create(CAMPAIGN, {"Name": "test-retail-recs", "SolutionVersionArn": version})
    provider.create(TRACKER, {"Name": "test-retail-events", "DatasetGroupArn": group})
    provider.create(FILTER, {"Name": "test-retail-filter", "DatasetGroupArn": group,
                             "FilterExpression": 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("buy")'})
    caplog.clear()
    done = provider.delete(DG, group, {"Name": "test-retail"})
    pz = personalize()
    assert pz.list_dataset_groups()["datasetGroups"] == []
    assert pz.list_campaigns()["campaigns"] == [] and pz.list_solutions()["solutions"] == []
    assert pz.list_datasets()["datasets"] == [] and pz.list_filters()["Filters"] == []
    assert pz.list_event_trackers()["eventTrackers"] == []
    assert done["waited"] > 0  # it waited (campaign, then solution, then datasets) within the timeout
    logged = caplog.text
    for op, arn in (("DeleteCampaign", campaign["PhysicalResourceId"]), ("DeleteSolution", pipe.solution),
                    ("DeleteDataset", pipe.datasets["interactions"])):
        assert f'"leftover":"{arn}"' in logged and f'"op":"{op}"' in logged, op
    assert '"op":"DeleteFilter"' in logged and '"op":"DeleteEventTracker"' in logged
    # the schema is not in the group; its own resource deletes it (and now can)
    provider.delete(SCHEMA, pipe.schemas["interactions"], {"Name": "test-interactions-s1"})
    assert nothing_left()


def test_group_delete_refuses_to_touch_what_it_did_not_name(world: Any) -> None:
    """Something in the group not named `<group>-...` is not ours: the Delete fails naming it."""
    provider = Provider(world)
    group = Pipeline(provider).dataset_group()
    personalize().create_filter(name="someone-elses", datasetGroupArn=group,
                                filterExpression='EXCLUDE ItemID WHERE Items.GENRE IN ("x")')
    world.clock.advance(120)
    with pytest.raises(HandlerError, match="filter someone-elses"):
        provider.delete(DG, group, {"Name": "test-retail"})
    assert [f["name"] for f in personalize().list_filters()["Filters"]] == ["someone-elses"]


def import_started(world: Any, monkeypatch: Any,
                   import_seconds: int) -> tuple[Provider, Pipeline, dict[str, Any]]:
    """An import taking `import_seconds` started (on_event only) under a Provider with the stack's
    55 min total timeout: (provider, pipeline, on_event's answer)."""
    from personalize_handlers import dataset

    # the Lambda's clock is the Provider's: here the world's virtual clock (no Date header locally)
    monkeypatch.setattr(dataset.time, "time", world.clock.now)
    setup_data_access()
    world.personalize.durations.override("import", import_seconds)
    provider = Provider(world, total_timeout=55 * 60)
    pipe = Pipeline(provider).with_data(imported=False)
    job = entry.on_event(provider.event("Create", IMPORT, pipe.import_props("interactions")))
    return provider, pipe, job


def test_dataset_delete_during_a_long_import_says_what_to_do(world: Any, monkeypatch: Any) -> None:
    """DeleteDataset is refused while an import runs and an import cannot be stopped: a Delete
    still blocked 50 min in fails (before the Provider's 55 min timeout) naming the job, its
    status and the later destroy, not the framework's bare timeout; a short import is waited for."""
    provider, pipe, job = import_started(world, monkeypatch, 3 * 3600)
    started = world.clock.now()
    with pytest.raises(HandlerError) as info:
        provider.delete(DATASET, pipe.datasets["interactions"], {"Name": "test-retail-interactions"})
    assert 50 * 60 <= world.clock.now() - started < 55 * 60
    message = str(info.value)
    assert message.startswith("Dataset test-retail-interactions: DeleteDataset failed: import job "
                              "test-retail-interactions-abc123-")
    assert f"({job['PhysicalResourceId']}) is still CREATE IN_PROGRESS after 50 min" in message
    assert "cdk destroy" in message and "pz destroy" in message
    world.clock.advance(3 * 3600)  # the import is over: the same Delete now completes
    provider.delete(DATASET, pipe.datasets["interactions"], {"Name": "test-retail-interactions"})
    assert personalize().list_datasets()["datasets"] == []


def test_dataset_delete_waits_for_a_short_import(world: Any, monkeypatch: Any) -> None:
    provider, pipe, _ = import_started(world, monkeypatch, 10 * 60)
    done = provider.delete(DATASET, pipe.datasets["interactions"], {"Name": "test-retail-interactions"})
    assert 0 < done["waited"] < 50 * 60
    assert personalize().list_datasets()["datasets"] == []


def test_service_time_reads_the_date_header() -> None:
    from personalize_handlers.dataset import service_time

    meta = {"ResponseMetadata": {"HTTPHeaders": {"date": "Thu, 01 Jan 2026 01:00:00 GMT"}}}
    assert service_time(meta) == 1767229200.0
    assert abs(service_time({}) - __import__("time").time()) < 5


def test_quota_hit_is_a_clear_error(world: Any) -> None:
    world.personalize.quotas["dataset_groups_per_region"] = 1
    provider = Provider(world)
    provider.create(DG, {"Name": "test-one"})
    with pytest.raises(HandlerError) as info:
        provider.create(DG, {"Name": "test-two"})
    assert str(info.value).startswith(
        "DatasetGroup test-two: CreateDatasetGroup failed: LimitExceededException: ")


def test_in_use_schema_is_retried_until_provider_timeout(world: Any) -> None:
    """A schema still used by a dataset that nobody deletes: the Delete keeps retrying and ends in
    the Provider's timeout (not a false success)."""
    from tests.handlers.helpers import ProviderTimeout

    provider = Provider(world, total_timeout=600)
    pipe = Pipeline(provider)
    pipe.dataset_group()
    pipe.data(("interactions",))
    with pytest.raises(ProviderTimeout):
        provider.delete(SCHEMA, pipe.schemas["interactions"], {"Name": "test-interactions-s1",
                                                               "Schema": schema_text("interactions")})
    assert personalize().describe_schema(schemaArn=pipe.schemas["interactions"])["schema"]["name"]
