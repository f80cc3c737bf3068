"""The import job's own judgement of a bulk-import CSV, from Personalize's documented import rules.

The project's validator (`pipeline.csvcheck`) checks the same files before a deploy. The local
Personalize must not borrow it: if it did, a bug in the validator would be a bug of the local
service too and no test could see it. So this module reads the files itself, with its own code and
only these rules, each from the service's documentation:

- CSV with a header row naming the columns; the header's names map to the schema's fields and are
  not enclosed in quotation marks; every required field of the dataset type is present
  ("Formatting your input data", https://docs.aws.amazon.com/personalize/latest/dg/data-prep-formatting.html);
- a field is optional only when its Avro type is a union with "null"; an empty cell of a field that
  is not is refused (`schemas`, https://docs.aws.amazon.com/personalize/latest/dg/custom-datasets-and-schemas.html);
- each value has its field's Avro type: int/long integers, float/double numbers, boolean
  true/false; TIMESTAMP and CREATION_TIMESTAMP are UNIX epoch time, in seconds, so a whole number
  (data-prep-formatting, "Timestamp data");
- USER_ID and ITEM_ID (and ACTION_ID) at most 256 characters; categorical and other string values at
  most 1000 characters per value (interactions-/items-/users-datasets requirements, and the limits
  page https://docs.aws.amazon.com/personalize/latest/dg/limits.html);
- an Item interactions import needs at least 1000 interaction records (limits page, and the bulk
  import page: "to append data to an Item interactions dataset ... you must have at least 1000 new
  item interaction ... records"). The training minimums (1000 interactions, 25 users with 2 or more)
  are checked when a version trains (solutions.py), not here.

Problems say file, line, column, value and rule; the first MAX_SHOWN are reported.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from local.emulator.personalize.data import DataError, FieldSpec, parse_schema

#: required fields per dataset type (schemas page: "required fields" of each dataset type)
REQUIRED = {
    "interactions": ("USER_ID", "ITEM_ID", "TIMESTAMP"),
    "items": ("ITEM_ID",),
    "users": ("USER_ID",),
    "actions": ("ACTION_ID",),
    "action_interactions": ("USER_ID", "ACTION_ID", "TIMESTAMP"),
}
ID_FIELDS = frozenset({"USER_ID", "ITEM_ID", "ACTION_ID"})
TIMESTAMP_FIELDS = frozenset({"TIMESTAMP", "CREATION_TIMESTAMP"})
MAX_ID_CHARS = 256
MAX_VALUE_CHARS = 1000
MIN_IMPORT_INTERACTIONS = 1000
MAX_SHOWN = 5


@dataclass(frozen=True)
class ImportProblem:
    file: str
    line: int | None
    column: str | None
    value: str | None
    rule: str

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line is not None else "")
        column = f" column {self.column}" if self.column else ""
        value = f" value {self.value[:80]!r}" if self.value is not None else ""
        return f"{where}{column}{value}: {self.rule}"


def check_import(
    files: Sequence[tuple[str, bytes]], schema: dict[str, object], dataset_type: str
) -> list[ImportProblem]:
    """Every problem of the files of one import job (a folder's files together), in order."""
    try:
        fields = parse_schema(schema)
    except DataError as error:
        return [ImportProblem("schema", None, None, None, f"the dataset's schema cannot be read: {error}")]
    kind = dataset_type.lower()
    problems: list[ImportProblem] = []
    records = 0
    for name, raw in files:
        count, found = _check_file(name, raw, fields, REQUIRED.get(kind, ()))
        records += count
        problems += found
    if kind == "interactions" and not problems and records < MIN_IMPORT_INTERACTIONS:
        problems.append(
            ImportProblem(
                ", ".join(name for name, _ in files),
                None,
                None,
                None,
                f"{records} interaction records; an import of item interactions needs at least "
                f"{MIN_IMPORT_INTERACTIONS}",
            )
        )
    return problems


def _check_file(
    name: str, raw: bytes, fields: Sequence[FieldSpec], required: Iterable[str]
) -> tuple[int, list[ImportProblem]]:
    problems: list[ImportProblem] = []
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return 0, [
            ImportProblem(name, None, None, None, f"not UTF-8 text ({error.reason} at byte {error.start})")
        ]
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header or header == [""]:
        return 0, [ImportProblem(name, 1, None, None, "no header row: the first row must name the columns")]
    if '"' in first_line:
        problems.append(
            ImportProblem(name, 1, None, first_line, "column headers must not be enclosed in quotation marks")
        )
    by_name = {f.name: f for f in fields}
    columns: list[FieldSpec | None] = []
    for column in header:
        spec = by_name.get(column)
        if spec is None:
            problems.append(
                ImportProblem(
                    name, 1, column, None, f"the header names no field of the schema ({sorted(by_name)})"
                )
            )
        elif spec in columns:
            problems.append(ImportProblem(name, 1, column, None, "the header names this column twice"))
        columns.append(spec)
    present = set(header)
    for spec in fields:
        if spec.name not in present and (spec.name in required or not spec.nullable):
            problems.append(
                ImportProblem(
                    name, 1, spec.name, None, "a required field of the schema is missing from the header"
                )
            )
    if None in columns or len(set(header)) != len(header):
        return 0, problems  # the rows cannot be read against the schema
    records = 0
    try:
        for row in reader:
            if not row or row == [""]:
                continue
            records += 1
            line = reader.line_num
            if len(row) != len(columns):
                problems.append(
                    ImportProblem(
                        name, line, None, None, f"{len(row)} values; the header has {len(columns)} columns"
                    )
                )
                continue
            for spec, cell in zip(columns, row, strict=True):
                assert spec is not None
                rule = _value_rule(spec, cell)
                if rule is not None:
                    problems.append(ImportProblem(name, line, spec.name, cell, rule))
            if len(problems) >= MAX_SHOWN:
                break
    except csv.Error as error:
        problems.append(ImportProblem(name, reader.line_num, None, None, f"not readable as CSV: {error}"))
    return records, problems


def _value_rule(spec: FieldSpec, cell: str) -> str | None:
    """The rule `cell` breaks as a value of `spec`, or None."""
    if cell == "":
        return None if spec.nullable else "an empty value in a field whose type does not allow null"
    kind = spec.type
    if kind in ("int", "long"):
        if not _is_integer(cell):
            if spec.name in TIMESTAMP_FIELDS:
                return "a timestamp must be UNIX epoch time in seconds (a whole number)"
            return f"not an integer ({kind})"
        return None
    if kind in ("float", "double"):
        try:
            number = float(cell)
        except ValueError:
            return f"not a number ({kind})"
        if number != number or number in (float("inf"), float("-inf")):
            return f"not a finite number ({kind})"
        return None
    if kind == "boolean":
        return None if cell.lower() in ("true", "false") else "not a boolean (true or false)"
    if spec.name in ID_FIELDS and len(cell) > MAX_ID_CHARS:
        return f"{len(cell)} characters; an id has at most {MAX_ID_CHARS}"
    longest = max((len(part) for part in cell.split("|")), default=0) if spec.categorical else len(cell)
    if longest > MAX_VALUE_CHARS and not spec.textual:
        return f"a value of {longest} characters; at most {MAX_VALUE_CHARS}"
    return None


def _is_integer(cell: str) -> bool:
    text = cell[1:] if cell[:1] in "+-" else cell
    return text.isdigit() and text.isascii()
