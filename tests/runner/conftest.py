"""The engine tests' fixtures: a Harness (a World and a runner over a temporary state dir) per test;
the assembly builders are in helpers.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.runner.helpers import Harness


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    h = Harness(tmp_path)
    yield h
    h.runner.close()
