"""The deployed environments the tests here start from, each deployed once per session when a test
first needs it (xdist workers share them)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from local.runner import StackArtifact
from tests.updates.harness import Bases


@pytest.fixture(scope="session")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every xdist worker of this session shares (the deployed base lives there): the
    session's base temp folder, whose parent is the run's only under xdist (without it, the parent
    holds every earlier run, and a base deployed by older code would be reused)."""
    basetemp = tmp_path_factory.getbasetemp()
    run = basetemp.parent if os.environ.get("PYTEST_XDIST_WORKER") else basetemp
    return run / "updates-shared"


@pytest.fixture(scope="session")
def bases(shared: Path) -> Bases:
    return Bases(shared)


@pytest.fixture(scope="session")
def base(bases: Bases) -> tuple[StackArtifact, Path]:
    """The deployed dev."""
    return bases()
