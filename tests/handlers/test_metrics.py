"""Custom::PersonalizeSolutionMetrics against the local Personalize: Data carries GetSolutionMetrics
of the trained version, it waits while the version trains, fails clearly on a failed one, and its
Delete touches nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from personalize_handlers import entry
from personalize_handlers.common import HandlerError
from personalize_handlers.solution_metrics import MAX_DATA_BYTES, metrics_data

from tests.handlers.helpers import VERSION, Pipeline, Provider, personalize, setup_data_access

METRICS = "Custom::PersonalizeSolutionMetrics"
ARN_HEAD = "arn:aws:personalize:us-east-1:123456789012"


def trained_pipeline(world: Any) -> Pipeline:
    setup_data_access()
    pipe = Pipeline(Provider(world)).with_data()
    pipe.trained()
    return pipe


def training_version(world: Any) -> tuple[Pipeline, str]:
    """A solution version just started (CreateSolutionVersion, not waited for)."""
    setup_data_access()
    pipe = Pipeline(Provider(world)).with_data()
    pipe.add_solution()
    return pipe, personalize().create_solution_version(solutionArn=pipe.solution)["solutionVersionArn"]


def test_metrics_data_is_get_solution_metrics_of_the_version(world: Any) -> None:
    pipe = trained_pipeline(world)
    provider = pipe.provider
    expected = personalize().get_solution_metrics(solutionVersionArn=pipe.version)["metrics"]
    assert expected  # the local training reports metrics

    created = provider.create(METRICS, {"SolutionVersionArn": pipe.version, "Trigger": "t1"})
    data = created["Data"]
    assert data["SolutionVersionArn"] == pipe.version
    assert json.loads(data["Json"]) == {k: round(v, 4) for k, v in sorted(expected.items())}
    for name, value in expected.items():
        assert float(data[name]) == pytest.approx(value, abs=1e-4)
    assert created["PhysicalResourceId"].startswith("solution-metrics-")

    # the same version keeps its physical id; Delete is a no-op (the version is untouched)
    again = provider.update(
        METRICS,
        created["PhysicalResourceId"],
        {"SolutionVersionArn": pipe.version, "Trigger": "t1"},
        {"SolutionVersionArn": pipe.version, "Trigger": "t2"},
    )
    assert again["PhysicalResourceId"] == created["PhysicalResourceId"]
    provider.delete(METRICS, created["PhysicalResourceId"], {"SolutionVersionArn": pipe.version})
    described = personalize().describe_solution_version(solutionVersionArn=pipe.version)["solutionVersion"]
    assert described["status"] == "ACTIVE"


def test_a_new_version_is_a_new_physical_id(world: Any) -> None:
    pipe = trained_pipeline(world)
    provider = pipe.provider
    first = provider.create(METRICS, {"SolutionVersionArn": pipe.version})
    second = provider.create(VERSION, {"SolutionArn": pipe.solution, "Trigger": "t2"})
    second_version = second["PhysicalResourceId"]
    moved = provider.update(
        METRICS,
        first["PhysicalResourceId"],
        {"SolutionVersionArn": pipe.version},
        {"SolutionVersionArn": second_version},
    )
    assert moved["PhysicalResourceId"] != first["PhysicalResourceId"]
    assert moved["Data"]["SolutionVersionArn"] == second_version


def test_waits_while_the_version_trains(world: Any) -> None:
    pipe, version = training_version(world)

    event = pipe.provider.event("Create", METRICS, {"SolutionVersionArn": version})
    answer = entry.on_event(event)
    assert entry.is_complete({**event, **answer}) == {"IsComplete": False}
    # the Provider mimic keeps polling (virtual time) until training ends
    provider = Provider(world, total_timeout=4 * 3600)
    done = provider.send(event)
    assert done["waited"] > 0
    assert json.loads(done["Data"]["Json"])


def test_failed_version_fails_with_its_status(world: Any) -> None:
    pipe, version = training_version(world)
    personalize().stop_solution_version_creation(solutionVersionArn=version)
    world.clock.advance(3600)
    with pytest.raises(
        HandlerError,
        match=r"SolutionMetrics .*: GetSolutionMetrics failed: the solution "
        r"version is CREATE STOPPED",
    ):
        pipe.provider.create(METRICS, {"SolutionVersionArn": version})


def test_bad_and_missing_arns_fail_early(world: Any) -> None:
    provider = Provider(world)
    with pytest.raises(HandlerError, match="property SolutionVersionArn is required"):
        provider.create(METRICS, {})
    with pytest.raises(HandlerError, match="expected a solution version ARN"):
        provider.create(METRICS, {"SolutionVersionArn": f"{ARN_HEAD}:solution/x"})
    missing = f"{ARN_HEAD}:solution/nope/abcd1234"
    with pytest.raises(HandlerError, match="does not exist"):
        provider.create(METRICS, {"SolutionVersionArn": missing})


def test_oversized_data_keeps_only_the_json() -> None:
    arn = "arn:aws:personalize:us-east-1:123456789012:solution/s/v"
    small = metrics_data(arn, {"coverage": 0.5})
    assert small == {"SolutionVersionArn": arn, "Json": '{"coverage":0.5}', "coverage": "0.5"}
    many = {f"metric_with_a_long_name_{i:03d}": 0.123456 for i in range(60)}
    big = metrics_data(arn, many)
    assert set(big) == {"SolutionVersionArn", "Json"} and len(json.dumps(big)) <= 2 * MAX_DATA_BYTES
    assert json.loads(big["Json"])["metric_with_a_long_name_000"] == 0.1235
