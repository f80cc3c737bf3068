"""The deployed dev every test here starts from, deployed once per session (xdist workers share it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from local.runner import StackArtifact
from tests.updates.harness import deployed_base


@pytest.fixture(scope="session")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every xdist worker of this session shares (the deployed base lives there)."""
    return tmp_path_factory.getbasetemp().parent / "updates-shared"


@pytest.fixture(scope="session")
def base(shared: Path) -> tuple[StackArtifact, Path]:
    return deployed_base(shared)
