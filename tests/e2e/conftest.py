"""End-to-end fixtures: the real app synthesized in-process (the same templates `cdk synth` writes),
deployed by the runner to a fresh local World per test."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cli.support import region_of
from local.emulator.world import World
from local.runner import CloudAssembly, Runner, StackArtifact, StackStore
from local.runner.inventory import leftovers
from pipeline.naming import stack_name

REPO = Path(__file__).resolve().parents[2]


def synth(env: str, outdir: Path, root: Path = REPO) -> StackArtifact:
    from pipeline.config import load_config
    from stacks import build_app

    app = build_app(
        env, str(outdir), config=load_config(env), root=root, asset_dir=REPO / "lambda", nag=False
    )
    app.synth()
    return CloudAssembly.load(outdir).stack(stack_name(env))


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


class Local:
    """A fresh world and runner over a temporary state directory."""

    def __init__(self, root: Path, artifact_region: str) -> None:
        self.world = World()
        self.lines: list[str] = []
        self.hooks: list[Callable[[str], None]] = []
        self.runner = Runner(self.world, StackStore(root), out=self._out, region=artifact_region)

    def _out(self, line: str) -> None:
        self.lines.append(line)
        for hook in self.hooks:
            hook(line)

    def left(self, env: str) -> dict[str, list[str]]:
        with self.world.active():
            return leftovers(self.world, env, self.runner.region, self.runner.state(stack_name(env)))

    def personalize(self, env: str) -> list[Any]:
        return [r for r in self.world.personalize.resources.values() if r.name.startswith(f"{env}-")]


@pytest.fixture
def local(tmp_path: Path, assemblies: Callable[[str], StackArtifact]) -> Iterator[Local]:
    instance = Local(tmp_path / "state", region_of(assemblies("dev")))
    yield instance
    instance.runner.close()
