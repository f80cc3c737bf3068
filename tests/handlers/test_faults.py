"""Issue 6's scenarios as far as the handlers decide them: duplicated events, a create whose
response was lost, throttling, a quota hit, a Delete for a create that never reported its id."""

from __future__ import annotations

from typing import Any

import pytest
from handler_harness import (
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
from personalize_handlers import entry
from personalize_handlers.common import CREATE_FAILED_MARKER, HandlerError


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
    pipe = Pipeline(provider)
    group = pipe.dataset_group()
    pipe.data(("interactions",))
    pipe.imported(("interactions",))
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


def test_crash_then_redelivery_adopts_import_and_training(world: Any) -> None:
    """Every attempt of the first invocation loses its response (the invocation fails); the
    redelivered event (same RequestId) adopts what the first one started: one job, one training."""
    setup_data_access()
    provider = Provider(world)
    pipe = Pipeline(provider)
    pipe.dataset_group()
    pipe.data(("interactions",))
    world.faults.fail_call("CreateDatasetImportJob", after_effect=True, times=30)
    event = provider.event("Create", IMPORT, pipe.import_props("interactions"), request_id="req-import")
    with pytest.raises(HandlerError, match="DatasetImportJob test-retail-interactions-abc123: "):
        entry.on_event(event)
    world.faults.clear()
    job = provider.send(event)["PhysicalResourceId"]
    assert len(personalize().list_dataset_import_jobs()["datasetImportJobs"]) == 1
    described = personalize().describe_dataset_import_job(datasetImportJobArn=job)["datasetImportJob"]
    assert described["status"] == "ACTIVE"

    pipe.solution = provider.create(SOLUTION, pipe.solution_props())["PhysicalResourceId"]
    world.faults.fail_call("CreateSolutionVersion", after_effect=True, times=30)
    props = {"SolutionArn": pipe.solution, "Trigger": "t"}
    event = provider.event("Create", VERSION, props, request_id="req-t")
    with pytest.raises(HandlerError):
        entry.on_event(event)
    world.faults.clear()
    provider.send(event)
    assert len(personalize().list_solution_versions(solutionArn=pipe.solution)["solutionVersions"]) == 1


def test_delete_after_failed_create_finds_the_orphan_by_name(world: Any) -> None:
    """Create failed without reporting an id (the framework's marker as physical id): the Delete
    still removes what the create left behind, found by its deterministic name."""
    world.faults.fail_call("CreateDatasetGroup", after_effect=True, times=30)
    provider = Provider(world)
    with pytest.raises(HandlerError):
        provider.create(DG, {"Name": "test-orphan"})
    world.faults.clear()
    assert len(personalize().list_dataset_groups()["datasetGroups"]) == 1
    provider.delete(DG, CREATE_FAILED_MARKER, {"Name": "test-orphan"})
    assert personalize().list_dataset_groups()["datasetGroups"] == []
    # and with nothing to find, such a Delete simply succeeds
    assert provider.delete(DG, CREATE_FAILED_MARKER, {"Name": "test-orphan"})["waited"] == 0


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
    from handler_harness import ProviderTimeout

    provider = Provider(world, total_timeout=600)
    pipe = Pipeline(provider)
    pipe.dataset_group()
    pipe.data(("interactions",))
    with pytest.raises(ProviderTimeout):
        provider.delete(SCHEMA, pipe.schemas["interactions"], {"Name": "test-interactions-s1",
                                                               "Schema": schema_text("interactions")})
    assert personalize().describe_schema(schemaArn=pipe.schemas["interactions"])["schema"]["name"]
