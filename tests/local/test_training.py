"""Training and inference of the local Personalize, per recipe family, on planted-structure data."""

from __future__ import annotations

import io
import json
import os
import pickle
import random
import subprocess
import sys
from pathlib import Path

import pytest

from local.emulator.personalize.data import DataError, Interactions, Items, Users
from local.emulator.personalize.filters import compile_filter
from local.emulator.personalize.training import TrainedModel, family_of, train

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "data"

INTERACTIONS_SCHEMA = {
    "type": "record",
    "name": "Interactions",
    "namespace": "com.amazonaws.personalize.schema",
    "fields": [
        {"name": "USER_ID", "type": "string"},
        {"name": "ITEM_ID", "type": "string"},
        {"name": "TIMESTAMP", "type": "long"},
        {"name": "EVENT_TYPE", "type": "string"},
        {"name": "EVENT_VALUE", "type": ["null", "float"]},
    ],
    "version": "1.0",
}
ITEMS_SCHEMA = {
    "type": "record",
    "name": "Items",
    "fields": [
        {"name": "ITEM_ID", "type": "string"},
        {"name": "CATEGORY", "type": "string", "categorical": True},
        {"name": "PRICE", "type": "float"},
        {"name": "DESCRIPTION", "type": ["null", "string"], "textual": True},
    ],
    "version": "1.0",
}
USERS_SCHEMA = {
    "type": "record",
    "name": "Users",
    "fields": [
        {"name": "USER_ID", "type": "string"},
        {"name": "MEMBERSHIP", "type": "string", "categorical": True},
    ],
    "version": "1.0",
}
METRIC_KEYS = {
    "coverage",
    "mean_reciprocal_rank_at_25",
    "normalized_discounted_cumulative_gain_at_5",
    "normalized_discounted_cumulative_gain_at_10",
    "normalized_discounted_cumulative_gain_at_25",
    "precision_at_5",
    "precision_at_10",
    "precision_at_25",
}
CATEGORIES = ["shoes", "books", "garden", "toys"]
WORDS = {
    "shoes": "running trainer sole lace sneaker",
    "books": "novel paperback chapter author story",
    "garden": "rake soil seed shovel hose",
    "toys": "puzzle plush blocks doll kite",
}


def _planted(seed: int = 7) -> tuple[str, str, str]:
    """Users each like one category and take its items; 'A' is always followed by 'B' (planted pair).

    Items c-0..c-9 per category, popularity falling with the index. Users u0..u79. Every user
    interacts with A then B once; and a popular decoy item P that everyone views (so popularity ranks P
    first but it is no help to predict a user's category).
    """
    rng = random.Random(seed)
    rows = ["USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE"]
    when = 1_700_000_000
    for u in range(80):
        user = f"u{u}"
        liked = CATEGORIES[u % 4]
        for _ in range(3):
            rows.append(f"{user},P,{when},view,")
            when += 60
        if u % 2 == 0:
            rows.append(f"{user},A,{when},view,")
            rows.append(f"{user},B,{when + 30},purchase,5")
            when += 60
        for _ in range(14):
            index = min(int(rng.expovariate(0.35)), 9)
            kind = "purchase" if rng.random() < 0.2 else "view"
            value = "4" if kind == "purchase" else ""
            rows.append(f"{user},{liked}-{index},{when},{kind},{value}")
            when += 60
    items = ["ITEM_ID,CATEGORY,PRICE,DESCRIPTION"]
    for category in CATEGORIES:
        for index in range(10):
            items.append(f'{category}-{index},{category},{10 + index},"{category} {WORDS[category]} {index}"')
    items.append('A,gadgets|toys,99,"widget gizmo"')
    items.append('B,gadgets,5,"widget gizmo refill"')
    items.append('P,gadgets,1,"free sample"')
    items.append('NEW,shoes,50,"running trainer sole lace sneaker brand new"')  # no interactions
    users = ["USER_ID,MEMBERSHIP"] + [f"u{u},{'gold' if u % 3 == 0 else 'basic'}" for u in range(80)]
    return "\n".join(rows) + "\n", "\n".join(items) + "\n", "\n".join(users) + "\n"


