"""Sample ids from the local interactions file, so each campaign's CLI output is ready to run."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

_ROWS = 200


@dataclass(frozen=True)
class Samples:
    user_id: str
    item_id: str
    items: tuple[str, ...]


PLACEHOLDERS = Samples("<USER_ID>", "<ITEM_ID>", ("<ITEM_ID_1>", "<ITEM_ID_2>", "<ITEM_ID_3>"))


def sample_ids(interactions: Path | None) -> Samples:
    """The first user and items of the interactions CSV; placeholders for s3:// sources or when
    the file has no USER_ID/ITEM_ID columns (the validator reports that, not this)."""
    if interactions is None or not interactions.is_file():
        return PLACEHOLDERS
    with interactions.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = [h.strip().upper() for h in next(reader, [])]
        if "USER_ID" not in header or "ITEM_ID" not in header:
            return PLACEHOLDERS
        user_col, item_col = header.index("USER_ID"), header.index("ITEM_ID")
        user = ""
        items: list[str] = []
        for number, row in enumerate(reader):
            if number >= _ROWS or len(items) >= 5:
                break
            if len(row) <= max(user_col, item_col):
                continue
            user = user or row[user_col]
            if row[item_col] not in items:
                items.append(row[item_col])
    if not user or not items:
        return PLACEHOLDERS
    return Samples(user, items[0], tuple(items[:5]))
