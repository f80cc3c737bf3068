"""Datasets in the local Personalize: dataset groups, schemas, datasets (and their schema
replacement, UpdateDataset) and dataset import jobs.

An import job reads its CSV from moto S3 with the service role (local.emulator.personalize.access),
judges it against the documented import rules with its own code (local.emulator.personalize.importcheck,
not the project's validator) and parses it into the containers of
local.emulator.personalize.data, which the dataset keeps and training reads.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from local.emulator import moto_internals
from local.emulator.personalize import borrowed, data, importcheck
from local.emulator.personalize import durations as dur
from local.emulator.personalize.access import check_import_access, check_key_access
from local.emulator.personalize.errors import exists, in_use, invalid, limit
from local.emulator.personalize.recommenders import recommenders_of
from local.emulator.personalize.resources import (
    IN_PROGRESS,
    Dataset,
    DatasetGroup,
    DatasetImportJob,
    DatasetUpdate,
    EventTracker,
    Filter,
    MetricAttribution,
    Schema,
    Solution,
)
from local.emulator.personalize.store import Context, Part, Store

DATASET_TYPES = {"interactions": "Interactions", "items": "Items", "users": "Users",
                 "actions": "Actions", "action_interactions": "Action_Interactions"}
REQUIRED_FIELDS = {"Interactions": ("USER_ID", "ITEM_ID", "TIMESTAMP"), "Items": ("ITEM_ID",),
                   "Users": ("USER_ID",), "Actions": ("ACTION_ID",),
                   "Action_Interactions": ("USER_ID", "ACTION_ID", "TIMESTAMP")}
AVRO_TYPES = {"string", "int", "long", "float", "double", "boolean", "null"}
S3_LOCATION = re.compile(r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/.*)?$")


class Datasets(Part):
    """Dataset groups, schemas, datasets and import jobs."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        store.on("dataset_update_status", self._on_dataset_update_status)
        store.on("dataset_update_done", self._on_dataset_update_done)
        store.on("import_start", self._on_import_start)
        store.on("import_done", self._on_import_done)

    # ================================ dataset groups ==========================================
    def op_CreateDatasetGroup(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        name = store.check_name(p.get("name"))
        arn = store.arn(ctx, "dataset-group", name)
        if p.get("kmsKeyArn") and not p.get("roleArn"):
            raise invalid("roleArn is required when kmsKeyArn is provided.")
        group = store.new(DatasetGroup, ctx, arn, name, p.get("tags"), role_arn=p.get("roleArn"),
                          kms_key_arn=p.get("kmsKeyArn"), domain=p.get("domain"))
        if len(store.all_of(DatasetGroup, lambda g: store.in_context(g, ctx))) >= store.quotas[
                "dataset_groups_per_region"]:
            raise limit(f"You have reached the maximum of {store.quotas['dataset_groups_per_region']} "
                        "dataset groups in this region.")
        store.add(group)
        total = store.durations.of("dataset_group", name)
        refused = (check_key_access(ctx[0], ctx[1], group.role_arn, group.kms_key_arn, arn)
                   if group.kms_key_arn else None)
        if refused:
            # Not documented whether the service refuses at once or fails the group: CREATE FAILED.
            store.schedule(group.created + total, "failed", group, refused)
        else:
            store.start_create(group, total)
        return {"datasetGroupArn": arn, **({"domain": group.domain} if group.domain else {})}

    def op_DescribeDatasetGroup(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        return {"datasetGroup": self.store.find(DatasetGroup, p.get("datasetGroupArn")).describe()}

    def op_ListDatasetGroups(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        return store.page([g.summary() for g in store.listed(DatasetGroup, ctx)], p, "datasetGroups")

    def op_DeleteDatasetGroup(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        group = store.find(DatasetGroup, p.get("datasetGroupArn"))
        store.check_deletable(group)
        children: list[str] = []
        # and its metric attribution ("Before a dataset group: ... metric attributions", gs-cleanup)
        for kind, label in ((Dataset, "datasets"), (Solution, "solutions"), (EventTracker, "event trackers"),
                            (Filter, "filters"), (MetricAttribution, "metric attributions")):
            found = store.all_of(kind, lambda r: getattr(r, "dataset_group_arn", None) == group.arn)
            if found:
                children.append(f"{len(found)} {label}")
        recommenders = recommenders_of(store, group.arn)
        if recommenders:
            children.append(f"{len(recommenders)} recommenders")
        if children:
            raise in_use(f"Dataset group {group.arn} cannot be deleted: it still has "
                         f"{', '.join(children)}. Delete them first.")
        store.start_delete(group, store.durations.of("delete_dataset_group", group.name))
        return {}

    # ================================ schemas =================================================
    def op_CreateSchema(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        name = store.check_name(p.get("name"))
        parsed = parse_schema(p.get("schema"))
        arn = store.arn(ctx, "schema", name)
        schema = store.new(Schema, ctx, arn, name, None, schema=p["schema"], domain=p.get("domain"),
                           parsed=parsed, status="ACTIVE")
        quota = store.quotas["schemas_per_region"]
        if len(store.all_of(Schema, lambda s: store.in_context(s, ctx))) >= quota:
            raise limit(f"You have reached the maximum of {quota} schemas.")
        store.add(schema)
        return {"schemaArn": arn}

    def op_DescribeSchema(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        return {"schema": self.store.find(Schema, p.get("schemaArn")).describe()}

    def op_ListSchemas(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        return store.page([s.summary() for s in store.listed(Schema, ctx)], p, "schemas")

    def op_DeleteSchema(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        schema = store.find(Schema, p.get("schemaArn"))
        users = store.all_of(Dataset, lambda d: d.schema_arn == schema.arn or (
            d.updating and d.latest_update is not None and d.latest_update.schema_arn == schema.arn))
        if users:
            raise in_use(f"Schema {schema.arn} cannot be deleted: it is used by dataset "
                         f"{users[0].arn}. Delete the dataset first.")
        store.remove(schema)  # schemas have no status: deletion is immediate
        return {}

    # ================================ datasets ================================================
    def op_CreateDataset(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        name = store.check_name(p.get("name"))
        kind = DATASET_TYPES.get(str(p.get("datasetType", "")).lower())
        if kind is None:
            raise invalid(f"Invalid datasetType {p.get('datasetType')!r}; expected one of "
                          f"{sorted(DATASET_TYPES.values())}.")
        group = store.active_dataset_group(p.get("datasetGroupArn"))
        schema = store.find(Schema, p.get("schemaArn"))
        names = {f["name"] for f in schema.parsed["fields"]}
        missing = [f for f in REQUIRED_FIELDS[kind] if f not in names]
        if missing:
            raise invalid(f"Schema {schema.arn} is not valid for a {kind} dataset: missing required "
                          f"field(s) {', '.join(missing)}.")
        if schema.domain != group.domain:
            raise invalid(f"The domain of schema {schema.arn} ({schema.domain or 'none'}) does not match "
                          f"the domain of dataset group {group.arn} ({group.domain or 'none'}).")
        if group.domain:
            # The domain's required fields and reserved keywords for this dataset type
            # (<DOMAIN>-datasets-and-schemas, read through `borrowed`).
            problems = borrowed.check_domain_schema(schema.parsed, kind.lower(), group.domain, schema.arn)
            if problems:
                raise invalid(f"Schema {schema.arn} does not meet the {group.domain} domain's requirements "
                              f"for a {kind} dataset: "
                              + "; ".join(f"{p.field}: {p.message}" for p in problems))
        arn = store.arn(ctx, "dataset", f"{group.name}/{kind.upper()}")
        if arn in store.resources:
            raise exists(f"Another resource with Arn {arn} already exists.")
        if store.all_of(Dataset, lambda d: store.in_context(d, ctx) and d.name == name):
            raise exists(f"A dataset named {name} already exists.")
        # answered in one canonical spelling whatever the caller's case: the upper-case form the
        # dataset's ARN carries (docs/aws-fidelity.md, "datasetType")
        dataset = store.new(Dataset, ctx, arn, name, p.get("tags"), dataset_group_arn=group.arn,
                            dataset_type=kind.upper(), schema_arn=schema.arn)
        store.add(dataset)
        store.start_create(dataset, store.durations.of("dataset", name))
        return {"datasetArn": arn}

    def op_DescribeDataset(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        return {"dataset": self.store.find(Dataset, p.get("datasetArn")).describe()}

    def op_ListDatasets(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        group = p.get("datasetGroupArn")
        found = store.listed(Dataset, ctx, lambda d: group is None or d.dataset_group_arn == group)
        return store.page([d.summary() for d in found], p, "datasets")

    def op_DeleteDataset(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        dataset = store.find(Dataset, p.get("datasetArn"))
        store.check_deletable(dataset)
        if dataset.updating:
            raise in_use(f"Dataset {dataset.arn} cannot be deleted while its schema is being replaced.")
        running = store.all_of(DatasetImportJob, lambda j: j.dataset_arn == dataset.arn and j.busy)
        if running:
            raise in_use(f"Dataset {dataset.arn} cannot be deleted: import job {running[0].arn} is "
                         f"{running[0].status}.")
        store.start_delete(dataset, store.durations.of("delete", dataset.name))
        return {}

    def op_UpdateDataset(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        """Replace an Items or Users dataset's schema (keep every field as it was, add nullable
        ones): Personalize guide, updating-dataset-schema."""
        store = self.store
        dataset = store.find(Dataset, p.get("datasetArn"))
        schema = store.find(Schema, p.get("schemaArn"))
        if dataset.status != "ACTIVE":
            raise in_use(f"Dataset {dataset.arn} is not in ACTIVE state (status: {dataset.status}).")
        if dataset.updating:
            raise in_use(f"Dataset {dataset.arn} has a schema replacement in progress.")
        if dataset.dataset_type.lower() not in ("items", "users"):
            raise invalid(f"The schema of a {dataset.dataset_type} dataset cannot be replaced; only Items "
                          "and Users datasets can have their schema replaced.")
        current = store.resources.get(dataset.schema_arn)
        old_fields = current.parsed["fields"] if isinstance(current, Schema) else []
        problem = replacement_problem(old_fields, schema.parsed["fields"])
        if problem:
            raise invalid(f"Schema {schema.arn} cannot replace {dataset.schema_arn}: {problem}")
        now = store.now()
        dataset.latest_update = DatasetUpdate(schema.arn, "CREATE PENDING", now, now)
        total = store.durations.of("dataset_update", dataset.name)
        store.schedule(now + dur.pending_part(total), "dataset_update_status", dataset, "CREATE IN_PROGRESS")
        store.schedule(now + total, "dataset_update_done", dataset)
        return {"datasetArn": dataset.arn}

    def _on_dataset_update_status(self, dataset: Dataset, at: float, status: str) -> None:
        if dataset.latest_update:
            dataset.latest_update.status, dataset.latest_update.updated = status, at

    def _on_dataset_update_done(self, dataset: Dataset, at: float, _: Any) -> None:
        update = dataset.latest_update
        schema = self.store.resources.get(update.schema_arn) if update else None
        if update is None:
            return
        update.updated = at
        if not isinstance(schema, Schema):
            update.status = "CREATE FAILED"
            update.failure_reason = f"Schema {update.schema_arn} no longer exists."
            return
        dataset.schema_arn = schema.arn
        dataset.updated = at
        if dataset.data is not None:
            widen(dataset.data, schema.parsed)
        update.status = "ACTIVE"

    # ================================ import jobs =============================================
    def op_CreateDatasetImportJob(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        name = store.check_name(p.get("jobName"), "jobName")
        dataset = store.find(Dataset, p.get("datasetArn"))
        if dataset.status != "ACTIVE":
            raise in_use(f"Dataset {dataset.arn} is not in ACTIVE state (status: {dataset.status}).")
        location = (p.get("dataSource") or {}).get("dataLocation", "")
        if not S3_LOCATION.match(str(location)):
            raise invalid(f"Invalid Data location: {location!r}; expected s3://bucket/key or "
                          "s3://bucket/folder/.")
        mode = p.get("importMode") or "FULL"
        if mode not in ("FULL", "INCREMENTAL"):
            raise invalid(f"Invalid importMode {mode!r}; expected FULL or INCREMENTAL.")
        # "If you haven't imported bulk records into the dataset previously, you can only specify
        # FULL." (botocore personalize, CreateDatasetImportJobRequest.importMode)
        if mode == "INCREMENTAL" and not store.all_of(
                DatasetImportJob, lambda j: j.dataset_arn == dataset.arn and j.status == "ACTIVE"):
            raise invalid(f"Dataset {dataset.arn} has no bulk records yet: the first import job must use "
                          "importMode FULL.")
        arn = store.arn(ctx, "dataset-import-job", name)
        job = store.new(DatasetImportJob, ctx, arn, name, p.get("tags"), dataset_arn=dataset.arn,
                        data_location=location, role_arn=p.get("roleArn"), import_mode=mode,
                        publish_metrics=bool(p.get("publishAttributionMetricsToS3", False)))
        running = store.all_of(DatasetImportJob,
                               lambda j: store.in_context(j, ctx) and j.status in IN_PROGRESS)
        quota = store.quotas["imports_in_progress_per_region"]
        if len(running) >= quota:
            raise limit(f"More than {quota} resources with PENDING or IN_PROGRESS status.")
        store.add(job)
        start = job.created + dur.pending_part(store.durations.import_job(0, name))
        store.schedule(start, "import_start", job)
        return {"datasetImportJobArn": arn}

    def _on_import_start(self, job: DatasetImportJob, at: float, _: Any) -> None:
        store = self.store
        store.set_status(job, "CREATE IN_PROGRESS", at)
        reason, rows, parsed = self._run_import(job)
        if reason is not None:
            store.schedule(at + store.durations.of("import_failure", job.name), "failed", job, reason)
            return
        job.pending_data, job.rows = parsed, rows
        store.schedule(at + store.durations.import_job(rows, job.name), "import_done", job)

    def _run_import(self, job: DatasetImportJob) -> tuple[str | None, int, Any]:
        """Read the CSV from moto S3 with the role, check it, parse it: (failure, rows, data)."""
        store = self.store
        injected = store.faults.import_failure(job.name)
        if injected:
            return injected, 0, None
        dataset = store.resources.get(job.dataset_arn)
        if not isinstance(dataset, Dataset):
            return f"Dataset {job.dataset_arn} no longer exists.", 0, None
        group = store.resources.get(dataset.dataset_group_arn)
        role_arn = job.role_arn or (group.role_arn if isinstance(group, DatasetGroup) else None)
        bucket, _, key = job.data_location[len("s3://"):].partition("/")
        try:
            keys = import_keys(job.account, bucket, key)
        except LookupError:
            return (f"Insufficient privileges for accessing data in Amazon S3: bucket {bucket} "
                    "does not exist or is not reachable."), 0, None
        folder = key if (not key or key.endswith("/")) else None
        denied = check_import_access(job.account, job.region, role_arn, bucket, keys, job.arn, prefix=folder)
        if denied:
            return f"Failed to create a data import job for {dataset.dataset_type} dataset. {denied}", 0, None
        if not keys:
            return f"Input file not found: no CSV object at {job.data_location}.", 0, None
        schema = store.resources.get(dataset.schema_arn)
        schema_dict = schema.parsed if isinstance(schema, Schema) else {}
        raws = [(f"s3://{bucket}/{k}", moto_internals.read_object(job.account, bucket, k)) for k in keys]
        # the service's import rules, judged by the local Personalize's own code (importcheck), never
        # by the project's validator: a validator bug must not become a bug of the local service
        problems = importcheck.check_import(raws, schema_dict, dataset.dataset_type)
        if problems:
            shown = "; ".join(str(pr) for pr in problems[:importcheck.MAX_SHOWN])
            more = (f" (and {len(problems) - importcheck.MAX_SHOWN} more)"
                    if len(problems) > importcheck.MAX_SHOWN else "")
            return f"Input CSV failed validation: {shown}{more}"[:1000], 0, None
        container_type: Any = {"interactions": data.Interactions, "items": data.Items,
                               "users": data.Users}.get(dataset.dataset_type.lower())
        if container_type is None:
            return f"The local Personalize cannot import {dataset.dataset_type} datasets.", 0, None
        try:
            parts = [container_type.from_csv(raw, schema_dict) for _, raw in raws]
        except ValueError as error:
            return f"Input CSV failed validation: {error}"[:1000], 0, None
        combined = parts[0]
        for part in parts[1:]:
            combined = concat(combined, part)
        return None, len(combined), combined

    def _on_import_done(self, job: DatasetImportJob, at: float, _: Any) -> None:
        dataset = self.store.resources.get(job.dataset_arn)
        imported = job.pending_data
        if isinstance(dataset, Dataset):
            if job.import_mode == "INCREMENTAL" and dataset.data is not None:
                try:
                    dataset.data = concat(dataset.data, job.pending_data)
                except ValueError as error:
                    job.pending_data = None
                    self.store.set_status(job, "CREATE FAILED", at,
                                          f"Input CSV does not match the dataset's data: {error}")
                    return
            else:
                dataset.data = job.pending_data
        job.pending_data = None
        self.store.set_status(job, "ACTIVE", at)
        if isinstance(dataset, Dataset) and dataset.dataset_type.lower() == "interactions":
            # what the group's metric attribution reports of them (local.emulator.personalize.attribution)
            self.store.schedule(at, "attribution_import", job, imported)

    def op_DescribeDatasetImportJob(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        job = self.store.find(DatasetImportJob, p.get("datasetImportJobArn"))
        return {"datasetImportJob": job.describe()}

    def op_ListDatasetImportJobs(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        ds = p.get("datasetArn")
        found = store.listed(DatasetImportJob, ctx, lambda j: ds is None or j.dataset_arn == ds)
        return store.page([j.summary() for j in found], p, "datasetImportJobs")


# --------------------------------------------------------------------------------------------------
def parse_schema(text: Any) -> dict[str, Any]:
    """CreateSchema's check of an Avro record schema (JSON text); InvalidInputException if bad."""
    if not isinstance(text, str):
        raise invalid("schema must be a JSON string.")
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as error:
        raise invalid(f"Invalid schema: not valid JSON ({error.msg} at line {error.lineno} "
                      f"column {error.colno}).") from None
    if not isinstance(parsed, dict) or parsed.get("type") != "record":
        raise invalid('Invalid schema: the top-level type must be "record".')
    fields = parsed.get("fields")
    if not isinstance(fields, list) or not fields:
        raise invalid("Invalid schema: a record needs a non-empty fields array.")
    seen: set[str] = set()
    for index, spec in enumerate(fields):
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise invalid(f"Invalid schema: field {index} needs a name.")
        if spec["name"] in seen:
            raise invalid(f"Invalid schema: duplicate field {spec['name']}.")
        seen.add(spec["name"])
        types = spec.get("type")
        for t in types if isinstance(types, list) else [types]:
            if not isinstance(t, str) or t not in AVRO_TYPES:
                raise invalid(f"Invalid schema: field {spec['name']} has unsupported type {t!r}; "
                              f"expected one of {sorted(AVRO_TYPES)} (optionally in a union with null).")
    return parsed


def import_keys(account: str, bucket: str, key: str) -> list[str]:
    """The objects an import job reads: the key itself, or every `.csv` directly under the folder
    (`s3://bucket/folder/`); LookupError when the bucket does not exist."""
    found = moto_internals.bucket_keys(account, bucket)
    if key and not key.endswith("/") and key in found:
        return [key]
    prefix = key if key.endswith("/") or not key else key + "/"
    return sorted(k for k in found if k.startswith(prefix) and k.lower().endswith(".csv")
                  and "/" not in k[len(prefix):])


def _field_signature(spec: dict[str, Any]) -> tuple[Any, ...]:
    types = spec.get("type")
    normalized = tuple(sorted(str(t) for t in types)) if isinstance(types, list) else (str(types),)
    return normalized, bool(spec.get("categorical")), bool(spec.get("textual"))


def replacement_problem(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> str | None:
    """Why `new` cannot replace `old` (all old fields kept unchanged, new ones nullable), or None."""
    by_name = {f["name"]: f for f in new}
    for field in old:
        found = by_name.get(field["name"])
        if found is None:
            return f"the field {field['name']} of the current schema is missing; keep every field"
        if _field_signature(found) != _field_signature(field):
            return (f"the field {field['name']} changed its type or attributes; keep them, or add a new "
                    "field with a new name")
    names = {f["name"] for f in old}
    for field in new:
        types = field.get("type")
        if field["name"] not in names and not (isinstance(types, list) and "null" in types):
            return f"the new field {field['name']} must allow null (a union with \"null\")"
    return None


def widen(stored: Any, schema: dict[str, Any]) -> None:
    """Give stored Items/Users records the replacement schema's new (null) fields, so later imports
    with the new schema append to them."""
    fields = data.parse_schema(schema)
    columns = getattr(stored, "columns", None)
    id_field = getattr(stored, "_id_field", "")
    if columns is None:
        return
    for spec in fields:
        if spec.name != id_field and spec.name not in columns:
            columns[spec.name] = [None] * len(stored)
    stored.fields = fields


def concat(first: Any, second: Any) -> Any:
    """`first` with the rows of `second` appended (INCREMENTAL imports, multi-file folders); a copy,
    since a trained model may still hold `first`."""
    combined = copy.deepcopy(first)
    combined.append(second)
    return combined

