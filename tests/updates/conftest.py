"""The deployed dev every test here starts from, deployed once per session (xdist workers share it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from local.runner import StackArtifact
from tests.updates.harness import deployed_base


@pytest.fixture(scope="session")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every xdist worker of this session shares (the deployed base lives there): the
    session's base temp folder, whose parent is the run's only under xdist (without it, the parent
    holds every earlier run, and a base deployed by older code would be reused)."""
    basetemp = tmp_path_factory.getbasetemp()
    run = basetemp.parent if os.environ.get("PYTEST_XDIST_WORKER") else basetemp
    return run / "updates-shared"


@pytest.fixture(scope="session")
def base(shared: Path) -> tuple[StackArtifact, Path]:
    return deployed_base(shared)
