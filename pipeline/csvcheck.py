"""Check a bulk-import CSV against its Personalize schema: streaming, bounded memory, all problems at once.

Speed: the file is read in blocks of whole lines. A block first goes through a fast path made of
whole-block and whole-column operations that run in C (bytes.translate, split, join, set/Counter
updates); it proves the block clean without a Python-level step per value. Any block the fast path
cannot prove clean (a quote, a carriage return, a wrong shape, a bad value) is checked again row by
row with the csv module, which finds and words each problem. Both paths apply the same rules; the
tests run every bad input through both.

Memory: one block (a few MB) at a time, plus the distinct user and item ids (bounded by cardinality,
not by the file's length), plus at most `max_per_kind` problems per kind.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal, Protocol

from pipeline.problems import Problem
from pipeline.schema import (
    ID_FIELDS,
    MAX_EVENT_TYPES_PLUS_METADATA,
    REQUIRED,
    Field,
    check_schema,
    fields_of,
)

#: Training minimums (limits page): interactions, and users with at least 2 interactions.
MIN_INTERACTIONS = 1000
MIN_USERS_WITH_2 = 25
#: Problem codes of rules that apply to training, not to an import job (the local import job skips them).
TRAINING_ONLY_CODES = frozenset({"minimum-users"})
#: Categorical values and impressions: at most 1000 characters (limits; *-dataset-requirements).
MAX_CATEGORICAL_CHARS = 1000
#: User and item ids: at most 256 characters (user-/item-dataset-requirements).
MAX_ID_CHARS = 256
#: Epoch seconds stay below 1e11 until the year 5138; 1e11..1e14 are milliseconds, above: micro/nano.
SECONDS_BELOW = 10**11
MILLIS_BELOW = 10**14
TIMESTAMP_FIELDS = frozenset({"TIMESTAMP", "CREATION_TIMESTAMP"})
INT_RANGE = {"int": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
BLOCK_BYTES = 2 << 20
#: Past this many bytes a file's blocks go through the numpy fast path (pipeline.csvfast), when numpy
#: is installed; smaller files never import it (synth on the sample data stays light).
NUMPY_AFTER_BYTES = 8 << 20
#: A local file at least this big is checked by two processes, each half (2+ cores, numpy installed).
PARALLEL_AFTER_BYTES = 256 << 20
SHOW_CHARS = 60

_INTEGER = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_BOOLEANS = frozenset({"true", "false"})
_BOOL_BYTES = frozenset({b"true", b"false", b"True", b"False", b"TRUE", b"FALSE"})
# translate tables: keep only separators; map digits to '0'.
_KEEP_SEPARATORS = bytes(b for b in range(256) if b not in b",\n")
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_FLOAT_CHARS = b"0123456789.+-eE,"


@dataclass
class CsvStats:
    """What the file holds: shown in the deploy summary and used for the training minimums."""

    rows: int = 0
    unique_users: int | None = None
    unique_items: int | None = None
    users_with_2_plus: int | None = None
    min_timestamp: int | None = None
    max_timestamp: int | None = None
    event_types: dict[str, int] = field(default_factory=dict)


@dataclass
class CsvResult:
    problems: list[Problem]
    rows: int
    stats: CsvStats
    #: Distinct ids seen (UTF-8 bytes), for the cross-dataset checks in pipeline.validate.
    user_ids: set[bytes] = field(default_factory=set, repr=False)
    item_ids: set[bytes] = field(default_factory=set, repr=False)
    #: Peak resident memory (kB) of the worker process that checked the second half of a big file.
    worker_peak_kb: int | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


class _Problems:
    """Problems capped per kind, with one "... and N more like this" line per capped kind."""

    def __init__(self, file: str, max_per_kind: int):
        self.file = file
        self.max = max_per_kind
        self.items: list[Problem] = []
        self.counts: Counter[tuple[str, str]] = Counter()
        self.example: dict[tuple[str, str], Problem] = {}

    def add(
        self,
        kind: str,
        line: int | None,
        column: str | None,
        value: Any,
        message: str,
        severity: Literal["error", "warning"] = "error",
    ) -> None:
        key = (column or "", kind)
        self.counts[key] += 1
        if isinstance(value, str) and len(value) > SHOW_CHARS:
            value = value[:SHOW_CHARS] + f"... ({len(value)} characters)"
        problem = Problem(self.file, line, column, value, message, severity, kind)
        if self.counts[key] <= self.max:
            self.items.append(problem)
            self.example.setdefault(key, problem)

    def finish(self) -> list[Problem]:
        out = list(self.items)
        for key, count in self.counts.items():
            if count > self.max:
                first = self.example[key]
                out.append(
                    Problem(
                        self.file,
                        None,
                        first.field,
                        None,
                        f"... and {count - self.max} more like this ({first.message})",
                        first.severity,
                        first.code,
                    )
                )
        return out


class _Checker:
    """The per-file state shared by the fast and the slow path."""

    def __init__(self, fields: list[Field], dataset_type: str, problems: _Problems):
        self.fields = fields
        self.n = len(fields)
        self.type = dataset_type
        self.p = problems
        self.shape = b"," * (self.n - 1) + b"\n"
        names = [f.name for f in fields]
        self.user_col = names.index("USER_ID") if "USER_ID" in names else None
        self.item_col = names.index("ITEM_ID") if "ITEM_ID" in names else None
        self.event_col = (
            names.index("EVENT_TYPE") if dataset_type == "interactions" and "EVENT_TYPE" in names else None
        )
        self.ts_col = next(
            (i for i, f in enumerate(fields) if f.name in TIMESTAMP_FIELDS and f.type == "long"), None
        )
        self.id_cols = {names.index(n) for n in ID_FIELDS.get(dataset_type, ()) if n in names}
        #: Per column, the most characters a value may have (None: no limit); the fast paths compare
        #: byte lengths against it and leave longer values to the slow path, which counts characters.
        self.limits: list[int | None] = [
            MAX_ID_CHARS if i in self.id_cols else MAX_CATEGORICAL_CHARS if _limited(f) else None
            for i, f in enumerate(fields)
        ]
        self.limited_cols = any(limit is not None for limit in self.limits)
        self.rows = 0
        self.user_counts: Counter[bytes] = Counter()
        self.item_ids: set[bytes] = set()
        self.user_ids: set[bytes] = set()
        self.events: Counter[bytes] = Counter()
        self.duplicates = 0
        self.ts_min: int | None = None
        self.ts_max: int | None = None

    # --- statistics, shared by both paths -------------------------------------------------------
    def _timestamps(self, lo: int, hi: int) -> None:
        self.ts_min = lo if self.ts_min is None else min(self.ts_min, lo)
        self.ts_max = hi if self.ts_max is None else max(self.ts_max, hi)

    def _ids(self, users: list[bytes] | None, items: list[bytes] | None, events: list[bytes] | None) -> None:
        if self.type == "interactions":
            if users is not None:
                self.user_counts.update(users)
            if items is not None:
                self.item_ids.update(items)
            if events is not None:
                _count_few(events, self.events)
        else:
            ids = users if self.type == "users" else items
            target = self.user_ids if self.type == "users" else self.item_ids
            if ids:
                before = len(target)
                target.update(ids)
                self.duplicates += len(ids) - (len(target) - before)

    # --- fast path ---------------------------------------------------------------------------------
    def fast(self, block: bytes) -> bool:
        """Prove a block of whole lines clean with whole-block operations; False: check it row by row."""
        if b'"' in block or b"\r" in block:
            return False
        if not block.isascii():
            try:
                block.decode("utf-8")
            except UnicodeDecodeError:
                return False
        rows = block.count(b"\n")
        if block.translate(None, _KEEP_SEPARATORS) != self.shape * rows:
            return False
        # Lengths: no line longer than the smallest limit means no field over any limit.
        long_lines = self.limited_cols and max(map(len, block.split(b"\n"))) > MAX_ID_CHARS
        values = block.replace(b"\n", b",").split(b",")
        del values[-1]
        columns = [values[k :: self.n] for k in range(self.n)]
        ts_range: tuple[int, int] | None = None
        # Empty values: `,,` anywhere, a line starting with `,` or ending with `,`. Without the first
        # two only the last column can hold empties, so only it is scanned.
        inner_empty = b",," in block or b"\n," in block or block.startswith(b",")
        last_empty = inner_empty or b",\n" in block
        last = self.n - 1
        for index, (spec, column) in enumerate(zip(self.fields, columns, strict=True)):
            if (inner_empty or (index == last and last_empty)) and b"" in column:
                if not spec.nullable:
                    return False
                if spec.type != "string":
                    column = [v for v in column if v]
                    if not column:
                        continue
            if spec.type == "string":
                limit = self.limits[index]
                if limit is not None and long_lines and max(map(len, column)) > limit:
                    return False  # bytes > limit; the slow path counts characters
            elif spec.type in ("int", "long"):
                found = self._fast_integers(column, spec, index == self.ts_col)
                if found is False:
                    return False
                if index == self.ts_col and isinstance(found, tuple):
                    ts_range = found
            elif not _fast_values(spec.type, column):
                return False
        # Clean: record statistics.
        self.rows += rows
        if ts_range is not None:
            self._timestamps(*ts_range)
        self._ids(
            columns[self.user_col] if self.user_col is not None else None,
            columns[self.item_col] if self.item_col is not None else None,
            columns[self.event_col] if self.event_col is not None else None,
        )
        return True

    @staticmethod
    def _fast_integers(column: list[bytes], spec: Field, is_timestamp: bool) -> bool | tuple[int, int]:
        width = len(column[0])
        joined = b",".join(column)
        if width <= 11 and joined.translate(_DIGITS_TO_ZERO) == ((b"0" * width + b",") * len(column))[:-1]:
            # All non-negative, all the same width: bytes order is numeric order.
            if spec.type == "int" and width > 9:
                return False
            if is_timestamp:
                return int(min(column)), int(max(column))
            return True
        if joined.translate(None, b"0123456789,"):
            return False  # signs or junk: the slow path words it
        numbers = list(map(int, column))
        lo, hi = min(numbers), max(numbers)
        low, high = INT_RANGE[spec.type]
        if hi > high or lo < low:
            return False
        if is_timestamp:
            if hi >= SECONDS_BELOW:
                return False
            return lo, hi
        return True

    # --- slow path ---------------------------------------------------------------------------------
    def slow(self, block: bytes, first_line: int) -> None:
        """Check a block row by row, wording every problem with its line, column and value."""
        texts: list[str] = []
        for offset, raw in enumerate(block.split(b"\n")[:-1]):
            try:
                texts.append(raw.decode("utf-8"))
            except UnicodeDecodeError as error:
                self.p.add(
                    "utf8",
                    first_line + offset,
                    None,
                    raw[max(0, error.start - 10) : error.end + 10],
                    f"not valid UTF-8 (byte 0x{raw[error.start]:02x} at position {error.start + 1}); "
                    "expected a UTF-8 encoded file",
                )
                texts.append(raw.decode("utf-8", errors="replace"))
        reader = csv.reader(texts, strict=True)
        previous = 0
        users: list[bytes] = []
        items: list[bytes] = []
        events: list[bytes] = []
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as error:
                line = first_line + reader.line_num - 1
                self.p.add(
                    "csv",
                    line,
                    None,
                    texts[reader.line_num - 1] if reader.line_num else None,
                    f"malformed CSV: {error}",
                )
                previous = reader.line_num
                continue
            line = first_line + previous
            previous = reader.line_num
            if not row:
                self.p.add("blank", line, None, None, "blank line (skipped)", "warning")
                continue
            self.rows += 1
            if len(row) != self.n:
                self.p.add(
                    "shape",
                    line,
                    None,
                    ",".join(row),
                    f"{len(row)} columns; expected {self.n} ({', '.join(f.name for f in self.fields)})",
                )
                continue
            for index, (spec, value) in enumerate(zip(self.fields, row, strict=True)):
                self._value(spec, index, value, line)
            if self.user_col is not None:
                users.append(row[self.user_col].encode())
            if self.item_col is not None:
                items.append(row[self.item_col].encode())
            if self.event_col is not None:
                events.append(row[self.event_col].encode())
        self._ids(
            users if self.user_col is not None else None,
            items if self.item_col is not None else None,
            events if self.event_col is not None else None,
        )

    def _value(self, spec: Field, index: int, value: str, line: int) -> None:
        add = self.p.add
        name = spec.name
        if value == "":
            if not spec.nullable:
                add("empty", line, name, "", f"empty value; {name} is required ({spec.type}, not nullable)")
            return
        if spec.type == "string":
            if index in self.id_cols and len(value) > MAX_ID_CHARS:
                add(
                    "long-id", line, name, value, f"{len(value)} characters; an id has at most {MAX_ID_CHARS}"
                )
            elif _limited(spec) and len(value) > MAX_CATEGORICAL_CHARS:
                add(
                    "long-categorical",
                    line,
                    name,
                    value,
                    f"{len(value)} characters; a categorical value has at most {MAX_CATEGORICAL_CHARS}",
                )
            return
        if spec.type in ("int", "long"):
            if not _INTEGER.match(value):
                hint = "; timestamps are whole epoch seconds" if name in TIMESTAMP_FIELDS else ""
                add("type", line, name, value, f"not an integer; expected {spec.type}{hint}")
                return
            number = int(value)
            low, high = INT_RANGE[spec.type]
            if not low <= number <= high:
                add("range", line, name, value, f"out of range for {spec.type} ({low}..{high})")
            elif index == self.ts_col:
                if number >= MILLIS_BELOW:
                    add(
                        "micros",
                        line,
                        name,
                        value,
                        "looks like epoch microseconds or nanoseconds; expected epoch seconds",
                    )
                elif number >= SECONDS_BELOW:
                    add(
                        "millis",
                        line,
                        name,
                        value,
                        "looks like epoch milliseconds; divide by 1000: expected epoch seconds",
                    )
                else:
                    self._timestamps(number, number)
            return
        if spec.type in ("float", "double"):
            if not _FLOAT.match(value):
                add("type", line, name, value, f"not a number; expected {spec.type} like 12.5")
            return
        if spec.type == "boolean" and value.lower() not in _BOOLEANS:
            add("type", line, name, value, "not a boolean; expected true or false")

    # --- whole-file checks -------------------------------------------------------------------------
    def stats(self) -> CsvStats:
        stats = CsvStats(rows=self.rows, min_timestamp=self.ts_min, max_timestamp=self.ts_max)
        if self.type == "interactions":
            stats.unique_users = len(self.user_counts) if self.user_col is not None else None
            stats.unique_items = len(self.item_ids) if self.item_col is not None else None
            if self.user_col is not None:
                stats.users_with_2_plus = sum(1 for count in self.user_counts.values() if count >= 2)
            stats.event_types = {k.decode(errors="replace"): v for k, v in sorted(self.events.items())}
        elif self.type == "users":
            stats.unique_users = len(self.user_ids)
        else:
            stats.unique_items = len(self.item_ids)
        return stats

    def finish(self, optional_metadata: int) -> CsvStats:
        stats = self.stats()
        add = self.p.add
        if self.type == "interactions":
            if stats.rows < MIN_INTERACTIONS:
                add(
                    "minimum",
                    None,
                    None,
                    stats.rows,
                    f"{stats.rows} interactions; training needs at least {MIN_INTERACTIONS}",
                )
            if stats.users_with_2_plus is not None and stats.users_with_2_plus < MIN_USERS_WITH_2:
                add(
                    "minimum-users",
                    None,
                    "USER_ID",
                    stats.users_with_2_plus,
                    f"{stats.users_with_2_plus} users with 2+ interactions; training needs at least "
                    f"{MIN_USERS_WITH_2}",
                )
            combined = len(stats.event_types) + optional_metadata
            if combined > MAX_EVENT_TYPES_PLUS_METADATA:
                add(
                    "event-types",
                    None,
                    "EVENT_TYPE",
                    sorted(stats.event_types),
                    f"{len(stats.event_types)} distinct event types plus {optional_metadata} optional "
                    "metadata "
                    f"columns = {combined}; Personalize allows at most {MAX_EVENT_TYPES_PLUS_METADATA}",
                )
        elif self.duplicates:
            id_name = "USER_ID" if self.type == "users" else "ITEM_ID"
            add(
                "duplicate-ids",
                None,
                id_name,
                self.duplicates,
                f"{self.duplicates} rows repeat an {id_name} already seen; expected one row per id "
                "(Personalize keeps only one of them)",
                "warning",
            )
        return stats


def _fast_values(kind: str, column: list[bytes]) -> bool:
    """A float, double or boolean column's values all valid (shared by both fast paths)."""
    if kind in ("float", "double"):
        if b",".join(column).translate(None, _FLOAT_CHARS):
            return False
        try:
            return all(_FLOAT.match(value.decode()) for value in column)
        except UnicodeDecodeError:
            return False
    return set(column) <= _BOOL_BYTES


