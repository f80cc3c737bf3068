"""Make the sample retail data: users.csv, items.csv, interactions.csv (deterministic, stdlib only).

The data has the structure a recommender can learn and a popularity baseline cannot:
- items belong to a category and, inside it, to one of a few styles (some items carry a second
  category, written `a|b`); popularity is Zipf-like inside each style;
- each user likes 2-3 categories (weighted) and one style per category; sessions pick a liked
  category and style, then an item by popularity, so a user's history predicts their next items;
- users' metadata (age group, membership) shifts their category tastes a little;
- events: every interaction is a view; some views lead to a click, some clicks to a purchase;
  timestamps are epoch seconds over six months; an item appears only after its creation time.

`python data/generate.py` writes the CSVs next to this file; `--check` regenerates in memory and
exits non-zero unless the committed files are byte-identical.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SEED = 20260501
DATA_DIR = Path(__file__).resolve().parent
N_USERS = 600
N_ITEMS = 400
START = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
END = int(datetime(2026, 7, 1, tzinfo=UTC).timestamp())
CATALOGUE_START = int(datetime(2025, 6, 1, tzinfo=UTC).timestamp())

CATEGORIES: dict[str, list[str]] = {
    "electronics": ["audio", "mobile", "gaming", "smart-home"],
    "books": ["fiction", "cooking", "travel", "science"],
    "home": ["lighting", "bedding", "storage"],
    "kitchen": ["cookware", "coffee", "baking"],
    "garden": ["tools", "plants", "outdoor-furniture"],
    "sports": ["running", "cycling", "yoga", "swimming"],
    "toys": ["puzzles", "building", "plush"],
    "beauty": ["skincare", "fragrance", "haircare"],
    "fashion": ["shoes", "jackets", "accessories", "denim"],
    "grocery": ["snacks", "tea", "organic"],
}
#: Categories an item may carry as a second value (`a|b`), by first category.
RELATED = {
    "electronics": ["home", "toys"],
    "books": ["kitchen", "toys"],
    "home": ["kitchen", "garden"],
    "kitchen": ["home", "grocery"],
    "garden": ["home", "sports"],
    "sports": ["fashion", "beauty"],
    "toys": ["books", "electronics"],
    "beauty": ["fashion", "home"],
    "fashion": ["sports", "beauty"],
    "grocery": ["kitchen", "beauty"],
}
BRANDS = [
    "acme",
    "northwind",
    "contoso",
    "fabrikam",
    "tailspin",
    "litware",
    "adventure",
    "wingtip",
    "proseware",
    "lucerne",
    "alpine",
    "fourth-coffee",
]
ADJECTIVES = [
    "classic",
    "compact",
    "premium",
    "everyday",
    "lightweight",
    "deluxe",
    "eco",
    "essential",
    "vintage",
    "modern",
    "portable",
    "handmade",
]
NOUNS: dict[str, list[str]] = {
    "audio": ["headphones", "speaker", "earbuds"],
    "mobile": ["phone case", "charger", "power bank"],
    "gaming": ["controller", "headset", "game"],
    "smart-home": ["smart plug", "camera", "hub"],
    "fiction": ["novel", "short story collection"],
    "cooking": ["cookbook", "recipe journal"],
    "travel": ["travel guide", "atlas"],
    "science": ["popular science book", "field guide"],
    "lighting": ["lamp", "string lights"],
    "bedding": ["duvet", "pillow set", "throw"],
    "storage": ["basket", "shelf", "organiser"],
    "cookware": ["frying pan", "stock pot", "wok"],
    "coffee": ["grinder", "pour-over kit", "espresso cups"],
    "baking": ["cake tin", "mixing bowl"],
    "tools": ["pruning shears", "trowel", "hose"],
    "plants": ["herb kit", "succulent", "seed set"],
    "outdoor-furniture": ["deck chair", "hammock", "bench"],
    "running": ["running shoes", "vest"],
    "cycling": ["bike light", "helmet", "gloves"],
    "yoga": ["yoga mat", "block", "strap"],
    "swimming": ["goggles", "swim cap", "towel"],
    "puzzles": ["jigsaw", "brain teaser"],
    "building": ["brick set", "marble run"],
    "plush": ["teddy bear", "plush fox"],
    "skincare": ["moisturiser", "serum", "cleanser"],
    "fragrance": ["eau de parfum", "candle"],
    "haircare": ["shampoo", "conditioner"],
    "shoes": ["sneakers", "boots", "sandals"],
    "jackets": ["rain jacket", "puffer", "blazer"],
    "accessories": ["scarf", "belt", "cap"],
    "denim": ["jeans", "denim jacket"],
    "snacks": ["trail mix", "crackers"],
    "tea": ["green tea", "herbal tea", "chai"],
    "organic": ["olive oil", "honey", "granola"],
}
PRICE_RANGE = {
    "electronics": (19, 399),
    "books": (8, 45),
    "home": (12, 180),
    "kitchen": (9, 160),
    "garden": (6, 240),
    "sports": (10, 220),
    "toys": (7, 90),
    "beauty": (6, 95),
    "fashion": (15, 260),
    "grocery": (3, 30),
}
AGE_GROUPS = ["18-24", "25-34", "35-44", "45-54", "55-64", "65+"]
#: Categories each age group leans to (a small shift on top of the user's own tastes).
AGE_LEANING = {
    "18-24": ["electronics", "fashion"],
    "25-34": ["fashion", "sports"],
    "35-44": ["kitchen", "toys"],
    "45-54": ["home", "garden"],
    "55-64": ["garden", "books"],
    "65+": ["books", "grocery"],
}
GENDERS = ["female", "male", "non-binary"]
MEMBERSHIPS = ["basic", "silver", "gold"]
DEVICES = ["web", "ios", "android"]


def _zipf_weights(n: int, s: float = 1.1) -> list[float]:
    return [1.0 / (rank**s) for rank in range(1, n + 1)]


def generate() -> dict[str, bytes]:
    """The three CSV files' bytes, keyed by file name."""
    rng = random.Random(SEED)
    categories = list(CATEGORIES)

    # Items: category, style, popularity rank inside the style.
    items = []
    by_style: dict[tuple[str, str], list[int]] = {}
    for index in range(N_ITEMS):
        category = (
            categories[index % len(categories)] if index < 2 * len(categories) else rng.choice(categories)
        )
        style = rng.choice(CATEGORIES[category])
        second = rng.choice(RELATED[category]) if rng.random() < 0.25 else None
        brand = rng.choice(BRANDS)
        noun = rng.choice(NOUNS[style])
        adjective = rng.choice(ADJECTIVES)
        low, high = PRICE_RANGE[category]
        price = round(low + (high - low) * rng.random() ** 2, 2)
        # Most of the catalogue exists before the window; some items launch during it.
        created = (
            rng.randrange(CATALOGUE_START, START)
            if rng.random() < 0.8
            else rng.randrange(START, END - 30 * 86400)
        )
        description = (
            f"{adjective.capitalize()} {noun} by {brand.capitalize()}, "
            f"from our {style.replace('-', ' ')} range"
            + (f", also loved in {second}" if second else "")
        )
        item_id = f"i{index + 1:04d}"
        items.append(
            {
                "ITEM_ID": item_id,
                "PRICE": f"{price:.2f}",
                "CATEGORY_L1": category + (f"|{second}" if second else ""),
                "STYLE": style,
                "BRAND": brand,
                "CREATION_TIMESTAMP": str(created),
                "DESCRIPTION": description if rng.random() < 0.95 else "",
            }
        )
        by_style.setdefault((category, style), []).append(index)
    # Popularity: a Zipf weight by a random rank inside each style.
    popularity = [0.0] * N_ITEMS
    for members in by_style.values():
        order = members[:]
        rng.shuffle(order)
        for weight, member in zip(_zipf_weights(len(order)), order, strict=True):
            popularity[member] = weight

    # Users: metadata and tastes.
    users = []
    tastes = []
    for index in range(N_USERS):
        age = rng.choices(AGE_GROUPS, weights=[14, 24, 22, 18, 13, 9])[0]
        gender = rng.choices(GENDERS, weights=[48, 48, 4])[0] if rng.random() < 0.9 else ""
        membership = rng.choices(MEMBERSHIPS, weights=[60, 28, 12])[0]
        liked = rng.sample(categories, rng.choice([2, 2, 3]))
        if rng.random() < 0.5:
            liked[-1] = rng.choice(AGE_LEANING[age]) if AGE_LEANING[age][0] not in liked else liked[-1]
        liked = list(dict.fromkeys(liked))
        weights = sorted((rng.random() + 0.3 for _ in liked), reverse=True)
        styles = {c: rng.choice(CATEGORIES[c]) for c in liked}
        users.append(
            {"USER_ID": f"u{index + 1:04d}", "AGE_GROUP": age, "GENDER": gender, "MEMBERSHIP": membership}
        )
        tastes.append((liked, weights, styles, membership))

    # Interactions: sessions of views, some clicks, a few purchases.
    rows: list[tuple[str, str, int, str, str]] = []
    for user, (liked, weights, styles, membership) in zip(users, tastes, strict=True):
        activity = {"basic": 1.0, "silver": 1.5, "gold": 2.2}[membership]
        sessions = max(2, int(rng.paretovariate(1.6) * 5 * activity))
        sessions = min(sessions, 60)
        device = rng.choice(DEVICES)
        for _ in range(sessions):
            when = rng.randrange(START, END - 3600)
            if rng.random() < 0.85:
                category = rng.choices(liked, weights=weights)[0]
                style = styles[category] if rng.random() < 0.8 else rng.choice(CATEGORIES[category])
                pool = by_style.get((category, style)) or [
                    i for (c, _), m in by_style.items() if c == category for i in m
                ]
            else:
                pool = list(range(N_ITEMS))  # browsing anything: the popularity part of the signal
            pool = [i for i in pool if int(items[i]["CREATION_TIMESTAMP"]) <= when]
            if not pool:
                continue
            chosen = rng.choices(pool, weights=[popularity[i] for i in pool], k=rng.randint(1, 5))
            for item in dict.fromkeys(chosen):
                when += rng.randint(20, 600)
                item_id = items[item]["ITEM_ID"]
                rows.append((user["USER_ID"], item_id, when, "view", device))
                if rng.random() < 0.35:
                    when += rng.randint(5, 120)
                    rows.append((user["USER_ID"], item_id, when, "click", device))
                    if rng.random() < 0.3:
                        when += rng.randint(30, 900)
                        rows.append((user["USER_ID"], item_id, when, "purchase", device))
    rows.sort(key=lambda r: (r[2], r[0], r[1]))

    def write(
        header: list[str], records: list[dict[str, str]] | list[tuple[str, str, int, str, str]]
    ) -> bytes:
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        for record in records:
            writer.writerow([record[h] for h in header] if isinstance(record, dict) else record)
        return buffer.getvalue().encode("utf-8")

    return {
        "users.csv": write(["USER_ID", "AGE_GROUP", "GENDER", "MEMBERSHIP"], users),
        "items.csv": write(
            ["ITEM_ID", "PRICE", "CATEGORY_L1", "STYLE", "BRAND", "CREATION_TIMESTAMP", "DESCRIPTION"], items
        ),
        "interactions.csv": write(["USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE", "DEVICE"], rows),
    }


