"""Training a local model: check the recipe and the data, build the histories, fit the recipe's
scorer on the service's holdout split and measure the metrics there, then fit the served model on
all interactions with the hyperparameters chosen without the held-out users (`train`)."""

from __future__ import annotations

import math
import random
import re
from collections.abc import Mapping, Sequence
from typing import Any

from local.emulator.personalize import borrowed
from local.emulator.personalize.borrowed import RecipeFamily
from local.emulator.personalize.data import Interactions, Items, Users
from local.emulator.personalize.training.features import (
    EventSelection,
    History,
    attribute_tokens,
    metadata_documents,
    user_histories,
)
from local.emulator.personalize.training.model import TrainedModel
from local.emulator.personalize.training.scorers import (
    RECENCY_DECAYS,
    SIMS_DAMPING,
    AttributeScorer,
    PersonalScorer,
    PopularityScorer,
    RelatedScorer,
    Scorer,
    TrendingScorer,
    blend,
    content_neighbours,
    cooccurrence_neighbours,
    sorted_top,
)

#: Holdout (service: 10% of users, their newest 10% of interactions).
HOLDOUT_USERS = 0.10
HOLDOUT_TAIL = 0.10
METRIC_KS = (5, 10, 25)


def family_of(recipe: str) -> RecipeFamily:
    """The recipe's family; ValueError for retired or unknown recipes (the service's InvalidInput)."""
    name = borrowed.recipe_name(recipe)
    if name in borrowed.RETIRED:
        raise ValueError(
            f"The recipe {name} is no longer supported for new solutions; use {borrowed.RETIRED[name]} "
            "(the User-Personalization recipe) instead"
        )
    family = borrowed.family(name)
    if family is None:
        raise ValueError(f"Unknown recipe {name}; expected one of {sorted(borrowed.recipes())}")
    if family is RecipeFamily.PERSONALIZED_ACTIONS:
        raise ValueError(f"{name} needs an Actions dataset, which the local Personalize does not support")
    return family


# --------------------------------------------------------------------------------------------------
# Fitting and evaluating
# --------------------------------------------------------------------------------------------------
def _trend_window(config: Mapping[str, Any]) -> int | None:
    """Trending-Now's trend discovery frequency (e.g. "30 minutes", "1 hour", "1 day") in seconds."""
    params = config.get("featureTransformationParameters") or {}
    raw = params.get("trend_discovery_frequency") or config.get("trendDiscoveryFrequency")
    if not raw:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*(minute|minutes|hour|hours|day|days)\s*", str(raw))
    if match is None:
        raise ValueError(
            f"trend_discovery_frequency must be like '30 minutes', '1 hour' or '1 day', got {raw!r}"
        )
    unit = {"minute": 60, "hour": 3600, "day": 86400}[match.group(2).rstrip("s")]
    return int(match.group(1)) * unit


def _fit(
    recipe: str,
    family: RecipeFamily,
    n_items: int,
    catalogue: Sequence[str],
    histories: Mapping[str, History],
    items: Items | None,
    config: Mapping[str, Any],
    content: list[list[tuple[int, float]]] | None,
    *,
    seed: int = 0,
    decay: float | None = None,
) -> Scorer:
    """Fit the recipe's scorer on these histories (called for the validation, holdout and full fits,
    so that metrics never see the held-out users); `decay` reuses an already chosen recency decay."""
    if family is RecipeFamily.POPULAR_ITEMS:
        if recipe == "aws-trending-now":
            return TrendingScorer(n_items, histories, _trend_window(config))
        return PopularityScorer(n_items, histories)
    if family is RecipeFamily.RELATED_ITEMS:
        if recipe == "aws-semantic-similarity":
            assert content is not None
            return RelatedScorer(n_items, histories, content)
        baskets = []
        for user in sorted(histories):
            history = histories[user]
            basket = sorted({c for c, w in zip(history.items, history.weights, strict=True) if w > 0})
            if basket:
                baskets.append(basket)
        co, counts = cooccurrence_neighbours(baskets, n_items, catalogue, damping=SIMS_DAMPING)
        if recipe == "aws-similar-items" and content is not None:
            co = blend(co, content, counts, catalogue)
        return RelatedScorer(n_items, histories, co)
    if family is RecipeFamily.USER_SEGMENTATION and recipe == "aws-item-attribute-affinity":
        assert items is not None
        return AttributeScorer(n_items, histories, attribute_tokens(items, catalogue))
    scorer = PersonalScorer(n_items, histories, catalogue)
    scorer.decay = decay if decay is not None else _choose_decay(n_items, catalogue, histories, seed)
    return scorer


