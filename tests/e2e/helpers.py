"""What the end-to-end tests share (their fixtures live in conftest.py): the real app synthesized
in-process (the same templates `cdk synth` writes), and a fresh local World with a runner over a
temporary state directory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

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
            name = stack_name(env)
            return leftovers(self.world, env, self.runner.region, self.runner.state(name), stack=name)

    def personalize(self, env: str) -> list[Any]:
        return [r for r in self.world.personalize.resources.values() if r.name.startswith(f"{env}-")]
