"""The validator and its peers, each run the same way: in a fresh process, timed from the import of
its library to its answer, with its own peak memory.

The peers are what a data engineer would run before an import instead of pipeline's check_csv:
polars and pyarrow's CSV reader, each doing the checks check_csv does on an interactions file
(docs/data-validation.md, "CSV files"; the rules are restated here because bench imports only the
validator's public names):

- the header equals the schema's field names, in order;
- column types per the schema (the reader's typed parse: a value that does not parse is an error,
  as are invalid UTF-8 and a row with a wrong number of fields), floats finite;
- required fields: no empty value in a field the schema does not make nullable;
- timestamps are epoch seconds (below 1e11, not milliseconds or finer);
- ids at most 256 characters, categorical values and IMPRESSION at most 1000;
- the training minimums: 1000 interactions, 25 users with 2+ interactions (the per-user counts),
  distinct event types plus optional metadata columns at most 10 (the per-event-type counts);
- the statistics check_csv reports: rows, distinct users and items (the distinct item ids are
  materialised, as check_csv returns its id sets), first and last timestamp, events per type.

Where they stop short of check_csv: they report the first parse error (the reader's message) and
counts of the rest, not every problem with its line; check_csv does more work on a bad file, the
same on a clean one, which is what the benchmark measures.

`python -m bench._peers TOOL PATH SCHEMA_JSON` prints one JSON object: seconds, CPU seconds, peak
memory (VmHWM, this process and, for check_csv, its worker) and the summary.
"""

from __future__ import annotations

import csv
import json
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: Limits page and *-dataset-requirements pages, as in docs/data-validation.md.
MIN_INTERACTIONS = 1000
MIN_USERS_WITH_2 = 25
MAX_EVENT_TYPES_PLUS_METADATA = 10
MAX_ID_CHARS = 256
MAX_CATEGORICAL_CHARS = 1000
SECONDS_BELOW = 10**11
ID_FIELDS = ("USER_ID", "ITEM_ID")
TIMESTAMP_FIELDS = ("TIMESTAMP", "CREATION_TIMESTAMP")
#: The interactions fields a schema must have; every other column counts as optional metadata
#: (EVENT_TYPE, EVENT_VALUE, custom ones) towards the limit of 10 with the distinct event types.
REQUIRED = ("USER_ID", "ITEM_ID", "TIMESTAMP")


class Spec:
    """One schema field as the peers need it."""

    def __init__(self, raw: dict[str, Any]):
        self.name: str = raw["name"]
        kind = raw["type"]
        self.nullable = isinstance(kind, list) and "null" in kind
        self.type: str = next(k for k in kind if k != "null") if isinstance(kind, list) else kind
        limited = raw.get("categorical") or self.name == "IMPRESSION"
        self.limit: int | None = (
            MAX_ID_CHARS if self.name in ID_FIELDS else MAX_CATEGORICAL_CHARS if limited else None
        )


def _specs(schema: dict[str, Any]) -> list[Spec]:
    return [Spec(f) for f in schema["fields"]]


def _header_problem(path: Path, specs: list[Spec]) -> str | None:
    with open(path, encoding="utf-8", newline="") as stream:
        header = next(csv.reader(stream), [])
    expected = [s.name for s in specs]
    return None if header == expected else f"header {header}; expected {expected}"


def _finish(summary: dict[str, Any], specs: list[Spec], counts: dict[str, int]) -> dict[str, Any]:
    """The rules on the aggregates: required fields, lengths, seconds, the training minimums."""
    problems = summary["problems"]
    for name, found in counts.items():
        if found:
            problems.append(f"{name}: {found} rows")
    if summary["rows"] < MIN_INTERACTIONS:
        problems.append(f"{summary['rows']} interactions; training needs {MIN_INTERACTIONS}")
    if summary["users_with_2"] < MIN_USERS_WITH_2:
        problems.append(f"{summary['users_with_2']} users with 2+ interactions; training needs 25")
    optional = sum(1 for s in specs if s.name not in REQUIRED)
    if len(summary["events"]) + optional > MAX_EVENT_TYPES_PLUS_METADATA:
        problems.append(f"{len(summary['events'])} event types plus {optional} metadata columns")
    return summary


