"""The exact path: a block checked row by row with the csv module, every problem worded with its
line, column and value. It runs on every block a fast path cannot prove clean, so it alone decides
what is wrong and how that reads."""

from __future__ import annotations

import csv
import re

from pipeline.csvcheck.core import (
    FLOAT,
    INT_RANGE,
    MAX_CATEGORICAL_CHARS,
    MAX_ID_CHARS,
    MILLIS_BELOW,
    SECONDS_BELOW,
    TIMESTAMP_FIELDS,
    Checker,
    limited,
)
from pipeline.schema import Field

_INTEGER = re.compile(r"^[+-]?\d+$")
_BOOLEANS = frozenset({"true", "false"})


def check_rows(checker: Checker, block: bytes, first_line: int) -> None:
    """Check a block of whole lines (the first is line `first_line` of the file) row by row."""
    texts: list[str] = []
    for offset, raw in enumerate(block.split(b"\n")[:-1]):
        try:
            texts.append(raw.decode("utf-8"))
        except UnicodeDecodeError as error:
            checker.p.add(
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
            checker.p.add(
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
            checker.p.add("blank", line, None, None, "blank line (skipped)", "warning")
            continue
        checker.rows += 1
        if len(row) != checker.n:
            checker.p.add(
                "shape",
                line,
                None,
                ",".join(row),
                f"{len(row)} columns; expected {checker.n} ({', '.join(f.name for f in checker.fields)})",
            )
            continue
        for index, (spec, value) in enumerate(zip(checker.fields, row, strict=True)):
            _value(checker, spec, index, value, line)
        if checker.user_col is not None:
            users.append(row[checker.user_col].encode())
        if checker.item_col is not None:
            items.append(row[checker.item_col].encode())
        if checker.event_col is not None:
            events.append(row[checker.event_col].encode())
    checker.ids(
        users if checker.user_col is not None else None,
        items if checker.item_col is not None else None,
        events if checker.event_col is not None else None,
    )


def _value(checker: Checker, spec: Field, index: int, value: str, line: int) -> None:
    add = checker.p.add
    name = spec.name
    if value == "":
        if not spec.nullable:
            add("empty", line, name, "", f"empty value; {name} is required ({spec.type}, not nullable)")
        return
    if spec.type == "string":
        if index in checker.id_cols and len(value) > MAX_ID_CHARS:
            add("long-id", line, name, value, f"{len(value)} characters; an id has at most {MAX_ID_CHARS}")
        elif limited(spec) and len(value) > MAX_CATEGORICAL_CHARS:
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
        elif index == checker.ts_col:
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
                checker.timestamps(number, number)
        return
    if spec.type in ("float", "double"):
        if not FLOAT.match(value):
            add("type", line, name, value, f"not a number; expected {spec.type} like 12.5")
        return
    if spec.type == "boolean" and value.lower() not in _BOOLEANS:
        add("type", line, name, value, "not a boolean; expected true or false")
