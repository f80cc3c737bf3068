"""What a local model reads of the data: which events train it and with what weight (the solution
config's event selection), each user's time-ordered history over the catalogue, and the tokens of
item metadata (categorical values, textual words, numeric bins) that content similarity and
Item-Attribute-Affinity use."""

from __future__ import annotations

import math
import re
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from local.emulator.personalize.data import Interactions, Items

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
class History:
    """One user's interactions, oldest first (all events; weight 0 for those not trained on)."""

    items: array = field(default_factory=lambda: array("i"))
    times: array = field(default_factory=lambda: array("q"))
    events: array = field(default_factory=lambda: array("i"))
    weights: array = field(default_factory=lambda: array("f"))

    def __len__(self) -> int:
        return len(self.items)

    def slice(self, stop: int) -> History:
        return History(self.items[:stop], self.times[:stop], self.events[:stop], self.weights[:stop])

    def tail(self, start: int) -> History:
        return History(self.items[start:], self.times[start:], self.events[start:], self.weights[start:])


def user_histories(
    interactions: Interactions,
    selection: EventSelection,
    item_code: Mapping[str, int],
    event_names: list[str],
) -> dict[str, History]:
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
    result: dict[str, History] = {}
    current = -1
    history = History()
    for row in order:
        user = interactions.user_codes[row]
        if user != current:
            current = user
            history = result[users[user]] = History()
        et = interactions.event_type_codes[row]
        name = None if et < 0 else events[et]
        value = interactions.event_values[row]
        history.items.append(remap[interactions.item_codes[row]])
        history.times.append(interactions.timestamps[row])
        history.events.append(-1 if name is None else event_code[name])
        history.weights.append(selection.weight(name, None if math.isnan(value) else value))
    return result


# --------------------------------------------------------------------------------------------------
# Item metadata as tokens
# --------------------------------------------------------------------------------------------------
def _tokens(text: Any) -> list[str]:
    return [t for t in _TOKEN.findall(str(text).lower()) if t not in _STOP and len(t) > 1]


def metadata_documents(
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


def attribute_tokens(items: Items, catalogue: Sequence[str]) -> list[list[int]]:
    """Token codes per catalogue item: `FIELD=value` for categorical fields, price-like bins for numbers."""
    vocabulary: dict[str, int] = {}
    documents = metadata_documents(items, catalogue, textual=False, categorical=True)
    return [
        [vocabulary.setdefault(token, len(vocabulary)) for token in dict.fromkeys(doc)] for doc in documents
    ]
