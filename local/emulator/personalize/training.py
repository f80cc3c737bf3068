"""Training and inference of the local Personalize: small, fast, deterministic models per recipe.

Every recipe family really learns from the imported interactions (see docs/local-training.md for
what each recipe does here and in the service):

- POPULAR_ITEMS: aws-popularity-count counts events; aws-trending-now ranks the growth of the
  most recent window over the one before.
- RELATED_ITEMS: aws-sims scores item pairs by co-occurrence in user histories (cosine, damped
  for popular targets); aws-similar-items blends that with item-metadata similarity; aws-semantic-
  similarity ranks by TF-IDF cosine of the textual item fields.
- USER_PERSONALIZATION and PERSONALIZED_RANKING: item-based collaborative filtering on the user's
  recency-weighted history, mixed with the user's own recent items at the repeat rate measured in
  the data, and popularity for users without history (cold start).
- USER_SEGMENTATION: the same item similarities read the other way (users for items), or the
  users' share of interactions with items having an attribute.

Scores returned are a distribution over the candidate catalogue (each in (0, 1], summing to at most
1 before filtering), like the service's User-Personalization scores. Metrics (GetSolutionMetrics)
come from the service's holdout: 10% of users are held out, the model trains on the others, then
gets each held-out user's oldest 90% of interactions and is scored on their newest 10%
(`working-with-training-metrics`).

Determinism: no iteration over string-keyed sets, ties broken by item id, the holdout drawn with
`random.Random(seed)`; the same inputs and seed give the same model, metrics and recommendations.
"""

from __future__ import annotations

import heapq
import math
import random
import re
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from local.emulator.personalize.data import Interactions, Items, Users
from local.emulator.personalize.filters import CompiledFilter
from pipeline.recipes import RECIPES, RETIRED, RecipeFamily

#: Neighbours kept per item (bounds model size and inference cost).
NEIGHBOURS = 100
#: Most recent interactions of a user that inference reads.
HISTORY_WINDOW = 200
#: Weight of popularity mixed into personalised and related-item scores (keeps every score > 0).
POPULARITY_MIX = 0.05
#: Recency: the k-th most recent distinct item of a history weighs decay ** k; training picks the
#: decay among these by validation on the training users (data with drifting tastes wants a short
#: memory, data with stable tastes a long one).
RECENCY_DECAYS = (0.8, 0.9, 0.97, 1.0)
#: Shrinks the similarity of pairs seen together only a few times: c / (c + SHRINK).
SHRINK = 2.0
#: Exponent on the target item's popularity in aws-sims' similarity (0.5 = cosine).
SIMS_DAMPING = 0.6
#: Holdout (service: 10% of users, their newest 10% of interactions).
HOLDOUT_USERS = 0.10
HOLDOUT_TAIL = 0.10
METRIC_KS = (5, 10, 25)
_TOKEN = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "has",
        "in",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "this",
        "to",
        "was",
        "were",
        "will",
        "with",
    }
)


def family_of(recipe: str) -> RecipeFamily:
    """The recipe's family; ValueError for retired or unknown recipes (the service's InvalidInput)."""
    name = recipe.rsplit("/", 1)[-1]
    if name in RETIRED:
        raise ValueError(
            f"The recipe {name} is no longer supported for new solutions; use {RETIRED[name]} "
            "(the User-Personalization recipe) instead"
        )
    found = RECIPES.get(name)
    if found is None:
        raise ValueError(f"Unknown recipe {name}; expected one of {sorted(RECIPES)}")
    if found.family is RecipeFamily.PERSONALIZED_ACTIONS:
        raise ValueError(f"{name} needs an Actions dataset, which the local Personalize does not support")
    return found.family


