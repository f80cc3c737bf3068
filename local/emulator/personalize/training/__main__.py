"""`python -m local.emulator.personalize.training [DATA_DIR] [RECIPE ...]`: train each recipe on the
CSVs and schemas in DATA_DIR (default data/), print the wall time and the holdout metrics."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from local.emulator.personalize import borrowed
from local.emulator.personalize.borrowed import RecipeFamily
from local.emulator.personalize.data import Interactions, Items, Users
from local.emulator.personalize.training.fit import train


def _main(argv: Sequence[str]) -> int:
    args = list(argv)
    folder = Path(args.pop(0)) if args and not args[0].startswith("aws-") else Path("data")
    recipes = args or [
        name for name, (_, family) in borrowed.recipes().items()
        if family is not RecipeFamily.PERSONALIZED_ACTIONS
    ]

    def load(kind: str, cls: Any) -> Any:
        csv_path, schema_path = folder / f"{kind}.csv", folder / "schemas" / f"{kind}.json"
        if not csv_path.exists():
            return None
        return cls.from_csv(str(csv_path), json.loads(schema_path.read_text()))

    started = time.perf_counter()
    interactions = load("interactions", Interactions)
    items, users = load("items", Items), load("users", Users)
    print(
        f"loaded {len(interactions)} interactions, {len(items or [])} items, {len(users or [])} users "
        f"in {time.perf_counter() - started:.3f} s"
    )
    for recipe in recipes:
        started = time.perf_counter()
        model = train(recipe, interactions, items, users, {})
        elapsed = time.perf_counter() - started
        m = model.metrics()
        print(
            f"{recipe:30} {elapsed:6.3f} s  precision@10 {m['precision_at_10']:.4f}  "
            f"ndcg@10 {m['normalized_discounted_cumulative_gain_at_10']:.4f}  "
            f"mrr@25 {m['mean_reciprocal_rank_at_25']:.4f}  coverage {m['coverage']:.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
