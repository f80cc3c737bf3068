"""The local Personalize tests' fixtures: a fresh World per test, boto3 clients reaching it, and a
trained world built once per session (their helpers are in helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from local.emulator.world import World
from tests.local.helpers import REGION, Pipeline, Trained, build_trained, serving


@pytest.fixture
def world() -> Iterator[World]:
    w = World()
    with w.active():
        yield w
    w.close()


def client_fixture(service: str) -> Any:
    """A fixture giving a boto3 client of `service`, reaching the test's active world."""

    def client(world: World) -> Any:
        return boto3.client(service, region_name=REGION)

    return pytest.fixture(client)


pz = client_fixture("personalize")
runtime = client_fixture("personalize-runtime")
events = client_fixture("personalize-events")
s3 = client_fixture("s3")
iam = client_fixture("iam")


@pytest.fixture
def pipeline(world: World, pz: Any, s3: Any, iam: Any) -> Pipeline:
    return Pipeline(world, pz, s3, iam)


@pytest.fixture(scope="session")
def trained_path(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Trained]:
    path = tmp_path_factory.mktemp("trained") / "world.pkl"
    return path, build_trained(path)


@pytest.fixture
def trained(trained_path: tuple[Path, Trained]) -> Iterator[tuple[World, Trained]]:
    """A fresh copy of the trained world, active."""
    w = World.load(trained_path[0])
    with w.active():
        yield w, trained_path[1]
    w.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[int]:
    """`pz serve` in a process of its own, on a fresh world; the port."""
    with serving(tmp_path / "w.pkl") as port:
        yield port
