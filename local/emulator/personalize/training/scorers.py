"""The learned part of the local models: item similarities (co-occurrence in user histories, TF-IDF
cosine of item metadata, their blend) and the scorers per recipe family built on them. A scorer is
fitted on a set of histories (the holdout fit, then the full fit, see fit.py) and scores every
catalogue item for a user's history or for an item; this is where to change how a recipe ranks."""

from __future__ import annotations

import heapq
import math
from array import array
from collections.abc import Iterable, Mapping, Sequence

from local.emulator.personalize.training.features import History

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


def sorted_top(
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
def cooccurrence_neighbours(
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
        neighbours[i] = sorted_top(sims, NEIGHBOURS, ids)
    return neighbours, counts


def content_neighbours(
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
        neighbours.append(sorted_top(dots, NEIGHBOURS, ids))
    return neighbours


def blend(
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
        blended.append(sorted_top(mixed, NEIGHBOURS, ids))
    return blended


# --------------------------------------------------------------------------------------------------
# Scorers: the learned part, fitted on a set of histories (the holdout fit, then the full fit)
# --------------------------------------------------------------------------------------------------
class Scorer:
    """Scores over the catalogue codes; `popularity` is a smoothed distribution over them."""

    def __init__(self, n_items: int, histories: Mapping[str, History]) -> None:
        counts = [0.0] * n_items
        for history in histories.values():
            for code, weight in zip(history.items, history.weights, strict=True):
                if weight > 0:
                    counts[code] += weight
        total = sum(counts) + n_items
        self.counts = counts
        self.popularity = [(c + 1.0) / total for c in counts]

    def user_scores(self, history: History | None) -> list[float]:
        return list(self.popularity)

    def item_scores(self, code: int | None) -> list[float]:
        return list(self.popularity)


class PopularityScorer(Scorer):
    """Event counts; items without a counted event are not recommended."""

    def user_scores(self, history: History | None) -> list[float]:
        total = sum(self.counts) or 1.0
        return [c / total for c in self.counts]

    def item_scores(self, code: int | None) -> list[float]:
        return self.user_scores(None)


class TrendingScorer(Scorer):
    """Growth of each item's events in the latest window over the window before it."""

    def __init__(self, n_items: int, histories: Mapping[str, History], window: int | None) -> None:
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

    def user_scores(self, history: History | None) -> list[float]:
        return list(self.trend)

    def item_scores(self, code: int | None) -> list[float]:
        return list(self.trend)


class RelatedScorer(Scorer):
    """Item -> item neighbours (co-occurrence, metadata or text), popularity for unknown items."""

    def __init__(
        self, n_items: int, histories: Mapping[str, History], neighbours: list[list[tuple[int, float]]]
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

    def user_scores(self, history: History | None) -> list[float]:
        return list(self.popularity)


class PersonalScorer(Scorer):
    """Item-based CF on a recency-weighted history, mixed with repeats at the measured repeat rate."""

    def __init__(self, n_items: int, histories: Mapping[str, History], ids: Sequence[str]) -> None:
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
        self.neighbours, _ = cooccurrence_neighbours(baskets, n_items, ids, damping=0.5)
        self.repeat_rate = min(max(repeats / steps if steps else 0.0, 0.01), 0.95)
        self.decay = RECENCY_DECAYS[1]

    def user_scores(self, history: History | None) -> list[float]:
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
        history = History(array("i", [code]), array("q", [0]), array("i", [-1]), array("f", [1.0]))
        return self.user_scores(history)


class AttributeScorer(Scorer):
    """Item-Attribute-Affinity: a user's lift for each attribute value (`FIELD=value` of the non-
    textual Items fields) in their history, smoothed towards the catalogue, averaged per item."""

    def __init__(self, n_items: int, histories: Mapping[str, History], tokens: list[list[int]]) -> None:
        super().__init__(n_items, histories)
        self.tokens = tokens
        n_tokens = 1 + max((t for row in tokens for t in row), default=-1)
        prior = [0.0] * n_tokens
        for code, count in enumerate(self.counts):
            for token in tokens[code]:
                prior[token] += count + 1.0
        total = sum(prior) or 1.0
        self.prior = [p / total for p in prior]

    def user_scores(self, history: History | None) -> list[float]:
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
