"""A snapshot of the dev template (asset hashes masked), so a reviewer sees infrastructure changes
as a diff. Update deliberately: `pytest tests/stack/test_snapshot.py --snapshot-update`."""

from __future__ import annotations

import json
import re
from typing import Any

from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from tests.stack.helpers import Synth

_ASSET_HASH = re.compile(r"[0-9a-f]{64}")


def masked(template: dict[str, Any]) -> dict[str, Any]:
    """Asset hashes (lambda/ code, CDK's handlers, the zipped data files) vary with content that is
    not infrastructure; the data's own content hash still shows in SourceHash and logical ids."""
    text = _ASSET_HASH.sub("<asset-hash>", json.dumps(template, sort_keys=True))
    return json.loads(text)  # type: ignore[no-any-return]


def test_dev_template_snapshot(dev: Synth, snapshot: SnapshotAssertion) -> None:
    assert masked(dev.template) == snapshot.use_extension(JSONSnapshotExtension)


def test_prod_template_snapshot(prod: Synth, snapshot: SnapshotAssertion) -> None:
    assert masked(prod.template) == snapshot.use_extension(JSONSnapshotExtension)


def test_vod_template_snapshot(vod: Synth, snapshot: SnapshotAssertion) -> None:
    assert masked(vod.template) == snapshot.use_extension(JSONSnapshotExtension)
