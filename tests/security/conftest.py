"""Security checks run on the template `cdk synth` writes for every shipped config (config/*.toml,
the repo's own data), synthesized once per session in-process through stacks.build_app."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pipeline.config import PipelineConfig, load_config
from pipeline.naming import REPO_ROOT, stack_name

# The handler package, imported by path as its tests do (`lambda` is a Python keyword).
if str(REPO_ROOT / "lambda") not in sys.path:
    sys.path.insert(0, str(REPO_ROOT / "lambda"))
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ["PATH"] = f"{REPO_ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}"

SHIPPED = sorted(p.stem for p in (REPO_ROOT / "config").glob("*.toml"))


@dataclass
class Template:
    env: str
    config: PipelineConfig
    template: dict[str, Any]

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.template["Resources"]

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: r for k, r in self.resources.items() if r["Type"] == kind}


def synth_template(env: str, outdir: Path, config: PipelineConfig | None = None) -> Template:
    from stacks import build_app

    config = config or load_config(env)
    build_app(
        env, str(outdir), config=config, root=REPO_ROOT, asset_dir=REPO_ROOT / "lambda", nag=False
    ).synth()
    return Template(env, config, json.loads((outdir / f"{stack_name(env)}.template.json").read_text()))


@pytest.fixture(scope="session")
def shipped_templates(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Template]:
    cache: dict[str, Template] = {}

    def get(env: str) -> Template:
        if env not in cache:
            cache[env] = synth_template(env, tmp_path_factory.mktemp(f"sec-{env}"))
        return cache[env]

    return get


@pytest.fixture(params=SHIPPED)
def shipped(
    request: pytest.FixtureRequest, shipped_templates: Callable[[str], Template]
) -> Iterator[Template]:
    yield shipped_templates(request.param)
