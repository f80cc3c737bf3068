"""The sample data: byte-identical regeneration, Personalize's minimums with room, and enough
structure that item-to-item co-occurrence beats popularity (what a trained model must show)."""

from __future__ import annotations

import csv
import importlib.util
import io
import math
from collections import Counter, defaultdict
from pathlib import Path
from types import ModuleType

import pytest

from pipeline.naming import REPO_ROOT


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate", REPO_ROOT / "data" / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    generated: dict[str, bytes] = _generator().generate()
    return generated


def rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode())))


def test_regeneration_is_byte_identical_to_the_committed_files(files: dict[str, bytes]) -> None:
    assert files == _generator().generate()
    for name, content in files.items():
        assert (REPO_ROOT / "data" / name).read_bytes() == content, (
            f"data/{name} is stale: run python data/generate.py"
        )


def test_check_flag(tmp_path: Path) -> None:
    generator = _generator()
    assert generator.main(["--check"]) == 0
    assert generator.main(["--out", str(tmp_path)]) == 0
    (tmp_path / "items.csv").write_bytes(b"ITEM_ID\n")
    assert generator.main(["--check", "--out", str(tmp_path)]) == 1


def test_sizes_and_minimums(files: dict[str, bytes]) -> None:
    assert sum(len(c) for c in files.values()) < 5 * 1024 * 1024
    interactions = rows(files["interactions.csv"])
    assert 25_000 <= len(interactions) <= 40_000  # Personalize needs 1000
    per_user = Counter(r["USER_ID"] for r in interactions)
    assert sum(1 for n in per_user.values() if n >= 2) >= 500  # needs 25
    assert len(rows(files["users.csv"])) == 600 and len(rows(files["items.csv"])) == 400


def test_realistic_shape(files: dict[str, bytes]) -> None:
    items = rows(files["items.csv"])
    interactions = rows(files["interactions.csv"])
    assert sum("|" in i["CATEGORY_L1"] for i in items) > 50  # multi-valued categories
    assert all(i["DESCRIPTION"] == "" or len(i["DESCRIPTION"]) > 20 for i in items)
    events = Counter(r["EVENT_TYPE"] for r in interactions)
    assert events["view"] > events["click"] > events["purchase"] > 0
    popularity = Counter(r["ITEM_ID"] for r in interactions)
    top = sum(n for _, n in popularity.most_common(40))
    assert top / len(interactions) > 0.25  # the top 10% of items draw a quarter of the traffic
    stamps = [int(r["TIMESTAMP"]) for r in interactions]
    assert (max(stamps) - min(stamps)) / 86400 > 150 and max(stamps) < 10**10  # months, epoch seconds
    created = {i["ITEM_ID"]: int(i["CREATION_TIMESTAMP"]) for i in items}
    assert all(int(r["TIMESTAMP"]) >= created[r["ITEM_ID"]] for r in interactions)


def test_item_cooccurrence_beats_popularity(files: dict[str, bytes]) -> None:
    """Leave-last-item-out hit rate at 10: an item-to-item model vs the most popular items."""
    history: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for r in rows(files["interactions.csv"]):
        history[r["USER_ID"]].append((int(r["TIMESTAMP"]), r["ITEM_ID"]))
    train: dict[str, list[str]] = {}
    test: dict[str, str] = {}
    for user, events in history.items():
        ordered = list(dict.fromkeys(item for _, item in sorted(events)))
        if len(ordered) >= 3:
            train[user], test[user] = ordered[:-1], ordered[-1]
    popularity = Counter(item for items in train.values() for item in items)
    together: dict[str, Counter[str]] = defaultdict(Counter)
    for items in train.values():
        for a in set(items):
            for b in set(items):
                if a != b:
                    together[a][b] += 1

    def by_items(user: str) -> list[str]:
        scores: dict[str, float] = defaultdict(float)
        for a in train[user][-10:]:
            for b, n in together[a].items():
                scores[b] += n / math.sqrt(popularity[a] * popularity[b])
        for seen in train[user]:
            scores.pop(seen, None)
        return sorted(scores, key=lambda item: -scores[item])[:10]

    def by_popularity(user: str) -> list[str]:
        seen = set(train[user])
        return [item for item, _ in popularity.most_common(10 + len(seen)) if item not in seen][:10]

    cf = sum(test[u] in by_items(u) for u in test) / len(test)
    pop = sum(test[u] in by_popularity(u) for u in test) / len(test)
    assert len(test) > 500
    assert cf > 2 * pop and cf > 0.2, (cf, pop)
