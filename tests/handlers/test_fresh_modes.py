"""ImportMode INCREMENTAL and TrainingMode UPDATE through the handlers: the first import of a dataset
and the first version of a solution go as FULL (the service refuses the other mode then), the later
ones as configured."""

from __future__ import annotations

from typing import Any

from tests.handlers.helpers import IMPORT, VERSION, Pipeline, Provider, personalize, setup_data_access


def test_incremental_dataset_imports_full_first_then_incremental(world: Any) -> None:
    setup_data_access()
    provider = Provider(world)
    pipe = Pipeline(provider).with_data(imported=False)
    props = {**pipe.import_props("interactions"), "ImportMode": "INCREMENTAL"}
    first = provider.create(IMPORT, props, request_id="create-1")["PhysicalResourceId"]
    described = personalize().describe_dataset_import_job(datasetImportJobArn=first)["datasetImportJob"]
    assert described["importMode"] == "FULL"
    # a duplicated Create adopts the FULL job it started instead of refusing it as different
    assert provider.create(IMPORT, props, request_id="create-1")["PhysicalResourceId"] == first
    new = {**props, "JobName": "test-retail-interactions-def456", "SourceHash": "def456"}
    second = provider.update(IMPORT, first, props, new)["PhysicalResourceId"]
    described = personalize().describe_dataset_import_job(datasetImportJobArn=second)["datasetImportJob"]
    assert (second != first, described["importMode"]) == (True, "INCREMENTAL")


def test_update_training_trains_full_first_then_update(world: Any) -> None:
    setup_data_access()
    provider = Provider(world, total_timeout=12 * 3600)
    pipe = Pipeline(provider).with_data()
    solution = pipe.add_solution("aws-user-personalization")
    props = {"SolutionArn": solution, "Trigger": "t1", "TrainingMode": "UPDATE"}
    first = provider.create(VERSION, props)["PhysicalResourceId"]
    described = personalize().describe_solution_version(solutionVersionArn=first)["solutionVersion"]
    assert described["trainingMode"] == "FULL"
    second = provider.update(VERSION, first, props, {**props, "Trigger": "t2"})["PhysicalResourceId"]
    described = personalize().describe_solution_version(solutionVersionArn=second)["solutionVersion"]
    assert (second != first, described["trainingMode"], described["status"]) == (True, "UPDATE", "ACTIVE")
