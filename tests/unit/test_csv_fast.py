"""Differential tests of the big-file paths (pipeline.csvcheck.fast_numpy and .worker): the numpy fast
path and the two-process split must report exactly what the row-by-row path reports (same problems,
same order, same wording, same statistics and ids) on files with corrupted blocks among clean ones."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from pipeline.csvcheck import CsvResult, check, check_csv, core, fast_numpy, worker
from pipeline.csvcheck.fast import PythonBlocks
from pipeline.naming import REPO_ROOT
from tests.unit.helpers import assert_same, shipped_schema

T0 = 1767225600
HEADER = b"USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,DEVICE\n"
ROWS = 60_000
MODES = ("python", "numpy", "parallel")


def lines(rows: int = ROWS) -> list[bytes]:
    """Clean interactions lines (header first); ids of many lengths, empty DEVICE now and then."""
    out = [HEADER]
    for i in range(rows):
        user = f"u{i % 997}" + "x" * (i % 13)  # 2-16 bytes: one- and two-word keys
        device = ("web", "ios", "", "android")[i % 4]
        event = ("view", "click", "purchase")[i % 3]
        out.append(f"{user},i{i % 331},{T0 + i},{event},{device}\n".encode())
    return out


def run(path: Path, mode: str, schema: dict[str, Any], dataset_type: str = "interactions") -> CsvResult:
    """check_csv on a file: "exact" (row by row only), "python", "numpy" (every block), "parallel"
    (numpy, second half in a worker process). Small blocks, so a file holds clean and bad blocks."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(core, "BLOCK_BYTES", 64 << 10)
        patch.setattr(check, "NUMPY_AFTER_BYTES", 0 if mode in ("numpy", "parallel") else 1 << 62)
        patch.setattr(check, "PARALLEL_AFTER_BYTES", 0 if mode == "parallel" else 1 << 62)
        if mode == "exact":
            patch.setattr(PythonBlocks, "fast", lambda self, block: 0)
        return check_csv(path, schema, dataset_type, file="big.csv")


def agree(path: Path, schema: dict[str, Any] | None = None, dataset_type: str = "interactions") -> CsvResult:
    schema = schema or shipped_schema(dataset_type)
    exact = run(path, "exact", schema, dataset_type)
    for mode in MODES:
        assert_same(run(path, mode, schema, dataset_type), exact)
    return exact


def write(tmp_path: Path, content: list[bytes], name: str = "big.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(b"".join(content))
    return path


def test_clean_file_takes_the_fast_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, lines())
    calls: list[int] = []
    original = fast_numpy.NumpyBlocks.fast

    def spy(self: Any, block: bytes) -> int:
        calls.append(original(self, block))
        return calls[-1]

    merged: list[dict[str, Any]] = []
    original_merge = worker.merge

    def merge_spy(into: Any, result: dict[str, Any]) -> None:
        merged.append(result)
        original_merge(into, result)

    monkeypatch.setattr(fast_numpy.NumpyBlocks, "fast", spy)
    monkeypatch.setattr(worker, "merge", merge_spy)
    result = agree(path)
    assert result.problems == [] and result.rows == ROWS
    assert result.stats.unique_users == 997 * 13 and result.stats.unique_items == 331
    assert calls and all(calls)  # numpy (this process's part) proved every block clean
    (part,) = merged  # the parallel run used the worker's half
    assert part["failed"] == [] and 0 < part["rows"] < ROWS


