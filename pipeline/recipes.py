"""The Personalize recipe catalogue: family, dataset needs, and the retired recipes' successors.

Source: shared/reference/personalize-facts.md and the Personalize developer guide
(working-with-predefined-recipes, native-recipe-hrnn).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol


class HasItems(Protocol):
    """What recipe_problem reads of the datasets (DatasetsConfig, or a view of the raw TOML)."""

    @property
    def items(self) -> object | None: ...


class RecipeFamily(str, Enum):  # noqa: UP042 (str() kept as before for callers)
    USER_PERSONALIZATION = "USER_PERSONALIZATION"
    PERSONALIZED_RANKING = "PERSONALIZED_RANKING"
    POPULAR_ITEMS = "POPULAR_ITEMS"
    RELATED_ITEMS = "RELATED_ITEMS"
    PERSONALIZED_ACTIONS = "PERSONALIZED_ACTIONS"
    USER_SEGMENTATION = "USER_SEGMENTATION"


@dataclass(frozen=True)
class Recipe:
    name: str
    family: RecipeFamily
    needs_items: bool = False
    needs_textual_item_field: bool = False
    needs_actions: bool = False
    #: CreateSolutionVersion trainingMode UPDATE (see UPDATE_TRAINING_RECIPES).
    update_training: bool = False
    #: solutionConfig.eventsConfig, event weighting (see EVENTS_CONFIG_RECIPES).
    events_config: bool = False

    @property
    def arn(self) -> str:
        """The ARN in the `aws` partition (the local world's)."""
        return self.arn_in("aws")

    def arn_in(self, partition: str) -> str:
        """The ARN in a partition (a stack passes its own, `Aws.PARTITION`: aws-cn, aws-us-gov)."""
        return f"arn:{partition}:personalize:::recipe/{self.name}"


RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in (
        Recipe("aws-user-personalization-v2", RecipeFamily.USER_PERSONALIZATION, events_config=True),
        Recipe("aws-user-personalization", RecipeFamily.USER_PERSONALIZATION, update_training=True),
        Recipe("aws-personalized-ranking-v2", RecipeFamily.PERSONALIZED_RANKING, events_config=True),
        Recipe("aws-personalized-ranking", RecipeFamily.PERSONALIZED_RANKING),
        Recipe("aws-popularity-count", RecipeFamily.POPULAR_ITEMS),
        Recipe("aws-trending-now", RecipeFamily.POPULAR_ITEMS),
        Recipe("aws-sims", RecipeFamily.RELATED_ITEMS),
        Recipe("aws-similar-items", RecipeFamily.RELATED_ITEMS, needs_items=True),
        Recipe(
            "aws-semantic-similarity",
            RecipeFamily.RELATED_ITEMS,
            needs_items=True,
            needs_textual_item_field=True,
        ),
        Recipe("aws-next-best-action", RecipeFamily.PERSONALIZED_ACTIONS, needs_actions=True),
        Recipe("aws-item-affinity", RecipeFamily.USER_SEGMENTATION),
        Recipe("aws-item-attribute-affinity", RecipeFamily.USER_SEGMENTATION, needs_items=True),
    )
}

#: trainingMode UPDATE: "The UPDATE option can only be used when you already have an active solution
#: version created from the input solution using the FULL option and the input solution was trained
#: with the User-Personalization recipe or the legacy HRNN-Coldstart recipe" (botocore personalize,
#: CreateSolutionVersionRequest.trainingMode). HRNN-Coldstart is retired, so aws-user-personalization
#: alone remains; no source names User-Personalization-v2.
UPDATE_TRAINING_RECIPES = tuple(sorted(r.name for r in RECIPES.values() if r.update_training))
#: "If you use the User-Personalization-v2 recipe or Personalized-Ranking-v2 recipe, you can optimize
#: an Amazon Personalize solution with an events configuration" (developer guide,
#: optimizing-solution-events-config).
EVENTS_CONFIG_RECIPES = tuple(sorted(r.name for r in RECIPES.values() if r.events_config))

#: Recipes the service no longer accepts for new solutions, and what replaces them.
RETIRED: dict[str, str] = {
    "aws-hrnn": "aws-user-personalization-v2",
    "aws-hrnn-metadata": "aws-user-personalization-v2",
    "aws-hrnn-coldstart": "aws-user-personalization-v2",
}


def recipe_problem(recipe: str, datasets: HasItems, solution_config: dict[str, Any]) -> str | None:
    """Why this recipe cannot train on these datasets, or None when it can (schema-level needs
    such as a textual field are checked by pipeline.validate, which reads the schema files)."""
    if recipe in RETIRED:
        return (
            f"retired by Amazon Personalize and no longer available for new solutions; "
            f"use {RETIRED[recipe]!r} instead"
        )
    found = RECIPES.get(recipe)
    if found is None:
        return f"unknown recipe; expected one of {sorted(RECIPES)}"
    if found.needs_items and datasets.items is None:
        return f"{recipe} needs an items dataset: add [datasets.items]"
    if found.needs_actions:
        return f"{recipe} needs an actions dataset, which this pipeline does not provision"
    return None
