"""The Personalize model the functions ship (lambda/botocore_models, loaded through AWS_DATA_PATH):
it is botocore's own model of the pinned version, the functions are told to load it, and a handler
call that the shipped model does not have fails before it reaches the service, as on Lambda."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import boto3
import botocore
import pytest

from tests.handlers.helpers import Provider

LAMBDA_ROOT = Path(__file__).resolve().parents[2] / "lambda"
MODELS = LAMBDA_ROOT / "botocore_models"
SHIPPED = MODELS / "personalize" / "2018-05-22"
DG = "Custom::PersonalizeDatasetGroup"


def test_the_shipped_model_is_the_pinned_botocores() -> None:
    pinned = json.loads((MODELS / "pinned.json").read_text())["botocore"]
    requirements = (LAMBDA_ROOT.parent / "requirements.txt").read_text()
    assert f"boto3=={pinned}" in requirements, "boto3 in requirements.txt and the shipped model disagree"
    assert botocore.__version__ == pinned
    installed = Path(botocore.__file__).parent / "data" / "personalize" / "2018-05-22"
    for name in ("service-2.json", "endpoint-rule-set-1.json"):
        expected = gzip.decompress((installed / f"{name}.gz").read_bytes())
        assert (SHIPPED / name).read_bytes() == expected, (
            f"{name} differs from botocore {pinned}'s: copy it again (docs/aws-contracts.md)"
        )
    assert (SHIPPED / "paginators-1.json").read_bytes() == (installed / "paginators-1.json").read_bytes()


def test_the_functions_load_the_shipped_model() -> None:
    from personalize_constructs.provider import SDK_ENVIRONMENT

    path = SDK_ENVIRONMENT["AWS_DATA_PATH"]
    assert path.startswith("/var/task/")  # where Lambda unpacks the asset
    assert LAMBDA_ROOT / path.removeprefix("/var/task/") == MODELS


def _without_member(into: Path, shape: str, member: str) -> Path:
    """A copy of the shipped model whose `shape` lacks `member` (an older botocore's view)."""
    model: dict[str, Any] = json.loads((SHIPPED / "service-2.json").read_text())
    assert member in model["shapes"][shape]["members"]
    del model["shapes"][shape]["members"][member]
    target = into / "personalize" / "2018-05-22"
    target.mkdir(parents=True)
    (target / "service-2.json").write_text(json.dumps(model))
    for name in ("endpoint-rule-set-1.json", "paginators-1.json"):
        (target / name).write_bytes((SHIPPED / name).read_bytes())
    return into


def test_a_call_the_shipped_model_lacks_fails_in_the_handler(
    world: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    props = {"Name": "sdk-dg", "Tags": [{"tagKey": "env", "tagValue": "test"}]}
    older = _without_member(tmp_path / "models", "CreateDatasetGroupRequest", "tags")
    monkeypatch.setenv("AWS_DATA_PATH", str(older))
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    with pytest.raises(Exception, match=r'Unknown parameter in input: "tags"'):
        Provider(world).create(DG, props)
    # the shipped model has it: the same create succeeds
    monkeypatch.setenv("AWS_DATA_PATH", str(MODELS))
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    assert Provider(world).create(DG, props)["PhysicalResourceId"].endswith("dataset-group/sdk-dg")