@pytest.fixture(scope="module")
def datasets() -> tuple[Interactions, Items, Users]:
    interactions, items, users = _planted()
    return (
        Interactions.from_csv(interactions, INTERACTIONS_SCHEMA),
        Items.from_csv(items.encode(), ITEMS_SCHEMA),
        Users.from_csv(io.StringIO(users), USERS_SCHEMA),
    )


@pytest.fixture(scope="module")
def personal(datasets: tuple[Interactions, Items, Users]) -> TrainedModel:
    interactions, items, users = datasets
    return train("aws-user-personalization-v2", interactions, items, users, {})


def _ids(pairs: list[tuple[str, float]]) -> list[str]:
    return [item for item, _ in pairs]


# -- families --------------------------------------------------------------------------------------
def test_popularity_count_ranks_by_event_count(datasets: tuple[Interactions, Items, Users]) -> None:
    interactions, items, users = datasets
    model = train("aws-popularity-count", interactions, items, users, {})
    top = model.recommend(user_id="u1", num_results=5)
    assert top[0][0] == "P"  # 3 views from each of 80 users
    counts: dict[str, int] = {}
    for item in interactions.item_ids:
        counts[item] = counts.get(item, 0) + 1
    ranked = sorted(counts, key=lambda i: (-counts[i], i))
    assert _ids(model.recommend(user_id=None, num_results=10)) == ranked[:10]


def test_popularity_count_honours_event_type_and_threshold(
    datasets: tuple[Interactions, Items, Users],
) -> None:
    interactions, items, users = datasets
    purchases = train("aws-popularity-count", interactions, items, users, {"eventType": "purchase"})
    assert "P" not in _ids(purchases.recommend(num_results=50))  # P is only ever viewed
    strict = train("aws-popularity-count", interactions, items, users, {"eventValueThreshold": "5"})
    assert _ids(strict.recommend(num_results=1)) == ["B"]  # the only events with value >= 5
    with pytest.raises(ValueError, match="No interactions match"):
        train("aws-popularity-count", interactions, items, users, {"eventType": "rate"})


def test_trending_now_prefers_recent_growth() -> None:
    rows = ["USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE"]
    day = 86400
    for u in range(30):  # OLD: heavy long ago; HOT: rising in the last day
        rows += [f"u{u},OLD,{1_000_000 + u},view,", f"u{u},OLD,{1_000_100 + u},view,"]
        rows.append(f"u{u},HOT,{1_000_000 + 20 * day + u},view,")
    rows += [f"u{u},HOT,{1_000_000 + 10 * day + u},view," for u in range(2)]
    interactions = Interactions.from_csv("\n".join(rows) + "\n", INTERACTIONS_SCHEMA)
    trending = train("aws-trending-now", interactions, None, None, {})
    popular = train("aws-popularity-count", interactions, None, None, {})
    assert _ids(trending.recommend(num_results=2))[0] == "HOT"
    assert _ids(popular.recommend(num_results=2))[0] == "OLD"


def test_sims_returns_the_planted_partner(datasets: tuple[Interactions, Items, Users]) -> None:
    interactions, items, users = datasets
    model = train("aws-sims", interactions, items, users, {})
    related = model.recommend(item_id="A", num_results=3)
    assert related[0][0] == "B"
    assert "A" not in _ids(model.recommend(item_id="A", num_results=50))
    # items of the same category co-occur (users like one category)
    same = _ids(model.recommend(item_id="books-0", num_results=5))
    assert sum(item.startswith("books-") for item in same) >= 4
    # an unknown item gets popular items, as the service does for cold items
    assert _ids(model.recommend(item_id="nope", num_results=1)) == ["P"]


def test_similar_items_uses_metadata_for_items_without_interactions(
    datasets: tuple[Interactions, Items, Users],
) -> None:
    interactions, items, users = datasets
    model = train("aws-similar-items", interactions, items, users, {})
    assert _ids(model.recommend(item_id="A", num_results=1)) == ["B"]
    cold = _ids(model.recommend(item_id="NEW", num_results=5))
    assert all(item.startswith("shoes-") for item in cold)
    with pytest.raises(ValueError, match="needs an Items dataset"):
        train("aws-similar-items", interactions, None, users, {})


