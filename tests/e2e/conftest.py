"""End-to-end fixtures: the real app synthesized once per session per environment, deployed by the
runner to a fresh local World per test (their helpers are in helpers.py)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cli.support import region_of
from local.runner import StackArtifact
from tests.e2e.helpers import REPO, Local, synth


@pytest.fixture(scope="session")
def assemblies(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], StackArtifact]:
    """Synthesize each environment once per session."""
    cache: dict[str, StackArtifact] = {}

    def get(env: str) -> StackArtifact:
        if env not in cache:
            cache[env] = synth(env, tmp_path_factory.mktemp(f"cdk-{env}"))
        return cache[env]

    return get


@pytest.fixture(scope="session")
def changed_data_assembly(tmp_path_factory: pytest.TempPathFactory) -> StackArtifact:
    """dev with new interaction data (a copy of the repo's data/ with more rows)."""
    root = tmp_path_factory.mktemp("changed-root")
    shutil.copytree(REPO / "data", root / "data")
    shutil.copytree(REPO / "config", root / "config")
    interactions = root / "data" / "interactions.csv"
    lines = interactions.read_text().splitlines()
    header, rows = lines[0], lines[1:]
    extra = [r.replace(",view,", ",click,", 1) for r in rows[:200] if ",view," in r]
    interactions.write_text("\n".join([header, *rows, *extra]) + "\n")
    return synth("dev", tmp_path_factory.mktemp("cdk-dev-changed"), root=root)


@pytest.fixture
def local(tmp_path: Path, assemblies: Callable[[str], StackArtifact]) -> Iterator[Local]:
    instance = Local(tmp_path / "state", region_of(assemblies("dev")))
    yield instance
    instance.runner.close()
