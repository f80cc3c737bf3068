"""How long each local Personalize operation takes, in (virtual) seconds.

The service publishes no SLA: imports take "minutes to hours" with size, trainings "tens of minutes
to many hours", a campaign "a few minutes but can take over an hour" (sources in
docs/local-personalize.md). The model below keeps those orders of magnitude and grows with data size:

    import    = base 360 s + 0.0005 s/row                     (1 M rows: ~14 min more)
    training  = recipe base + per-interaction cost, x HPO multiplier (x 3 with performHPO)
    campaign  = 600 s create, 480 s update
    short creates (dataset group, dataset, solution, filter, event tracker) = tens of seconds
    dataset schema replacement (UpdateDataset) = 60 s
    deletes   = tens of seconds; campaigns take a few minutes

Every value can be changed for a test or a benchmark: `override(kind, seconds)` pins a kind
(e.g. a six-hour training), `scale` multiplies everything, `jitter` spreads durations by a
deterministic per-name factor so that polls cannot line up by luck.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

#: Training base seconds per recipe family (name prefix), before the per-interaction cost.
TRAINING_BASE: dict[str, float] = {
    "aws-user-personalization-v2": 3000.0,
    "aws-user-personalization": 2700.0,
    "aws-personalized-ranking-v2": 3000.0,
    "aws-personalized-ranking": 2700.0,
    "aws-similar-items": 2400.0,
    "aws-semantic-similarity": 3000.0,
    "aws-sims": 1800.0,
    "aws-popularity-count": 1200.0,
    "aws-trending-now": 1500.0,
    "aws-item-affinity": 2400.0,
    "aws-item-attribute-affinity": 2400.0,
    "aws-next-best-action": 3000.0,
}
TRAINING_DEFAULT_BASE = 2700.0
TRAINING_PER_INTERACTION = 0.002  # 1 M interactions: +33 min
HPO_MULTIPLIER = 3.0
IMPORT_BASE = 360.0
IMPORT_PER_ROW = 0.0005

DEFAULTS: dict[str, float] = {
    "dataset_group": 20.0,
    "dataset": 15.0,
    "dataset_update": 60.0,
    "solution": 10.0,
    "event_tracker": 60.0,
    "filter": 60.0,
    "campaign": 600.0,
    "campaign_update": 480.0,
    "stop_training": 120.0,
    "delete": 30.0,
    "delete_dataset_group": 60.0,
    "delete_campaign": 180.0,
    "import_failure": 90.0,
    # metric attribution: short, like the other small creates (no page gives a figure)
    "metric_attribution": 60.0,
    "metric_attribution_update": 60.0,
    # "Solution updates can take a few minutes" (updating-solution)
    "solution_update": 180.0,
}

#: every kind `override` accepts
KINDS = frozenset({*DEFAULTS, "import", "training"})


@dataclass
class Durations:
    """The duration model with its knobs (kept in the World, so it persists)."""

    scale: float = 1.0
    jitter: float = 0.0
    overrides: dict[str, float] = field(default_factory=dict)

    def override(self, kind: str, seconds: float | None) -> None:
        """Pin `kind` to `seconds` (None removes the pin). Kinds: see KINDS."""
        if kind not in KINDS:
            raise ValueError(f"unknown duration kind {kind!r}; expected one of {sorted(KINDS)}")
        if seconds is None:
            self.overrides.pop(kind, None)
        elif seconds < 0:
            raise ValueError(f"a duration cannot be negative: {kind}={seconds}")
        else:
            self.overrides[kind] = float(seconds)

    def reset(self) -> None:
        self.scale, self.jitter = 1.0, 0.0
        self.overrides.clear()

    def _finish(self, kind: str, seconds: float, name: str) -> float:
        if kind in self.overrides:
            return self.overrides[kind]
        if self.jitter:
            digest = hashlib.sha256(f"{kind}:{name}".encode()).digest()
            spread = int.from_bytes(digest[:4], "big") / 0xFFFFFFFF  # 0..1, fixed per name
            seconds *= 1 + self.jitter * (2 * spread - 1)
        return max(0.0, seconds * self.scale)

    def of(self, kind: str, name: str = "") -> float:
        """A fixed-size operation (creates of the short kinds, deletes, campaign create/update)."""
        if kind not in DEFAULTS:
            raise ValueError(f"unknown duration kind {kind!r}")
        return self._finish(kind, DEFAULTS[kind], name)

    def import_job(self, rows: int, name: str = "") -> float:
        return self._finish("import", IMPORT_BASE + IMPORT_PER_ROW * rows, name)

    def training(self, recipe: str, interactions: int, hpo: bool = False, name: str = "") -> float:
        base = TRAINING_BASE.get(recipe, TRAINING_DEFAULT_BASE)
        seconds = (base + TRAINING_PER_INTERACTION * interactions) * (HPO_MULTIPLIER if hpo else 1.0)
        return self._finish("training", seconds, name)


def pending_part(total: float) -> float:
    """How much of an operation is spent in `* PENDING` before `* IN_PROGRESS`."""
    return min(10.0, total * 0.1)