def test_semantic_similarity_ranks_by_text(datasets: tuple[Interactions, Items, Users]) -> None:
    interactions, items, users = datasets
    model = train("aws-semantic-similarity", interactions, items, users, {})
    assert _ids(model.recommend(item_id="A", num_results=1)) == ["B"]  # "widget gizmo"
    assert all(i.startswith("garden-") for i in _ids(model.recommend(item_id="garden-3", num_results=5)))
    no_text = Items.from_csv(
        "ITEM_ID,CATEGORY,PRICE\nx,a,1\n", {**ITEMS_SCHEMA, "fields": ITEMS_SCHEMA["fields"][:3]}
    )
    with pytest.raises(ValueError, match="textual field"):
        train("aws-semantic-similarity", interactions, no_text, users, {})


def test_user_personalization_follows_the_users_taste(personal: TrainedModel) -> None:
    for user, liked in (("u1", "books"), ("u2", "garden"), ("u3", "toys")):
        top = _ids(personal.recommend(user_id=user, num_results=6))
        assert sum(item.startswith(liked + "-") for item in top) >= 4, (user, top)


def test_user_personalization_scores_are_a_distribution(personal: TrainedModel) -> None:
    scores = [s for _, s in personal.recommend(user_id="u5", num_results=500)]
    assert all(0 < s <= 1 for s in scores)
    assert scores == sorted(scores, reverse=True)
    assert sum(scores) == pytest.approx(1.0)


def test_unknown_user_gets_popularity(
    personal: TrainedModel, datasets: tuple[Interactions, Items, Users]
) -> None:
    interactions, items, users = datasets
    popular = train("aws-popularity-count", interactions, items, users, {})
    assert not personal.known_user("stranger")
    assert _ids(personal.recommend(user_id="stranger", num_results=10)) == _ids(
        popular.recommend(num_results=10)
    )
    with pytest.raises(ValueError, match="userId is required"):
        personal.recommend(user_id=None)


def test_events_change_the_next_recommendations(datasets: tuple[Interactions, Items, Users]) -> None:
    interactions, items, users = datasets
    model = train("aws-user-personalization-v2", interactions, items, users, {})
    before = _ids(model.recommend(user_id="newcomer", num_results=5))
    for index, item in enumerate(["toys-0", "toys-1", "toys-2"]):
        model.observe("newcomer", item, "view", 1_800_000_000 + index)
    after = _ids(model.recommend(user_id="newcomer", num_results=8))
    assert after != before
    assert sum(item.startswith("toys-") for item in after) >= 5
    assert model.user_history("newcomer")[-1][:2] == ("toys-2", "view")
    # a known user's taste moves with new events too
    shifted_before = _ids(model.recommend(user_id="u1", num_results=10))  # u1 likes books
    for index in range(6):
        model.observe("u1", f"garden-{index}", "view", 1_900_000_000 + index)
    shifted_after = _ids(model.recommend(user_id="u1", num_results=10))
    assert sum(i.startswith("garden-") for i in shifted_after) > sum(
        i.startswith("garden-") for i in shifted_before
    )


def test_personalized_ranking_reorders_the_input(datasets: tuple[Interactions, Items, Users]) -> None:
    interactions, items, users = datasets
    model = train("aws-personalized-ranking-v2", interactions, items, users, {})
    ranked = model.rank("u1", ["garden-0", "books-0", "unknown-item", "toys-0"])
    assert ranked[0][0] == "books-0"
    assert ranked[-1] == ("unknown-item", 0.0)  # not in training: score 0, as the service does
    assert sum(s for _, s in ranked) == pytest.approx(1.0)
    assert all(s > 0 for _, s in ranked[:-1])
    assert model.returns_scores
    assert not train("aws-sims", interactions, items, users, {}).returns_scores
    with pytest.raises(ValueError, match="GetPersonalizedRanking"):
        model.recommend(user_id="u1")