# --------------------------------------------------------------------------------------------------
# Event selection (solution config)
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EventSelection:
    """Which events train the model and their weights, from the solution's configuration.

    `eventType` (CreateSolution) keeps one event type; `eventValueThreshold` keeps events whose
    value is at least the threshold; `eventsConfig.eventParametersList` (v2 recipes) keeps the
    listed event types, each with its own threshold and weight.
    """

    event_type: str | None = None
    threshold: float | None = None
    per_type: tuple[tuple[str, float | None, float], ...] = ()

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> EventSelection:
        def number(value: Any, what: str) -> float | None:
            if value is None or value == "":
                return None
            try:
                return float(value)
            except (TypeError, ValueError):
                raise ValueError(f"solution config {what} must be a number, got {value!r}") from None

        event_type = config.get("eventType") or None
        threshold = number(config.get("eventValueThreshold"), "eventValueThreshold")
        per_type: list[tuple[str, float | None, float]] = []
        events_config = config.get("eventsConfig") or {}
        for entry in events_config.get("eventParametersList", []) or []:
            if not isinstance(entry, Mapping) or not entry.get("eventType"):
                raise ValueError(f"eventsConfig.eventParametersList entries need an eventType, got {entry!r}")
            weight = number(entry.get("weight", 1.0), "eventParametersList.weight")
            per_type.append(
                (
                    str(entry["eventType"]).lower(),
                    number(entry.get("eventValueThreshold"), "eventParametersList.eventValueThreshold"),
                    1.0 if weight is None else weight,
                )
            )
        return cls(None if event_type is None else str(event_type).lower(), threshold, tuple(per_type))

    def weight(self, event_type: str | None, value: float | None) -> float:
        """0 when the event does not train the model, else its weight."""
        kind = (event_type or "").lower()
        if self.event_type is not None and kind != self.event_type:
            return 0.0
        if self.threshold is not None and (value is None or value < self.threshold):
            return 0.0
        if self.per_type:
            for name, threshold, weight in self.per_type:
                if name == kind:
                    if threshold is not None and (value is None or value < threshold):
                        return 0.0
                    return weight
            return 0.0
        return 1.0


# --------------------------------------------------------------------------------------------------
# Training corpus
# --------------------------------------------------------------------------------------------------
@dataclass
class _History:
    """One user's interactions, oldest first (all events; weight 0 for those not trained on)."""

    items: array = field(default_factory=lambda: array("i"))
    times: array = field(default_factory=lambda: array("q"))
    events: array = field(default_factory=lambda: array("i"))
    weights: array = field(default_factory=lambda: array("f"))

    def __len__(self) -> int:
        return len(self.items)

    def slice(self, stop: int) -> _History:
        return _History(self.items[:stop], self.times[:stop], self.events[:stop], self.weights[:stop])

    def tail(self, start: int) -> _History:
        return _History(self.items[start:], self.times[start:], self.events[start:], self.weights[start:])


def _histories(
    interactions: Interactions,
    selection: EventSelection,
    item_code: Mapping[str, int],
    event_names: list[str],
) -> dict[str, _History]:
    """user id -> time-ordered history over catalogue codes (rows in file order break time ties)."""
    users = interactions.users.values
    items = interactions.items.values
    events = interactions.event_type_vocab.values
    event_code = {name: i for i, name in enumerate(event_names)}
    # Precompute the weight of each (event type, value) row cheaply.
    remap = [item_code[i] for i in items]
    order = sorted(
        range(len(interactions)), key=lambda r: (interactions.user_codes[r], interactions.timestamps[r], r)
    )
    result: dict[str, _History] = {}
    current = -1
    history = _History()
    for row in order:
        user = interactions.user_codes[row]
        if user != current:
            current = user
            history = result[users[user]] = _History()
        et = interactions.event_type_codes[row]
        name = None if et < 0 else events[et]
        value = interactions.event_values[row]
        history.items.append(remap[interactions.item_codes[row]])
        history.times.append(interactions.timestamps[row])
        history.events.append(-1 if name is None else event_code[name])
        history.weights.append(selection.weight(name, None if math.isnan(value) else value))
    return result


def _sorted_top(
    scores: Mapping[int, float] | Sequence[float], k: int, ids: Sequence[str], exclude: Iterable[int] = ()
) -> list[tuple[int, float]]:
    """Top k (code, score) by score descending, then item id ascending; zero scores dropped.

    The k-th largest value (found in C by heapq) bounds the candidates first, so only about k
    (score, id) keys are built and sorted.
    """
    skip = set(exclude)
    values = list(scores.values()) if isinstance(scores, Mapping) else scores
    pairs = scores.items() if isinstance(scores, Mapping) else enumerate(scores)
    threshold = 0.0
    if len(values) > k + len(skip):
        threshold = heapq.nlargest(k + len(skip), values)[-1]
    chosen = [(c, s) for c, s in pairs if s > 0 and s >= threshold and c not in skip]
    chosen.sort(key=lambda pair: (-pair[1], ids[pair[0]]))
    return chosen[:k]


