"""The result table the CLI and the local demo print: rank, item id, score, three item fields."""

from __future__ import annotations

from collections.abc import Sequence

from recs.api import Recommendation


def table(items: Sequence[Recommendation], fields: Sequence[str]) -> str:
    """`fields` are the item fields to show (Catalog.display_fields)."""
    if not items:
        return "  (no items)"
    header = f"  {'#':>2}  {'item':<8} {'score':>8}  " + "  ".join(f"{f.lower():<14}" for f in fields)
    lines = [header.rstrip()]
    for rank, item in enumerate(items, 1):
        score = f"{item.score:8.4f}" if item.score is not None else f"{'-':>8}"
        values = "  ".join(f"{str(item.fields.get(f, ''))[:14]:<14}" for f in fields)
        lines.append(f"  {rank:>2}  {item.item_id:<8} {score}  {values}".rstrip())
    return "\n".join(lines)