def test_item_affinity_segments_users_of_a_category(datasets: tuple[Interactions, Items, Users]) -> None:
    interactions, items, users = datasets
    model = train("aws-item-affinity", interactions, items, users, {})
    segment = [user for user, _ in model.users_for_items(["garden-1", "garden-2"], num_results=10)]
    assert len(segment) == 10
    assert all(int(user[1:]) % 4 == 2 for user in segment)  # garden lovers: u2, u6, ...
    attribute = train("aws-item-attribute-affinity", interactions, items, users, {})
    fans = [user for user, _ in attribute.users_for_attribute("CATEGORY", ["shoes"], num_results=10)]
    assert len(fans) == 10 and all(int(user[1:]) % 4 == 0 for user in fans)
    readers = [user for user, _ in attribute.users_for_attributes('ITEMS.CATEGORY = "books"', num_results=10)]
    assert len(readers) == 10 and all(int(user[1:]) % 4 == 1 for user in readers)
    assert attribute.users_for_attributes('ITEMS.CATEGORY = "books" AND ITEMS.CATEGORY = "toys"') == []
    with pytest.raises(ValueError, match="itemAttributes must be like"):
        attribute.users_for_attributes("CATEGORY is books")
    with pytest.raises(ValueError, match="cannot answer aws-item-affinity"):
        attribute.users_for_items(["books-1"])
    with pytest.raises(ValueError, match="batch segment"):
        model.recommend(user_id="u1")


def test_retired_and_unknown_recipes_are_rejected(datasets: tuple[Interactions, Items, Users]) -> None:
    interactions, items, users = datasets
    for recipe in ("aws-hrnn", "aws-hrnn-metadata", "aws-hrnn-coldstart"):
        with pytest.raises(ValueError, match="no longer supported"):
            train(recipe, interactions, items, users, {})
    with pytest.raises(ValueError, match="Unknown recipe"):
        train("aws-magic", interactions, items, users, {})
    assert family_of("arn:aws:personalize:::recipe/aws-sims").value == "RELATED_ITEMS"


# -- metrics and determinism -----------------------------------------------------------------------
def test_metrics_are_measured_not_constant(datasets: tuple[Interactions, Items, Users]) -> None:
    interactions, items, users = datasets
    seen = {}
    for recipe in ("aws-popularity-count", "aws-sims", "aws-user-personalization-v2", "aws-item-affinity"):
        metrics = train(recipe, interactions, items, users, {}).metrics()
        assert set(metrics) == METRIC_KEYS
        assert all(0.0 <= value <= 1.0 for value in metrics.values()), (recipe, metrics)
        seen[recipe] = metrics
    # the planted taste is learnable: personalization beats popularity on the holdout
    assert (
        seen["aws-user-personalization-v2"]["precision_at_10"]
        > seen["aws-popularity-count"]["precision_at_10"]
    )
    # popularity recommends the same list to everyone: coverage is its list over the catalogue
    assert seen["aws-popularity-count"]["coverage"] == pytest.approx(25 / 44, abs=1e-4)


def test_same_inputs_and_seed_give_the_same_model(datasets: tuple[Interactions, Items, Users]) -> None:
    interactions, items, users = datasets
    one = train("aws-user-personalization-v2", interactions, items, users, {}, seed=3)
    two = train("aws-user-personalization-v2", interactions, items, users, {}, seed=3)
    assert one.metrics() == two.metrics()
    for user in ("u1", "u2", "stranger"):
        assert one.recommend(user_id=user, num_results=20) == two.recommend(user_id=user, num_results=20)
    other = train("aws-user-personalization-v2", interactions, items, users, {}, seed=4)
    assert set(other.metrics()) == METRIC_KEYS  # another holdout draw; still valid metrics


def test_model_survives_pickling(personal: TrainedModel) -> None:
    clone = pickle.loads(pickle.dumps(personal))
    assert clone.recommend(user_id="u1", num_results=10) == personal.recommend(user_id="u1", num_results=10)
    clone.observe("u1", "garden-0", "view", 2_000_000_000)
    assert clone.user_history("u1")[-1][0] == "garden-0"