# --------------------------------------------------------------------------------------------------
# Similarities
# --------------------------------------------------------------------------------------------------
def _cooccurrence_neighbours(
    baskets: Sequence[Sequence[int]],
    n_items: int,
    ids: Sequence[str],
    damping: float,
    method: str | None = None,
) -> tuple[list[list[tuple[int, float]]], list[int]]:
    """For each item, its NEIGHBOURS most similar items by co-occurrence in the same baskets.

    sim(i -> j) = c_ij / (n_i^(1-damping) * n_j^damping) * c_ij / (c_ij + SHRINK). Counts come from
    per-item bitsets of baskets when the catalogue is small (cost ~ items^2), else from pairs
    within baskets (cost ~ sum of basket sizes^2), whichever is cheaper: both give the same counts.
    """
    counts = [0] * n_items
    for basket in baskets:
        for i in basket:
            counts[i] += 1
    active = [i for i in range(n_items) if counts[i]]
    words = len(baskets) // 64 + 1
    bitset_cost = len(active) * len(active) // 2 * (1 + words / 8)
    pair_cost = sum(len(b) * len(b) for b in baskets)
    pair_counts: list[dict[int, int]] = [{} for _ in range(n_items)]
    if method == "bitset" or (method is None and bitset_cost <= pair_cost):
        masks = [0] * n_items
        for position, basket in enumerate(baskets):
            bit = 1 << position
            for i in basket:
                masks[i] |= bit
        for x, i in enumerate(active):
            mi = masks[i]
            row = pair_counts[i]
            for j in active[x + 1 :]:
                c = (mi & masks[j]).bit_count()
                if c:
                    row[j] = c
                    pair_counts[j][i] = c
    else:
        for basket in baskets:
            for i in basket:
                row = pair_counts[i]
                for j in basket:
                    if j != i:
                        row[j] = row.get(j, 0) + 1
    neighbours: list[list[tuple[int, float]]] = [[] for _ in range(n_items)]
    for i in active:
        base = counts[i] ** (1.0 - damping)
        sims = {
            j: (c / (base * counts[j] ** damping)) * (c / (c + SHRINK)) for j, c in pair_counts[i].items()
        }
        neighbours[i] = _sorted_top(sims, NEIGHBOURS, ids)
    return neighbours, counts


def _tokens(text: Any) -> list[str]:
    return [t for t in _TOKEN.findall(str(text).lower()) if t not in _STOP and len(t) > 1]


def _content_neighbours(
    documents: Sequence[Sequence[str]], ids: Sequence[str]
) -> list[list[tuple[int, float]]]:
    """TF-IDF cosine neighbours of documents (token lists), via an inverted index."""
    n = len(documents)
    df: dict[str, int] = {}
    for doc in documents:
        for token in dict.fromkeys(doc):
            df[token] = df.get(token, 0) + 1
    vectors: list[dict[str, float]] = []
    for doc in documents:
        tf: dict[str, int] = {}
        for token in doc:
            tf[token] = tf.get(token, 0) + 1
        vector = {
            t: (1.0 + math.log(c)) * math.log((1 + n) / (1 + df[t])) for t, c in tf.items() if df[t] < n
        }  # a token on every document says nothing
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        vectors.append({t: v / norm for t, v in vector.items() if v > 0})
    postings: dict[str, list[tuple[int, float]]] = {}
    for code, vector in enumerate(vectors):
        for token, weight in vector.items():
            postings.setdefault(token, []).append((code, weight))
    neighbours: list[list[tuple[int, float]]] = []
    for code, vector in enumerate(vectors):
        dots: dict[int, float] = {}
        for token in sorted(vector):
            weight = vector[token]
            for other, w in postings[token]:
                if other != code:
                    dots[other] = dots.get(other, 0.0) + weight * w
        neighbours.append(_sorted_top(dots, NEIGHBOURS, ids))
    return neighbours


