"""Shared helpers for the validation tests: the shipped schemas, and CSV checks run through both the
fast path and the row-by-row path, so the two can never disagree."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipeline import csvcheck
from pipeline.csvcheck import CsvResult, check_csv

ROOT = Path(__file__).resolve().parents[2]


def shipped_schema(dataset_type: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((ROOT / "data" / "schemas" / f"{dataset_type}.json").read_text())
    return schema


def run_check(
    text: str | bytes,
    dataset_type: str,
    schema: dict[str, Any] | None = None,
    *,
    slow: bool = False,
    **kw: Any,
) -> CsvResult:
    """check_csv on in-memory CSV text; slow=True forces the row-by-row path for every block."""
    data = text.encode() if isinstance(text, str) else text
    schema = schema or shipped_schema(dataset_type)
    if not slow:
        return check_csv(io.BytesIO(data), schema, dataset_type, file="x.csv", **kw)
    original = csvcheck._Checker.fast
    csvcheck._Checker.fast = lambda self, block: False  # type: ignore[method-assign]
    try:
        return check_csv(io.BytesIO(data), schema, dataset_type, file="x.csv", **kw)
    finally:
        csvcheck._Checker.fast = original  # type: ignore[method-assign]


@pytest.fixture
def check_both() -> Callable[..., CsvResult]:
    """Run both paths; assert they agree on problems and statistics; return the result."""

    def check(
        text: str | bytes, dataset_type: str, schema: dict[str, Any] | None = None, **kw: Any
    ) -> CsvResult:
        fast = run_check(text, dataset_type, schema, **kw)
        slow = run_check(text, dataset_type, schema, slow=True, **kw)
        assert [str(p) for p in fast.problems] == [str(p) for p in slow.problems]
        assert fast.stats == slow.stats
        assert fast.user_ids == slow.user_ids and fast.item_ids == slow.item_ids
        return fast

    return check
