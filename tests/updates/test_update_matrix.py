"""The update matrix: for every row of the change list (tests/updates/changes.py), the shipped dev
deployed once and updated to the row's change as a user does it (`pz deploy`), and:
- the outcome per Personalize resource is the row's expected one (the one AWS gives), or, for a
  change AWS refuses, the update refused with its reason and rolled back;
- the review's prediction (`pz review`'s simulation of the same change) equals that outcome, and
  it reports the row's categories (retraining, a replaced filter, auto-training switched on...);
- while the update runs (at every stack event and every few virtual minutes of its waits), every
  campaign its clients know answers as the service allows: one updated in place or untouched at
  every look, one deleted until the stack deletes it (and its successor, if any, before that), one
  created from when it is ACTIVE (tests/updates/availability.py);
- every active campaign still answers recommendations after the update;
- `pz destroy` afterwards leaves nothing of dev in the local world, and of prod only its retained
  buckets with their data."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.updates.changes import CHANGES, Change
from tests.updates.harness import Bases, run_row

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("change", CHANGES, ids=[c.name for c in CHANGES])
def test_update_matrix_row(change: Change, bases: Bases, shared: Path, tmp_path: Path) -> None:
    row = run_row(change, bases(change.env), shared, tmp_path)
    if change.refused:  # refused as AWS refuses it, rolled back, still serving, destroyable
        assert row.verdict() == "PASS", row.verdict()
        return
    assert row.deploy_exit == 0, f"the update fails: {row.status} {row.reason}"
    assert row.actual == row.expected, f"{change.name}: {row.verdict()}"
    assert row.predicted == row.actual, f"review: {row.predicted}\nlocal update: {row.actual}"
    assert not row.missing_flags, row.verdict()
    assert row.during and all(v == "ok" for v in row.during.values()), row.during
    assert row.served and all(v == "ok" for v in row.served.values()), row.served
    assert not row.unretained_left, row.unretained_left
    if "production-campaign-replaced" in change.flags:  # the first thing a reviewer reads
        gone = [lid for lid, o in row.expected.items() if lid.startswith("Campaign") and o == "deleted"]
        warned = [w for w in row.warnings if w.startswith("production campaign ")]
        assert len(warned) == len(gone), row.warnings
    if change.env == "prod":  # removal_policy = retain: the data bucket outlives the stack
        assert row.retained, row.left
    else:
        assert not row.left, row.left
