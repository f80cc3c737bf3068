"""The stack tests' fixtures: each shipped environment synthesized once per session in-process
(aws_cdk.App(outdir=tmp)) through stacks.build_app, the same function app.py uses; their helpers
are in helpers.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.stack.helpers import FIXTURES, Synth, synth


@pytest.fixture(scope="session")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synth("dev", tmp_path_factory.mktemp("dev"))


@pytest.fixture(scope="session")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synth("prod", tmp_path_factory.mktemp("prod"))


@pytest.fixture(scope="session")
def vod(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """The VIDEO_ON_DEMAND example (a domain dataset group with recommenders)."""
    return synth("vod", tmp_path_factory.mktemp("vod"))


@pytest.fixture(scope="session", params=["dev", "prod"])
def shipped(request: pytest.FixtureRequest, dev: Synth, prod: Synth) -> Synth:
    return dev if request.param == "dev" else prod


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A copy of the fixture data a test may change."""
    root = tmp_path / "root"
    shutil.copytree(FIXTURES, root)
    return root