def _choose_decay(
    n_items: int, catalogue: Sequence[str], histories: Mapping[str, History], seed: int
) -> float:
    """The recency decay with the best NDCG@10 on a validation split of these (training) users."""
    train_part, validation = _holdout(histories, seed + 1)
    if not validation:
        return RECENCY_DECAYS[1]
    scorer = PersonalScorer(n_items, train_part, catalogue)
    best, best_score = RECENCY_DECAYS[1], -1.0
    for decay in RECENCY_DECAYS:
        scorer.decay = decay
        score = _evaluate("", RecipeFamily.USER_PERSONALIZATION, scorer, validation, catalogue, n_items)[
            "normalized_discounted_cumulative_gain_at_10"
        ]
        if score > best_score:
            best, best_score = decay, score
    return best


def _holdout(
    histories: Mapping[str, History], seed: int
) -> tuple[dict[str, History], dict[str, tuple[History, History]]]:
    """The service's split: 10% of users out; for them, oldest 90% as input, newest 10% as truth."""
    eligible = sorted(u for u, h in histories.items() if sum(1 for w in h.weights if w > 0) >= 2)
    rng = random.Random(seed)
    rng.shuffle(eligible)
    count = max(1, round(len(eligible) * HOLDOUT_USERS)) if len(eligible) >= 2 else 0
    held = set(eligible[:count])
    train = {u: h for u, h in histories.items() if u not in held}
    test: dict[str, tuple[History, History]] = {}
    for user in sorted(held):
        history = histories[user]
        cut = min(len(history) - 1, max(1, math.floor(len(history) * (1.0 - HOLDOUT_TAIL))))
        test[user] = (history.slice(cut), history.tail(cut))
    return train, test


def _segment_split(
    histories: Mapping[str, History],
) -> tuple[dict[str, History], dict[str, tuple[History, History]]]:
    """USER_SEGMENTATION's split: 80% of each user's interactions train, the newest 20% test."""
    train: dict[str, History] = {}
    test: dict[str, tuple[History, History]] = {}
    for user in sorted(histories):
        history = histories[user]
        if len(history) < 2:
            train[user] = history
            continue
        cut = min(len(history) - 1, max(1, math.floor(len(history) * 0.8)))
        train[user] = history.slice(cut)
        test[user] = (history.slice(cut), history.tail(cut))
    return train, test


def _evaluate(
    recipe: str,
    family: RecipeFamily,
    scorer: Scorer,
    test: Mapping[str, tuple[History, History]],
    catalogue: Sequence[str],
    catalogue_size: int,
) -> dict[str, float]:
    ranked: list[list[int]] = []
    relevant: list[set[int]] = []
    for user in sorted(test):
        given, truth = test[user]
        wanted = {c for c, w in zip(truth.items, truth.weights, strict=True) if w > 0}
        if not wanted:
            continue
        if family is RecipeFamily.RELATED_ITEMS:
            used = [c for c, w in zip(given.items, given.weights, strict=True) if w > 0]
            query = used[-1] if used else None
            scores = scorer.item_scores(query)
            if query is not None:
                scores[query] = 0.0
        else:
            scores = scorer.user_scores(given)
        ranked.append([c for c, _ in sorted_top(scores, 25, catalogue)])
        relevant.append(wanted)
    return _ranking_metrics(ranked, relevant, catalogue_size)