def polars_check(path: Path, schema: dict[str, Any]) -> dict[str, Any]:
    """polars: one lazy scan with the schema's types, all checks and counts collected together."""
    import polars as pl

    specs = _specs(schema)
    problem = _header_problem(path, specs)
    if problem:
        return {"problems": [problem]}
    types = {"string": pl.String, "int": pl.Int32, "long": pl.Int64, "float": pl.Float64}
    types |= {"double": pl.Float64, "boolean": pl.Boolean}
    frame = pl.scan_csv(path, schema={s.name: types[s.type] for s in specs}, has_header=True)
    checks: dict[str, Any] = {"rows": pl.len()}
    for s in specs:
        column = pl.col(s.name)
        if not s.nullable:
            checks[f"empty {s.name} (required)"] = column.null_count()
        if s.limit is not None:
            checks[f"{s.name} over {s.limit} characters"] = (column.str.len_chars() > s.limit).sum()
        if s.type in ("float", "double"):
            checks[f"{s.name} not finite"] = (~column.is_finite()).sum()
        if s.name in TIMESTAMP_FIELDS:
            checks[f"{s.name} not epoch seconds"] = (column >= SECONDS_BELOW).sum()
    checks["ts_min"] = pl.col("TIMESTAMP").min()
    checks["ts_max"] = pl.col("TIMESTAMP").max()
    queries = [
        frame.select(**checks),
        frame.group_by("USER_ID").len(),
        frame.select(pl.col("ITEM_ID").unique()),
        frame.group_by("EVENT_TYPE").len(),
    ]
    try:
        found, users, items, events = pl.collect_all(queries)
    except pl.exceptions.PolarsError as error:
        return {"problems": [f"polars: {str(error).splitlines()[0]}"]}
    row = found.row(0, named=True)
    summary = {
        "rows": row.pop("rows"),
        "users": users.height,
        "users_with_2": int((users["len"] >= 2).sum()),
        "items": items.height,
        "events": _sorted(events.iter_rows()),
        "ts_min": row.pop("ts_min"),
        "ts_max": row.pop("ts_max"),
        "problems": [],
    }
    return _finish(summary, specs, row)


def pyarrow_check(path: Path, schema: dict[str, Any]) -> dict[str, Any]:
    """pyarrow: read_csv (multi-threaded) with the schema's types into a table, then pyarrow.compute
    and a group_by for the per-user counts."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pv

    specs = _specs(schema)
    problem = _header_problem(path, specs)
    if problem:
        return {"problems": [problem]}
    types = {"string": pa.string(), "int": pa.int32(), "long": pa.int64(), "float": pa.float64()}
    types |= {"double": pa.float64(), "boolean": pa.bool_()}
    try:
        table = pv.read_csv(
            path,
            read_options=pv.ReadOptions(column_names=[s.name for s in specs], skip_rows=1),
            convert_options=pv.ConvertOptions(
                column_types={s.name: types[s.type] for s in specs}, strings_can_be_null=True
            ),
        )
    except pa.ArrowException as error:
        return {"problems": [f"pyarrow: {str(error).splitlines()[0]}"]}
    counts: dict[str, int] = {}
    for s in specs:
        column = table[s.name]
        if not s.nullable:
            counts[f"empty {s.name} (required)"] = column.null_count
        if s.limit is not None:
            counts[f"{s.name} over {s.limit} characters"] = _count(
                pc.greater(pc.utf8_length(column), s.limit)
            )
        if s.type in ("float", "double"):
            counts[f"{s.name} not finite"] = _count(pc.invert(pc.is_finite(column)))
        if s.name in TIMESTAMP_FIELDS:
            counts[f"{s.name} not epoch seconds"] = _count(pc.greater_equal(column, SECONDS_BELOW))
    span = pc.min_max(table["TIMESTAMP"]).as_py()
    users = table.group_by("USER_ID").aggregate([([], "count_all")])
    events = pc.value_counts(table["EVENT_TYPE"]).to_pylist()
    summary = {
        "rows": table.num_rows,
        "users": users.num_rows,
        "users_with_2": _count(pc.greater_equal(users["count_all"], 2)),
        "items": len(pc.unique(table["ITEM_ID"])),
        "events": _sorted((e["values"], e["counts"]) for e in events),
        "ts_min": span["min"],
        "ts_max": span["max"],
        "problems": [],
    }
    return _finish(summary, specs, counts)


def _sorted(pairs: Any) -> dict[str, int]:
    """Event type -> count, by name (a missing event type is None: reported as a required field)."""
    return dict(sorted(pairs, key=lambda pair: str(pair[0])))


def _count(mask: Any) -> int:
    import pyarrow.compute as pc

    return int(pc.sum(mask).as_py() or 0)


def validator_check(path: Path, schema: dict[str, Any]) -> dict[str, Any]:
    """The project's validator, through its public entry point."""
    from pipeline.csvcheck import check_csv

    result = check_csv(path, schema, "interactions", file=str(path))
    stats = result.stats
    return {
        "rows": stats.rows,
        "users": stats.unique_users,
        "users_with_2": stats.users_with_2_plus,
        "items": stats.unique_items,
        "events": dict(sorted(stats.event_types.items())),
        "ts_min": stats.min_timestamp,
        "ts_max": stats.max_timestamp,
        "problems": [str(p) for p in result.problems],
        "worker_peak_kb": result.worker_peak_kb or 0,
    }


TOOLS: dict[str, Callable[[Path, dict[str, Any]], dict[str, Any]]] = {
    "check_csv": validator_check,
    "polars": polars_check,
    "pyarrow": pyarrow_check,
}


def _cpu() -> float:
    return sum(sum(resource.getrusage(who)[:2]) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))


def main(argv: list[str]) -> int:
    tool, path, schema = TOOLS[argv[0]], Path(argv[1]), json.loads(argv[2])
    start, cpu = time.perf_counter(), _cpu()
    summary = tool(path, schema)
    seconds, cpu = time.perf_counter() - start, _cpu() - cpu
    from pipeline.csvcheck import peak_rss_kb

    worker_kb = summary.pop("worker_peak_kb", 0)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu": cpu,
                "peak_kb": peak_rss_kb() + worker_kb,
                "worker_peak_kb": worker_kb,
                "summary": summary,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
