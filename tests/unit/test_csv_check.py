"""The CSV checker against a corpus of bad files: each problem names file, line, column, value and
what was expected; the fast and the row-by-row paths agree on every input (conftest.check_both)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest

from pipeline import csvcheck
from pipeline.csvcheck import CsvResult, check_csv, core
from pipeline.csvcheck.fast import PythonBlocks
from pipeline.naming import REPO_ROOT
from pipeline.problems import Problem

HEADER = "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,DEVICE\n"
T0 = 1767225600  # 2026-01-01


def interactions(rows: int = 1200, users: int = 60, *, replace: dict[int, str] | None = None) -> str:
    """A valid interactions file; `replace` swaps in raw lines by line number (the header is line 1)."""
    lines = [HEADER]
    for i in range(rows):
        lines.append(f"u{i % users},i{i % 37},{T0 + i * 60},{('view', 'click', 'purchase')[i % 3]},web\n")
    for number, line in (replace or {}).items():
        lines[number - 1] = line
    return "".join(lines)


def only(result: CsvResult, severity: str = "error") -> list[Problem]:
    return [p for p in result.problems if p.severity == severity]


Check = Callable[..., CsvResult]


def test_clean_file_and_stats(check_both: Check) -> None:
    result = check_both(interactions(), "interactions")
    assert result.problems == []
    assert result.rows == 1200
    stats = result.stats
    assert (stats.unique_users, stats.unique_items, stats.users_with_2_plus) == (60, 37, 60)
    assert (stats.min_timestamp, stats.max_timestamp) == (T0, T0 + 1199 * 60)
    assert stats.event_types == {"click": 400, "purchase": 400, "view": 400}


def test_header_order(check_both: Check) -> None:
    text = interactions().replace(HEADER, "ITEM_ID,USER_ID,TIMESTAMP,EVENT_TYPE,DEVICE\n", 1)
    (problem,) = check_both(text, "interactions").problems
    assert (problem.file, problem.line, problem.value) == (
        "x.csv",
        1,
        "ITEM_ID,USER_ID,TIMESTAMP,EVENT_TYPE,DEVICE",
    )
    assert "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,DEVICE" in problem.message
    assert "same names, different order" in problem.message


def test_header_in_quotation_marks(check_both: Check) -> None:
    quoted = ",".join(f'"{name}"' for name in HEADER.strip().split(",")) + "\n"
    text = interactions().replace(HEADER, quoted, 1)
    (problem,) = check_both(text, "interactions").problems
    assert (problem.line, problem.value) == (1, quoted.strip())
    assert "must not be enclosed in quotation marks" in problem.message


def test_header_missing_column(check_both: Check) -> None:
    text = interactions().replace(HEADER, "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE\n", 1)
    (problem,) = check_both(text, "interactions").problems
    assert problem.line == 1 and "missing ['DEVICE']" in problem.message


def test_timestamp_not_an_integer(check_both: Check) -> None:
    text = interactions(replace={7: "u1,i1,2026-01-01T00:00:00,view,web\n"})
    (problem,) = only(check_both(text, "interactions"))
    assert (problem.line, problem.field, problem.value) == (7, "TIMESTAMP", "2026-01-01T00:00:00")
    assert "not an integer; expected long" in problem.message and "epoch seconds" in problem.message


def test_millisecond_column_is_called_out_and_capped(check_both: Check) -> None:
    text = HEADER + "".join(f"u{i % 60},i{i % 37},{(T0 + i) * 1000},view,web\n" for i in range(1200))
    result = check_both(text, "interactions")
    millis = [p for p in result.problems if p.field == "TIMESTAMP"]
    assert len(millis) == 6  # 5 shown, then one summary line
    first = millis[0]
    assert (first.line, first.value) == (2, str(T0 * 1000))
    assert "looks like epoch milliseconds; divide by 1000" in first.message
    assert millis[-1].message.startswith("... and 1195 more like this (looks like epoch milliseconds")


def test_microsecond_timestamp(check_both: Check) -> None:
    text = interactions(replace={3: f"u1,i1,{T0 * 1_000_000},view,web\n"})
    (problem,) = only(check_both(text, "interactions"))
    assert problem.line == 3 and "microseconds" in problem.message


def test_empty_required_value(check_both: Check) -> None:
    text = interactions(replace={10: f",i1,{T0},view,web\n"})
    (problem,) = only(check_both(text, "interactions"))
    assert (problem.line, problem.field, problem.value) == (10, "USER_ID", "")
    assert "USER_ID is required (string, not nullable)" in problem.message


def test_empty_nullable_value_is_fine(check_both: Check) -> None:
    text = interactions(replace={10: f"u1,i1,{T0},view,\n"})
    assert check_both(text, "interactions").problems == []


def test_wrong_number_of_columns(check_both: Check) -> None:
    text = interactions(replace={5: f"u1,i1,{T0},view,web,extra\n", 6: f"u1,i1,{T0},view\n"})
    problems = only(check_both(text, "interactions"))
    assert [(p.line, p.message.split(";")[0]) for p in problems] == [(5, "6 columns"), (6, "4 columns")]
    assert "expected 5 (USER_ID, ITEM_ID, TIMESTAMP, EVENT_TYPE, DEVICE)" in problems[0].message


def test_invalid_utf8(check_both: Check) -> None:
    text = interactions().encode().replace(b"u7,i7,", b"u\xff7,i7,", 1)
    (problem,) = only(check_both(text, "interactions"))
    assert problem.line == 9 and "not valid UTF-8 (byte 0xff at position 2)" in problem.message


def test_utf8_ids_are_fine(check_both: Check) -> None:
    text = interactions(replace={4: f"ü1,i1,{T0},view,web\n"})
    result = check_both(text, "interactions")
    assert result.problems == [] and "ü1".encode() in result.user_ids


def test_categorical_over_1000_characters(check_both: Check) -> None:
    text = interactions(replace={12: f"u1,i1,{T0},view,{'x' * 1001}\n"})
    (problem,) = only(check_both(text, "interactions"))
    assert (problem.line, problem.field) == (12, "DEVICE")
    assert "1001 characters; a categorical value has at most 1000" in problem.message
    assert isinstance(problem.value, str) and problem.value.endswith("(1001 characters)")


def test_categorical_of_1000_multibyte_characters_is_fine(check_both: Check) -> None:
    text = interactions(replace={12: f"u1,i1,{T0},view,{'é' * 1000}\n"})
    assert check_both(text, "interactions").problems == []


def test_id_over_256_characters(check_both: Check) -> None:
    text = interactions(replace={8: f"u1,{'i' * 257},{T0},view,web\n"})
    (problem,) = only(check_both(text, "interactions"))
    assert (problem.line, problem.field) == (8, "ITEM_ID") and "an id has at most 256" in problem.message


def test_too_few_interactions(check_both: Check) -> None:
    (problem,) = only(check_both(interactions(rows=999, users=30), "interactions"))
    assert problem.value == 999 and "999 interactions; training needs at least 1000" in problem.message


def test_too_few_users_with_two_interactions(check_both: Check) -> None:
    text = HEADER + "".join(
        f"u{i if i < 1000 else 'x' + str(i % 24)},i{i % 37},{T0 + i},view,web\n" for i in range(1100)
    )
    (problem,) = only(check_both(text, "interactions"))
    assert problem.field == "USER_ID" and problem.value == 24
    assert "24 users with 2+ interactions; training needs at least 25" in problem.message


def test_too_many_event_types_with_metadata(check_both: Check) -> None:
    text = HEADER + "".join(f"u{i % 60},i{i % 37},{T0 + i},e{i % 9},web\n" for i in range(1200))
    (problem,) = only(check_both(text, "interactions"))
    assert "9 distinct event types plus 2 optional metadata columns = 11" in problem.message


def test_blank_line_is_a_warning(check_both: Check) -> None:
    result = check_both(interactions(replace={20: "\n"}), "interactions")
    (problem,) = result.problems
    assert (problem.severity, problem.line, problem.message) == ("warning", 20, "blank line (skipped)")


def test_byte_order_mark(check_both: Check) -> None:
    (problem,) = check_both(b"\xef\xbb\xbf" + interactions().encode(), "interactions").problems
    assert problem.line == 1 and "byte order mark" in problem.message


def test_empty_file(check_both: Check) -> None:
    (problem,) = check_both("", "interactions").problems
    assert problem.line == 1 and "empty file; expected a header row: USER_ID,ITEM_ID" in problem.message


def test_items_bad_price_and_millisecond_creation(check_both: Check) -> None:
    header = "ITEM_ID,PRICE,CATEGORY_L1,STYLE,BRAND,CREATION_TIMESTAMP,DESCRIPTION\n"
    text = header + 'i1,"12,5",books,fiction,acme,1767225600,"A book, with a comma"\n'
    text += "i2,9.99,books,fiction,acme,1767225600000,\n"
    problems = only(check_both(text, "items"))
    assert [(p.line, p.field, p.value) for p in problems] == [
        (2, "PRICE", "12,5"),
        (3, "CREATION_TIMESTAMP", "1767225600000"),
    ]
    assert "not a number; expected float like 12.5" in problems[0].message
    assert "looks like epoch milliseconds" in problems[1].message


def test_users_nullable_and_required(check_both: Check) -> None:
    text = "USER_ID,AGE_GROUP,GENDER,MEMBERSHIP\nu1,25-34,,gold\nu2,,female,basic\n"
    (problem,) = only(check_both(text, "users"))
    assert (problem.line, problem.field) == (3, "AGE_GROUP") and "required" in problem.message


def test_duplicate_ids_warn(check_both: Check) -> None:
    text = "USER_ID,AGE_GROUP,GENDER,MEMBERSHIP\nu1,25-34,,gold\nu1,25-34,,gold\n"
    (problem,) = check_both(text, "users").problems
    assert problem.severity == "warning" and "1 rows repeat an USER_ID" in problem.message


CUSTOM: dict[str, Any] = {
    "type": "record",
    "name": "Interactions",
    "namespace": "com.amazonaws.personalize.schema",
    "fields": [
        {"name": "USER_ID", "type": "string"},
        {"name": "ITEM_ID", "type": "string"},
        {"name": "TIMESTAMP", "type": "long"},
        {"name": "EVENT_VALUE", "type": ["null", "float"]},
        {"name": "RETURNING", "type": "boolean"},
        {"name": "QUANTITY", "type": "int"},
    ],
}


def custom(replace: dict[int, str]) -> str:
    lines = ["USER_ID,ITEM_ID,TIMESTAMP,EVENT_VALUE,RETURNING,QUANTITY\n"]
    lines += [
        f"u{i % 40},i{i % 9},{T0 + i},{i % 5}.5,{'true' if i % 2 else 'false'},{i}\n" for i in range(1100)
    ]
    for number, line in replace.items():
        lines[number - 1] = line
    return "".join(lines)


@pytest.mark.parametrize(
    ("line", "field", "value", "expected"),
    [
        (f"u1,i1,{T0},nan,true,1\n", "EVENT_VALUE", "nan", "not a number; expected float"),
        (f"u1,i1,{T0},1.5,yes,1\n", "RETURNING", "yes", "not a boolean; expected true or false"),
        (f"u1,i1,{T0},1.5,true,3000000000\n", "QUANTITY", "3000000000", "out of range for int"),
        (f"u1,i1,{T0},1.5,true,1.0\n", "QUANTITY", "1.0", "not an integer; expected int"),
        (f"u1,i1,-{T0},1.5,true,1\n", None, None, None),  # negative long: allowed
    ],
)
def test_typed_columns(
    check_both: Check, line: str, field: str | None, value: str | None, expected: str | None
) -> None:
    result = check_both(custom({30: line}), "interactions", CUSTOM)
    errors = only(result)
    if expected is None:
        assert errors == []
        return
    (problem,) = errors
    assert (problem.line, problem.field, problem.value) == (30, field, value)
    assert expected in problem.message


def test_nullable_float_may_be_empty(check_both: Check) -> None:
    assert only(check_both(custom({30: f"u1,i1,{T0},,true,1\n"}), "interactions", CUSTOM)) == []


def test_problems_are_capped_per_kind_and_column(check_both: Check) -> None:
    replace = {n: "u1,i1,soon,view,web\n" for n in range(2, 22)}
    replace.update({n: f",i1,{T0},view,web\n" for n in range(30, 33)})
    result = check_both(interactions(replace=replace), "interactions", max_per_kind=3)
    assert [(p.line, p.field) for p in result.problems] == [
        (2, "TIMESTAMP"),
        (3, "TIMESTAMP"),
        (4, "TIMESTAMP"),
        (30, "USER_ID"),
        (31, "USER_ID"),
        (32, "USER_ID"),
        (None, "TIMESTAMP"),
    ]
    assert result.problems[-1].message.startswith("... and 17 more like this (not an integer")


def test_quoted_fields_across_small_blocks(monkeypatch: pytest.MonkeyPatch, check_both: Check) -> None:
    monkeypatch.setattr(core, "BLOCK_BYTES", 64)
    header = "ITEM_ID,PRICE,CATEGORY_L1,STYLE,BRAND,CREATION_TIMESTAMP,DESCRIPTION\n"
    rows = [f'i{i},1.5,books|toys,fiction,acme,{T0},"line one, still\nline two of {i}"\n' for i in range(40)]
    rows[25] = f"i25,1.5,books,fiction,acme,{T0 * 1000},\n"
    result = check_both(header + "".join(rows), "items")
    (problem,) = result.problems
    # 25 two-line records precede it: line 2 + 25 * 2.
    assert (problem.line, problem.field) == (52, "CREATION_TIMESTAMP")
    assert result.rows == 40 and result.stats.unique_items == 40


def test_crlf_line_endings_are_accepted(check_both: Check) -> None:
    result = check_both(interactions().replace("\n", "\r\n"), "interactions")
    assert result.problems == [] and result.rows == 1200


def test_no_trailing_newline(check_both: Check) -> None:
    result = check_both(interactions().rstrip("\n"), "interactions")
    assert result.problems == [] and result.rows == 1200


def test_fast_path_handles_the_shipped_data() -> None:
    """The shipped interactions take the fast path for every block (else speed silently regresses)."""
    calls: list[int] = []
    original = PythonBlocks.fast

    def spy(self: Any, block: bytes) -> int:
        calls.append(original(self, block))
        return calls[-1]

    PythonBlocks.fast = spy  # type: ignore[method-assign]
    try:
        result = check_csv(
            REPO_ROOT / "data" / "interactions.csv", _schema(), "interactions", file="interactions.csv"
        )
    finally:
        PythonBlocks.fast = original  # type: ignore[method-assign]
    assert result.problems == [] and calls and all(calls)


def test_million_rows_stream(tmp_path: Any) -> None:
    """A million-row file: right counts, and an error at the very end found with its line (not timed)."""
    path = tmp_path / "big.csv"
    block = "".join(f"u{i % 5000},i{i % 800},{T0 + i},view,ios\n" for i in range(100_000))
    with open(path, "w") as out:
        out.write(HEADER)
        for _ in range(10):
            out.write(block)
        out.write("u1,i1,1767225600123,view,ios\n")
    result = check_csv(path, _schema(), "interactions", file="big.csv")
    assert result.rows == 1_000_001
    (problem,) = result.problems
    assert (problem.line, problem.value) == (1_000_002, "1767225600123")
    assert result.stats.unique_users == 5000 and result.stats.users_with_2_plus == 5000


def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((REPO_ROOT / "data" / "schemas" / "interactions.json").read_text())
    return schema


def test_stream_source() -> None:
    result = check_csv(io.BytesIO(interactions().encode()), _schema(), "interactions", file="s3://b/k.csv")
    assert result.ok and result.rows == 1200


class _ReadOnly:
    """A stream like botocore's StreamingBody: read(n) only, returning short reads."""

    def __init__(self, data: bytes):
        self._buffer = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._buffer.read(min(size, 777) if size and size > 0 else size)


def test_read_only_stream_with_short_reads() -> None:
    text = interactions(replace={900: f"u1,i1,{T0 * 1000},view,web\n"})
    result = check_csv(_ReadOnly(text.encode()), _schema(), "interactions", file="s3://b/k.csv")  # type: ignore[arg-type]
    assert result.rows == 1200
    (problem,) = result.problems
    assert (problem.file, problem.line, problem.field) == ("s3://b/k.csv", 900, "TIMESTAMP")


def test_problem_codes_for_callers(check_both: Check) -> None:
    """The import job tells training-only rules apart by code, not by message text."""
    result = check_both(interactions(rows=999, users=999), "interactions")
    codes = {p.code for p in result.problems}
    assert codes == {"minimum", "minimum-users"}
    assert {p.code for p in result.problems if p.code in csvcheck.TRAINING_ONLY_CODES} == {"minimum-users"}


def test_unusable_schema_is_a_problem_not_a_crash() -> None:
    result = check_csv(io.BytesIO(interactions().encode()), {}, "interactions", file="x.csv")
    (problem,) = result.problems
    assert problem.file == "x.csv" and "cannot check the data: its schema is not usable" in problem.message
