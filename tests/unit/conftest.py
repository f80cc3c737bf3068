"""The validation tests' fixtures (their helpers are in helpers.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pipeline.csvcheck import CsvResult
from tests.unit.helpers import assert_same, run_check


@pytest.fixture
def check_both() -> Callable[..., CsvResult]:
    """Run the pure-Python fast path, the numpy fast path and the row-by-row path; assert they agree
    on problems and statistics; return the result."""

    def check(
        text: str | bytes, dataset_type: str, schema: dict[str, Any] | None = None, **kw: Any
    ) -> CsvResult:
        fast = run_check(text, dataset_type, schema, **kw)
        slow = run_check(text, dataset_type, schema, slow=True, **kw)
        assert_same(fast, slow)
        assert_same(run_check(text, dataset_type, schema, engine="numpy", **kw), slow)
        return fast

    return check
