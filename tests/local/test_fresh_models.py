"""Keeping a model fresh in the local Personalize: INCREMENTAL imports only after a bulk import,
UPDATE training only for User-Personalization after an ACTIVE FULL version, and an UPDATE keeps the
items the model knew while adding the new ones (botocore personalize: CreateDatasetImportJobRequest.
importMode, CreateSolutionVersionRequest.trainingMode, SolutionVersion.trainingMode)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from local.emulator.world import World
from tests.local.helpers import DATA, Pipeline, upload, wait_for


def split_by_item(cut: str) -> tuple[str, str]:
    """The shipped interactions as two CSVs: rows of items before `cut`, and the others."""
    header, *rows = (DATA / "interactions.csv").read_text().splitlines()
    old = [r for r in rows if r.split(",")[1] < cut]
    new = [r for r in rows if r.split(",")[1] >= cut]
    return "\n".join([header, *old]) + "\n", "\n".join([header, *new]) + "\n"


def version(world: World, pz: Any, arn: str) -> dict[str, Any]:
    return wait_for(world, lambda: pz.describe_solution_version(solutionVersionArn=arn)["solutionVersion"],
                    step=300)


def catalogue(world: World, version_arn: str) -> set[str]:
    return set(world.personalize.get(version_arn).model.catalogue)  # type: ignore[union-attr]


def test_incremental_import_needs_a_bulk_import_first(world: World, pz: Any, pipeline: Pipeline) -> None:
    pipeline.group()
    pipeline.dataset("interactions")
    with pytest.raises(ClientError) as refused:
        pipeline.start_import("interactions", mode="INCREMENTAL")
    assert refused.value.response["Error"]["Code"] == "InvalidInputException"
    assert "importMode FULL" in refused.value.response["Error"]["Message"]
    assert pipeline.imported("interactions")["status"] == "ACTIVE"
    arn = pipeline.start_import("interactions", name="again", mode="INCREMENTAL")
    job = pz.describe_dataset_import_job
    done = wait_for(world, lambda: job(datasetImportJobArn=arn)["datasetImportJob"], step=60)
    assert (done["status"], done["importMode"]) == ("ACTIVE", "INCREMENTAL")


def test_update_training_rules(world: World, pz: Any, pipeline: Pipeline) -> None:
    pipeline.group()
    pipeline.dataset("interactions")
    assert pipeline.imported("interactions")["status"] == "ACTIVE"
    v2 = pipeline.solution("v2", "aws-user-personalization-v2")
    with pytest.raises(ClientError) as not_v1:
        pz.create_solution_version(solutionArn=v2, trainingMode="UPDATE")
    assert not_v1.value.response["Error"]["Code"] == "InvalidInputException"
    assert "User-Personalization recipe" in not_v1.value.response["Error"]["Message"]
    up = pipeline.solution("up", "aws-user-personalization")
    with pytest.raises(ClientError) as no_full:
        pz.create_solution_version(solutionArn=up, trainingMode="UPDATE")
    assert "ACTIVE solution version" in no_full.value.response["Error"]["Message"]
    assert pipeline.trained(up)["status"] == "ACTIVE"
    update = pz.create_solution_version(solutionArn=up, trainingMode="UPDATE")["solutionVersionArn"]
    described = version(world, pz, update)
    assert (described["status"], described["trainingMode"], described["trainingType"]) == (
        "ACTIVE", "UPDATE", "MANUAL")


def test_update_keeps_the_models_items_and_adds_new_ones(world: World, pz: Any, pipeline: Pipeline) -> None:
    old_rows, new_rows = split_by_item("i0150")
    pipeline.group()
    pipeline.dataset("interactions")
    old_csv, new_csv = upload(pipeline.s3, "old.csv", old_rows), upload(pipeline.s3, "new.csv", new_rows)
    assert pipeline.imported("interactions", old_csv, "old")["status"] == "ACTIVE"
    up = pipeline.solution("up", "aws-user-personalization")
    first = pipeline.trained(up)
    old_items = catalogue(world, first["solutionVersionArn"])
    assert old_items and max(old_items) < "i0150"
    # a FULL import replaces the bulk data with the new items' interactions only
    assert pipeline.imported("interactions", new_csv, "new")["status"] == "ACTIVE"
    update = pz.create_solution_version(solutionArn=up, trainingMode="UPDATE")["solutionVersionArn"]
    assert version(world, pz, update)["status"] == "ACTIVE"
    updated = catalogue(world, update)
    assert old_items <= updated and any(i >= "i0150" for i in updated)
    full = pipeline.trained(up)  # a FULL retraining learns from the dataset as it is now
    assert not old_items & catalogue(world, full["solutionVersionArn"])