@pytest.mark.parametrize(
    ("where", "line", "kind"),
    [
        ("middle", b"u1,i1,soon,view,web\n", "type"),
        ("middle", f"u1,i1,{T0 * 1000},view,web\n".encode(), "millis"),
        ("middle", f"u1,i1,{T0 * 1_000_000},view,web\n".encode(), "micros"),
        ("middle", f",i1,{T0},view,web\n".encode(), "empty"),
        ("middle", f"u1,,{T0},view,web\n".encode(), "empty"),
        ("middle", b"u1,i1,,view,web\n", "empty"),
        ("middle", f"u1,i\xff\xfe1,{T0},view,web\n".encode("latin-1"), "utf8"),
        ("middle", f"u1,i1,{T0},view,web,extra\n".encode(), "shape"),
        ("middle", f"u1,i1,{T0},view\n".encode(), "shape"),
        ("middle", f"u1,i1,+{T0},view,web\n".encode(), None),  # a sign is fine, just not fast
        ("middle", f"u1,i1,-{T0},view,web\n".encode(), None),
        ("middle", f"u1,i1,00{T0},view,web\n".encode(), None),  # leading zeros: still seconds
        ("middle", f"u1,i1,{T0}.5,view,web\n".encode(), "type"),
        ("middle", b"u1,i1,12345678901234567,view,web\n", "micros"),  # 17 digits
        ("middle", b"u1,i1,99999999999999999999,view,web\n", "range"),
        ("middle", ("u" + "\u00e9" * 300 + f",i1,{T0},view,web\n").encode(), "long-id"),
        ("middle", ("u" + "\u00e9" * 200 + f",i1,{T0},view,web\n").encode(), None),  # 401 bytes, 201 chars
        ("middle", ("u1,i1," + f"{T0},view," + "d" * 1001 + "\n").encode(), "long-categorical"),
        ("middle", f'"u1",i1,{T0},view,web\n'.encode(), None),  # quoted: fine
        ("middle", f"u1,i1,{T0},view,web\r\n".encode(), None),
        ("middle", b"\n", "blank"),
        ("middle", f"u1,i1,{T0},view,smart tv\n".encode(), None),  # a space: separators found apart
        ("middle", f"u1,i1,{T0},view,smart tv,x\n".encode(), "shape"),
        ("first", b"u1,i1,soon,view,web\n", "type"),
        ("last", b"u1,i1,soon,view,web", "type"),  # no newline at the end
    ],
)
def test_one_bad_line(tmp_path: Path, where: str, line: bytes, kind: str | None) -> None:
    content = lines()
    number = {"first": 1, "middle": ROWS // 2 + 7, "last": ROWS}[where]
    content[number] = line
    result = agree(write(tmp_path, content))
    errors = [p for p in result.problems if p.code == kind]
    if kind is None:
        assert [p for p in result.problems if p.severity == "error"] == []
    else:
        assert errors and errors[0].line == number + 1


def test_many_problems_in_both_halves_keep_file_order_and_caps(tmp_path: Path) -> None:
    content = lines()
    for number in range(100, ROWS, 2500):  # millis all over the file, in both processes' parts
        content[number] = f"u{number},i1,{(T0 + number) * 1000},view,web\n".encode()
    for number in (ROWS - 50, 300, ROWS // 2 + 1):
        content[number] = f"u1,i1,{T0},view,web,extra\n".encode()
    content[ROWS - 10] = b"u1,\xc3\x28,1,view,web\n"
    result = agree(write(tmp_path, content))
    millis = [p for p in result.problems if p.code == "millis"]
    assert [p.line for p in millis[:5]] == [101, 2601, 5101, 7601, 10101]
    assert millis[-1].message.startswith("... and 19 more like this")
    assert [p.line for p in result.problems if p.code == "shape"] == [301, ROWS // 2 + 2, ROWS - 49]


def test_quoted_record_across_the_split_falls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A quoted field holding newlines anywhere in the first part: the split point may be inside it,
    so the second part is checked by this process after all (same results)."""
    schema = shipped_schema("items")
    header = b"ITEM_ID,PRICE,CATEGORY_L1,STYLE,BRAND,CREATION_TIMESTAMP,DESCRIPTION\n"
    rows = [f'i{i},1.5,books|toys,fiction,acme,{T0},"one, two\nthree {i}"\n'.encode() for i in range(20_000)]
    rows[15_000] = f"i15000,1.5,books,fiction,acme,{T0 * 1000},x\n".encode()
    monkeypatch.setattr(worker, "merge", lambda into, result: pytest.fail("worker's part used"))
    result = agree(write(tmp_path, [header, *rows]), schema, "items")
    (problem,) = result.problems
    assert (problem.line, problem.code) == (2 + 15_000 * 2, "millis")


def test_worker_failure_is_covered_by_this_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    content = lines()
    content[ROWS - 3] = b"u1,i1,soon,view,web\n"
    path = write(tmp_path, content)
    exact = run(path, "exact", shipped_schema("interactions"))
    monkeypatch.setattr(worker, "worker_result", lambda process: (process.wait(), None)[1])
    assert_same(run(path, "parallel", shipped_schema("interactions")), exact)


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
        {"name": "QUANTITY", "type": ["null", "int"]},
    ],
}


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("2147483647", None),
        ("2147483648", "range"),
        ("0000000000000002147483647", None),  # 25 digits, in range
        ("", None),  # nullable
        ("1e3", "type"),
        ("9" * 16, "range"),
    ],
)
def test_int_column_edges(tmp_path: Path, value: str, kind: str | None) -> None:
    content = [b"USER_ID,ITEM_ID,TIMESTAMP,EVENT_VALUE,RETURNING,QUANTITY\n"]
    content += [
        f"u{i % 40},i{i % 9},{T0 + i},{'' if i % 7 == 0 else f'{i % 5}.5'},{'true' if i % 2 else 'false'},"
        f"{i * 33}\n".encode()
        for i in range(30_000)
    ]
    content[20_000] = f"u1,i1,{T0},2.5,true,{value}\n".encode()
    result = agree(write(tmp_path, content), CUSTOM)
    assert [p.code for p in result.problems if p.severity == "error"] == ([kind] if kind else [])


def test_users_duplicates_counted_across_engines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Repeated ids in a users file, with the switch to numpy in the middle of the stream: ids first
    seen by the pure-Python path and repeated in numpy blocks count as duplicates once each."""
    calls: list[int] = []
    original = fast_numpy.NumpyBlocks.fast

    def spy(self: Any, block: bytes) -> int:
        calls.append(original(self, block))
        return calls[-1]

    monkeypatch.setattr(fast_numpy.NumpyBlocks, "fast", spy)
    header = b"USER_ID,AGE_GROUP,GENDER,MEMBERSHIP\n"
    schema = shipped_schema("users")
    rows = [f"u{i % 20_000},25-34,{'' if i % 3 else 'f'},gold\n".encode() for i in range(50_000)]
    path = write(tmp_path, [header, *rows])
    exact = run(path, "exact", schema, "users")
    monkeypatch.setattr(core, "BLOCK_BYTES", 64 << 10)
    monkeypatch.setattr(check, "NUMPY_AFTER_BYTES", 300 << 10)
    # A stream (size unknown up front): pure Python for the first 300 KB, numpy after.
    mixed = check_csv(io.BytesIO(path.read_bytes()), schema, "users", file="big.csv")
    assert_same(mixed, exact)
    assert calls and all(calls) and len(calls) < len(range(0, path.stat().st_size, 64 << 10))
    (warning,) = exact.problems
    assert warning.code == "duplicate-ids" and warning.value == 30_000


def test_without_numpy_the_python_fast_path_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    content = lines()
    content[ROWS // 2] = b"u1,i1,soon,view,web\n"
    path = write(tmp_path, content)
    exact = run(path, "exact", shipped_schema("interactions"))
    monkeypatch.setitem(__import__("sys").modules, "pipeline.csvcheck.fast_numpy", None)  # import fails
    assert_same(run(path, "parallel", shipped_schema("interactions")), exact)


def test_ids_equal_only_when_bytes_equal(tmp_path: Path) -> None:
    """Exact id keys: values differing only by trailing NULs, by length, or past the 8th byte stay
    distinct; the same value in blocks of different key widths counts once, with its total."""
    content = lines(30_000)
    odd = [b"ab", b"ab\x00", b"ab\x00\x00", b"abcdefgh", b"abcdefgh\x00", b"abcdefghi", b"x" * 40, b"x" * 39]
    odd += [b"\xc3\xa9" * n for n in range(1, 30)]  # non-ASCII, 2..58 bytes
    for i, user in enumerate(odd):
        for copy in range(3):  # in blocks whose longest id differs
            number = 1 + i * 7 + copy * 9_000
            content[number] = user + f",i{i},{T0 + i},view,web\n".encode()
    result = agree(write(tmp_path, content))
    assert result.problems == []
    assert set(odd) <= result.user_ids


def test_unique_rows_matches_python() -> None:
    """The ranking fold of _unique_rows against a plain Counter over tuples (wide keys, weights)."""
    import numpy as np

    rng = np.random.default_rng(3)
    keys = rng.integers(0, 4, size=(5_000, 4)).astype(np.uint64) << np.uint64(61)
    weights = rng.integers(1, 9, size=5_000)
    rows, counts = fast_numpy._unique_rows(keys, weights)
    expected: dict[tuple[int, ...], int] = {}
    for row, weight in zip(keys.tolist(), weights.tolist(), strict=True):
        expected[tuple(row)] = expected.get(tuple(row), 0) + weight
    assert dict(zip(map(tuple, rows.tolist()), counts.tolist(), strict=True)) == expected


def test_worker_is_stopped_when_this_process_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, lines())
    started: list[Any] = []
    original = worker.start_worker

    def spy(*args: Any) -> Any:
        started.append(original(*args))
        return started[-1]

    def boom(self: Any, block: bytes) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(worker, "start_worker", spy)
    monkeypatch.setattr(fast_numpy.NumpyBlocks, "fast", boom)
    with pytest.raises(KeyboardInterrupt):
        run(path, "parallel", shipped_schema("interactions"))
    (process,) = started
    assert process.returncode is not None  # killed and reaped, not left running


def test_shipped_data_does_not_import_numpy() -> None:
    """Synth validates the shipped data on every run: numpy stays out of that import time."""
    import subprocess
    import sys

    code = (
        "import sys; from pipeline.config import load_config; from pipeline.naming import REPO_ROOT; "
        "from pipeline.validate import validate; assert validate(load_config('dev'), REPO_ROOT).ok; "
        "print('numpy' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "False"