def _count_few(values: list[bytes], counts: Counter[bytes], most: int = 32) -> None:
    """Count a column with few distinct values (event types) by whole-column byte searches instead
    of hashing every value; falls back to a Counter when there are many distinct values."""
    rest = b"\n\n".join(values)
    rest = b"\n" + rest + b"\n"
    for _ in range(most):
        if len(rest) <= 1:
            return
        end = rest.index(b"\n", 1)
        token = rest[: end + 1]  # b"\n<value>\n"
        found = rest.count(token)
        counts[token[1:-1]] += found
        rest = rest.replace(token, b"")
        if not rest:
            return
        if not rest.startswith(b"\n"):
            rest = b"\n" + rest
    counts.update(v for v in rest.split(b"\n") if v)


def _limited(spec: Field) -> bool:
    """Categorical values and impressions are capped at 1000 characters."""
    return spec.categorical or spec.name == "IMPRESSION"


class Reader(Protocol):
    """What the checker reads from: read(n) only (a file, an S3 body, a byte range of a file)."""

    def read(self, size: int = -1, /) -> bytes: ...


def _blocks(stream: Reader, first: bytes) -> Any:
    """Blocks of whole lines (ending in a newline), with quoted fields never split across blocks."""
    carry = first
    while True:
        chunk = stream.read(BLOCK_BYTES)
        data = carry + chunk if carry else chunk
        if not chunk:
            if data:
                yield data if data.endswith(b"\n") else data + b"\n"
            return
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            carry = data
            continue
        block, carry = data[:cut], data[cut:]
        if b'"' in block and block.count(b'"') % 2:
            # An open quote: the record goes on past this block; read on until quotes balance.
            carry = block + carry
            continue
        yield block