def _ranking_metrics(
    ranked: Sequence[Sequence[int]], relevant: Sequence[set[int]], catalogue_size: int
) -> dict[str, float]:
    """Personalize's offline metrics over queries (`working-with-training-metrics`, metric definitions)."""
    n = len(ranked)
    totals = {f"precision_at_{k}": 0.0 for k in METRIC_KS}
    totals.update({f"normalized_discounted_cumulative_gain_at_{k}": 0.0 for k in METRIC_KS})
    totals["mean_reciprocal_rank_at_25"] = 0.0
    recommended: set[int] = set()
    for ranking, truth in zip(ranked, relevant, strict=True):
        recommended.update(ranking[:25])
        gains = [1.0 if code in truth else 0.0 for code in ranking[:25]]
        for k in METRIC_KS:
            totals[f"precision_at_{k}"] += sum(gains[:k]) / k
            dcg = sum(g / math.log2(position + 2) for position, g in enumerate(gains[:k]))
            ideal = sum(1.0 / math.log2(position + 2) for position in range(min(k, len(truth))))
            totals[f"normalized_discounted_cumulative_gain_at_{k}"] += dcg / ideal if ideal else 0.0
        first = next((position for position, g in enumerate(gains) if g), None)
        totals["mean_reciprocal_rank_at_25"] += 0.0 if first is None else 1.0 / (first + 1)
    metrics = {name: round(value / n, 4) if n else 0.0 for name, value in totals.items()}
    metrics["coverage"] = round(len(recommended) / catalogue_size, 4) if catalogue_size else 0.0
    return dict(sorted(metrics.items()))


# --------------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------------
def train(
    recipe: str,
    interactions: Interactions,
    items: Items | None,
    users: Users | None,
    solution_config: Mapping[str, Any] | None,
    *,
    seed: int = 0,
) -> TrainedModel:
    """Train a solution version of `recipe` on the datasets; ValueError for what the service rejects."""
    name = recipe.rsplit("/", 1)[-1]
    family = family_of(name)
    config = dict(solution_config or {})
    selection = EventSelection.from_config(config)
    if len(interactions) == 0:
        raise ValueError("There are no interactions to train on; import an Interactions dataset first")
    # catalogue: items with interactions, then (related items by metadata) items only in the Items dataset
    catalogue = list(interactions.items.values)
    if name in ("aws-similar-items", "aws-semantic-similarity") and items is not None:
        known = set(catalogue)
        catalogue.extend(i for i in items.ids if i not in known)
    item_code = {item: code for code, item in enumerate(catalogue)}
    event_names = list(interactions.event_type_vocab.values)
    histories = user_histories(interactions, selection, item_code, event_names)
    if not any(w > 0 for h in histories.values() for w in h.weights):
        raise ValueError(f"No interactions match the solution's event selection {config!r}")
    content: list[list[tuple[int, float]]] | None = None
    if name == "aws-semantic-similarity":
        if items is None or not items.textual_fields():
            raise ValueError("aws-semantic-similarity needs an Items dataset with a textual field")
        docs = metadata_documents(items, catalogue, textual=True, categorical=False)
        if not any(docs):
            raise ValueError("aws-semantic-similarity found no text in the Items dataset's textual fields")
        content = content_neighbours(docs, catalogue)
    elif name == "aws-similar-items" and items is not None:
        content = content_neighbours(
            metadata_documents(items, catalogue, textual=True, categorical=True), catalogue
        )
    elif name in ("aws-similar-items", "aws-item-attribute-affinity") and items is None:
        raise ValueError(f"{name} needs an Items dataset")
    if name == "aws-item-attribute-affinity":
        assert items is not None
        usable = [
            s.name for s in items.fields if s.name not in ("ITEM_ID", "CREATION_TIMESTAMP") and not s.textual
        ]
        if not usable:
            raise ValueError(
                "aws-item-attribute-affinity needs an Items dataset with at least one non-textual, "
                "non-reserved metadata field"
            )
    catalogue_size = len(set(catalogue) | (set(items.ids) if items is not None else set()))
    if family is RecipeFamily.USER_SEGMENTATION:
        train_part, test = _segment_split(histories)
    else:
        train_part, test = _holdout(histories, seed)
    holdout_scorer = _fit(
        name, family, len(catalogue), catalogue, train_part, items, config, content, seed=seed
    )
    metrics = _evaluate(name, family, holdout_scorer, test, catalogue, catalogue_size)
    # the full model reuses the hyperparameters chosen without the held-out users
    scorer = _fit(
        name,
        family,
        len(catalogue),
        catalogue,
        histories,
        items,
        config,
        content,
        seed=seed,
        decay=getattr(holdout_scorer, "decay", None),
    )
    return TrainedModel(
        name,
        family,
        catalogue,
        event_names,
        histories,
        scorer,
        selection,
        items,
        users,
        metrics,
        seed,
        len(interactions),
    )
