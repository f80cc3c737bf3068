"""Validate a whole pipeline before anything is deployed: config (already parsed), schema files, data
files, and what the recipes need from them. Used by app.py at synth, by `pz validate`
and (check_csv) by the local Personalize's import job, so all three agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pipeline.config import DatasetsConfig, PipelineConfig, config_path
from pipeline.csvcheck import MIN_INTERACTIONS, CsvResult, check_csv
from pipeline.naming import physical_name
from pipeline.problems import Problem, ProblemReport, display_path
from pipeline.recipes import RECIPES, RETIRED
from pipeline.schema import fields_of, load_schema

#: Bulk interactions per import job (limits page): FULL up to 100 GB, INCREMENTAL up to 1 GB.
MAX_IMPORT_BYTES = {"FULL": 100 * 1024**3, "INCREMENTAL": 1024**3}
#: Examples shown in a cross-dataset warning.
SHOW_IDS = 5
_FILTER_FIELD = re.compile(r"\b(Items|Users|Interactions|CurrentItem|CurrentUser)\.([A-Za-z_][A-Za-z0-9_]*)")
_FILTER_HEAD = re.compile(r"^\s*(EXCLUDE|INCLUDE)\s+(ItemID|UserID|ActionID)\s+WHERE\s+\S")
#: `|` between expressions, outside double quotes.
_FILTER_PARTS = re.compile(r'\|(?=(?:[^"]*"[^"]*")*[^"]*$)')
_FILTER_EVENT_TYPES = re.compile(r"Interactions\.EVENT_TYPE\s+(?:NOT\s+)?IN\s*\(([^)]*)\)")


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


def _adder(problems: list[Problem]) -> Callable[..., None]:
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


def validate(config: PipelineConfig, root: Path) -> ValidationResult:
    """Check schema files and data files against each other and against what the recipes need."""
    config_file = display_path(config_path(config.environment.name, root / "config"), root)
    result = validate_datasets(config.datasets, root, config_file)
    add = _adder(result.problems)

    _recipe_needs(config, result, config_file, add)
    _filters(config, result, config_file, add)
    _names(config, config_file, add)
    return result


def validate_datasets(datasets: DatasetsConfig, root: Path, config_file: str) -> ValidationResult:
    """The schema and data files of a [datasets] section, each and against each other: what needs
    only that section (load_config also runs it when the rest of the config is rejected)."""
    result = ValidationResult()
    problems = result.problems
    add = _adder(problems)

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


def _textual_fields(schema: dict[str, Any] | None) -> list[str]:
    return [f.name for f in fields_of(schema) if f.textual] if schema else []


def _recipe_needs(config: PipelineConfig, result: ValidationResult, config_file: str, add: Any) -> None:
    """Needs that only the schemas and data can answer (the config model checks the rest)."""
    interactions = result.datasets.get("interactions")
    for index, solution in enumerate(config.solutions):
        where = f"solutions[{index}] ({solution.name})"
        recipe = RECIPES.get(solution.recipe)
        if recipe is None or solution.recipe in RETIRED:
            continue
        if (
            recipe.needs_textual_item_field
            and "items" in result.schemas
            and not _textual_fields(result.schemas.get("items"))
        ):
            add(
                config_file,
                f"{where}.recipe",
                solution.recipe,
                f'{solution.recipe} needs an items field marked "textual": true (e.g. a DESCRIPTION); '
                f"the items schema has none",
            )
        if solution.event_type and interactions is not None and interactions.checked:
            count = interactions.event_types.get(solution.event_type, 0)
            if count < MIN_INTERACTIONS:
                add(
                    config_file,
                    f"{where}.event_type",
                    solution.event_type,
                    f"training uses only {solution.event_type!r} events and the data has {count}; "
                    f"expected at least {MIN_INTERACTIONS} "
                    f"(event types found: {sorted(interactions.event_types)})",
                )


def _filters(config: PipelineConfig, result: ValidationResult, config_file: str, add: Any) -> None:
    """Filter expressions: `EXCLUDE|INCLUDE ItemID|UserID WHERE <dataset>.<field> ...` per part
    (parts joined by `|`), naming only fields the schemas have (creating-filter-expressions)."""
    names = {
        "Items": "items",
        "Users": "users",
        "Interactions": "interactions",
        "CurrentItem": "items",
        "CurrentUser": "users",
    }
    interactions = result.datasets.get("interactions")
    for index, flt in enumerate(config.filters):
        where = f"filters[{index}] ({flt.name}).expression"
        for part in _FILTER_PARTS.split(flt.expression):
            head = _FILTER_HEAD.match(part)
            if head is None:
                add(
                    config_file,
                    where,
                    part.strip(),
                    "expected EXCLUDE|INCLUDE ItemID|UserID WHERE <dataset>.<field> IN|NOT IN (...)",
                )
                continue
            if head.group(2) == "ActionID":
                add(
                    config_file,
                    where,
                    part.strip(),
                    "ActionID filters need an actions dataset, which this pipeline does not provision",
                )
        for dataset_name, field_name in _FILTER_FIELD.findall(flt.expression):
            dataset_type = names[dataset_name]
            if dataset_type not in result.datasets:
                add(
                    config_file,
                    where,
                    f"{dataset_name}.{field_name}",
                    f"refers to the {dataset_type} dataset, which is not configured",
                )
                continue
            fields = result.datasets[dataset_type].fields
            if fields and field_name not in fields:
                add(
                    config_file,
                    where,
                    f"{dataset_name}.{field_name}",
                    f"no such field in the {dataset_type} schema; expected one of {fields}",
                )
        if interactions is not None and interactions.checked:
            for listed in _FILTER_EVENT_TYPES.findall(flt.expression):
                for value in re.findall(r'"([^"]*)"', listed):
                    if value not in interactions.event_types:
                        add(
                            config_file,
                            where,
                            value,
                            f"no interactions have this EVENT_TYPE (found "
                            f"{sorted(interactions.event_types)}); the filter matches nothing",
                            "warning",
                        )


def _names(config: PipelineConfig, config_file: str, add: Any) -> None:
    """Every derived name must keep the `<env>-<dataset group>-` prefix the IAM policy scopes by."""
    env, group = config.environment.name, config.dataset_group.name
    prefix = physical_name(env, group) + "-"
    kinds: list[tuple[str, str, bool]] = [(s.name, "solutions", True) for s in config.solutions]
    kinds += [(c.name, "campaigns", False) for c in config.campaigns]
    kinds += [(f.name, "filters", True) for f in config.filters]
    if config.event_tracker:
        kinds.append((config.event_tracker.name, "event_tracker", False))
    for name, kind, versioned in kinds:
        derived = physical_name(env, group, name, version_of="x" if versioned else None)
        if not derived.startswith(prefix):
            add(
                config_file,
                f"{kind}.name",
                name,
                f"environment + dataset group + name is too long for Personalize's 63 characters "
                f"(derived {derived!r}); shorten the dataset group name",
            )


def summary(config: PipelineConfig, result: ValidationResult) -> str:
    """What would be deployed, as a person reads it."""
    env, group = config.environment.name, config.dataset_group.name
    prefix = physical_name(env, group)
    lines = [
        f"Environment {env!r}: region {config.environment.region or '(CLI default)'}, "
        f"account {config.environment.account or '(CLI default)'}, removal policy "
        f"{config.environment.removal_policy}",
        f"Dataset group {group!r} -> {prefix}"
        + (" (KMS encrypted)" if config.dataset_group.kms_key_arn else ""),
        "Datasets:",
    ]
    for dataset_type, data in result.datasets.items():
        name = physical_name(env, group, dataset_type)
        if not data.checked:
            lines.append(f"  {dataset_type:<12} {data.source} (not checked locally) -> {name}")
            continue
        facts = [f"{data.rows:,} rows"]
        if data.users is not None:
            facts.append(f"{data.users:,} users")
        if data.items is not None:
            facts.append(f"{data.items:,} items")
        if data.users_with_2_plus is not None:
            facts.append(f"{data.users_with_2_plus:,} users with 2+ interactions")
        if data.time_span:
            facts.append(data.time_span)
        lines.append(f"  {dataset_type:<12} {data.source}: {', '.join(facts)} -> {name}")
        if data.event_types:
            counts = ", ".join(f"{k} {v:,}" for k, v in data.event_types.items())
            lines.append(f"  {'':<12} event types: {counts}")
    lines.append("Solutions:")
    for solution in config.solutions:
        extras = []
        extras.append(
            "auto-training ON (retrains weekly, billed)" if solution.auto_training else "no auto-training"
        )
        if solution.perform_hpo:
            extras.append("HPO")
        if solution.event_type:
            extras.append(f"event type {solution.event_type}")
        extras.append(
            f"training timeout {solution.training_timeout // 3600}h"
            f"{solution.training_timeout % 3600 // 60:02d}m"
        )
        lines.append(
            f"  {solution.name:<24} {solution.recipe} ({', '.join(extras)}) -> "
            f"{prefix}-{solution.name}-<hash>"
        )
    lines.append("Campaigns (billed hourly per TPS while they exist):")
    if not config.campaigns:
        lines.append("  (none)")
    for campaign in config.campaigns:
        lines.append(
            f"  {campaign.name:<24} solution {campaign.solution}, min {campaign.min_provisioned_tps} TPS -> "
            f"{physical_name(env, group, campaign.name)}"
        )
    if config.filters:
        lines.append("Filters:")
        for flt in config.filters:
            lines.append(f"  {flt.name:<24} {flt.expression} -> {prefix}-{flt.name}-<hash>")
    if config.event_tracker:
        lines.append(
            f"Event tracker: {config.event_tracker.name} -> "
            f"{physical_name(env, group, config.event_tracker.name)}"
        )
    if result.warnings:
        lines.append(f"{len(result.warnings)} warning(s):")
        lines.extend(f"  - {p}" for p in result.warnings)
    return "\n".join(lines)
