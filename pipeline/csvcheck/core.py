"""What the exact and the fast paths share: the rules' limits, the per-file state they record into,
the capped problem list, the reader of whole-line blocks, and the result.

Every path records into one `Checker`: the row-by-row path (exact) value by value, the fast paths
(fast, fast_numpy) a whole clean block at a time. So statistics, ids and problems come out the same
whichever path read a block.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from pipeline.problems import Problem
from pipeline.schema import ID_FIELDS, MAX_EVENT_TYPES_PLUS_METADATA, Field

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
#: How much is read at a time; a block is this plus the rest of its last line.
BLOCK_BYTES = 2 << 20
#: Values longer than this are shown cut short in a problem.
SHOW_CHARS = 60

FLOAT = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_BOOL_BYTES = frozenset({b"true", b"false", b"True", b"False", b"TRUE", b"FALSE"})
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
    #: Distinct ids seen (UTF-8 bytes), for the cross-dataset checks in pipeline.datafiles.
    user_ids: set[bytes] = field(default_factory=set, repr=False)
    item_ids: set[bytes] = field(default_factory=set, repr=False)
    #: Peak resident memory (kB) of the worker process that checked the second half of a big file.
    worker_peak_kb: int | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


class Problems:
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


class Checker:
    """One file's state, shared by every path: the schema's columns and their limits, the
    statistics and ids so far, and the problems."""

    def __init__(self, fields: list[Field], dataset_type: str, problems: Problems):
        self.fields = fields
        self.n = len(fields)
        self.type = dataset_type
        self.p = problems
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
        #: byte lengths against it and leave longer values to the exact path, which counts characters.
        self.limits: list[int | None] = [
            MAX_ID_CHARS if i in self.id_cols else MAX_CATEGORICAL_CHARS if limited(f) else None
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

    def timestamps(self, lo: int, hi: int) -> None:
        """Widen the time span seen by a block's (or a value's) lowest and highest timestamp."""
        self.ts_min = lo if self.ts_min is None else min(self.ts_min, lo)
        self.ts_max = hi if self.ts_max is None else max(self.ts_max, hi)

    def ids(self, users: list[bytes] | None, items: list[bytes] | None, events: list[bytes] | None) -> None:
        """Count a block's ids and event types (a column is None when the schema has none)."""
        if self.type == "interactions":
            if users is not None:
                self.user_counts.update(users)
            if items is not None:
                self.item_ids.update(items)
            if events is not None:
                count_few(events, self.events)
        else:
            ids = users if self.type == "users" else items
            target = self.user_ids if self.type == "users" else self.item_ids
            if ids:
                before = len(target)
                target.update(ids)
                self.duplicates += len(ids) - (len(target) - before)

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


def fast_values(kind: str, column: list[bytes]) -> bool:
    """A float, double or boolean column's values all valid (both fast paths use it)."""
    if kind in ("float", "double"):
        if b",".join(column).translate(None, _FLOAT_CHARS):
            return False
        try:
            return all(FLOAT.match(value.decode()) for value in column)
        except UnicodeDecodeError:
            return False
    return set(column) <= _BOOL_BYTES


def count_few(values: list[bytes], counts: Counter[bytes], most: int = 32) -> None:
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


def limited(spec: Field) -> bool:
    """Categorical values and impressions are capped at 1000 characters."""
    return spec.categorical or spec.name == "IMPRESSION"


class Reader(Protocol):
    """What the checker reads from: read(n) only (a file, an S3 body, a byte range of a file)."""

    def read(self, size: int = -1, /) -> bytes: ...


def blocks(stream: Reader, first: bytes) -> Iterator[bytes]:
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


def peak_rss_kb() -> int:
    """This process's own peak resident memory (VmHWM: unlike ru_maxrss, not inherited from the parent)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
