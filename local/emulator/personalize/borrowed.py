"""The rules the local Personalize still borrows from this project's own pipeline package.

The local world should hold no rule of ours: what it enforces must come from sources outside this
project's code, or a test would pass against a wrong emulator and a wrong handler alike. The recipe
catalogue (`pipeline.recipes`: which recipes exist, their families, the retired ones and their
successors) still comes from `pipeline/`, and this module is the only place that imports it, so
that replacing it with an independent source (the service's recipe list) is a change to this file
alone. So do the domain tables (`pipeline.domains`: each domain's required fields and reserved
keywords, and its use cases), which are read off the service's domain pages and cite them. (The
import job's data check is the emulator's own: local.emulator.personalize.importcheck.)
"""

from __future__ import annotations

from pipeline.domains import USE_CASES, UseCase, check_domain_schema, use_cases_of
from pipeline.recipes import RECIPES, RETIRED, RecipeFamily

__all__ = ["RETIRED", "RecipeFamily", "check_domain_schema", "family", "is_recipe_arn", "recipe_name",
           "recipes", "use_case", "use_cases_of"]


def use_case(recipe_arn: str) -> UseCase | None:
    """The domain use case a recipe ARN (or name) names, None for any other recipe."""
    return USE_CASES.get(recipe_name(recipe_arn))


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

