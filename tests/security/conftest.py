"""Security checks run on the template `cdk synth` writes for every shipped config (config/*.toml,
the repo's own data), synthesized once per session (their helpers are in helpers.py)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator

import pytest

from pipeline.naming import REPO_ROOT
from tests.security.helpers import SHIPPED, Template, synth_template

# The handler package, imported by path as its tests do (`lambda` is a Python keyword).
if str(REPO_ROOT / "lambda") not in sys.path:
    sys.path.insert(0, str(REPO_ROOT / "lambda"))


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
