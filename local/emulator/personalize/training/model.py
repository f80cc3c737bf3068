"""A trained solution version of the local Personalize: what a campaign serves (recommend, rank),
what PutEvents changes (observe), what GetSolutionMetrics reads (metrics), and batch segments."""

from __future__ import annotations

import heapq
import re
from collections.abc import Mapping, Sequence
from typing import Any

from local.emulator.personalize.borrowed import RecipeFamily
from local.emulator.personalize.data import Items, Users
from local.emulator.personalize.filters import CompiledFilter
from local.emulator.personalize.training.features import EventSelection, History
from local.emulator.personalize.training.scorers import Scorer, sorted_top


class TrainedModel:
    """A trained solution version: recommendations, ranking, real-time events, metrics."""

    def __init__(
        self,
        recipe: str,
        family: RecipeFamily,
        catalogue: list[str],
        event_names: list[str],
        histories: dict[str, History],
        scorer: Scorer,
        selection: EventSelection,
        items: Items | None,
        users: Users | None,
        metrics: dict[str, float],
        seed: int,
        training_interactions: int,
    ) -> None:
        self.recipe = recipe
        self.family = family.value
        self.catalogue = catalogue
        self.item_code = {item: code for code, item in enumerate(catalogue)}
        self.event_names = event_names
        self.histories = histories
        self.scorer = scorer
        self.selection = selection
        self.items = items
        self.users = users
        self._metrics = metrics
        self.seed = seed
        self.training_interactions = training_interactions
        #: events from PutEvents for items not in the catalogue: user -> [(item, event type, time)]
        self.unknown_events: dict[str, list[tuple[str, str | None, int]]] = {}

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("item_code")
        state.pop("_user_matrix", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.item_code = {item: code for code, item in enumerate(self.catalogue)}

    # -- public API ---------------------------------------------------------------------------------
    @property
    def returns_scores(self) -> bool:
        """Whether the service shows scores for this recipe: User-Personalization(-v2) and
        Personalized-Ranking do; SIMS, Similar-Items and Popularity-Count do not
        (`how-recommendation-scoring-works`). Trending-Now, Semantic-Similarity: not documented; no."""
        return RecipeFamily(self.family) in (
            RecipeFamily.USER_PERSONALIZATION,
            RecipeFamily.PERSONALIZED_RANKING,
        )

    def metrics(self) -> dict[str, float]:
        """GetSolutionMetrics' values, measured on the holdout at training time."""
        return dict(self._metrics)

    def known_user(self, user_id: str) -> bool:
        return user_id in self.histories

    def user_history(self, user_id: str) -> list[tuple[str, str | None, int]]:
        """(item id, event type, timestamp) of the user's interactions, oldest first (training + events)."""
        rows: list[tuple[str, str | None, int]] = []
        history = self.histories.get(user_id)
        if history is not None:
            for code, when, event in zip(history.items, history.times, history.events, strict=True):
                rows.append((self.catalogue[code], None if event < 0 else self.event_names[event], when))
        rows.extend(self.unknown_events.get(user_id, ()))
        rows.sort(key=lambda row: row[2])
        return rows

    def observe(
        self,
        user_id: str,
        item_id: str,
        event_type: str | None,
        timestamp: int | float,
        event_value: float | None = None,
    ) -> None:
        """Fold a PutEvents event into the user's history: the next recommendations change."""
        when = int(timestamp)
        self.__dict__.pop("_user_matrix", None)
        code = self.item_code.get(item_id)
        if code is None:
            self.unknown_events.setdefault(user_id, []).append((item_id, event_type, when))
            return
        history = self.histories.setdefault(user_id, History())
        name = event_type or None
        if name is None:
            event = -1
        else:
            if name not in self.event_names:
                self.event_names.append(name)
            event = self.event_names.index(name)
        position = len(history)
        while position > 0 and history.times[position - 1] > when:  # keep time order
            position -= 1
        history.items.insert(position, code)
        history.times.insert(position, when)
        history.events.insert(position, event)
        history.weights.insert(position, self.selection.weight(name, event_value))

    def recommend(
        self,
        user_id: str | None = None,
        item_id: str | None = None,
        num_results: int = 25,
        *,
        filter: CompiledFilter | None = None,
        filter_values: Mapping[str, str] | None = None,
        items: Items | None = None,
        history: Sequence[tuple[str, str | None, int]] | None = None,
        users: Users | None = None,
    ) -> list[tuple[str, float]]:
        """GetRecommendations: [(item id, score)], best first.

        USER_PERSONALIZATION needs user_id; RELATED_ITEMS needs item_id (user_id only feeds
        filters); POPULAR_ITEMS takes either. `history` (item, event type, time) overrides the
        interactions filters see (default: training data plus observed events); `items`/`users`
        override the metadata filters see (default: the datasets trained with).
        """
        family = RecipeFamily(self.family)
        if num_results < 1:
            raise ValueError(f"numResults must be at least 1, got {num_results}")
        if family is RecipeFamily.PERSONALIZED_RANKING:
            raise ValueError(f"{self.recipe} serves GetPersonalizedRanking, not GetRecommendations")
        if family is RecipeFamily.USER_SEGMENTATION:
            raise ValueError(f"{self.recipe} serves batch segment jobs only")
        if family is RecipeFamily.USER_PERSONALIZATION:
            if not user_id:
                raise ValueError(f"userId is required for a campaign of {self.recipe}")
            scores = self.scorer.user_scores(self.histories.get(user_id))
        elif family is RecipeFamily.RELATED_ITEMS:
            if not item_id:
                raise ValueError(f"itemId is required for a campaign of {self.recipe}")
            scores = self.scorer.item_scores(self.item_code.get(item_id))
            if item_id in self.item_code:
                scores[self.item_code[item_id]] = 0.0
        else:
            scores = self.scorer.user_scores(None)
        ranked = sorted_top(scores, len(scores), self.catalogue)
        pairs = [(self.catalogue[c], s) for c, s in ranked]
        if filter is not None:
            pairs = self._filter(pairs, filter, filter_values, items, history, users, user_id, item_id)
        return pairs[:num_results]

    def rank(
        self,
        user_id: str,
        input_list: Sequence[str],
        *,
        filter: CompiledFilter | None = None,
        filter_values: Mapping[str, str] | None = None,
        items: Items | None = None,
        history: Sequence[tuple[str, str | None, int]] | None = None,
        users: Users | None = None,
    ) -> list[tuple[str, float]]:
        """GetPersonalizedRanking: the input items reordered for the user.

        As in the service (`rankings`, "How personalized ranking scoring works"), the scores of the
        input items sum to 1 and an item absent from training gets 0; those rank last, in input order.
        """
        if RecipeFamily(self.family) is not RecipeFamily.PERSONALIZED_RANKING:
            raise ValueError(f"{self.recipe} serves GetRecommendations, not GetPersonalizedRanking")
        if not user_id:
            raise ValueError("userId is required for GetPersonalizedRanking")
        if not input_list:
            raise ValueError("inputList must contain at least one item")
        scores = self.scorer.user_scores(self.histories.get(user_id))
        unique = list(dict.fromkeys(input_list))
        known = [(item, scores[self.item_code[item]]) for item in unique if item in self.item_code]
        total = sum(s for _, s in known) or 1.0
        known.sort(key=lambda p: (-p[1], p[0]))
        pairs = [(item, s / total) for item, s in known]
        pairs += [(item, 0.0) for item in unique if item not in self.item_code]
        if filter is not None:
            pairs = self._filter(pairs, filter, filter_values, items, history, users, user_id, None)
        return pairs

    def users_for_items(self, item_ids: Sequence[str], num_results: int = 25) -> list[tuple[str, float]]:
        """aws-item-affinity batch segments: the users most likely to interact with these items."""
        self._segmenting("aws-item-affinity")
        targets = [self.item_code[i] for i in dict.fromkeys(item_ids) if i in self.item_code]
        if not targets:
            return []
        return self._segment(targets, num_results)

    def users_for_attributes(self, query: str, num_results: int = 25) -> list[tuple[str, float]]:
        """aws-item-attribute-affinity batch segments for one input line's `itemAttributes`, such as
        `ITEMS.genres = "Comedy" AND ITEMS.genres = "Action"` (batch-segment-job input format):
        the users most likely to interact with items having all these attributes."""
        self._segmenting("aws-item-attribute-affinity")
        assert self.items is not None
        conditions = _attribute_conditions(query)
        targets = []
        for code, item in enumerate(self.catalogue):
            if all(value in self.items.values(item, name) for name, value in conditions):
                targets.append(code)
        for name, _ in conditions:
            spec = self.items.field(name)
            if spec is None or spec.textual:
                raise ValueError(f"itemAttributes: {name} is not a non-textual field of the Items dataset")
        if not targets:
            return []
        return self._segment(targets, num_results)

    def users_for_attribute(
        self, field: str, values: Sequence[str], num_results: int = 25
    ) -> list[tuple[str, float]]:
        """Segment for items whose FIELD has any of the values (one attribute, several values)."""
        self._segmenting("aws-item-attribute-affinity")
        assert self.items is not None
        if self.items.field(field) is None:
            raise ValueError(f"the Items dataset has no field {field!r}")
        wanted = set(values)
        targets = [c for c, item in enumerate(self.catalogue) if wanted & set(self.items.values(item, field))]
        return self._segment(targets, num_results) if targets else []

    def _segmenting(self, recipe: str) -> None:
        if RecipeFamily(self.family) is not RecipeFamily.USER_SEGMENTATION:
            raise ValueError(
                f"{self.recipe} does not make user segments (batch segment jobs need a "
                "USER_SEGMENTATION recipe)"
            )
        if self.recipe != recipe:
            raise ValueError(f"a solution version of {self.recipe} cannot answer {recipe} queries")

    def _segment(self, targets: Sequence[int], num_results: int) -> list[tuple[str, float]]:
        """Users ranked by their summed scores for the target items; scores normalised over users."""
        matrix = self.__dict__.get("_user_matrix")
        if matrix is None:  # every user's scores, computed once per loaded model (not pickled)
            matrix = {user: self.scorer.user_scores(self.histories[user]) for user in sorted(self.histories)}
            self.__dict__["_user_matrix"] = matrix
        scores = {user: sum(row[t] for t in targets) for user, row in matrix.items()}
        return _top_users(scores, num_results)

    # -- helpers ------------------------------------------------------------------------------------
    def _filter(
        self,
        pairs: list[tuple[str, float]],
        compiled: CompiledFilter,
        filter_values: Mapping[str, str] | None,
        items: Items | None,
        history: Sequence[tuple[str, str | None, int]] | None,
        users: Users | None,
        user_id: str | None,
        item_id: str | None,
    ) -> list[tuple[str, float]]:
        if history is None:
            history = self.user_history(user_id) if user_id else []
        else:
            history = sorted(history, key=lambda row: row[2])
        return compiled.apply(
            pairs,
            user_history=[(row[0], row[1]) for row in history],
            items=items if items is not None else self.items,
            filter_values=filter_values,
            users=users if users is not None else self.users,
            user_id=user_id,
            current_item=item_id,
        )


def _top_users(scores: Mapping[str, float], num_results: int) -> list[tuple[str, float]]:
    total = sum(scores.values()) or 1.0
    ranked = heapq.nsmallest(num_results, ((-s, u) for u, s in scores.items() if s > 0))
    return [(user, -s / total) for s, user in ranked]


_ATTRIBUTE = re.compile(r'\s*ITEMS\.([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*', re.IGNORECASE)


def _attribute_conditions(query: str) -> list[tuple[str, str]]:
    """`ITEMS.f = "v" AND ITEMS.g = "w"` -> [(f, v), (g, w)]; ValueError naming what is wrong."""
    conditions = []
    for part in re.split(r"\s+AND\s+", query.strip(), flags=re.IGNORECASE):
        match = _ATTRIBUTE.fullmatch(part)
        if match is None:
            raise ValueError(f'itemAttributes must be like ITEMS.FIELD = "value" joined by AND, got {part!r}')
        conditions.append((match.group(1), re.sub(r"\\(.)", r"\1", match.group(2))))
    return conditions
