"""Validate a whole pipeline before anything is deployed: config (already parsed), schema files, data
files, and what the recipes need from them. Used by app.py at synth and by `pz validate`; the local
Personalize's import job checks its CSVs with the same check_csv, so all three agree. The files of the
`[datasets]` section are checked by pipeline.datafiles.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pipeline.config import PipelineConfig, config_path
from pipeline.csvcheck import MIN_INTERACTIONS
from pipeline.datafiles import ValidationResult, adder, validate_datasets
from pipeline.domains import check_domain_schema
from pipeline.naming import physical_name
from pipeline.problems import display_path
from pipeline.recipes import RECIPES, RETIRED
from pipeline.schema import NUMERIC, fields_of

_FILTER_FIELD = re.compile(r"\b(Items|Users|Interactions|CurrentItem|CurrentUser)\.([A-Za-z_][A-Za-z0-9_]*)")
_FILTER_HEAD = re.compile(r"^\s*(EXCLUDE|INCLUDE)\s+(ItemID|UserID|ActionID)\s+WHERE\s+\S")
#: `|` between expressions, outside double quotes.
_FILTER_PARTS = re.compile(r'\|(?=(?:[^"]*"[^"]*")*[^"]*$)')
_FILTER_EVENT_TYPES = re.compile(r"Interactions\.EVENT_TYPE\s+(?:NOT\s+)?IN\s*\(([^)]*)\)")


def validate(config: PipelineConfig, root: Path) -> ValidationResult:
    """Check schema files and data files against each other and against what the recipes need."""
    config_file = display_path(config_path(config.environment.name, root / "config"), root)
    result = validate_datasets(config.datasets, root, config_file)
    add = adder(result.problems)

    _domain_schemas(config, result)
    _recipe_needs(config, result, config_file, add)
    _filters(config, result, config_file, add)
    _metric_attribution(config, result, config_file, add)
    _names(config, config_file, add)
    _freshness(config, config_file, add)
    return result


def _domain_schemas(config: PipelineConfig, result: ValidationResult) -> None:
    """In a domain dataset group, each schema against the domain's required fields and reserved
    keywords (pipeline.domains): each problem names the schema file, the field and what the domain
    expects."""
    domain = config.dataset_group.domain
    if domain is None:
        return
    for dataset_type, schema in result.schemas.items():
        summary = result.datasets.get(dataset_type)
        file = summary.schema if summary is not None else dataset_type
        result.problems.extend(check_domain_schema(schema, dataset_type, domain, file))


def _freshness(config: PipelineConfig, config_file: str, add: Any) -> None:
    """Automatic trainings that bill without reaching a campaign (docs/fresh-models.md)."""
    for index, solution in enumerate(config.solutions):
        static = [c.name for c in config.campaigns if c.solution == solution.name and not c.follows_latest]
        if solution.auto_training and static:
            add(
                config_file,
                f"solutions[{index}].auto_training",
                True,
                f"the versions the service trains on its schedule (each billed) reach no campaign: "
                f"{', '.join(static)} serve(s) only the version a deploy trains; set sync_with_latest = true "
                "on them, or auto_training = false",
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


def _metric_attribution(config: PipelineConfig, result: ValidationResult, config_file: str, add: Any) -> None:
    """What the schemas must hold for the metrics (the Personalize guide, metric attribution
    "Guidelines and requirements" and "Creating a metric attribution"): an EVENT_TYPE column in
    Interactions; SUM() only on numeric columns of Items and Interactions, which must exist."""
    attribution = config.metric_attribution
    if attribution is None:
        return
    interactions = result.schemas.get("interactions")
    if interactions is not None and "EVENT_TYPE" not in {f.name for f in fields_of(interactions)}:
        add(config_file, "metric_attribution", None,
            "a metric attribution needs an EVENT_TYPE column in the interactions schema; it has none")
    events = result.datasets.get("interactions")
    for index, metric in enumerate(attribution.metrics):
        where = f"metric_attribution.metrics[{index}] ({metric.name})"
        summed = metric.summed
        if summed is not None:
            dataset_type, column = summed
            schema = result.schemas.get(dataset_type)
            if dataset_type not in config.datasets.present():
                add(config_file, f"{where}.expression", metric.expression,
                    f"sums a column of the {dataset_type} dataset, which is not configured")
            elif schema is not None:
                fields = {f.name: f for f in fields_of(schema)}
                found = fields.get(column)
                if found is None:
                    add(config_file, f"{where}.expression", metric.expression,
                        f"no column {column} in the {dataset_type} schema; expected one of "
                        f"{sorted(n for n, f in fields.items() if f.type in NUMERIC)} (numeric)")
                elif found.type not in NUMERIC:
                    add(config_file, f"{where}.expression", metric.expression,
                        f"SUM() applies to numeric columns only; {column} is {found.type} "
                        f"(numeric: {sorted(NUMERIC)})")
        if events is not None and events.checked and metric.event_type.upper() not in {
            e.upper() for e in events.event_types
        }:
            add(config_file, f"{where}.event_type", metric.event_type,
                f"no interactions have this EVENT_TYPE (found {sorted(events.event_types)}); the metric "
                "moves only with events of this type",
                "warning")
    if config.event_tracker is None:
        add(config_file, "metric_attribution", None,
            "no [event_tracker]: Personalize sends CloudWatch metrics for PutEvents and incremental imports "
            "only, so without a tracker nothing reaches CloudWatch from this stack's full imports",
            "warning")


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
        schedule = solution.auto_training_schedule or "rate(7 days)"
        auto = f"auto-training ON, {schedule} (billed each run)"
        extras.append(auto if solution.auto_training else "no auto-training")
        if solution.training_mode != "FULL":
            extras.append(f"deploys train {solution.training_mode}")
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
        follows = ", follows the newest version" if campaign.follows_latest else ""
        lines.append(
            f"  {campaign.name:<24} solution {campaign.solution}, min {campaign.min_provisioned_tps} TPS"
            f"{follows} -> {physical_name(env, group, campaign.name)}"
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
