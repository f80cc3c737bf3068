"""What the environment's data files say about items and users: the item fields shown next to each
result, and which users the imported interactions know (for the cold-start note).

Read from the dataset source files in the repository that the stack uploads; a dataset whose source
is an `s3://` URI is not read (no fields, cold start unknown)."""

from __future__ import annotations

import csv
from functools import cached_property
from pathlib import Path

from pipeline.config import PipelineConfig

#: item fields shown in the table next to each result (the first three that the items file has)
DISPLAY_FIELDS = ("CATEGORY_L1", "STYLE", "BRAND", "PRICE", "GENRES", "TITLE")


class Catalog:
    """Lazy views of the items and interactions source files of one environment."""

    def __init__(self, config: PipelineConfig, root: Path) -> None:
        self.config = config
        self.root = root

    @cached_property
    def items(self) -> dict[str, dict[str, str]]:
        """ITEM_ID -> the item's row (without ITEM_ID); empty without a local items file."""
        source = self.config.datasets.items
        if source is None or source.is_s3:
            return {}
        with open(self.root / source.source, newline="", encoding="utf-8") as stream:
            return {
                row["ITEM_ID"]: {k: v for k, v in row.items() if k != "ITEM_ID" and k is not None}
                for row in csv.DictReader(stream)
                if row.get("ITEM_ID")
            }

    @cached_property
    def known_users(self) -> frozenset[str] | None:
        """USER_IDs of the imported interactions (None when the source is in S3: unknown)."""
        source = self.config.datasets.interactions
        if source.is_s3:
            return None
        with open(self.root / source.source, newline="", encoding="utf-8") as stream:
            return frozenset(row["USER_ID"] for row in csv.DictReader(stream) if row.get("USER_ID"))

    @cached_property
    def display_fields(self) -> tuple[str, ...]:
        if not self.items:
            return ()
        present = next(iter(self.items.values()))
        return tuple(f for f in DISPLAY_FIELDS if f in present)[:3]

    def is_cold(self, user_id: str | None) -> bool | None:
        """True when the imported interactions never mention the user; None when unknowable."""
        if user_id is None or self.known_users is None:
            return None
        return user_id not in self.known_users
