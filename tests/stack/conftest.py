"""Stack tests synthesize in-process (aws_cdk.App(outdir=tmp)) through stacks.build_app, the same
function app.py uses. Data and schemas come from tests/stack/fixtures (small, fixed), so the
template, its hashes and the snapshot do not move when data/ is regenerated; the shipped configs
are used as they are."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pipeline.config import PipelineConfig, load_config
from pipeline.naming import REPO_ROOT, stack_name

FIXTURES = Path(__file__).parent / "fixtures"
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ["PATH"] = f"{REPO_ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}"


@dataclass
class Synth:
    env: str
    outdir: Path
    template: dict[str, Any]

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template["Resources"]

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: r for k, r in self.resources.items() if r["Type"] == kind}

    @property
    def template_path(self) -> Path:
        return self.outdir / f"{stack_name(self.env)}.template.json"


def synth(env: str, outdir: Path, *, config: PipelineConfig | None = None, root: Path = FIXTURES) -> Synth:
    from stacks import build_app

    app = build_app(
        env, str(outdir), config=config or load_config(env), root=root, asset_dir=REPO_ROOT / "lambda"
    )
    app.synth()
    template = json.loads((outdir / f"{stack_name(env)}.template.json").read_text())
    return Synth(env, outdir, template)


@pytest.fixture(scope="session")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synth("dev", tmp_path_factory.mktemp("dev"))


@pytest.fixture(scope="session")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synth("prod", tmp_path_factory.mktemp("prod"))


@pytest.fixture(scope="session", params=["dev", "prod"])
def shipped(request: pytest.FixtureRequest, dev: Synth, prod: Synth) -> Synth:
    return dev if request.param == "dev" else prod


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A copy of the fixture data a test may change."""
    root = tmp_path / "root"
    shutil.copytree(FIXTURES, root)
    return root


def config_with(env: str, tmp_path: Path, edit: Callable[[str], str]) -> PipelineConfig:
    """The shipped config for `env` with its text edited."""
    text = edit((REPO_ROOT / "config" / f"{env}.toml").read_text())
    path = tmp_path / f"{env}-edited.toml"
    path.write_text(text)
    return load_config(env, path)
