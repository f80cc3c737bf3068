"""Held in every suite: each answer of the local Personalize fits botocore's output shapes.

PZ_CHECK_RESPONSES=1 (set before any test module imports the emulator, and inherited by a `serve`
subprocess) makes local.emulator.personalize.protocol check every response it encodes against the
operation's output shape in botocore's model (types, timestamps, required members, enums, lengths,
patterns) and raise ResponseShapeError on a mismatch. The code under test may swallow that
exception, so every test also fails afterwards when any mismatch was seen during it, naming the
operation and the member path.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

os.environ["PZ_CHECK_RESPONSES"] = "1"


@pytest.fixture(autouse=True)
def _responses_fit_botocore_output_shapes() -> Iterator[None]:
    model = sys.modules.get("local.emulator.personalize.model")
    seen = len(model.FOUND) if model is not None else 0
    yield
    model = sys.modules.get("local.emulator.personalize.model")
    if model is not None and len(model.FOUND) > seen:
        found = model.FOUND[seen:]
        del model.FOUND[seen:]
        pytest.fail(
            "the local Personalize answered what botocore's model does not describe:\n" + "\n".join(found),
            pytrace=False,
        )