class _Scan:
    """Runs blocks through the fast path (pure Python, or numpy past NUMPY_AFTER_BYTES) and the
    row-by-row path for blocks the fast path cannot prove clean; keeps the line number."""

    def __init__(self, checker: _Checker):
        self.checker = checker
        self.line = 2
        self.seen = 0
        self.quotes = False
        self.engine: Any = None  # None: not decided yet; False: pure Python; else csvfast.NumpyBlocks
        self.worker_peak_kb: int | None = None

    def run(self, blocks: Any) -> None:
        checker = self.checker
        for block in blocks:
            self.quotes = self.quotes or b'"' in block
            if self.engine is None and self.seen >= NUMPY_AFTER_BYTES:
                self.engine = _numpy_blocks(checker)
            if self.engine:
                lines = self.engine.fast(block)
                if not lines:
                    checker.slow(block, self.line)
                    lines = block.count(b"\n")
            else:
                if not checker.fast(block):
                    checker.slow(block, self.line)
                lines = block.count(b"\n")
            self.line += lines
            self.seen += len(block)

    def merge_worker(self, path: Path, result: dict[str, Any]) -> None:
        """A worker's part, in file order after this process's: its clean blocks' statistics, then the
        row-by-row path here for each block it could not prove clean (so problems keep their order)."""
        from pipeline import csvfast

        if not self.engine:
            self.engine = csvfast.NumpyBlocks(self.checker)
        csvfast.merge(self.engine, result)
        with open(path, "rb") as stream:
            for offset, size, line in result["failed"]:
                stream.seek(offset)
                block = stream.read(size)
                if not block.endswith(b"\n"):
                    block += b"\n"  # the file's last line without its newline, as _blocks gives it
                self.checker.slow(block, self.line + line)
        self.line += result["lines"]
        self.worker_peak_kb = result["peak_kb"]