# -- filters through the model ---------------------------------------------------------------------
def test_recommend_applies_filters_before_truncating(personal: TrainedModel) -> None:
    exclude_bought = compile_filter('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")')
    bought = {item for item, kind, _ in personal.user_history("u1") if kind == "purchase"}
    assert bought
    top = _ids(personal.recommend(user_id="u1", num_results=10, filter=exclude_bought))
    assert len(top) == 10
    assert not bought & set(top)
    only = compile_filter("INCLUDE ItemID WHERE Items.CATEGORY IN ($CATEGORY)")
    picked = _ids(
        personal.recommend(user_id="u1", num_results=5, filter=only, filter_values={"CATEGORY": '"toys"'})
    )
    assert len(picked) == 5
    assert all("toys" in personal.items.values(item, "CATEGORY") for item in picked)  # type: ignore[union-attr]
    assert "A" in picked  # "gadgets|toys": multi-valued categories match on any value
    gold = compile_filter('INCLUDE ItemID WHERE Items.PRICE < 12 IF CurrentUser.MEMBERSHIP IN ("gold")')
    cheap = _ids(personal.recommend(user_id="u3", num_results=30, filter=gold))  # u3 is gold
    assert cheap and all(float(personal.items.value(i, "PRICE")) < 12 for i in cheap)  # type: ignore[union-attr]
    assert (
        len(_ids(personal.recommend(user_id="u1", num_results=30, filter=gold))) == 30
    )  # basic: not applied


def test_filter_sees_history_passed_by_the_caller(personal: TrainedModel) -> None:
    exclude = compile_filter('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")')
    first = _ids(personal.recommend(user_id="u1", num_results=1))[0]
    history = [*personal.user_history("u1"), (first, "Purchase", 2_100_000_000)]  # event types ignore case
    assert first not in _ids(
        personal.recommend(user_id="u1", num_results=20, filter=exclude, history=history)
    )


# -- data containers -------------------------------------------------------------------------------
def test_containers_read_append_and_report_bad_rows() -> None:
    first = Interactions.from_csv(
        "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\nu1,i1,10,view\n", INTERACTIONS_SCHEMA
    )
    second = Interactions.from_csv(
        b"USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\nu2,i1,11,click\n", INTERACTIONS_SCHEMA
    )
    first.append(second)
    assert len(first) == 2 and first.row(1) == ("u2", "i1", 11, "click", None)
    assert first.user_ids == ["u1", "u2"] and first.event_types == ["view", "click"]
    with pytest.raises(DataError, match=r"line 3, column TIMESTAMP: expected an integer.*'soon'"):
        Interactions.from_csv(
            "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\nu1,i1,10,view\nu1,i2,soon,view\n", INTERACTIONS_SCHEMA
        )
    with pytest.raises(DataError, match="header lacks the required field TIMESTAMP"):
        Interactions.from_csv("USER_ID,ITEM_ID,EVENT_TYPE\nu1,i1,view\n", INTERACTIONS_SCHEMA)
    with pytest.raises(DataError, match="column COLOUR"):
        Items.from_csv("ITEM_ID,COLOUR\ni1,red\n", ITEMS_SCHEMA)
    items = Items.from_csv("ITEM_ID,CATEGORY,PRICE\ni1,a|b,2.5\n", ITEMS_SCHEMA)
    items.append(Items.from_csv("ITEM_ID,CATEGORY,PRICE\ni1,c,3\ni2,d,1\n", ITEMS_SCHEMA))
    assert len(items) == 2 and items.values("i1", "CATEGORY") == ("c",) and items.value("i1", "PRICE") == 3.0
    restored = pickle.loads(pickle.dumps(first))
    assert list(restored) == list(first) and restored.items.index == first.items.index
    assert first.user_rows("u2") == [("i1", "click", 11)]
    first.add("u2", "i9", 5, "view")  # older: rows come back in time order, index kept up to date
    assert first.user_rows("u2") == [("i9", "view", 5), ("i1", "click", 11)]
    assert first.user_rows("nobody") == []
    assert "_rows_by_user" not in pickle.loads(pickle.dumps(first)).__dict__


# -- the sample data in data/ ----------------------------------------------------------------------
@pytest.mark.skipif(not (DATA / "interactions.csv").exists(), reason="sample data not generated")
def test_personalization_beats_popularity_on_the_sample_data() -> None:
    def schema(name: str) -> dict:
        return json.loads((DATA / "schemas" / f"{name}.json").read_text())

    interactions = Interactions.from_csv(str(DATA / "interactions.csv"), schema("interactions"))
    items = Items.from_csv(str(DATA / "items.csv"), schema("items"))
    users = Users.from_csv(str(DATA / "users.csv"), schema("users"))
    personal = train("aws-user-personalization-v2", interactions, items, users, {}).metrics()
    popular = train("aws-popularity-count", interactions, items, users, {}).metrics()
    assert personal["precision_at_10"] > popular["precision_at_10"]
    assert (
        personal["normalized_discounted_cumulative_gain_at_10"]
        > popular["normalized_discounted_cumulative_gain_at_10"]
    )
    related = train("aws-sims", interactions, items, users, {}).metrics()
    assert related["precision_at_10"] > popular["precision_at_10"]


