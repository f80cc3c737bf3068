"""The files a `[datasets]` section names: each schema and CSV, then the datasets against each other.

What needs only that section: load_config runs it even when the rest of the config is rejected (so
one run shows every problem), and pipeline.validate builds the whole pipeline's checks on its result.
It reads the section through `DatasetsSection` (what it uses of pipeline.config's DatasetsConfig), so
the config model can call it without this module importing the model back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from pipeline.csvcheck import CsvResult, check_csv
from pipeline.problems import Problem, ProblemReport, display_path
from pipeline.schema import fields_of, load_schema

#: Bulk interactions per import job (limits page): FULL up to 100 GB, INCREMENTAL up to 1 GB.
MAX_IMPORT_BYTES = {"FULL": 100 * 1024**3, "INCREMENTAL": 1024**3}
#: Examples shown in a cross-dataset warning.
SHOW_IDS = 5


class DatasetSource(Protocol):
    """One dataset of the section (pipeline.config.DatasetConfig)."""

    @property
    def schema_path(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def import_mode(self) -> str: ...
    @property
    def is_s3(self) -> bool: ...


class DatasetsSection(Protocol):
    """The `[datasets]` section (pipeline.config.DatasetsConfig)."""

    @property
    def interactions(self) -> DatasetSource: ...
    def present(self) -> Mapping[Any, DatasetSource]: ...


@dataclass
class DatasetSummary:
    """What one dataset holds, for the deploy summary."""

    dataset_type: str
    source: str
    schema: str
    checked: bool
    rows: int | None = None
    users: int | None = None
    items: int | None = None
    users_with_2_plus: int | None = None
    min_timestamp: int | None = None
    max_timestamp: int | None = None
    event_types: dict[str, int] = field(default_factory=dict)
    fields: list[str] = field(default_factory=list)

    @property
    def time_span(self) -> str | None:
        if self.min_timestamp is None or self.max_timestamp is None:
            return None
        first = datetime.fromtimestamp(self.min_timestamp, UTC).date()
        last = datetime.fromtimestamp(self.max_timestamp, UTC).date()
        return f"{first} .. {last} ({(last - first).days} days)"


@dataclass
class ValidationResult:
    """What a validation found: every problem, and what each dataset holds."""

    problems: list[Problem] = field(default_factory=list)
    datasets: dict[str, DatasetSummary] = field(default_factory=dict)
    #: Parsed schemas that passed check_schema, by dataset type.
    schemas: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def raise_for_errors(self) -> None:
        """Raise ProblemReport (errors and warnings together) when there is any error."""
        if self.errors:
            raise ProblemReport(self.problems)


def _human(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:,.0f} {unit}" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _resolve(root: Path, path: str) -> Path:
    candidate = Path(path)
    return candidate if candidate.is_absolute() else root / candidate


def adder(problems: list[Problem]) -> Callable[..., None]:
    """`add(file, field, value, message, severity="error")`: the checks' one way to report."""

    def add(
        file: str,
        field_name: str | None,
        value: Any,
        message: str,
        severity: Literal["error", "warning"] = "error",
    ) -> None:
        problems.append(Problem(file, None, field_name, value, message, severity))

    return add


def validate_datasets(datasets: DatasetsSection, root: Path, config_file: str) -> ValidationResult:
    """The schema and data files of a [datasets] section, each and against each other: what needs
    only that section (load_config also runs it when the rest of the config is rejected)."""
    result = ValidationResult()
    problems = result.problems
    add = adder(problems)

    csv_results: dict[str, CsvResult] = {}
    for dataset_type, dataset in datasets.present().items():
        schema_path = _resolve(root, dataset.schema_path)
        schema_file = display_path(schema_path, root)
        schema, schema_problems = load_schema(schema_path, dataset_type, schema_file)
        problems.extend(schema_problems)
        summary = DatasetSummary(dataset_type, dataset.source, schema_file, checked=False)
        result.datasets[dataset_type] = summary
        if schema is not None:
            result.schemas[dataset_type] = schema
            summary.fields = [f.name for f in fields_of(schema)]
        if dataset.is_s3:
            add(
                config_file,
                f"datasets.{dataset_type}.source",
                dataset.source,
                "an s3:// source is not checked here; the import job checks it when it runs",
                "warning",
            )
            continue
        source_path = _resolve(root, dataset.source)
        source_file = display_path(source_path, root)
        if not source_path.is_file():
            add(
                config_file,
                f"datasets.{dataset_type}.source",
                dataset.source,
                f"no such file ({source_file}); expected a CSV in this repository or an s3:// URI",
            )
            continue
        size = source_path.stat().st_size
        if dataset_type == "interactions" and size > MAX_IMPORT_BYTES[dataset.import_mode]:
            add(
                config_file,
                f"datasets.{dataset_type}.source",
                dataset.source,
                f"{_human(size)}; a {dataset.import_mode} import job takes at most "
                f"{_human(MAX_IMPORT_BYTES[dataset.import_mode])} of interactions",
            )
        if schema is None:
            continue  # the schema's problems are reported; its data cannot be read without it
        checked = check_csv(source_path, schema, dataset_type, file=source_file)
        problems.extend(checked.problems)
        csv_results[dataset_type] = checked
        stats = checked.stats
        summary.checked = True
        summary.rows = stats.rows
        summary.users = stats.unique_users
        summary.items = stats.unique_items
        summary.users_with_2_plus = stats.users_with_2_plus
        summary.min_timestamp = stats.min_timestamp
        summary.max_timestamp = stats.max_timestamp
        summary.event_types = dict(stats.event_types)

    _cross_dataset(csv_results, display_path(_resolve(root, datasets.interactions.source), root), add)
    return result


def _cross_dataset(csv_results: dict[str, CsvResult], file: str, add: Any) -> None:
    """Interactions that name items or users their datasets do not have: warnings (Personalize
    imports them, but those items carry no metadata and those users none)."""
    interactions = csv_results.get("interactions")
    if interactions is None:
        return
    for other, attribute, column in (("items", "item_ids", "ITEM_ID"), ("users", "user_ids", "USER_ID")):
        dataset = csv_results.get(other)
        if dataset is None:
            continue
        missing = getattr(interactions, attribute) - getattr(dataset, attribute)
        if missing:
            examples = sorted(missing)[:SHOW_IDS]
            add(
                file,
                column,
                [e.decode(errors="replace") for e in examples],
                f"{len(missing)} {column} values in interactions are not in the {other} dataset; "
                f"expected every one to have a row there (they train without metadata)",
                "warning",
            )
