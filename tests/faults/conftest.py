"""Fault matrix fixtures: each config synthesized once per session (stacks.build_app in-process)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.harness import Assemblies


@pytest.fixture(scope="session")
def fault_assemblies(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assemblies]:
    yield Assemblies(Path(tmp_path_factory.mktemp("faultmatrix")))