# -- solution config -------------------------------------------------------------------------------
def test_events_config_selects_and_weights_event_types(datasets: tuple[Interactions, Items, Users]) -> None:
    interactions, items, users = datasets
    only_purchases = {"eventsConfig": {"eventParametersList": [{"eventType": "PURCHASE", "weight": 1.0}]}}
    model = train("aws-popularity-count", interactions, items, users, only_purchases)
    assert "P" not in _ids(model.recommend(num_results=50))
    heavy_views = {
        "eventsConfig": {
            "eventParametersList": [
                {"eventType": "view", "weight": 1.0},
                {"eventType": "purchase", "eventValueThreshold": 5, "weight": 100.0},
            ]
        }
    }
    weighted = train("aws-popularity-count", interactions, items, users, heavy_views)
    assert _ids(weighted.recommend(num_results=1)) == ["B"]  # 40 purchases of value 5, weighed 100x
    with pytest.raises(ValueError, match="eventValueThreshold must be a number"):
        train("aws-popularity-count", interactions, items, users, {"eventValueThreshold": "high"})
    with pytest.raises(ValueError, match="need an eventType"):
        train(
            "aws-popularity-count",
            interactions,
            items,
            users,
            {"eventsConfig": {"eventParametersList": [{}]}},
        )


def test_trend_discovery_frequency_is_parsed(datasets: tuple[Interactions, Items, Users]) -> None:
    interactions, items, users = datasets
    config = {"featureTransformationParameters": {"trend_discovery_frequency": "30 minutes"}}
    model = train("aws-trending-now", interactions, items, users, config)
    assert model.scorer.window == 1800  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="trend_discovery_frequency"):
        train(
            "aws-trending-now",
            interactions,
            items,
            users,
            {"featureTransformationParameters": {"trend_discovery_frequency": "often"}},
        )


def test_related_items_filter_uses_the_optional_user(datasets: tuple[Interactions, Items, Users]) -> None:
    interactions, items, users = datasets
    model = train("aws-sims", interactions, items, users, {})
    assert not model.returns_scores
    exclude = compile_filter('EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase")')
    assert _ids(model.recommend(item_id="A", num_results=1))[0] == "B"
    assert "B" not in _ids(
        model.recommend(user_id="u0", item_id="A", num_results=5, filter=exclude)
    )  # u0 bought B
    assert _ids(model.recommend(user_id="u1", item_id="A", num_results=1, filter=exclude)) == ["B"]
    with pytest.raises(ValueError, match="itemId is required"):
        model.recommend(user_id="u1")


