"""The rules the local Personalize still borrows from this project's own pipeline package.

The local world should hold no rule of ours: what it enforces must come from sources outside this
project's code, or a test would pass against a wrong emulator and a wrong handler alike. Two rules
still come from `pipeline/`, and this module is the only place that imports them, so that replacing
them with independent sources (the service's recipe list, a CSV check of the emulator's own) is a
change to this file alone:

- the recipe catalogue (`pipeline.recipes`): which recipes exist, their families, the retired
  ones and their successors;
- the import job's data check (`pipeline.csvcheck.check_csv`).
"""

from __future__ import annotations

import io
from typing import Any

from pipeline.recipes import RECIPES, RETIRED, RecipeFamily

__all__ = ["RETIRED", "RecipeFamily", "check_csv", "family", "is_recipe_arn", "recipe_name", "recipes"]


def recipe_name(recipe_arn: str) -> str:
    """`arn:aws:personalize:::recipe/aws-sims` -> `aws-sims` (a bare name is returned as is)."""
    return recipe_arn.rsplit("/", 1)[-1]


def family(recipe: str) -> RecipeFamily | None:
    """The family of a recipe (name or ARN), None for a recipe not in the catalogue."""
    found = RECIPES.get(recipe_name(recipe))
    return found.family if found is not None else None


def is_recipe_arn(recipe_arn: str) -> bool:
    """Whether `recipe_arn` is exactly the ARN of a recipe in the catalogue."""
    found = RECIPES.get(recipe_name(recipe_arn))
    return found is not None and found.arn == recipe_arn


def recipes() -> dict[str, tuple[str, RecipeFamily]]:
    """Every recipe of the catalogue: name -> (ARN, family), in the catalogue's order."""
    return {name: (recipe.arn, recipe.family) for name, recipe in RECIPES.items()}


def check_csv(raw: bytes, schema: dict[str, Any], dataset_type: str, file: str) -> list[Any]:
    """The problems `pipeline.csvcheck` finds in one import file (each with `severity`, `line`,
    `message` and a str() naming file, line, column and value)."""
    from pipeline.csvcheck import check_csv as pipeline_check_csv

    return list(pipeline_check_csv(io.BytesIO(raw), schema, dataset_type, file=file).problems)
