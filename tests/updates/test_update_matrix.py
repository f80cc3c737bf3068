"""The update matrix: for every row of the change list (tests/updates/changes.py), the shipped dev
deployed once and updated to the row's change as a user does it (`pz deploy`), and:
- the outcome per Personalize resource is the row's expected one (the one AWS gives), or, for a
  change AWS refuses, the update refused with its reason and rolled back;
- the review's prediction (`pz review`'s simulation of the same change) equals that outcome, and
  it reports the row's categories (retraining, a replaced filter, auto-training switched on...);
- every active campaign still answers recommendations after the update;
- `pz destroy` afterwards leaves nothing of dev in the local world."""

from __future__ import annotations

from pathlib import Path

import pytest

from local.runner import StackArtifact
from tests.updates.changes import CHANGES, Change
from tests.updates.harness import run_row

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("change", CHANGES, ids=[c.name for c in CHANGES])
def test_update_matrix_row(
    change: Change, base: tuple[StackArtifact, Path], shared: Path, tmp_path: Path
) -> None:
    row = run_row(change, base, shared, tmp_path)
    if change.refused:  # refused as AWS refuses it, rolled back, still serving, destroyable
        assert row.verdict() == "PASS", row.verdict()
        return
    assert row.deploy_exit == 0, f"the update fails: {row.status} {row.reason}"
    assert row.actual == row.expected, f"{change.name}: {row.verdict()}"
    assert row.predicted == row.actual, f"review: {row.predicted}\nlocal update: {row.actual}"
    assert not row.missing_flags, row.verdict()
    assert row.served and all(v == "ok" for v in row.served.values()), row.served
    assert not row.left, row.left
