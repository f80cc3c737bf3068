"""Dataset containers of the local Personalize: what an import job stores and a training reads.

Each container is built from a CSV with a header row whose column names are the fields of the
dataset's Avro schema (the service's bulk-import format), grows by `append` (INCREMENTAL imports)
and pickles compactly, since the local world is pickled between CLI runs. Interactions keep their
columns as integer codes into interned vocabularies (`array`s), not one Python object per cell.

Rules mirrored from the service (Personalize developer guide, `schemas`, `interactions-datasets`,
`items-datasets`, `bulk-data-import-step`):
- the schema is an Avro `record`; a field is optional when its type is a union with "null";
- categorical string values hold several values separated by `|`;
- an INCREMENTAL import of items or users replaces the record with the same id (an upsert); an
  import of interactions adds rows.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import sys
from array import array
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any, Self

#: The Avro primitive types Personalize schemas may use.
_TYPES = {"string", "int", "long", "float", "double", "boolean"}
_NUMERIC = {"int", "long", "float", "double"}
_INTERACTION_COLUMNS = ("USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE", "EVENT_VALUE")

Source = str | bytes | IO[bytes] | IO[str]


class DataError(ValueError):
    """A value or header that does not fit the schema: says where (line, column), what and why."""

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: str | None = None,
        value: Any = None,
        file: str | None = None,
    ):
        self.line = line
        self.column = column
        self.value = value
        self.file = file
        self.message = message
        where = []
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column}")
        text = (f"{file}: " if file else "") + (", ".join(where) + ": " if where else "") + message
        if value is not None:
            text += f" (got {value!r})"
        super().__init__(text)


@dataclass(frozen=True)
class FieldSpec:
    """One field of an Avro schema, as Personalize reads it."""

    name: str
    type: str
    nullable: bool = False
    categorical: bool = False
    textual: bool = False

    @property
    def numeric(self) -> bool:
        return self.type in _NUMERIC


def parse_schema(schema: Mapping[str, Any] | str) -> tuple[FieldSpec, ...]:
    """The fields of an Avro record schema (a dict or its JSON text); ValueError when it is not one."""
    if isinstance(schema, str):
        try:
            schema = json.loads(schema)
        except json.JSONDecodeError as exc:
            raise DataError(f"schema is not valid JSON: {exc}") from exc
    if not isinstance(schema, Mapping) or schema.get("type") != "record":
        raise DataError('schema must be an Avro record ("type": "record")')
    fields = schema.get("fields")
    if not isinstance(fields, list) or not fields:
        raise DataError("schema must list its fields")
    specs: list[FieldSpec] = []
    for raw in fields:
        if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str):
            raise DataError("every schema field needs a name", value=raw)
        kind = raw.get("type")
        nullable = False
        if isinstance(kind, list):
            members = [k for k in kind if k != "null"]
            nullable = len(members) != len(kind)
            if len(members) != 1:
                raise DataError(f'field {raw["name"]}: a union must be one type and "null"', value=kind)
            kind = members[0]
        if isinstance(kind, Mapping):  # {"type": "string", ...}
            kind = kind.get("type")
        if kind not in _TYPES:
            raise DataError(
                f"field {raw['name']}: unsupported type, expected one of {sorted(_TYPES)}", value=kind
            )
        specs.append(
            FieldSpec(
                name=raw["name"],
                type=str(kind),
                nullable=nullable,
                categorical=bool(raw.get("categorical", False)),
                textual=bool(raw.get("textual", False)),
            )
        )
    return tuple(specs)


def _read_text(source: Source) -> tuple[str, str]:
    """(text, a name for messages). A str with a newline is CSV text, any other str a file path."""
    if isinstance(source, bytes):
        return source.decode("utf-8-sig"), "<data>"
    if isinstance(source, str):
        if "\n" in source:
            return source.lstrip("\ufeff"), "<data>"
        with open(source, encoding="utf-8-sig", newline="") as handle:
            return handle.read(), os.path.basename(source)
    data = source.read()
    name = str(getattr(source, "name", "<data>"))
    if isinstance(data, bytes):
        return data.decode("utf-8-sig"), name
    return data.lstrip("\ufeff"), name


def _convert(spec: FieldSpec, text: str, line: int) -> Any:
    """One CSV cell as the schema type; None for an empty optional cell."""
    if text == "":
        if spec.nullable:
            return None
        raise DataError("empty value in a required field", line=line, column=spec.name)
    kind = spec.type
    try:
        if kind == "string":
            return sys.intern(text) if spec.categorical or len(text) < 64 else text
        if kind in ("int", "long"):
            return int(text)
        if kind in ("float", "double"):
            value = float(text)
            if math.isnan(value) or math.isinf(value):
                raise ValueError(text)
            return value
        lowered = text.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        raise ValueError(text)
    except ValueError:
        expected = {
            "int": "an integer",
            "long": "an integer (epoch seconds for TIMESTAMP)",
            "float": "a number",
            "double": "a number",
            "boolean": "true or false",
        }[kind]
        raise DataError(f"expected {expected}", line=line, column=spec.name, value=text) from None


def _rows(
    source: Source, specs: tuple[FieldSpec, ...], required: Sequence[str]
) -> tuple[list[FieldSpec], Iterator[tuple[int, list[Any]]]]:
    """The header's fields (in file order) and an iterator of (line number, converted row)."""
    text, name = _read_text(source)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise DataError("the file is empty; expected a header row", file=name) from None
    except csv.Error as exc:
        raise DataError(f"unreadable CSV: {exc}", line=1, file=name) from None
    by_name = {s.name: s for s in specs}
    columns: list[FieldSpec] = []
    for column in header:
        spec = by_name.get(column.strip())
        if spec is None:
            raise DataError(
                f"{name}: header column is not a field of the schema; expected some of "
                f"{[s.name for s in specs]}",
                line=1,
                column=column,
            )
        if spec in columns:
            raise DataError("header names a column twice", line=1, column=column, file=name)
        columns.append(spec)
    present = {s.name for s in columns}
    for spec in specs:
        if spec.name not in present and (not spec.nullable or spec.name in required):
            raise DataError(f"header lacks the required field {spec.name}", line=1, file=name)

    def generate() -> Iterator[tuple[int, list[Any]]]:
        try:
            for row in reader:
                line = reader.line_num
                if not row or (len(row) == 1 and row[0] == ""):
                    continue
                if len(row) != len(columns):
                    raise DataError(
                        f"expected {len(columns)} columns as in the header, found {len(row)}",
                        line=line,
                        file=name,
                    )
                try:
                    values = [_convert(spec, cell, line) for spec, cell in zip(columns, row, strict=True)]
                except DataError as exc:
                    raise DataError(
                        exc.message, line=exc.line, column=exc.column, value=exc.value, file=name
                    ) from None
                yield line, values
        except csv.Error as exc:
            raise DataError(f"unreadable CSV: {exc}", line=reader.line_num, file=name) from None

    return columns, generate()


