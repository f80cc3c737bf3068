"""What the validation tests share: the shipped schemas, and CSV checks run through the fast paths
(pure Python and numpy) and the row-by-row path, so they can never disagree."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from pipeline.csvcheck import CsvResult, check, check_csv
from pipeline.csvcheck.fast import PythonBlocks
from pipeline.naming import REPO_ROOT


def shipped_schema(dataset_type: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((REPO_ROOT / "data" / "schemas" / f"{dataset_type}.json").read_text())
    return schema


def run_check(
    text: str | bytes,
    dataset_type: str,
    schema: dict[str, Any] | None = None,
    *,
    slow: bool = False,
    engine: str = "python",
    **kw: Any,
) -> CsvResult:
    """check_csv on in-memory CSV text; slow=True forces the row-by-row path for every block;
    engine="numpy" sends every block through the numpy fast path; "python" never uses it."""
    data = text.encode() if isinstance(text, str) else text
    schema = schema or shipped_schema(dataset_type)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(check, "NUMPY_AFTER_BYTES", 0 if engine == "numpy" and not slow else 1 << 62)
        if slow:
            patch.setattr(PythonBlocks, "fast", lambda self, block: 0)
        return check_csv(io.BytesIO(data), schema, dataset_type, file="x.csv", **kw)


def assert_same(one: CsvResult, other: CsvResult) -> None:
    """Same problems (worded identically, same order), same statistics, same ids."""
    assert [str(p) for p in one.problems] == [str(p) for p in other.problems]
    assert one.stats == other.stats
    assert one.user_ids == other.user_ids and one.item_ids == other.item_ids