# -- data edge cases -------------------------------------------------------------------------------
def test_values_are_typed_and_checked(tmp_path: Path) -> None:
    schema = {
        "type": "record",
        "name": "Items",
        "fields": [
            {"name": "ITEM_ID", "type": "string"},
            {"name": "IN_STOCK", "type": "boolean"},
            {"name": "RATING", "type": ["null", "double"]},
            {"name": "GENRES", "type": ["null", "string"], "categorical": True},
        ],
    }
    path = tmp_path / "items.csv"
    path.write_bytes("\ufeffITEM_ID,IN_STOCK,RATING,GENRES\ni1,True,,a|b\ni2,false,4.5,\n".encode())
    items = Items.from_csv(str(path), schema)  # a path; the byte-order mark is skipped
    assert items.get("i1") == {"IN_STOCK": True, "RATING": None, "GENRES": "a|b"}
    assert items.values("i1", "GENRES") == ("a", "b") and items.values("i2", "GENRES") == ()
    assert items.value("i2", "RATING") == 4.5 and "i3" not in items and items.get("i3") is None
    with pytest.raises(
        DataError, match=r"items.csv: line 2, column IN_STOCK: expected true or false \(got 'yes'\)"
    ):
        path.write_text("ITEM_ID,IN_STOCK\ni1,yes\n")
        Items.from_csv(str(path), schema)
    with pytest.raises(DataError, match="line 2, column ITEM_ID: empty value in a required field"):
        Items.from_csv("ITEM_ID,IN_STOCK\n,true\n", schema)
    with pytest.raises(DataError, match="expected 2 columns as in the header, found 3"):
        Items.from_csv("ITEM_ID,IN_STOCK\ni1,true,extra\n", schema)
    with pytest.raises(DataError, match="a union must be one type"):
        Items.from_csv(
            "ITEM_ID\ni1\n", {"type": "record", "fields": [{"name": "ITEM_ID", "type": ["string", "int"]}]}
        )
    with pytest.raises(DataError, match="empty; expected a header row"):
        Items.from_csv(io.BytesIO(b""), schema)
    with pytest.raises(DataError, match="an Interactions schema needs the field TIMESTAMP"):
        Interactions.from_csv(
            "USER_ID,ITEM_ID\nu,i\n",
            {
                "type": "record",
                "fields": [{"name": "USER_ID", "type": "string"}, {"name": "ITEM_ID", "type": "string"}],
            },
        )


def test_interactions_keep_extra_columns_across_appends() -> None:
    schema = {
        **INTERACTIONS_SCHEMA,
        "fields": [
            *INTERACTIONS_SCHEMA["fields"],
            {"name": "DEVICE", "type": ["null", "string"], "categorical": True},
        ],
    }
    first = Interactions.from_csv("USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,DEVICE\nu1,i1,1,view,web\n", schema)
    first.append(
        Interactions.from_csv("USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,DEVICE\nu2,i2,2,view,app\n", schema)
    )
    first.add("u3", "i1", 3, "view")
    assert first.extra["DEVICE"] == ["web", "app", None]
    assert (
        len(first) == 3
        and first.unique_users() == ["u1", "u2", "u3"]
        and first.unique_items() == ["i1", "i2"]
    )
    with pytest.raises(DataError, match="different schema"):
        first.append(
            Interactions.from_csv("USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\nu,i,1,v\n", INTERACTIONS_SCHEMA)
        )
    with pytest.raises(DataError, match=r"^<data>: line 1: header lacks the required field EVENT_TYPE$"):
        Interactions.from_csv("USER_ID,ITEM_ID,TIMESTAMP\nu,i,1\n", schema)


@pytest.mark.skipif(not (DATA / "interactions.csv").exists(), reason="sample data not generated")
def test_results_do_not_depend_on_string_hashing() -> None:
    """Python salts str hashes per process: nothing may depend on the iteration order of str sets."""
    script = (
        "import json\n"
        "from local.emulator.personalize.data import Interactions, Items\n"
        "from local.emulator.personalize.training import train\n"
        "s = lambda n: json.load(open(f'data/schemas/{n}.json'))\n"
        "i = Interactions.from_csv('data/interactions.csv', s('interactions'))\n"
        "items = Items.from_csv('data/items.csv', s('items'))\n"
        "for r in ('aws-user-personalization-v2', 'aws-similar-items'):\n"
        "    m = train(r, i, items, None, {}, seed=5)\n"
        "    recs = m.recommend(user_id='u0001', item_id='i0001', num_results=10)\n"
        "    print(json.dumps([m.metrics(), recs]))\n"
    )
    outputs = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(REPO)}
        done = subprocess.run(
            [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, check=True
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1
    assert outputs.pop().count("precision_at_10") == 2


def test_bitset_and_pair_counting_agree() -> None:
    from local.emulator.personalize.training.scorers import cooccurrence_neighbours

    rng = random.Random(1)
    ids = [f"i{n:02d}" for n in range(30)]
    baskets = [sorted(rng.sample(range(30), rng.randint(1, 8))) for _ in range(200)]
    by_bits = cooccurrence_neighbours(baskets, 30, ids, 0.6, method="bitset")
    by_pairs = cooccurrence_neighbours(baskets, 30, ids, 0.6, method="pairs")
    assert by_bits == by_pairs
    assert by_bits[1][5] == sum(1 for b in baskets if 5 in b)
    assert any(by_bits[0])