def _metadata_documents(
    items: Items, catalogue: Sequence[str], textual: bool, categorical: bool
) -> list[list[str]]:
    """Token lists per catalogue item: categorical values as `FIELD=value`, textual words, numeric bins."""
    cat_fields = items.categorical_fields() if categorical else []
    text_fields = items.textual_fields() if textual else []
    num_fields = [f for f in items.numeric_fields() if f != "CREATION_TIMESTAMP"] if categorical else []
    bins: dict[str, list[float]] = {}
    for name in num_fields:  # quintile edges, so "similar price" is a shared token
        values = sorted(v for v in (items.value(i, name) for i in items.ids) if isinstance(v, int | float))
        if values:
            bins[name] = [values[len(values) * q // 5] for q in range(1, 5)]
    documents: list[list[str]] = []
    for item_id in catalogue:
        doc: list[str] = []
        if item_id in items:
            for name in cat_fields:
                doc.extend(f"{name}={v.lower()}" for v in items.values(item_id, name))
            for name in text_fields:
                value = items.value(item_id, name)
                if value:
                    doc.extend(_tokens(value))
            for name, edges in bins.items():
                value = items.value(item_id, name)
                if isinstance(value, int | float):
                    doc.append(f"{name}#{sum(value >= e for e in edges)}")
        documents.append(doc)
    return documents


# --------------------------------------------------------------------------------------------------
# Scorers: the learned part, fitted on a set of histories (the holdout fit, then the full fit)
# --------------------------------------------------------------------------------------------------
class _Scorer:
    """Scores over the catalogue codes; `popularity` is a smoothed distribution over them."""

    def __init__(self, n_items: int, histories: Mapping[str, _History]) -> None:
        counts = [0.0] * n_items
        for history in histories.values():
            for code, weight in zip(history.items, history.weights, strict=True):
                if weight > 0:
                    counts[code] += weight
        total = sum(counts) + n_items
        self.counts = counts
        self.popularity = [(c + 1.0) / total for c in counts]

    def user_scores(self, history: _History | None) -> list[float]:
        return list(self.popularity)

    def item_scores(self, code: int | None) -> list[float]:
        return list(self.popularity)


class _PopularityScorer(_Scorer):
    """Event counts; items without a counted event are not recommended."""

    def user_scores(self, history: _History | None) -> list[float]:
        total = sum(self.counts) or 1.0
        return [c / total for c in self.counts]

    def item_scores(self, code: int | None) -> list[float]:
        return self.user_scores(None)


class _TrendingScorer(_Scorer):
    """Growth of each item's events in the latest window over the window before it."""

    def __init__(self, n_items: int, histories: Mapping[str, _History], window: int | None) -> None:
        super().__init__(n_items, histories)
        end = max((h.times[-1] for h in histories.values() if len(h)), default=0)
        start = min((h.times[0] for h in histories.values() if len(h)), default=0)
        span = max(end - start, 1)
        self.window = window if window else max(86400, span // 10)
        recent = [0.0] * n_items
        before = [0.0] * n_items
        for history in histories.values():
            for code, when, weight in zip(history.items, history.times, history.weights, strict=True):
                if weight <= 0:
                    continue
                if when > end - self.window:
                    recent[code] += weight
                elif when > end - 2 * self.window:
                    before[code] += weight
        # growth, plus a small share of the recent volume so that ties and non-growers still rank
        trend = [
            max(r - b, 0.0) / math.sqrt(b + 1.0) + 0.01 * r + 1e-3 * c
            for r, b, c in zip(recent, before, self.counts, strict=True)
        ]
        total = sum(trend) or 1.0
        self.trend = [t / total for t in trend]

    def user_scores(self, history: _History | None) -> list[float]:
        return list(self.trend)

    def item_scores(self, code: int | None) -> list[float]:
        return list(self.trend)


class _RelatedScorer(_Scorer):
    """Item -> item neighbours (co-occurrence, metadata or text), popularity for unknown items."""

    def __init__(
        self, n_items: int, histories: Mapping[str, _History], neighbours: list[list[tuple[int, float]]]
    ):
        super().__init__(n_items, histories)
        self.neighbours = neighbours

    def item_scores(self, code: int | None) -> list[float]:
        pop = self.popularity
        if code is None or code >= len(self.neighbours) or not self.neighbours[code]:
            return list(pop)
        row = self.neighbours[code]
        total = sum(s for _, s in row)
        scores = [POPULARITY_MIX * p for p in pop]
        for j, s in row:
            scores[j] += (1.0 - POPULARITY_MIX) * s / total
        scores[code] = 0.0
        return scores

    def user_scores(self, history: _History | None) -> list[float]:
        return list(self.popularity)


class _PersonalScorer(_Scorer):
    """Item-based CF on a recency-weighted history, mixed with repeats at the measured repeat rate."""

    def __init__(self, n_items: int, histories: Mapping[str, _History], ids: Sequence[str]) -> None:
        super().__init__(n_items, histories)
        baskets = []
        repeats = steps = 0
        for user in sorted(histories):
            history = histories[user]
            seen: set[int] = set()
            for code, weight in zip(history.items, history.weights, strict=True):
                if weight <= 0:
                    continue
                if seen:
                    steps += 1
                    repeats += code in seen
                seen.add(code)
            if seen:
                baskets.append(sorted(seen))
        self.neighbours, _ = _cooccurrence_neighbours(baskets, n_items, ids, damping=0.5)
        self.repeat_rate = min(max(repeats / steps if steps else 0.0, 0.01), 0.95)
        self.decay = RECENCY_DECAYS[1]

    def user_scores(self, history: _History | None) -> list[float]:
        pop = self.popularity
        if history is None or not len(history):
            return list(pop)
        recent: dict[int, float] = {}  # distinct items, most recent first, with recency x event weight
        start = max(0, len(history) - HISTORY_WINDOW)
        rank = 0
        for position in range(len(history) - 1, start - 1, -1):
            weight = history.weights[position]
            if weight <= 0:
                continue
            code = history.items[position]
            if code < 0:
                continue
            if code not in recent:
                recent[code] = weight * self.decay**rank
                rank += 1
            else:
                recent[code] += 0.5 * weight * self.decay**rank
        if not recent:
            return list(pop)
        cf = [0.0] * len(pop)  # dense: faster than a dict for catalogues of this size
        for code, weight in recent.items():
            for j, s in self.neighbours[code]:
                cf[j] += weight * s
        for code in recent:
            cf[code] = 0.0
        pop_rest = sum(pop) - sum(pop[c] for c in recent) or 1.0
        cf_total = sum(cf)
        novel_share = 1.0 - self.repeat_rate
        if cf_total > 0:
            a = novel_share * (1.0 - POPULARITY_MIX) / cf_total
            b = novel_share * POPULARITY_MIX / pop_rest
            scores = [a * x + b * p for x, p in zip(cf, pop, strict=True)]
        else:
            b = novel_share / pop_rest
            scores = [b * p for p in pop]
        repeat_total = sum(recent.values())
        for code, weight in recent.items():
            scores[code] = self.repeat_rate * weight / repeat_total
        return scores

    def item_scores(self, code: int | None) -> list[float]:
        if code is None or not self.neighbours[code]:
            return list(self.popularity)
        history = _History(array("i", [code]), array("q", [0]), array("i", [-1]), array("f", [1.0]))
        return self.user_scores(history)


class _AttributeScorer(_Scorer):
    """Item-Attribute-Affinity: a user's lift for each attribute value (`FIELD=value` of the non-
    textual Items fields) in their history, smoothed towards the catalogue, averaged per item."""

    def __init__(self, n_items: int, histories: Mapping[str, _History], tokens: list[list[int]]) -> None:
        super().__init__(n_items, histories)
        self.tokens = tokens
        n_tokens = 1 + max((t for row in tokens for t in row), default=-1)
        prior = [0.0] * n_tokens
        for code, count in enumerate(self.counts):
            for token in tokens[code]:
                prior[token] += count + 1.0
        total = sum(prior) or 1.0
        self.prior = [p / total for p in prior]

    def user_scores(self, history: _History | None) -> list[float]:
        pop = self.popularity
        if history is None or not len(history):
            return list(pop)
        seen = [0.0] * len(self.prior)
        mass = 0.0
        for code, weight in zip(history.items, history.weights, strict=True):
            if weight > 0 and code >= 0:
                for token in self.tokens[code]:
                    seen[token] += weight
                    mass += weight
        if mass == 0:
            return list(pop)
        smoothing = 10.0
        lift = [
            ((s + smoothing * p) / (mass + smoothing)) / p if p else 1.0
            for s, p in zip(seen, self.prior, strict=True)
        ]
        scores = []
        for code, p in enumerate(pop):
            row = self.tokens[code]
            scores.append(p * (sum(lift[t] for t in row) / len(row) if row else 1.0))
        total = sum(scores)
        return [x / total for x in scores]


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


def _attribute_tokens(items: Items, catalogue: Sequence[str]) -> list[list[int]]:
    """Token codes per catalogue item: `FIELD=value` for categorical fields, price-like bins for numbers."""
    vocabulary: dict[str, int] = {}
    documents = _metadata_documents(items, catalogue, textual=False, categorical=True)
    return [
        [vocabulary.setdefault(token, len(vocabulary)) for token in dict.fromkeys(doc)] for doc in documents
    ]


# --------------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------------
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
# The trained model
# --------------------------------------------------------------------------------------------------
class TrainedModel:
    """A trained solution version: recommendations, ranking, real-time events, metrics."""

    def __init__(
        self,
        recipe: str,
        family: RecipeFamily,
        catalogue: list[str],
        event_names: list[str],
        histories: dict[str, _History],
        scorer: _Scorer,
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
        history = self.histories.setdefault(user_id, _History())
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
        ranked = _sorted_top(scores, len(scores), self.catalogue)
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


# --------------------------------------------------------------------------------------------------
# Training
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
    histories: Mapping[str, _History],
    items: Items | None,
    config: Mapping[str, Any],
    content: list[list[tuple[int, float]]] | None,
    *,
    seed: int = 0,
    decay: float | None = None,
) -> _Scorer:
    """Fit the recipe's scorer on these histories (called for the validation, holdout and full fits,
    so that metrics never see the held-out users); `decay` reuses an already chosen recency decay."""
    if family is RecipeFamily.POPULAR_ITEMS:
        if recipe == "aws-trending-now":
            return _TrendingScorer(n_items, histories, _trend_window(config))
        return _PopularityScorer(n_items, histories)
    if family is RecipeFamily.RELATED_ITEMS:
        if recipe == "aws-semantic-similarity":
            assert content is not None
            return _RelatedScorer(n_items, histories, content)
        baskets = []
        for user in sorted(histories):
            history = histories[user]
            basket = sorted({c for c, w in zip(history.items, history.weights, strict=True) if w > 0})
            if basket:
                baskets.append(basket)
        co, counts = _cooccurrence_neighbours(baskets, n_items, catalogue, damping=SIMS_DAMPING)
        if recipe == "aws-similar-items" and content is not None:
            co = _blend(co, content, counts, catalogue)
        return _RelatedScorer(n_items, histories, co)
    if family is RecipeFamily.USER_SEGMENTATION and recipe == "aws-item-attribute-affinity":
        assert items is not None
        return _AttributeScorer(n_items, histories, _attribute_tokens(items, catalogue))
    scorer = _PersonalScorer(n_items, histories, catalogue)
    scorer.decay = decay if decay is not None else _choose_decay(n_items, catalogue, histories, seed)
    return scorer


def _choose_decay(
    n_items: int, catalogue: Sequence[str], histories: Mapping[str, _History], seed: int
) -> float:
    """The recency decay with the best NDCG@10 on a validation split of these (training) users."""
    train_part, validation = _holdout(histories, seed + 1)
    if not validation:
        return RECENCY_DECAYS[1]
    scorer = _PersonalScorer(n_items, train_part, catalogue)
    best, best_score = RECENCY_DECAYS[1], -1.0
    for decay in RECENCY_DECAYS:
        scorer.decay = decay
        score = _evaluate("", RecipeFamily.USER_PERSONALIZATION, scorer, validation, catalogue, n_items)[
            "normalized_discounted_cumulative_gain_at_10"
        ]
        if score > best_score:
            best, best_score = decay, score
    return best


def _blend(
    co: list[list[tuple[int, float]]],
    meta: list[list[tuple[int, float]]],
    counts: Sequence[int],
    ids: Sequence[str],
) -> list[list[tuple[int, float]]]:
    """Similar-Items: co-occurrence for items with many interactions, metadata for the cold ones."""
    blended = []
    for i in range(len(co)):
        trust = counts[i] / (counts[i] + 20.0)
        mixed: dict[int, float] = {}
        top_co = co[i][0][1] if co[i] else 1.0
        for j, s in co[i]:
            mixed[j] = trust * s / top_co
        for j, s in meta[i]:
            mixed[j] = mixed.get(j, 0.0) + (1.0 - trust) * s
        blended.append(_sorted_top(mixed, NEIGHBOURS, ids))
    return blended


def _holdout(
    histories: Mapping[str, _History], seed: int
) -> tuple[dict[str, _History], dict[str, tuple[_History, _History]]]:
    """The service's split: 10% of users out; for them, oldest 90% as input, newest 10% as truth."""
    eligible = sorted(u for u, h in histories.items() if sum(1 for w in h.weights if w > 0) >= 2)
    rng = random.Random(seed)
    rng.shuffle(eligible)
    count = max(1, round(len(eligible) * HOLDOUT_USERS)) if len(eligible) >= 2 else 0
    held = set(eligible[:count])
    train = {u: h for u, h in histories.items() if u not in held}
    test: dict[str, tuple[_History, _History]] = {}
    for user in sorted(held):
        history = histories[user]
        cut = min(len(history) - 1, max(1, math.floor(len(history) * (1.0 - HOLDOUT_TAIL))))
        test[user] = (history.slice(cut), history.tail(cut))
    return train, test


def _segment_split(
    histories: Mapping[str, _History],
) -> tuple[dict[str, _History], dict[str, tuple[_History, _History]]]:
    """USER_SEGMENTATION's split: 80% of each user's interactions train, the newest 20% test."""
    train: dict[str, _History] = {}
    test: dict[str, tuple[_History, _History]] = {}
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
    scorer: _Scorer,
    test: Mapping[str, tuple[_History, _History]],
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
        ranked.append([c for c, _ in _sorted_top(scores, 25, catalogue)])
        relevant.append(wanted)
    return _ranking_metrics(ranked, relevant, catalogue_size)


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
    histories = _histories(interactions, selection, item_code, event_names)
    if not any(w > 0 for h in histories.values() for w in h.weights):
        raise ValueError(f"No interactions match the solution's event selection {config!r}")
    content: list[list[tuple[int, float]]] | None = None
    if name == "aws-semantic-similarity":
        if items is None or not items.textual_fields():
            raise ValueError("aws-semantic-similarity needs an Items dataset with a textual field")
        docs = _metadata_documents(items, catalogue, textual=True, categorical=False)
        if not any(docs):
            raise ValueError("aws-semantic-similarity found no text in the Items dataset's textual fields")
        content = _content_neighbours(docs, catalogue)
    elif name == "aws-similar-items" and items is not None:
        content = _content_neighbours(
            _metadata_documents(items, catalogue, textual=True, categorical=True), catalogue
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


def _main(argv: Sequence[str]) -> int:
    """`python -m local.emulator.personalize.training [DATA_DIR] [RECIPE ...]`: train each recipe on the CSVs
    and schemas in DATA_DIR (default data/), print the wall time and the holdout metrics."""
    import json
    import time
    from pathlib import Path

    from local.emulator.personalize.data import Items as ItemsTable
    from local.emulator.personalize.data import Users as UsersTable

    args = list(argv)
    folder = Path(args.pop(0)) if args and not args[0].startswith("aws-") else Path("data")
    recipes = args or [
        name for name, r in RECIPES.items() if r.family is not RecipeFamily.PERSONALIZED_ACTIONS
    ]

    def load(kind: str, cls: Any) -> Any:
        csv_path, schema_path = folder / f"{kind}.csv", folder / "schemas" / f"{kind}.json"
        if not csv_path.exists():
            return None
        return cls.from_csv(str(csv_path), json.loads(schema_path.read_text()))

    started = time.perf_counter()
    interactions = load("interactions", Interactions)
    items, users = load("items", ItemsTable), load("users", UsersTable)
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
    import sys

    raise SystemExit(_main(sys.argv[1:]))
