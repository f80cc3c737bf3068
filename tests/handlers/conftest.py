"""The handler package is imported by path (`lambda` is a Python keyword)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
LAMBDA_ROOT = REPO_ROOT / "lambda"
for root in (REPO_ROOT, LAMBDA_ROOT):
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))


import pytest  # noqa: E402


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """An active local world (moto + local Personalize, virtual clock), region set as Lambda has it."""
    import boto3

    from local.emulator.world import World

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    # as the functions do (AWS_DATA_PATH in their environment): every call a handler makes is
    # validated by the Personalize model shipped in the asset, not only by the installed botocore's
    monkeypatch.setenv("AWS_DATA_PATH", str(LAMBDA_ROOT / "botocore_models"))
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    w = World()
    # trainings would take ~50 min of virtual time; keep them shorter where a test does not care
    with w.active():
        yield w


@pytest.fixture
def batch_world(world: Any) -> Any:
    """`world`, skipping the test while the local Personalize lacks batch inference jobs."""
    from botocore.exceptions import ClientError

    from tests.handlers.helpers import personalize

    try:
        personalize().list_batch_inference_jobs()
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "InvalidAction":
            pytest.skip("the local Personalize does not implement batch inference jobs yet "
                        "(docs/analytics.md)")
        raise
    return world