# ---- the VIDEO_ON_DEMAND example (config/vod.toml): a small domain dataset group -----------------
VOD_SEED = 20261201
VOD_USERS = 160
VOD_ITEMS = 90
VOD_START = int(datetime(2026, 3, 1, tzinfo=UTC).timestamp())
VOD_END = int(datetime(2026, 6, 1, tzinfo=UTC).timestamp())
VOD_GENRES = ["drama", "comedy", "action", "documentary", "kids", "thriller"]
VOD_CLASSIFICATIONS = ["G", "PG", "M", "MA15"]
VOD_SUBSCRIPTIONS = ["free", "basic", "premium"]


def generate_vod() -> dict[str, bytes]:
    """Videos in genres (GENRES, CREATION_TIMESTAMP: the VIDEO_ON_DEMAND Items dataset's required
    fields), viewers with a subscription and one or two liked genres, and `Watch`/`Click` events
    (the event types the VIDEO_ON_DEMAND use cases count); files are small, for the example only."""
    rng = random.Random(VOD_SEED)
    items = []
    by_genre: dict[str, list[int]] = {g: [] for g in VOD_GENRES}
    for index in range(VOD_ITEMS):
        genre = VOD_GENRES[index % len(VOD_GENRES)]
        by_genre[genre].append(index)
        items.append({
            "ITEM_ID": f"v{index + 1:03d}",
            "CREATION_TIMESTAMP": str(rng.randrange(VOD_START - 400 * 86400, VOD_START)),
            "GENRES": genre,
            "DURATION": f"{rng.choice([22, 45, 90, 110, 130]) * 60.0:.1f}",
            "CONTENT_CLASSIFICATION": rng.choice(VOD_CLASSIFICATIONS),
        })
    popularity = {i: w for g in VOD_GENRES for i, w in zip(by_genre[g], _zipf_weights(len(by_genre[g])),
                                                            strict=True)}
    users, rows = [], []
    for index in range(VOD_USERS):
        user = f"p{index + 1:04d}"
        users.append({"USER_ID": user, "SUBSCRIPTION_MODEL": rng.choice(VOD_SUBSCRIPTIONS),
                      "AGE_GROUP": rng.choice(AGE_GROUPS)})
        liked = rng.sample(VOD_GENRES, rng.choice([1, 2]))
        when = rng.randrange(VOD_START, VOD_END - 30 * 86400)
        for _ in range(rng.randint(6, 16)):
            genre = rng.choice(liked) if rng.random() < 0.85 else rng.choice(VOD_GENRES)
            pool = by_genre[genre]
            item = items[rng.choices(pool, weights=[popularity[i] for i in pool])[0]]["ITEM_ID"]
            when += rng.randint(600, 86400)
            rows.append((user, item, when, "Click"))
            if rng.random() < 0.75:
                rows.append((user, item, when + rng.randint(5, 300), "Watch"))
    rows.sort(key=lambda r: (r[2], r[0], r[1]))

    def write(header: list[str], records: list[Any]) -> bytes:
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(header)
        for record in records:
            writer.writerow([record[h] for h in header] if isinstance(record, dict) else record)
        return buffer.getvalue().encode("utf-8")

    return {
        "users.csv": write(["USER_ID", "SUBSCRIPTION_MODEL", "AGE_GROUP"], users),
        "items.csv": write(["ITEM_ID", "CREATION_TIMESTAMP", "GENRES", "DURATION", "CONTENT_CLASSIFICATION"],
                           items),
        "interactions.csv": write(["USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE"], rows),
    }


def all_files() -> dict[str, bytes]:
    """Every generated file by its path under data/: the retail sample and the vod/ example."""
    return {**generate(), **{f"vod/{name}": content for name, content in generate_vod().items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="fail unless the committed files match")
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="directory to write (default: data/)")
    args = parser.parse_args(argv)
    files = all_files()
    if args.check:
        stale = [
            name
            for name, content in files.items()
            if not (args.out / name).is_file() or (args.out / name).read_bytes() != content
        ]
        if stale:
            print(f"out of date: {stale}; run python data/generate.py", file=sys.stderr)
            return 1
        print("data/*.csv match the generator")
        return 0
    for name, content in files.items():
        (args.out / name).parent.mkdir(parents=True, exist_ok=True)
        (args.out / name).write_bytes(content)
        rows = content.count(b"\n") - 1
        print(f"wrote {args.out / name} ({len(content):,} bytes, {rows:,} rows)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