class _Vocab:
    """Strings <-> dense integer codes (interned), picklable."""

    __slots__ = ("index", "values")

    def __init__(self) -> None:
        self.values: list[str] = []
        self.index: dict[str, int] = {}

    def code(self, value: str) -> int:
        found = self.index.get(value)
        if found is None:
            found = self.index[value] = len(self.values)
            self.values.append(sys.intern(value))
        return found

    def __len__(self) -> int:
        return len(self.values)

    def __getstate__(self) -> list[str]:
        return self.values

    def __setstate__(self, state: list[str]) -> None:
        self.values = state
        self.index = {v: i for i, v in enumerate(state)}


class Interactions:
    """The Item interactions dataset: one row per event, stored as code columns.

    Columns: user (code), item (code), timestamp (epoch seconds), event type (code, -1 when none),
    event value (NaN when none); other schema fields (contextual metadata, impressions) are kept as
    plain lists in `extra`.
    """

    def __init__(self, schema: Mapping[str, Any] | str | None = None) -> None:
        self.fields: tuple[FieldSpec, ...] = parse_schema(schema) if schema is not None else ()
        self.users = _Vocab()
        self.items = _Vocab()
        self.event_type_vocab = _Vocab()
        self.user_codes = array("i")
        self.item_codes = array("i")
        self.timestamps = array("q")
        self.event_type_codes = array("i")
        self.event_values = array("d")
        self.extra: dict[str, list[Any]] = {}

    # -- building ---------------------------------------------------------------------------------
    @classmethod
    def from_csv(cls, source: Source, schema: Mapping[str, Any] | str) -> Self:
        """Read a CSV (header row of schema field names). Raises DataError naming line and column."""
        table = cls(schema)
        names = {s.name for s in table.fields}
        for needed in ("USER_ID", "ITEM_ID", "TIMESTAMP"):
            if needed not in names:
                raise DataError(f"an Interactions schema needs the field {needed}")
        columns, rows = _rows(source, table.fields, ("USER_ID", "ITEM_ID", "TIMESTAMP"))
        positions = {s.name: i for i, s in enumerate(columns)}
        extra_names = [s.name for s in table.fields if s.name not in _INTERACTION_COLUMNS]
        for name in extra_names:
            table.extra[name] = []
        iu, ii, it = positions["USER_ID"], positions["ITEM_ID"], positions["TIMESTAMP"]
        ie, iv = positions.get("EVENT_TYPE"), positions.get("EVENT_VALUE")
        ix = [(name, positions.get(name)) for name in extra_names]
        for _line, row in rows:
            event_type = row[ie] if ie is not None else None
            value = row[iv] if iv is not None else None
            table.add(
                str(row[iu]),
                str(row[ii]),
                int(row[it]),
                None if event_type is None else str(event_type),
                None if value is None else float(value),
            )
            for name, pos in ix:
                table.extra[name][-1] = None if pos is None else row[pos]
        return table

    def add(
        self,
        user_id: str,
        item_id: str,
        timestamp: int,
        event_type: str | None = None,
        event_value: float | None = None,
    ) -> None:
        """Append one interaction (extra columns, when the schema has any, get None)."""
        self.user_codes.append(self.users.code(user_id))
        self.item_codes.append(self.items.code(item_id))
        self.timestamps.append(int(timestamp))
        self.event_type_codes.append(-1 if event_type is None else self.event_type_vocab.code(event_type))
        self.event_values.append(math.nan if event_value is None else float(event_value))
        for column in self.extra.values():
            if len(column) < len(self.user_codes):
                column.append(None)
        index = self.__dict__.get("_rows_by_user")
        if index is not None:
            index.setdefault(self.user_codes[-1], []).append(len(self.user_codes) - 1)

    def append(self, other: Interactions) -> None:
        """Add the rows of another import (INCREMENTAL import mode)."""
        if self.fields and other.fields and {s.name for s in self.fields} != {s.name for s in other.fields}:
            raise DataError("cannot append interactions read with a different schema")
        if not self.fields:
            self.fields = other.fields
            self.extra = {name: [None] * len(self) for name in other.extra}
        start = len(self)
        for row in range(len(other)):
            self.add(*other.row(row))
        for name, column in self.extra.items():
            values = other.extra.get(name, [])
            for offset in range(len(other)):
                column[start + offset] = values[offset] if offset < len(values) else None

    def remove_users(self, user_ids: set[str]) -> int:
        """Drop every row of these users (a data deletion job); returns how many rows went. The
        vocabularies keep their codes (rows are what training reads)."""
        gone = {self.users.index[u] for u in user_ids if u in self.users.index}
        keep = [r for r, code in enumerate(self.user_codes) if code not in gone]
        removed = len(self) - len(keep)
        if not removed:
            return 0
        self.user_codes = array("i", (self.user_codes[r] for r in keep))
        self.item_codes = array("i", (self.item_codes[r] for r in keep))
        self.timestamps = array("q", (self.timestamps[r] for r in keep))
        self.event_type_codes = array("i", (self.event_type_codes[r] for r in keep))
        self.event_values = array("d", (self.event_values[r] for r in keep))
        self.extra = {name: [column[r] for r in keep] for name, column in self.extra.items()}
        self.__dict__.pop("_rows_by_user", None)
        return removed

    # -- reading ----------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.user_codes)

    @property
    def row_count(self) -> int:
        return len(self)

    def row(self, index: int) -> tuple[str, str, int, str | None, float | None]:
        """(user_id, item_id, timestamp, event_type, event_value) of one row."""
        code = self.event_type_codes[index]
        value = self.event_values[index]
        return (
            self.users.values[self.user_codes[index]],
            self.items.values[self.item_codes[index]],
            self.timestamps[index],
            None if code < 0 else self.event_type_vocab.values[code],
            None if math.isnan(value) else value,
        )

    def __iter__(self) -> Iterator[tuple[str, str, int, str | None, float | None]]:
        for index in range(len(self)):
            yield self.row(index)

    @property
    def user_ids(self) -> list[str]:
        values = self.users.values
        return [values[c] for c in self.user_codes]

    @property
    def item_ids(self) -> list[str]:
        values = self.items.values
        return [values[c] for c in self.item_codes]

    @property
    def event_types(self) -> list[str | None]:
        values = self.event_type_vocab.values
        return [None if c < 0 else values[c] for c in self.event_type_codes]

    def unique_users(self) -> list[str]:
        return list(self.users.values)

    def unique_items(self) -> list[str]:
        return list(self.items.values)

    def user_rows(self, user_id: str) -> list[tuple[str, str | None, int]]:
        """(item id, event type, timestamp) of one user's rows, oldest first: what filters read.

        The per-user index is built on first use and kept up to date by `add`; it is not pickled.
        """
        index = self.__dict__.get("_rows_by_user")
        if index is None:
            index = {}
            for row, user in enumerate(self.user_codes):
                index.setdefault(user, []).append(row)
            self.__dict__["_rows_by_user"] = index
        code = self.users.index.get(user_id)
        if code is None:
            return []
        items, events = self.items.values, self.event_type_vocab.values
        rows = [
            (
                items[self.item_codes[r]],
                None if self.event_type_codes[r] < 0 else events[self.event_type_codes[r]],
                self.timestamps[r],
            )
            for r in index.get(code, ())
        ]
        rows.sort(key=lambda row: row[2])
        return rows

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_rows_by_user", None)
        return state