def _start_worker(
    path: Path | None, body_start: int, schema: dict[str, Any], dataset_type: str
) -> tuple[Any, int]:
    """For a big local file on a machine with 2+ cores: a worker process for its second half."""
    if path is None or (os.cpu_count() or 1) < 2:
        return None, 0
    size = path.stat().st_size
    if size < PARALLEL_AFTER_BYTES or size - body_start < 2:
        return None, 0
    try:
        from pipeline import csvfast
    except ImportError:
        return None, 0
    middle = csvfast.split_point(path, body_start + (size - body_start) // 2)
    if middle is None or middle >= size:
        return None, 0
    return csvfast.start_worker(path, middle, size, schema, dataset_type), middle


def _numpy_blocks(checker: _Checker) -> Any:
    """The numpy fast path for a big file, or False when numpy is not installed."""
    try:
        from pipeline.csvfast import NumpyBlocks
    except ImportError:
        return False
    return NumpyBlocks(checker)


def _first_line(stream: BinaryIO) -> tuple[bytes, bytes]:
    """The header line and what was read past it, with read() only (S3 bodies have no readline)."""
    data = b""
    while True:
        chunk = stream.read(64 * 1024)
        data += chunk
        end = data.find(b"\n")
        if end >= 0:
            return data[: end + 1], data[end + 1 :]
        if not chunk:
            return data, b""


def check_csv(
    source: Path | BinaryIO,
    schema: dict[str, Any],
    dataset_type: str,
    *,
    file: str,
    max_per_kind: int = 5,
) -> CsvResult:
    """Check a CSV file (path or binary stream) against its schema; a schema check_schema rejects
    is one problem (the data cannot be checked), not a crash."""
    if isinstance(source, (str, Path)):
        with open(source, "rb") as stream:
            return _check_stream(stream, schema, dataset_type, file, max_per_kind, Path(source))
    return _check_stream(source, schema, dataset_type, file, max_per_kind, None)


def _check_stream(
    source: BinaryIO,
    schema: dict[str, Any],
    dataset_type: str,
    file: str,
    max_per_kind: int,
    path: Path | None,
) -> CsvResult:
    problems = _Problems(file, max_per_kind)
    schema_problems = [p for p in check_schema(schema, dataset_type, "schema") if p.severity == "error"]
    if schema_problems:
        problems.add(
            "schema",
            None,
            None,
            None,
            f"cannot check the data: its schema is not usable "
            f"({'; '.join(str(p) for p in schema_problems[:3])})",
        )
        return CsvResult(problems.finish(), 0, CsvStats())
    fields = fields_of(schema)
    checker = _Checker(fields, dataset_type, problems)
    header_raw, rest = _first_line(source)
    body_start = len(header_raw)
    if not header_raw.strip():
        problems.add(
            "header", 1, None, None, f"empty file; expected a header row: {','.join(f.name for f in fields)}"
        )
        return CsvResult(problems.finish(), 0, CsvStats())
    if header_raw.startswith(b"\xef\xbb\xbf"):
        problems.add("bom", 1, None, None, "starts with a UTF-8 byte order mark; save the file without it")
        header_raw = header_raw[3:]
    try:
        header_text = header_raw.decode("utf-8")
    except UnicodeDecodeError:
        problems.add("utf8", 1, None, None, "header is not valid UTF-8; expected a UTF-8 encoded file")
        return CsvResult(problems.finish(), 0, CsvStats())
    header = next(csv.reader(io.StringIO(header_text)), [])
    expected = [f.name for f in fields]
    if header != expected:
        missing = [n for n in expected if n not in header]
        extra = [n for n in header if n not in expected]
        detail = []
        if missing:
            detail.append(f"missing {missing}")
        if extra:
            detail.append(f"not in the schema {extra}")
        if not detail:
            detail.append("same names, different order")
        problems.add(
            "header",
            1,
            None,
            ",".join(header),
            f"header must equal the schema's field names in order: {','.join(expected)} "
            f"({'; '.join(detail)})",
        )
        return CsvResult(problems.finish(), 0, CsvStats())
    scan = _Scan(checker)
    if path is not None and path.stat().st_size >= NUMPY_AFTER_BYTES:
        scan.engine = _numpy_blocks(checker)  # known to be big: numpy from the first block
    worker, middle = _start_worker(path, body_start, schema, dataset_type)
    if worker is None or path is None:
        scan.run(_blocks(source, rest))
    else:
        from pipeline import csvfast

        main = csvfast.Limited(path, body_start, middle)
        try:
            scan.run(_blocks(main, b""))
        except BaseException:
            worker.kill()  # interrupted or failed here: leave no process behind
            worker.wait()
            raise
        finally:
            main.close()
        result = csvfast.worker_result(worker)
        if result is None or scan.quotes:
            # The worker failed, or a quoted field may span the split: check the second part here.
            rest_part = csvfast.Limited(path, middle, path.stat().st_size)
            try:
                scan.run(_blocks(rest_part, b""))
            finally:
                rest_part.close()
        else:
            scan.merge_worker(path, result)
    if scan.engine:
        scan.engine.finish()
    optional = (
        sum(1 for f in fields if f.name not in REQUIRED["interactions"])
        if dataset_type == "interactions"
        else 0
    )
    stats = checker.finish(optional)
    user_ids = set(checker.user_counts) if dataset_type == "interactions" else checker.user_ids
    return CsvResult(problems.finish(), stats.rows, stats, user_ids, checker.item_ids, scan.worker_peak_kb)
