"""The local Personalize control plane, runtime and events: state, rules and lifecycles.

Statuses are computed lazily: each operation schedules its transitions on a timeline (heap of
(time, seq, action)); every API call first applies the transitions due at the clock's now, in time
order, so results depend only on the clock, never on when or how often anyone looked.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import heapq
import io
import json
import math
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from local.emulator.clock import Clock, VirtualClock
from local.emulator.faults import FaultInjector
from local.emulator.personalize import durations as dur
from local.emulator.personalize.batch import BatchInferenceOps
from local.emulator.personalize.errors import PersonalizeError, exists, in_use, invalid, limit, not_found
from local.emulator.personalize.resources import (
    DELETING,
    IN_PROGRESS,
    Campaign,
    CampaignUpdate,
    Dataset,
    DatasetGroup,
    DatasetImportJob,
    DatasetUpdate,
    EventTracker,
    Filter,
    Resource,
    Schema,
    Solution,
    SolutionVersion,
)

R = TypeVar("R", bound=Resource)

NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9\-_]*$")
DATASET_TYPES = {"interactions": "Interactions", "items": "Items", "users": "Users",
                 "actions": "Actions", "action_interactions": "Action_Interactions"}
REQUIRED_FIELDS = {"Interactions": ("USER_ID", "ITEM_ID", "TIMESTAMP"), "Items": ("ITEM_ID",),
                   "Users": ("USER_ID",), "Actions": ("ACTION_ID",),
                   "Action_Interactions": ("USER_ID", "ACTION_ID", "TIMESTAMP")}
AVRO_TYPES = {"string", "int", "long", "float", "double", "boolean", "null"}

#: Default quotas (Personalize developer guide, "Amazon Personalize endpoints and quotas"; the
#: import message from "Common error messages"). Cited in docs/local-personalize.md.
QUOTAS = {
    "dataset_groups_per_region": 5,
    "schemas_per_region": 500,
    "imports_in_progress_per_region": 5,
    "solution_versions_in_progress_per_region": 20,
    "solutions_per_dataset_group": 10,
    "campaigns_per_dataset_group": 5,
    "filters_per_dataset_group": 10,
    "event_trackers_per_dataset_group": 1,
    "tags_per_resource": 50,
}
MAX_RESULTS = 100


def recipe_name(recipe_arn: str) -> str:
    return recipe_arn.rsplit("/", 1)[-1]


class PersonalizeBackend(BatchInferenceOps):
    """All accounts and regions of the local Personalize (ARNs carry both)."""

    def __init__(self, clock: Clock | None = None, faults: FaultInjector | None = None) -> None:
        self.clock: Clock = clock or VirtualClock()
        self.faults = faults or FaultInjector()
        self.durations = dur.Durations()
        self.quotas = dict(QUOTAS)
        self.resources: dict[str, Resource] = {}
        self._timeline: list[tuple[float, int, str, str, int, Any]] = []
        self._seq = 0
        self._lock = threading.RLock()
        #: trackingId -> event tracker arn
        self.tracking: dict[str, str] = {}
        #: how many recommendations were served (runtime calls), for tests and the demo
        self.served = 0

    # --- pickling (the lock cannot travel) ------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_lock", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    # --- time -----------------------------------------------------------------------------------
    def now(self) -> float:
        return self.clock.now()

    def _schedule(self, at: float, action: str, arn: str, gen: int, payload: Any = None) -> None:
        self._seq += 1
        heapq.heappush(self._timeline, (at, self._seq, action, arn, gen, payload))

    def settle(self) -> None:
        """Apply every transition due by now (called at the start of every operation)."""
        with self._lock:
            now = self.now()
            while self._timeline and self._timeline[0][0] <= now:
                at, _, action, arn, gen, payload = heapq.heappop(self._timeline)
                resource = self.resources.get(arn)
                if resource is None or resource.gen != gen:
                    continue
                getattr(self, f"_on_{action}")(resource, at, payload)

    def next_transition(self) -> float | None:
        """When the next scheduled status change happens (for a runner jumping the clock)."""
        with self._lock:
            live = [e for e in self._timeline
                    if e[3] in self.resources and self.resources[e[3]].gen == e[4]]
            return min((e[0] for e in live), default=None)

    def _set(self, resource: Resource, status: str, at: float, reason: str | None = None) -> None:
        resource.status = status
        resource.updated = at
        if reason is not None:
            resource.failure_reason = reason

    # --- generic transitions ------------------------------------------------------------------
    def _start_create(self, resource: Resource, total: float, done: str = "active") -> None:
        """CREATE PENDING now -> CREATE IN_PROGRESS -> `done` action at created + total."""
        t0 = resource.created
        self._schedule(t0 + dur.pending_part(total), "status", resource.arn, resource.gen,
                       "CREATE IN_PROGRESS")
        self._schedule(t0 + total, done, resource.arn, resource.gen)

    def _on_status(self, resource: Resource, at: float, status: str) -> None:
        self._set(resource, status, at)

    def _on_active(self, resource: Resource, at: float, _: Any) -> None:
        self._set(resource, "ACTIVE", at)

    def _on_failed(self, resource: Resource, at: float, reason: str) -> None:
        self._set(resource, "CREATE FAILED", at, reason)

    def _start_delete(self, resource: Resource, total: float) -> None:
        now = self.now()
        resource.gen += 1
        self._set(resource, "DELETE PENDING", now)
        self._schedule(now + dur.pending_part(total), "status", resource.arn, resource.gen,
                       "DELETE IN_PROGRESS")
        self._schedule(now + total, "gone", resource.arn, resource.gen)

    def _on_gone(self, resource: Resource, at: float, _: Any) -> None:
        self.resources.pop(resource.arn, None)
        if isinstance(resource, EventTracker):
            self.tracking.pop(resource.tracking_id, None)
        if isinstance(resource, Dataset):  # import jobs go with their dataset
            for job in self._all(DatasetImportJob, lambda j: j.dataset_arn == resource.arn):
                self.resources.pop(job.arn, None)
        if isinstance(resource, Solution):  # solution versions go with their solution
            versions = self._all(SolutionVersion, lambda v: v.solution_arn == resource.arn)
            for version in versions:
                self.resources.pop(version.arn, None)
            self._drop_batch_jobs({v.arn for v in versions})

    # --- lookups --------------------------------------------------------------------------------
    def _all(self, kind: type[R], where: Callable[[R], bool] | None = None) -> list[R]:
        found = [r for r in self.resources.values() if type(r) is kind]
        return [r for r in found if where is None or where(r)]

    def _get(self, kind: type[R], arn: str | None) -> R:
        resource = self.resources.get(arn or "")
        if not isinstance(resource, kind):
            raise not_found(f"Resource Arn {arn} does not exist.")
        return resource

    def _arn(self, ctx: tuple[str, str], kind: str, name: str) -> str:
        account, region = ctx
        return f"arn:aws:personalize:{region}:{account}:{kind}/{name}"

    def _check_name(self, name: Any, field: str = "name") -> str:
        if not isinstance(name, str) or not 1 <= len(name) <= 63 or not NAME_RE.match(name):
            raise invalid(f"1 validation error detected: Value '{name}' at '{field}' failed to satisfy "
                          r"constraint: Member must satisfy regular expression pattern: "
                          r"^[a-zA-Z0-9][a-zA-Z0-9\-_]* and have length between 1 and 63")
        return name

    def _new(self, cls: type[R], ctx: tuple[str, str], arn: str, name: str, tags: Any = None,
             **fields: Any) -> R:
        if arn in self.resources:
            raise exists(f"Another resource with Arn {arn} already exists.")
        now = self.now()
        resource = cls(arn=arn, name=name, account=ctx[0], region=ctx[1], created=now, updated=now,
                       tags=self._tags(tags), **fields)
        return resource

    def _tags(self, tags: Any) -> dict[str, str]:
        result: dict[str, str] = {}
        for tag in tags or []:
            if not isinstance(tag, dict) or "tagKey" not in tag or "tagValue" not in tag:
                raise invalid("Each tag needs a tagKey and a tagValue.")
            result[str(tag["tagKey"])] = str(tag["tagValue"])
        if len(result) > self.quotas["tags_per_resource"]:
            raise PersonalizeError("TooManyTagsException",
                                   f"A resource can have at most {self.quotas['tags_per_resource']} tags.")
        return result

    def _in_ctx(self, resource: Resource, ctx: tuple[str, str]) -> bool:
        return (resource.account, resource.region) == ctx

    def _dg_active(self, arn: str | None) -> DatasetGroup:
        group = self._get(DatasetGroup, arn)
        if group.status != "ACTIVE":
            raise in_use(f"Dataset group {arn} is not in ACTIVE state (status: {group.status}).")
        return group

    # --- paging ---------------------------------------------------------------------------------
    @staticmethod
    def _page(items: list[dict[str, Any]], params: dict[str, Any], key: str) -> dict[str, Any]:
        size = int(params.get("maxResults") or MAX_RESULTS)
        if not 1 <= size <= MAX_RESULTS:
            raise invalid(f"maxResults must be between 1 and {MAX_RESULTS}, got {size}")
        start = 0
        if params.get("nextToken"):
            try:
                start = int(base64.b64decode(params["nextToken"]).decode())
            except Exception:
                raise PersonalizeError("InvalidNextTokenException", "The token is not valid.") from None
        page: dict[str, Any] = {key: items[start:start + size]}
        if start + size < len(items):
            page["nextToken"] = base64.b64encode(str(start + size).encode()).decode()
        return page

    def _listed(self, kind: type[R], ctx: tuple[str, str], where: Callable[[R], bool] | None = None
                ) -> list[R]:
        found = self._all(kind, lambda r: self._in_ctx(r, ctx) and (where is None or where(r)))
        return sorted(found, key=lambda r: (-r.created, r.arn))

    # --- entry point ----------------------------------------------------------------------------
    def handle(self, operation: str, params: dict[str, Any], account: str, region: str) -> dict[str, Any]:
        """Run one control-plane operation; raises PersonalizeError as the service answers."""
        method = getattr(self, f"op_{operation}", None)
        if method is None:
            raise PersonalizeError("InvalidAction",
                                   f"The local Personalize does not implement {operation}", 400)
        with self._lock:
            self.settle()
            result: dict[str, Any] = method((account, region), params)
            return result

    # ================================ dataset groups ==========================================
    def op_CreateDatasetGroup(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        name = self._check_name(p.get("name"))
        arn = self._arn(ctx, "dataset-group", name)
        if p.get("kmsKeyArn") and not p.get("roleArn"):
            raise invalid("roleArn is required when kmsKeyArn is provided.")
        group = self._new(DatasetGroup, ctx, arn, name, p.get("tags"), role_arn=p.get("roleArn"),
                          kms_key_arn=p.get("kmsKeyArn"), domain=p.get("domain"))
        if len(self._all(DatasetGroup, lambda g: self._in_ctx(g, ctx))) >= self.quotas[
                "dataset_groups_per_region"]:
            raise limit(f"You have reached the maximum of {self.quotas['dataset_groups_per_region']} "
                        "dataset groups in this region.")
        self.resources[arn] = group
        self._start_create(group, self.durations.of("dataset_group", name))
        return {"datasetGroupArn": arn, **({"domain": group.domain} if group.domain else {})}

    def op_DescribeDatasetGroup(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        return {"datasetGroup": self._get(DatasetGroup, p.get("datasetGroupArn")).describe()}

    def op_ListDatasetGroups(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        return self._page([g.summary() for g in self._listed(DatasetGroup, ctx)], p, "datasetGroups")

    def op_DeleteDatasetGroup(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        group = self._get(DatasetGroup, p.get("datasetGroupArn"))
        self._not_busy(group)
        children: list[str] = []
        for kind, label in ((Dataset, "datasets"), (Solution, "solutions"), (EventTracker, "event trackers"),
                            (Filter, "filters")):
            found = self._all(kind, lambda r: getattr(r, "dataset_group_arn", None) == group.arn)
            if found:
                children.append(f"{len(found)} {label}")
        if children:
            raise in_use(f"Dataset group {group.arn} cannot be deleted: it still has "
                         f"{', '.join(children)}. Delete them first.")
        self._start_delete(group, self.durations.of("delete_dataset_group", group.name))
        return {}

    def _not_busy(self, resource: Resource) -> None:
        if resource.status in DELETING:
            raise in_use(f"Resource {resource.arn} is already being deleted (status: {resource.status}).")
        if resource.status in IN_PROGRESS:
            raise in_use(f"Resource {resource.arn} is in {resource.status} state and cannot be deleted.")

    # ================================ schemas =================================================
    def _parse_schema(self, text: Any) -> dict[str, Any]:
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

    def op_CreateSchema(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        name = self._check_name(p.get("name"))
        parsed = self._parse_schema(p.get("schema"))
        arn = self._arn(ctx, "schema", name)
        schema = self._new(Schema, ctx, arn, name, None, schema=p["schema"], domain=p.get("domain"),
                           parsed=parsed, status="ACTIVE")
        if len(self._all(Schema, lambda s: self._in_ctx(s, ctx))) >= self.quotas["schemas_per_region"]:
            raise limit(f"You have reached the maximum of {self.quotas['schemas_per_region']} schemas.")
        self.resources[arn] = schema
        return {"schemaArn": arn}

    def op_DescribeSchema(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        return {"schema": self._get(Schema, p.get("schemaArn")).describe()}

    def op_ListSchemas(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        return self._page([s.summary() for s in self._listed(Schema, ctx)], p, "schemas")

    def op_DeleteSchema(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        schema = self._get(Schema, p.get("schemaArn"))
        users = self._all(Dataset, lambda d: d.schema_arn == schema.arn or (
            d.updating and d.latest_update is not None and d.latest_update.schema_arn == schema.arn))
        if users:
            raise in_use(f"Schema {schema.arn} cannot be deleted: it is used by dataset "
                         f"{users[0].arn}. Delete the dataset first.")
        del self.resources[schema.arn]  # schemas have no status: deletion is immediate
        return {}

    # ================================ datasets ================================================
    def op_CreateDataset(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        name = self._check_name(p.get("name"))
        kind = DATASET_TYPES.get(str(p.get("datasetType", "")).lower())
        if kind is None:
            raise invalid(f"Invalid datasetType {p.get('datasetType')!r}; expected one of "
                          f"{sorted(DATASET_TYPES.values())}.")
        group = self._dg_active(p.get("datasetGroupArn"))
        schema = self._get(Schema, p.get("schemaArn"))
        names = {f["name"] for f in schema.parsed["fields"]}
        missing = [f for f in REQUIRED_FIELDS[kind] if f not in names]
        if missing:
            raise invalid(f"Schema {schema.arn} is not valid for a {kind} dataset: missing required "
                          f"field(s) {', '.join(missing)}.")
        if schema.domain != group.domain:
            raise invalid(f"The domain of schema {schema.arn} ({schema.domain or 'none'}) does not match "
                          f"the domain of dataset group {group.arn} ({group.domain or 'none'}).")
        arn = self._arn(ctx, "dataset", f"{group.name}/{kind.upper()}")
        if arn in self.resources:
            raise exists(f"Another resource with Arn {arn} already exists.")
        if self._all(Dataset, lambda d: self._in_ctx(d, ctx) and d.name == name):
            raise exists(f"A dataset named {name} already exists.")
        dataset = self._new(Dataset, ctx, arn, name, p.get("tags"), dataset_group_arn=group.arn,
                            dataset_type=p["datasetType"], schema_arn=schema.arn)
        self.resources[arn] = dataset
        self._start_create(dataset, self.durations.of("dataset", name))
        return {"datasetArn": arn}

    def op_DescribeDataset(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        return {"dataset": self._get(Dataset, p.get("datasetArn")).describe()}

    def op_ListDatasets(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        group = p.get("datasetGroupArn")
        found = self._listed(Dataset, ctx, lambda d: group is None or d.dataset_group_arn == group)
        return self._page([d.summary() for d in found], p, "datasets")

    def op_DeleteDataset(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        dataset = self._get(Dataset, p.get("datasetArn"))
        self._not_busy(dataset)
        if dataset.updating:
            raise in_use(f"Dataset {dataset.arn} cannot be deleted while its schema is being replaced.")
        running = self._all(DatasetImportJob, lambda j: j.dataset_arn == dataset.arn and j.busy)
        if running:
            raise in_use(f"Dataset {dataset.arn} cannot be deleted: import job {running[0].arn} is "
                         f"{running[0].status}.")
        self._start_delete(dataset, self.durations.of("delete", dataset.name))
        return {}

    def op_UpdateDataset(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        """Replace an Items or Users dataset's schema (keep every field as it was, add nullable
        ones): Personalize guide, updating-dataset-schema."""
        dataset = self._get(Dataset, p.get("datasetArn"))
        schema = self._get(Schema, p.get("schemaArn"))
        if dataset.status != "ACTIVE":
            raise in_use(f"Dataset {dataset.arn} is not in ACTIVE state (status: {dataset.status}).")
        if dataset.updating:
            raise in_use(f"Dataset {dataset.arn} has a schema replacement in progress.")
        if dataset.dataset_type.lower() not in ("items", "users"):
            raise invalid(f"The schema of a {dataset.dataset_type} dataset cannot be replaced; only Items "
                          "and Users datasets can have their schema replaced.")
        current = self.resources.get(dataset.schema_arn)
        old_fields = current.parsed["fields"] if isinstance(current, Schema) else []
        problem = _replacement_problem(old_fields, schema.parsed["fields"])
        if problem:
            raise invalid(f"Schema {schema.arn} cannot replace {dataset.schema_arn}: {problem}")
        now = self.now()
        dataset.latest_update = DatasetUpdate(schema.arn, "CREATE PENDING", now, now)
        total = self.durations.of("dataset_update", dataset.name)
        self._schedule(now + dur.pending_part(total), "dataset_update_status", dataset.arn, dataset.gen,
                       "CREATE IN_PROGRESS")
        self._schedule(now + total, "dataset_update_done", dataset.arn, dataset.gen)
        return {"datasetArn": dataset.arn}

    def _on_dataset_update_status(self, dataset: Dataset, at: float, status: str) -> None:
        if dataset.latest_update:
            dataset.latest_update.status, dataset.latest_update.updated = status, at

    def _on_dataset_update_done(self, dataset: Dataset, at: float, _: Any) -> None:
        update = dataset.latest_update
        schema = self.resources.get(update.schema_arn) if update else None
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
            _widen(dataset.data, schema.parsed)
        update.status = "ACTIVE"

    # ================================ import jobs =============================================
    def op_CreateDatasetImportJob(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        name = self._check_name(p.get("jobName"), "jobName")
        dataset = self._get(Dataset, p.get("datasetArn"))
        if dataset.status != "ACTIVE":
            raise in_use(f"Dataset {dataset.arn} is not in ACTIVE state (status: {dataset.status}).")
        location = (p.get("dataSource") or {}).get("dataLocation", "")
        if not re.match(r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/.*)?$", str(location)):
            raise invalid(f"Invalid Data location: {location!r}; expected s3://bucket/key or "
                          "s3://bucket/folder/.")
        mode = p.get("importMode") or "FULL"
        if mode not in ("FULL", "INCREMENTAL"):
            raise invalid(f"Invalid importMode {mode!r}; expected FULL or INCREMENTAL.")
        arn = self._arn(ctx, "dataset-import-job", name)
        job = self._new(DatasetImportJob, ctx, arn, name, p.get("tags"), dataset_arn=dataset.arn,
                        data_location=location, role_arn=p.get("roleArn"), import_mode=mode,
                        publish_metrics=bool(p.get("publishAttributionMetricsToS3", False)))
        running = self._all(DatasetImportJob, lambda j: self._in_ctx(j, ctx) and j.status in IN_PROGRESS)
        quota = self.quotas["imports_in_progress_per_region"]
        if len(running) >= quota:
            raise limit(f"More than {quota} resources with PENDING or IN_PROGRESS status.")
        self.resources[arn] = job
        self._schedule(job.created + dur.pending_part(self.durations.import_job(0, name)), "import_start",
                       arn, job.gen)
        return {"datasetImportJobArn": arn}

    def _on_import_start(self, job: DatasetImportJob, at: float, _: Any) -> None:
        self._set(job, "CREATE IN_PROGRESS", at)
        reason, rows, data = self._run_import(job)
        if reason is not None:
            self._schedule(at + self.durations.of("import_failure", job.name), "failed", job.arn, job.gen,
                           reason)
            return
        job.pending_data, job.rows = data, rows
        self._schedule(at + self.durations.import_job(rows, job.name), "import_done", job.arn, job.gen)

    def _run_import(self, job: DatasetImportJob) -> tuple[str | None, int, Any]:
        """Read the CSV from moto S3 with the role, check it, parse it: (failure, rows, data)."""
        injected = self.faults.import_failure(job.name)
        if injected:
            return injected, 0, None
        dataset = self.resources.get(job.dataset_arn)
        if not isinstance(dataset, Dataset):
            return f"Dataset {job.dataset_arn} no longer exists.", 0, None
        group = self.resources.get(dataset.dataset_group_arn)
        role_arn = job.role_arn or (group.role_arn if isinstance(group, DatasetGroup) else None)
        bucket, _, key = job.data_location[len("s3://"):].partition("/")
        try:
            keys = self._s3_keys(job.account, bucket, key)
        except KeyError as error:
            return str(error.args[0]), 0, None
        from local.emulator.personalize.access import check_import_access

        denied = check_import_access(job.account, job.region, role_arn, bucket, keys, job.arn)
        if denied:
            return f"Failed to create a data import job for {dataset.dataset_type} dataset. {denied}", 0, None
        if not keys:
            return f"Input file not found: no CSV object at {job.data_location}.", 0, None
        schema = self.resources.get(dataset.schema_arn)
        schema_dict = schema.parsed if isinstance(schema, Schema) else {}
        raws = [(f"s3://{bucket}/{k}", self._s3_read(job.account, bucket, k)) for k in keys]
        from pipeline.csvcheck import check_csv

        problems: list[Any] = []
        for where, raw in raws:
            result = check_csv(io.BytesIO(raw), schema_dict, dataset.dataset_type.lower(), file=where)
            problems += [pr for pr in result.problems if pr.severity == "error" and not _training_rule(pr)]
        if problems:
            shown = "; ".join(str(pr) for pr in problems[:5])
            more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
            return f"Input CSV failed validation: {shown}{more}"[:1000], 0, None
        from local.emulator.personalize import data as data_module

        container_type: Any = {"interactions": data_module.Interactions, "items": data_module.Items,
                          "users": data_module.Users}.get(dataset.dataset_type.lower())
        if container_type is None:
            return f"The local Personalize cannot import {dataset.dataset_type} datasets.", 0, None
        try:
            parts = [container_type.from_csv(raw, schema_dict) for _, raw in raws]
        except ValueError as error:
            return f"Input CSV failed validation: {error}"[:1000], 0, None
        data = parts[0]
        for part in parts[1:]:
            data = _concat(data, part)
        return None, len(data), data

    def _s3_keys(self, account: str, bucket: str, key: str) -> list[str]:
        from moto.s3.models import s3_backends

        s3 = s3_backends[account]["aws"]
        try:
            found = s3.get_bucket(bucket)
        except Exception:
            raise KeyError(f"Insufficient privileges for accessing data in Amazon S3: bucket {bucket} "
                           "does not exist or is not reachable.") from None
        if key and not key.endswith("/") and key in found.keys:
            return [key]
        prefix = key if key.endswith("/") or not key else key + "/"
        return sorted(k for k in found.keys if k.startswith(prefix) and k.lower().endswith(".csv")
                      and "/" not in k[len(prefix):])

    def _s3_read(self, account: str, bucket: str, key: str) -> bytes:
        from moto.s3.models import s3_backends

        obj = s3_backends[account]["aws"].get_object(bucket, key)
        assert obj is not None
        value: bytes = obj.value
        return value

    def _on_import_done(self, job: DatasetImportJob, at: float, _: Any) -> None:
        dataset = self.resources.get(job.dataset_arn)
        if isinstance(dataset, Dataset):
            if job.import_mode == "INCREMENTAL" and dataset.data is not None:
                try:
                    dataset.data = _concat(dataset.data, job.pending_data)
                except ValueError as error:
                    job.pending_data = None
                    self._set(job, "CREATE FAILED", at,
                              f"Input CSV does not match the dataset's data: {error}")
                    return
            else:
                dataset.data = job.pending_data
        job.pending_data = None
        self._set(job, "ACTIVE", at)

    def op_DescribeDatasetImportJob(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        return {"datasetImportJob": self._get(DatasetImportJob, p.get("datasetImportJobArn")).describe()}

    def op_ListDatasetImportJobs(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        ds = p.get("datasetArn")
        found = self._listed(DatasetImportJob, ctx, lambda j: ds is None or j.dataset_arn == ds)
        return self._page([j.summary() for j in found], p, "datasetImportJobs")

    # ================================ solutions ===============================================
    def op_CreateSolution(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        from pipeline.recipes import RECIPES, RETIRED

        name = self._check_name(p.get("name"))
        group = self._dg_active(p.get("datasetGroupArn"))
        recipe_arn = p.get("recipeArn")
        if p.get("performAutoML"):
            raise invalid("performAutoML is no longer supported; choose a recipe with recipeArn.")
        if not recipe_arn:
            raise invalid("recipeArn is required.")
        recipe = recipe_name(recipe_arn)
        if recipe in RETIRED:
            raise invalid(f"The recipe {recipe_arn} is no longer supported for new solutions. "
                          f"Use arn:aws:personalize:::recipe/{RETIRED[recipe]} instead.")
        if recipe not in RECIPES or recipe_arn != RECIPES[recipe].arn:
            raise not_found(f"Resource Arn {recipe_arn} does not exist.")
        config = p.get("solutionConfig")
        if config is not None and not isinstance(config, dict):
            raise invalid("solutionConfig must be an object.")
        _auto_training_days(config)  # validates schedulingExpression
        arn = self._arn(ctx, "solution", name)
        solution = self._new(Solution, ctx, arn, name, p.get("tags"), dataset_group_arn=group.arn,
                             recipe_arn=recipe_arn, perform_hpo=bool(p.get("performHPO", False)),
                             perform_auto_training=bool(p.get("performAutoTraining", True)),
                             event_type=p.get("eventType"), solution_config=config)
        quota = self.quotas["solutions_per_dataset_group"]
        if len(self._all(Solution, lambda s: s.dataset_group_arn == group.arn)) >= quota:
            raise limit(f"You have reached the maximum of {quota} solutions in dataset group {group.arn}.")
        self.resources[arn] = solution
        self._start_create(solution, self.durations.of("solution", name), done="solution_active")
        return {"solutionArn": arn}

    def op_DescribeSolution(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        solution = self._get(Solution, p.get("solutionArn"))
        latest = self.resources.get(solution.latest_version_arn or "")
        return {"solution": solution.describe(latest if isinstance(latest, SolutionVersion) else None)}

    def op_ListSolutions(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        group = p.get("datasetGroupArn")
        found = self._listed(Solution, ctx, lambda s: group is None or s.dataset_group_arn == group)
        return self._page([s.summary() for s in found], p, "solutions")

    def op_DeleteSolution(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        solution = self._get(Solution, p.get("solutionArn"))
        self._not_busy(solution)
        versions = self._all(SolutionVersion, lambda v: v.solution_arn == solution.arn)
        training = [v for v in versions if v.busy]
        if training:
            raise in_use(f"Solution {solution.arn} cannot be deleted: solution version {training[0].arn} "
                         f"is {training[0].status}.")
        version_arns = {v.arn for v in versions}
        campaigns = self._all(Campaign, lambda c: c.solution_version_arn in version_arns
                              or c.serving_arn in version_arns)
        if campaigns:
            raise in_use(f"Solution {solution.arn} cannot be deleted: campaign {campaigns[0].arn} uses it. "
                         "Delete the campaign first.")
        self._start_delete(solution, self.durations.of("delete", solution.name))
        return {}

    # ================================ solution versions =======================================
    def op_CreateSolutionVersion(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        solution = self._get(Solution, p.get("solutionArn"))
        if solution.status != "ACTIVE":
            raise in_use(f"Solution {solution.arn} is not in ACTIVE state (status: {solution.status}).")
        mode = p.get("trainingMode") or "FULL"
        if mode not in ("FULL", "UPDATE", "AUTOTRAIN"):
            raise invalid(f"Invalid trainingMode {mode!r}; expected FULL or UPDATE.")
        if mode == "UPDATE" and not recipe_name(solution.recipe_arn).startswith("aws-user-personalization"):
            raise invalid("trainingMode UPDATE is only supported for User-Personalization recipes.")
        name = p.get("name")
        if name is not None:
            self._check_name(name)
            if self._all(SolutionVersion, lambda v: self._in_ctx(v, ctx) and v.version_name == name):
                raise exists(f"A solution version named {name} already exists.")
        quota = self.quotas["solution_versions_in_progress_per_region"]
        running = self._all(SolutionVersion, lambda v: self._in_ctx(v, ctx) and v.status in IN_PROGRESS)
        if len(running) >= quota:
            raise limit(f"More than {quota} resources with PENDING or IN_PROGRESS status.")
        version = self._new_version(solution, self.now(), name, mode, "MANUAL", self._tags(p.get("tags")))
        return {"solutionVersionArn": version.arn}

    def _new_version(self, solution: Solution, at: float, name: str | None, mode: str, training_type: str,
                     tags: dict[str, str]) -> SolutionVersion:
        seed = f"{solution.arn}:{len(self._all(SolutionVersion))}:{self._seq}:{name}"
        arn = f"{solution.arn}/{hashlib.sha256(seed.encode()).hexdigest()[:8]}"
        version = SolutionVersion(arn=arn, name=solution.name, account=solution.account,
                                  region=solution.region, created=at, updated=at, tags=tags,
                                  solution_arn=solution.arn, solution_name=solution.name, version_name=name,
                                  training_mode=mode, training_type=training_type)
        self.resources[arn] = version
        solution.latest_version_arn = arn
        self._schedule(at + 10.0, "train_start", arn, version.gen)
        return version

    def _on_solution_active(self, solution: Solution, at: float, _: Any) -> None:
        self._set(solution, "ACTIVE", at)
        if solution.perform_auto_training:
            # "the first automatic training starts within one hour" of the solution becoming ACTIVE
            self._schedule(at + 3600.0, "auto_train", solution.arn, solution.gen)

    def _on_auto_train(self, solution: Solution, at: float, _: Any) -> None:
        """performAutoTraining: a solution version with trainingType AUTOMATIC, then every N days
        (autoTrainingConfig.schedulingExpression, default rate(7 days)): each run is billed."""
        if solution.status == "ACTIVE":
            where = (solution.account, solution.region)
            running = self._all(SolutionVersion, lambda v: self._in_ctx(v, where) and v.status in IN_PROGRESS)
            if len(running) < self.quotas["solution_versions_in_progress_per_region"]:
                self._new_version(solution, at, None, "AUTOTRAIN", "AUTOMATIC", {})
        days = _auto_training_days(solution.solution_config)
        self._schedule(at + days * 86400.0, "auto_train", solution.arn, solution.gen)

    def _on_train_start(self, version: SolutionVersion, at: float, _: Any) -> None:
        self._set(version, "CREATE IN_PROGRESS", at)
        solution = self.resources.get(version.solution_arn)
        if not isinstance(solution, Solution):
            self._schedule(at, "failed", version.arn, version.gen, "The solution no longer exists.")
            return
        datasets = {d.dataset_type.lower(): d for d in
                    self._all(Dataset, lambda d: d.dataset_group_arn == solution.dataset_group_arn)}
        interactions = datasets.get("interactions")
        data = interactions.data if interactions is not None else None
        count = len(data) if data is not None else 0
        recipe = recipe_name(solution.recipe_arn)
        seconds = self.durations.training(recipe, count, solution.perform_hpo, version.arn)
        if self.faults.training_hang(solution.name, version.version_name):
            return  # never finishes: stays CREATE IN_PROGRESS until stopped
        injected = self.faults.training_failure(solution.name, version.version_name)
        if injected:
            self._schedule(at + seconds / 2, "failed", version.arn, version.gen, injected)
            return
        if data is None or count == 0:
            self._schedule(at + self.durations.of("import_failure", version.arn), "failed", version.arn,
                           version.gen, "There is no data in the Interactions dataset of dataset group "
                           f"{solution.dataset_group_arn}. Import interactions before training.")
            return
        short = _training_minimums(data, solution.event_type)
        if short:
            self._schedule(at + seconds / 4, "failed", version.arn, version.gen, short)
            return
        from local.emulator.personalize.training import train

        items = datasets.get("items")
        users = datasets.get("users")
        config = dict(solution.solution_config or {})
        if solution.event_type:
            config.setdefault("eventType", solution.event_type)
        try:
            model = train(recipe, data, items.data if items else None, users.data if users else None,
                          config, seed=int(hashlib.sha256(version.arn.encode()).hexdigest()[:8], 16))
        except (ValueError, LookupError) as error:
            self._schedule(at + seconds / 4, "failed", version.arn, version.gen, str(error))
            return
        version.training_seconds = seconds
        self._schedule(at + seconds, "train_done", version.arn, version.gen, model)

    def _on_train_done(self, version: SolutionVersion, at: float, model: Any) -> None:
        version.model = model
        self._set(version, "ACTIVE", at)

    def op_DescribeSolutionVersion(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        version = self._get(SolutionVersion, p.get("solutionVersionArn"))
        solution = self.resources[version.solution_arn]
        assert isinstance(solution, Solution)
        return {"solutionVersion": version.describe(solution)}

    def op_ListSolutionVersions(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        sol = p.get("solutionArn")
        if sol is not None:
            self._get(Solution, sol)
        found = self._listed(SolutionVersion, ctx, lambda v: sol is None or v.solution_arn == sol)
        return self._page([v.summary() for v in found], p, "solutionVersions")

    def op_StopSolutionVersionCreation(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        version = self._get(SolutionVersion, p.get("solutionVersionArn"))
        if version.status not in ("CREATE PENDING", "CREATE IN_PROGRESS"):
            raise invalid(f"Solution version {version.arn} is {version.status}; only a solution version in "
                          "CREATE PENDING or CREATE IN_PROGRESS can be stopped.")
        version.gen += 1
        now = self.now()
        self._set(version, "CREATE STOPPING", now)
        self._schedule(now + self.durations.of("stop_training", version.arn), "status", version.arn,
                       version.gen, "CREATE STOPPED")
        return {}

    def op_GetSolutionMetrics(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        version = self._get(SolutionVersion, p.get("solutionVersionArn"))
        if version.status != "ACTIVE" or version.model is None:
            raise in_use(f"Solution version {version.arn} is not in ACTIVE state (status: {version.status}).")
        metrics = {k: float(v) for k, v in version.model.metrics().items()}
        return {"solutionVersionArn": version.arn, "metrics": metrics}

    # ================================ campaigns ===============================================
    def _campaign_group(self, campaign_or_version_arn: str) -> str | None:
        version = self.resources.get(campaign_or_version_arn)
        if isinstance(version, SolutionVersion):
            solution = self.resources.get(version.solution_arn)
            return solution.dataset_group_arn if isinstance(solution, Solution) else None
        return None

    def _active_version(self, arn: Any) -> SolutionVersion:
        version = self._get(SolutionVersion, arn)
        if version.status != "ACTIVE":
            raise in_use(f"Solution version {version.arn} is not in ACTIVE state (status: {version.status}).")
        return version

    def _check_deployable(self, version: SolutionVersion) -> None:
        """User-segmentation recipes serve batch segment jobs only: no campaign."""
        from pipeline.recipes import RECIPES, RecipeFamily

        solution = self.resources.get(version.solution_arn)
        recipe = recipe_name(solution.recipe_arn) if isinstance(solution, Solution) else ""
        if recipe in RECIPES and RECIPES[recipe].family == RecipeFamily.USER_SEGMENTATION:
            raise invalid(f"Solution version {version.arn} uses {recipe}, a USER_SEGMENTATION recipe: it "
                          "can only be used for batch segment jobs, not deployed to a campaign.")

    @staticmethod
    def _tps(value: Any) -> int:
        tps = int(value) if value is not None else 1
        if tps < 1:
            raise invalid(f"minProvisionedTPS must be at least 1, got {tps}.")
        return tps

    def op_CreateCampaign(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        name = self._check_name(p.get("name"))
        version = self._active_version(p.get("solutionVersionArn"))
        self._check_deployable(version)
        tps = self._tps(p.get("minProvisionedTPS"))
        arn = self._arn(ctx, "campaign", name)
        campaign = self._new(Campaign, ctx, arn, name, p.get("tags"), solution_version_arn=version.arn,
                             min_tps=tps, config=p.get("campaignConfig"))
        group = self._campaign_group(version.arn)
        quota = self.quotas["campaigns_per_dataset_group"]
        if len(self._all(Campaign, lambda c: self._campaign_group(c.solution_version_arn) == group)) >= quota:
            raise limit(f"You have reached the maximum of {quota} campaigns in dataset group {group}.")
        self.resources[arn] = campaign
        total = self.durations.of("campaign", name)
        injected = self.faults.campaign_failure(name)
        self._schedule(campaign.created + dur.pending_part(total), "status", arn, campaign.gen,
                       "CREATE IN_PROGRESS")
        if injected:
            self._schedule(campaign.created + total, "failed", arn, campaign.gen, injected)
        else:
            self._schedule(campaign.created + total, "campaign_active", arn, campaign.gen)
        return {"campaignArn": arn}

    def _on_campaign_active(self, campaign: Campaign, at: float, _: Any) -> None:
        campaign.serving_arn = campaign.solution_version_arn
        self._set(campaign, "ACTIVE", at)

    def op_UpdateCampaign(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        campaign = self._get(Campaign, p.get("campaignArn"))
        if campaign.status != "ACTIVE":
            raise in_use(f"Campaign {campaign.arn} is not in ACTIVE state (status: {campaign.status}).")
        if campaign.updating:
            raise in_use(f"Campaign {campaign.arn} has an update in progress "
                         f"(status: {campaign.latest_update.status if campaign.latest_update else ''}).")
        version_arn = p.get("solutionVersionArn") or campaign.solution_version_arn
        self._check_deployable(self._active_version(version_arn))
        tps = self._tps(p.get("minProvisionedTPS", campaign.min_tps))
        config = p.get("campaignConfig", campaign.config)
        now = self.now()
        update = CampaignUpdate(version_arn, tps, config, "CREATE PENDING", now, now)
        campaign.latest_update = update
        campaign.updated = now
        total = self.durations.of("campaign_update", campaign.name)
        self._schedule(now + dur.pending_part(total), "update_status", campaign.arn, campaign.gen,
                       "CREATE IN_PROGRESS")
        injected = self.faults.campaign_failure(campaign.name)
        self._schedule(now + total, "update_done", campaign.arn, campaign.gen, injected)
        return {"campaignArn": campaign.arn}

    def _on_update_status(self, campaign: Campaign, at: float, status: str) -> None:
        if campaign.latest_update:
            campaign.latest_update.status = status
            campaign.latest_update.updated = at

    def _on_update_done(self, campaign: Campaign, at: float, failure: str | None) -> None:
        update = campaign.latest_update
        if update is None:
            return
        update.updated = at
        if failure:
            update.status, update.failure_reason = "CREATE FAILED", failure
            return
        update.status = "ACTIVE"
        campaign.solution_version_arn = update.solution_version_arn
        campaign.serving_arn = update.solution_version_arn
        campaign.min_tps, campaign.config = update.min_tps, update.config
        campaign.updated = at

    def op_DescribeCampaign(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        return {"campaign": self._get(Campaign, p.get("campaignArn")).describe()}

    def op_ListCampaigns(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        sol = p.get("solutionArn")
        found = self._listed(Campaign, ctx, lambda c: sol is None
                             or c.solution_version_arn.startswith(sol + "/"))
        return self._page([c.summary() for c in found], p, "campaigns")

    def op_DeleteCampaign(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        campaign = self._get(Campaign, p.get("campaignArn"))
        self._not_busy(campaign)
        if campaign.updating:
            raise in_use(f"Campaign {campaign.arn} cannot be deleted while an update is in progress.")
        self._start_delete(campaign, self.durations.of("delete_campaign", campaign.name))
        return {}

    # ================================ event trackers ==========================================
    def op_CreateEventTracker(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        name = self._check_name(p.get("name"))
        group = self._dg_active(p.get("datasetGroupArn"))
        arn = self._arn(ctx, "event-tracker", name)
        tracking_id = str(uuid.UUID(hashlib.sha256(arn.encode()).hexdigest()[:32]))
        tracker = self._new(EventTracker, ctx, arn, name, p.get("tags"), dataset_group_arn=group.arn,
                            tracking_id=tracking_id)
        quota = self.quotas["event_trackers_per_dataset_group"]
        if len(self._all(EventTracker, lambda t: t.dataset_group_arn == group.arn)) >= quota:
            raise limit(f"You have reached the maximum of {quota} event tracker(s) in dataset group "
                        f"{group.arn}.")
        self.resources[arn] = tracker
        self.tracking[tracking_id] = arn
        self._start_create(tracker, self.durations.of("event_tracker", name))
        return {"eventTrackerArn": arn, "trackingId": tracking_id}

    def op_DescribeEventTracker(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        return {"eventTracker": self._get(EventTracker, p.get("eventTrackerArn")).describe()}

    def op_ListEventTrackers(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        group = p.get("datasetGroupArn")
        found = self._listed(EventTracker, ctx, lambda t: group is None or t.dataset_group_arn == group)
        return self._page([t.summary() for t in found], p, "eventTrackers")

    def op_DeleteEventTracker(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        tracker = self._get(EventTracker, p.get("eventTrackerArn"))
        self._not_busy(tracker)
        self._start_delete(tracker, self.durations.of("delete", tracker.name))
        return {}

    # ================================ filters =================================================
    def op_CreateFilter(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        name = self._check_name(p.get("name"))
        group = self._dg_active(p.get("datasetGroupArn"))
        expression = p.get("filterExpression")
        if not isinstance(expression, str) or not expression.strip():
            raise invalid("filterExpression is required.")
        if len(expression) > 2500:
            raise invalid("filterExpression must be at most 2500 characters.")
        from local.emulator.personalize.filters import compile_filter

        try:
            compiled = compile_filter(expression)
        except ValueError as error:
            raise invalid(str(error)) from None
        arn = self._arn(ctx, "filter", name)
        flt = self._new(Filter, ctx, arn, name, p.get("tags"), dataset_group_arn=group.arn,
                        expression=expression, compiled=compiled)
        quota = self.quotas["filters_per_dataset_group"]
        if len(self._all(Filter, lambda f: f.dataset_group_arn == group.arn)) >= quota:
            raise limit(f"You have reached the maximum of {quota} filters in dataset group {group.arn}.")
        self.resources[arn] = flt
        self._start_create(flt, self.durations.of("filter", name))
        return {"filterArn": arn}

    def op_DescribeFilter(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        return {"filter": self._get(Filter, p.get("filterArn")).describe()}

    def op_ListFilters(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        group = p.get("datasetGroupArn")
        found = self._listed(Filter, ctx, lambda f: group is None or f.dataset_group_arn == group)
        return self._page([f.summary() for f in found], p, "Filters")

    def op_DeleteFilter(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        flt = self._get(Filter, p.get("filterArn"))
        self._not_busy(flt)
        self._start_delete(flt, self.durations.of("delete", flt.name))
        return {}

    # ================================ recipes =================================================
    def _recipe(self, name: str) -> dict[str, Any]:
        from pipeline.recipes import RECIPES

        recipe = RECIPES[name]
        return {"name": name, "recipeArn": recipe.arn, "status": "ACTIVE",
                "creationDateTime": 1543622400.0, "lastUpdatedDateTime": 1543622400.0,
                "algorithmArn": f"arn:aws:personalize:::algorithm/{name}",
                "recipeType": recipe.family.value, "description": f"{recipe.family.value} recipe"}

    def op_ListRecipes(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        from pipeline.recipes import RECIPES

        items = []
        for name in sorted(RECIPES):
            full = self._recipe(name)
            items.append({k: full[k] for k in ("name", "recipeArn", "status", "creationDateTime",
                                                "lastUpdatedDateTime")})
        return self._page(items, p, "recipes")

    def op_DescribeRecipe(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        from pipeline.recipes import RECIPES

        name = recipe_name(str(p.get("recipeArn", "")))
        if name not in RECIPES or RECIPES[name].arn != p.get("recipeArn"):
            raise not_found(f"Resource Arn {p.get('recipeArn')} does not exist.")
        return {"recipe": self._recipe(name)}

    # ================================ tags ====================================================
    def _taggable(self, arn: Any) -> Resource:
        resource = self.resources.get(str(arn))
        if resource is None:
            raise not_found(f"Resource Arn {arn} does not exist.")
        return resource

    def op_TagResource(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        resource = self._taggable(p.get("resourceArn"))
        merged = {**resource.tags, **self._tags(p.get("tags"))}
        if len(merged) > self.quotas["tags_per_resource"]:
            raise PersonalizeError("TooManyTagsException",
                                   f"A resource can have at most {self.quotas['tags_per_resource']} tags.")
        resource.tags = merged
        return {}

    def op_UntagResource(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        resource = self._taggable(p.get("resourceArn"))
        for key in p.get("tagKeys") or []:
            resource.tags.pop(key, None)
        return {}

    def op_ListTagsForResource(self, ctx: tuple[str, str], p: dict[str, Any]) -> dict[str, Any]:
        resource = self._taggable(p.get("resourceArn"))
        return {"tags": [{"tagKey": k, "tagValue": v} for k, v in resource.tags.items()]}

    # ================================ runtime =================================================
    def _serving(self, campaign_arn: Any) -> tuple[Campaign, Any, str]:
        campaign = self.resources.get(str(campaign_arn))
        if not isinstance(campaign, Campaign) or campaign.serving_arn is None or campaign.status in DELETING:
            raise not_found(f"Campaign not found: {campaign_arn}")
        version = self.resources.get(campaign.serving_arn)
        if not isinstance(version, SolutionVersion) or version.model is None:
            raise not_found(f"Campaign not found: {campaign_arn}")
        solution = self.resources[version.solution_arn]
        assert isinstance(solution, Solution)
        return campaign, version.model, recipe_name(solution.recipe_arn)

    def _filter_for(self, campaign: Campaign, filter_arn: Any) -> Any:
        if not filter_arn:
            return None
        flt = self.resources.get(str(filter_arn))
        if not isinstance(flt, Filter):
            raise not_found(f"Filter not found: {filter_arn}")
        if flt.status != "ACTIVE":
            raise invalid(f"Filter {filter_arn} is not ACTIVE (status: {flt.status}).")
        group = self._campaign_group(campaign.serving_arn or "")
        if flt.dataset_group_arn != group:
            raise invalid(f"Filter {filter_arn} does not belong to the dataset group of campaign "
                          f"{campaign.arn}.")
        return flt.compiled

    def _filter_context(self, campaign: Campaign) -> dict[str, Any]:
        """The filter data of the campaign's dataset group (`_group_filter_context`)."""
        return self._group_filter_context(self._campaign_group(campaign.serving_arn or ""))

    def _group_filter_context(self, group: str | None) -> dict[str, Any]:
        """Filters read the dataset group's current Items and Users (as the service's do), not the
        copies the model trained with; interactions come from the model (training + events)."""
        context: dict[str, Any] = {}
        for dataset in self._all(Dataset, lambda d: d.dataset_group_arn == group and d.data is not None):
            kind = dataset.dataset_type.lower()
            if kind in ("items", "users"):
                context[kind] = dataset.data
        return context

    def _add_metadata(self, campaign: Campaign, listed: list[dict[str, Any]], columns: Any) -> None:
        """metadataColumns {"ITEMS": [...]}: item fields with each recommendation, only when the
        campaign was created with campaignConfig.enableMetadataWithRecommendations."""
        if not columns:
            return
        if not (campaign.config or {}).get("enableMetadataWithRecommendations"):
            raise invalid(f"Campaign {campaign.arn} does not return metadata: create or update it with "
                          "campaignConfig enableMetadataWithRecommendations true.")
        unknown = set(columns) - {"ITEMS"}
        if unknown:
            raise invalid(f"metadataColumns supports the ITEMS dataset only, got {sorted(unknown)}.")
        items = self._filter_context(campaign).get("items")
        wanted = list(columns.get("ITEMS") or [])
        if items is None or any(items.field(name) is None for name in wanted):
            missing = [n for n in wanted if items is None or items.field(n) is None]
            raise invalid(f"metadataColumns names fields the Items dataset does not have: {missing}.")
        for entry in listed:
            values = {name: items.value(entry["itemId"], name) for name in wanted}
            entry["metadata"] = {k: str(v) for k, v in values.items() if v is not None}

    def _recommendation_id(self, *parts: Any) -> str:
        self.served += 1
        digest = hashlib.sha256(f"{self.served}:{parts}".encode()).hexdigest()
        return f"RID-{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"

    def get_recommendations(self, p: dict[str, Any]) -> dict[str, Any]:
        from pipeline.recipes import RECIPES, RecipeFamily

        with self._lock:
            self.settle()
            campaign, model, recipe = self._serving(p.get("campaignArn"))
            family = RECIPES[recipe].family if recipe in RECIPES else None
            user_id, item_id = p.get("userId"), p.get("itemId")
            if family == RecipeFamily.PERSONALIZED_RANKING:
                raise invalid(f"Campaign {campaign.arn} uses a personalized-ranking recipe: "
                              "call GetPersonalizedRanking.")
            if family == RecipeFamily.RELATED_ITEMS and not item_id:
                raise invalid("itemId is required for a related-items campaign.")
            if family == RecipeFamily.USER_PERSONALIZATION and not user_id:
                raise invalid("userId is required for a user-personalization campaign.")
            num = int(p.get("numResults") or 25)
            if not 1 <= num <= 500:
                raise invalid(f"numResults must be between 1 and 500, got {num}.")
            compiled = self._filter_for(campaign, p.get("filterArn"))
            values = p.get("filterValues") or {}
            context = self._filter_context(campaign) if compiled is not None else {}
            try:
                ranked = model.recommend(user_id, item_id, num, filter=compiled, filter_values=values,
                                         **context)
            except ValueError as error:
                raise invalid(str(error)) from None
            listed = [{"itemId": i, "score": round(float(s), 7)} for i, s in ranked]
            self._add_metadata(campaign, listed, p.get("metadataColumns"))
            return {"itemList": listed,
                    "recommendationId": self._recommendation_id(campaign.arn, user_id, item_id)}

    def get_personalized_ranking(self, p: dict[str, Any]) -> dict[str, Any]:
        from pipeline.recipes import RECIPES, RecipeFamily

        with self._lock:
            self.settle()
            campaign, model, recipe = self._serving(p.get("campaignArn"))
            if recipe in RECIPES and RECIPES[recipe].family != RecipeFamily.PERSONALIZED_RANKING:
                raise invalid(f"Campaign {campaign.arn} does not use a personalized-ranking recipe: "
                              "call GetRecommendations.")
            inputs = p.get("inputList") or []
            if not inputs or len(inputs) > 500:
                raise invalid("inputList must have between 1 and 500 items.")
            compiled = self._filter_for(campaign, p.get("filterArn"))
            context = self._filter_context(campaign) if compiled is not None else {}
            try:
                ranked = model.rank(p.get("userId"), list(inputs), filter=compiled,
                                    filter_values=p.get("filterValues") or {}, **context)
            except ValueError as error:
                raise invalid(str(error)) from None
            listed = [{"itemId": i, "score": round(float(s), 7)} for i, s in ranked]
            self._add_metadata(campaign, listed, p.get("metadataColumns"))
            return {"personalizedRanking": listed,
                    "recommendationId": self._recommendation_id(campaign.arn, p.get("userId"))}

    # ================================ events ==================================================
    def put_events(self, p: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.settle()
            tracker_arn = self.tracking.get(str(p.get("trackingId")))
            tracker = self.resources.get(tracker_arn or "")
            if not isinstance(tracker, EventTracker) or tracker.status != "ACTIVE":
                raise not_found(f"Event tracker with tracking ID {p.get('trackingId')} not found.")
            user_id = p.get("userId")
            events = p.get("eventList") or []
            if not 1 <= len(events) <= 10:
                raise invalid("eventList must have between 1 and 10 events.")
            if not p.get("sessionId"):
                raise invalid("sessionId is required.")
            models = self._group_models(tracker.dataset_group_arn)
            interactions = next(iter(self._all(
                Dataset, lambda d: d.dataset_group_arn == tracker.dataset_group_arn
                and d.dataset_type.lower() == "interactions")), None)
            for event in events:
                item = event.get("itemId")
                when = float(event.get("sentAt") or self.now())
                event_type = event.get("eventType")
                if not event_type:
                    raise invalid("eventType is required for each event.")
                value = event.get("eventValue")
                if user_id and item:
                    for model in models:
                        model.observe(user_id, item, event_type, when, value)
                    if interactions is not None and interactions.data is not None:
                        # the service adds recorded events to the Item interactions dataset
                        interactions.data.add(user_id, item, int(when), event_type,
                                              None if value is None else float(value))
            return {}

    def _group_models(self, group_arn: str) -> list[Any]:
        models: dict[int, Any] = {}
        for version in self._all(SolutionVersion, lambda v: v.model is not None):
            solution = self.resources.get(version.solution_arn)
            if isinstance(solution, Solution) and solution.dataset_group_arn == group_arn:
                models[id(version.model)] = version.model
        return list(models.values())

    # ================================ inspection (tests, runner) ==============================
    def list_all(self, prefix: str | None = None, kinds: Iterable[str] | None = None) -> list[Resource]:
        """Every resource (optionally whose name starts with `prefix`, of the given KINDs), after
        applying due transitions: what a test checks is left after a destroy."""
        with self._lock:
            self.settle()
            wanted = set(kinds) if kinds else None
            return [r for r in self.resources.values()
                    if (prefix is None or r.name.startswith(prefix))
                    and (wanted is None or r.KIND in wanted)]

    def get(self, arn: str) -> Resource | None:
        with self._lock:
            self.settle()
            return self.resources.get(arn)


#: Training minimums (limits page): interaction records after event-type filtering, and users
#: with at least 2 interactions.
MIN_TRAINING_INTERACTIONS = 1000
MIN_USERS_WITH_2 = 25
MIN_SHARE_WITH_2 = 0.01


def _training_minimums(data: Any, event_type: str | None) -> str | None:
    """Why the service would refuse to train on `data`, or None."""
    from collections import Counter

    users = data.user_ids
    if event_type:
        users = [u for u, e in zip(users, data.event_types, strict=True) if e == event_type]
    counts = Counter(users)
    with_two = sum(1 for n in counts.values() if n >= 2)
    selection = f" of event type {event_type}" if event_type else ""
    needed = max(MIN_USERS_WITH_2, math.ceil(len(counts) * MIN_SHARE_WITH_2))
    if len(users) < MIN_TRAINING_INTERACTIONS or with_two < needed:
        return (f"Insufficient data for training: {len(users)} interactions{selection}, {with_two} of "
                f"{len(counts)} users with at least 2 interactions; training needs at least "
                f"{MIN_TRAINING_INTERACTIONS} interactions and {MIN_USERS_WITH_2} users (and 1% of all "
                "users) with at least 2 interactions each.")
    return None


def _auto_training_days(config: dict[str, Any] | None) -> int:
    """Days between automatic trainings: autoTrainingConfig.schedulingExpression `rate(N days)`,
    N in 1..30, default 7 (API_AutoTrainingConfig)."""
    expression = ((config or {}).get("autoTrainingConfig") or {}).get("schedulingExpression")
    if expression is None:
        return 7
    match = re.fullmatch(r"rate\((\d+) days?\)", str(expression))
    if match is None or not 1 <= int(match.group(1)) <= 30:
        raise invalid(f"Invalid schedulingExpression {expression!r}: expected rate(N days), N from 1 to 30.")
    return int(match.group(1))


def _field_signature(spec: dict[str, Any]) -> tuple[Any, ...]:
    types = spec.get("type")
    normalized = tuple(sorted(str(t) for t in types)) if isinstance(types, list) else (str(types),)
    return normalized, bool(spec.get("categorical")), bool(spec.get("textual"))


def _replacement_problem(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> str | None:
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


def _widen(data: Any, schema: dict[str, Any]) -> None:
    """Give stored Items/Users records the replacement schema's new (null) fields, so later imports
    with the new schema append to them."""
    from local.emulator.personalize.data import parse_schema

    fields = parse_schema(schema)
    columns = getattr(data, "columns", None)
    id_field = getattr(data, "_id_field", "")
    if columns is None:
        return
    for spec in fields:
        if spec.name != id_field and spec.name not in columns:
            columns[spec.name] = [None] * len(data)
    data.fields = fields


def _training_rule(problem: Any) -> bool:
    """csvcheck also reports a training minimum that an import does not enforce (users with 2+
    interactions: checked when a solution version trains). The per-import minimum of 1000
    interaction records is an import rule (limits page) and stays."""
    return problem.line is None and "users with 2+" in str(problem.message)


def _concat(first: Any, second: Any) -> Any:
    """`first` with the rows of `second` appended (INCREMENTAL imports, multi-file folders); a copy,
    since a trained model may still hold `first`."""
    combined = copy.deepcopy(first)
    combined.append(second)
    return combined