class _Entities:
    """Items or Users: one record per id (upserted), metadata columns per schema field."""

    _id_field = ""

    def __init__(self, schema: Mapping[str, Any] | str | None = None) -> None:
        self.fields: tuple[FieldSpec, ...] = parse_schema(schema) if schema is not None else ()
        self.ids: list[str] = []
        self.index: dict[str, int] = {}
        self.columns: dict[str, list[Any]] = {s.name: [] for s in self.fields if s.name != self._id_field}

    @classmethod
    def from_csv(cls, source: Source, schema: Mapping[str, Any] | str) -> Self:
        """Read a CSV (header row of schema field names). Raises DataError naming line and column."""
        table = cls(schema)
        if table._id_field not in {s.name for s in table.fields}:
            raise DataError(f"a {cls.__name__} schema needs the field {table._id_field}")
        columns, rows = _rows(source, table.fields, (table._id_field,))
        names = [s.name for s in columns]
        for _line, row in rows:
            record = dict(zip(names, row, strict=True))
            table.put(str(record.pop(table._id_field)), record)
        return table

    def put(self, entity_id: str, record: Mapping[str, Any]) -> None:
        """Insert or replace one record."""
        position = self.index.get(entity_id)
        if position is None:
            position = self.index[entity_id] = len(self.ids)
            self.ids.append(sys.intern(entity_id))
            for column in self.columns.values():
                column.append(None)
        for name, column in self.columns.items():
            column[position] = record.get(name)

    def append(self, other: _Entities) -> None:
        """Upsert the records of another import (INCREMENTAL import mode)."""
        if type(other) is not type(self):
            raise DataError(f"cannot append {type(other).__name__} to {type(self).__name__}")
        if not self.fields:
            self.fields = other.fields
            self.columns = {name: [None] * len(self.ids) for name in other.columns}
        elif {s.name for s in self.fields} != {s.name for s in other.fields}:
            raise DataError(f"cannot append {type(self).__name__.lower()} read with a different schema")
        for position, entity_id in enumerate(other.ids):
            self.put(entity_id, {name: column[position] for name, column in other.columns.items()})

    def remove(self, entity_ids: set[str]) -> int:
        """Drop these records (a data deletion job's users); returns how many went."""
        keep = [position for position, entity_id in enumerate(self.ids) if entity_id not in entity_ids]
        removed = len(self.ids) - len(keep)
        if removed:
            self.ids = [self.ids[position] for position in keep]
            self.index = {entity_id: position for position, entity_id in enumerate(self.ids)}
            self.columns = {name: [column[p] for p in keep] for name, column in self.columns.items()}
        return removed

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def row_count(self) -> int:
        return len(self)

    def __contains__(self, entity_id: object) -> bool:
        return entity_id in self.index

    def field(self, name: str) -> FieldSpec | None:
        for spec in self.fields:
            if spec.name == name:
                return spec
        return None

    def get(self, entity_id: str) -> dict[str, Any] | None:
        """The record (field -> value, without the id) or None when the id is unknown."""
        position = self.index.get(entity_id)
        if position is None:
            return None
        return {name: column[position] for name, column in self.columns.items()}

    def value(self, entity_id: str, field: str) -> Any:
        position = self.index.get(entity_id)
        column = self.columns.get(field)
        if position is None or column is None:
            return None
        return column[position]

    def values(self, entity_id: str, field: str) -> tuple[str, ...]:
        """The field's values as strings: categorical strings split on `|`; () when missing."""
        value = self.value(entity_id, field)
        if value is None:
            return ()
        if isinstance(value, str):
            spec = self.field(field)
            if spec is not None and spec.categorical:
                return tuple(v.strip() for v in value.split("|") if v.strip())
            return (value,)
        if isinstance(value, bool):
            return ("true" if value else "false",)
        return (str(value),)

    def categorical_fields(self) -> list[str]:
        return [s.name for s in self.fields if s.categorical and s.name != self._id_field]

    def textual_fields(self) -> list[str]:
        return [s.name for s in self.fields if s.textual and s.name != self._id_field]

    def numeric_fields(self) -> list[str]:
        return [s.name for s in self.fields if s.numeric and s.name != self._id_field]


class Items(_Entities):
    """The Items dataset (ITEM_ID plus metadata)."""

    _id_field = "ITEM_ID"


class Users(_Entities):
    """The Users dataset (USER_ID plus metadata)."""

    _id_field = "USER_ID"
