"""Metric attribution in the local Personalize: Create/Describe/List/Update/DeleteMetricAttribution,
ListMetricAttributionMetrics, and the metrics themselves, computed from the events PutEvents records
and published to the account's CloudWatch with the attribution's role.

Where each rule comes from (docs/metric-attribution.md lists them with their pages):
- shapes, lengths, `max 10` metrics: botocore's personalize model (checked by model.py on every
  request and answer);
- one metric attribution per dataset group, at most 10 metrics, at most 100 unique event
  attribution sources, an Interactions dataset with an EVENT_TYPE column, SUM() only on numeric
  columns of Items and Interactions, and items imported before SUM(Items.X): the developer guide,
  "Guidelines and requirements" (metric-attribution-requirements) and "Creating a metric
  attribution" (creating-metric-attribution);
- the service stores metric names and event types upper-cased: the CloudFormation schema of
  AWS::Personalize::MetricAttribution (propertyTransform `$uppercase`), as cfn-lint ships it;
- what is published: for PutEvents, a datum per matching metric in namespace `AWS/Personalize`,
  metric name the upper-cased metricName, dimensions `EventAttributionSource` (upper-cased) and
  `DatasetGroupArn` (the AWS sample "Measuring impact of recommendations"; the docs name no
  dimension set); the source is `metricAttribution.eventAttributionSource`, else the campaign a
  `recommendationId` came from, else SOURCE_NAME_UNDEFINED (recording-events, "Recording events
  for metric attribution"); records older than 14 days are not published (requirements page);
- the role: "permission to use the PutMetricData Action" (requirements page): the local world
  evaluates cloudwatch:PutMetricData for the role's session (namespace AWS/Personalize in the
  context) at creation ("Amazon Personalize places and validates a small amount of data in
  CloudWatch") and at every publication.

Assumed, because no page says it (docs/aws-fidelity.md): the error code for a second attribution in
a group (LimitExceededException, which the operation models), the update's statuses (UPDATE PENDING
-> UPDATE IN_PROGRESS -> ACTIVE; the model's `status` is a free string), and that an update's
removeMetrics is applied before its addMetrics (so one call can redefine a metric).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from local.emulator import moto_internals
from local.emulator.personalize import durations as dur
from local.emulator.personalize.access import check_write_access
from local.emulator.personalize.data import DataError, parse_schema
from local.emulator.personalize.errors import in_use, invalid, limit
from local.emulator.personalize.resources import Dataset, DatasetImportJob, MetricAttribution, Schema
from local.emulator.personalize.store import Context, Part, Store
from local.emulator.policy.authority import Denied, assume, require
from local.emulator.policy.requests import Check

NAMESPACE = "AWS/Personalize"
SOURCE_DIMENSION = "EventAttributionSource"
GROUP_DIMENSION = "DatasetGroupArn"
UNDEFINED_SOURCE = "SOURCE_NAME_UNDEFINED"
MAX_SOURCES = 100
#: "To publish metrics to CloudWatch, records must be less than 14 days old."
MAX_AGE_SECONDS = 14 * 24 * 3600
SERVICE_PRINCIPAL = "personalize.amazonaws.com"
UPDATING = ("UPDATE PENDING", "UPDATE IN_PROGRESS")
#: Reports aggregate by 15 minutes ("The minimum Period you can graph is 15 minutes"; the S3 report
#: rows' timestamps, metric-attribution-results).
REPORT_PERIOD = 900
#: The S3 report's columns (metric-attribution-results).
REPORT_COLUMNS = (
    "METRIC_NAME",
    "EVENT_TYPE",
    "VALUE",
    "MATH_FUNCTION",
    "EVENT_ATTRIBUTION_SOURCE",
    "TIMESTAMP",
)
#: SUM(<Items|Interactions>.<COLUMN>) or SAMPLECOUNT(); the dataset token in any case (the AWS
#: sample writes SUM(ITEMS.MARGIN), the docs SUM(Items.PRICE)).
EXPRESSION = re.compile(
    r"^\s*(?:SUM\(\s*(?P<dataset>[A-Za-z]+)\.(?P<column>[A-Za-z_][A-Za-z0-9_]*)\s*\)"
    r"|(?P<count>SAMPLECOUNT)\(\s*\))\s*$",
    re.IGNORECASE,
)
_DATASETS = {"items": "Items", "interactions": "Interactions"}


def parse_expression(expression: str) -> tuple[str, str | None, str | None]:
    """("samplecount", None, None) or ("sum", "Items"|"Interactions", COLUMN); ValueError if neither."""
    match = EXPRESSION.match(expression or "")
    if match is None:
        raise ValueError(
            f"expression {expression!r} is not SUM(Items.<COLUMN>), SUM(Interactions.<COLUMN>) "
            "or SAMPLECOUNT()"
        )
    if match.group("count"):
        return "samplecount", None, None
    dataset = _DATASETS.get(match.group("dataset").lower())
    if dataset is None:
        raise ValueError(
            f"expression {expression!r}: SUM() takes a column of Items or Interactions, not "
            f"{match.group('dataset')}"
        )
    return "sum", dataset, match.group("column")


class Attribution(Part):
    """The metric attribution operations, and what PutEvents reports through them (`record`)."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        store.on("attribution_ready", self._on_ready)
        store.on("attribution_updated", self._on_updated)
        store.on("attribution_import", self._on_import)

    # ---- checks ---------------------------------------------------------------------------------
    def _schema_fields(self, group_arn: str, dataset_type: str) -> dict[str, Any] | None:
        """name -> FieldSpec of the group's dataset of this type, None without that dataset."""
        dataset = next(
            iter(
                self.store.all_of(
                    Dataset,
                    lambda d: d.dataset_group_arn == group_arn and d.dataset_type.lower() == dataset_type,
                )
            ),
            None,
        )
        if dataset is None:
            return None
        schema = self.store.resources.get(dataset.schema_arn)
        if not isinstance(schema, Schema):
            return {}
        try:
            return {f.name: f for f in parse_schema(schema.schema)}
        except DataError:
            return {}

    def _metrics(self, group_arn: str, metrics: Any, key: str) -> list[dict[str, str]]:
        """The metrics as the service keeps them; InvalidInputException naming the bad one."""
        if not isinstance(metrics, list):
            raise invalid(f"{key} must be a list of metric attributes.")
        if len(metrics) > 10:
            raise invalid(f"{key}: a metric attribution can have at most 10 metrics, got {len(metrics)}.")
        out = []
        for index, metric in enumerate(metrics):
            where = f"{key}[{index}]"
            name, event_type, expression = (
                str(metric.get(k) or "") for k in ("metricName", "eventType", "expression")
            )
            if not name.strip() or not event_type.strip():
                raise invalid(f"{where}: metricName and eventType must not be empty.")
            try:
                function, dataset, column = parse_expression(expression)
            except ValueError as error:
                raise invalid(f"{where}: {error}. Available functions are SUM() or SAMPLECOUNT().") from None
            if function == "sum":
                assert dataset is not None and column is not None
                fields = self._schema_fields(group_arn, dataset.lower())
                if fields is None:
                    raise invalid(
                        f"{where}: {expression} sums a column of the {dataset} dataset, which "
                        f"dataset group {group_arn} does not have."
                    )
                spec = fields.get(column)
                if spec is None or not spec.numeric:
                    raise invalid(
                        f"{where}: you can apply SUM() only to numeric columns of the {dataset} "
                        f"dataset; {column} is {'not in its schema' if spec is None else spec.type}."
                    )
                if dataset == "Items" and not self._items_imported(group_arn):
                    raise invalid(
                        f"{where}: to apply SUM() to a column of the Items dataset, you must first "
                        "import item metadata."
                    )
            out.append(
                {"eventType": event_type.upper(), "metricName": name.upper(), "expression": expression}
            )
        names = [m["metricName"] for m in out]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise invalid(f"{key}: metric names must be unique, {duplicates} repeat.")
        return out

    def _items_imported(self, group_arn: str) -> bool:
        return any(
            d.data is not None and len(d.data)
            for d in self.store.all_of(
                Dataset, lambda d: d.dataset_group_arn == group_arn and d.dataset_type.lower() == "items"
            )
        )

    @staticmethod
    def _output(config: Any) -> dict[str, Any]:
        if not isinstance(config, dict) or not config.get("roleArn"):
            raise invalid("metricsOutputConfig.roleArn is required.")
        return dict(config)

    def _role_problem(self, attribution: MetricAttribution) -> str | None:
        """Why the role cannot publish this attribution's metrics (trust, PutMetricData), or None."""
        context = {"aws:SourceAccount": attribution.account, "aws:SourceArn": attribution.arn}
        try:
            session = assume(
                str(attribution.output.get("roleArn")), SERVICE_PRINCIPAL, context, "Personalize"
            )
            require(
                session,
                Check("cloudwatch:PutMetricData", "*", {"cloudwatch:namespace": NAMESPACE}),
                attribution.region,
            )
        except Denied as denied:
            return f"Insufficient privileges to publish metrics to Amazon CloudWatch: {denied.message}"
        return None

    # ---- operations -----------------------------------------------------------------------------
    def op_CreateMetricAttribution(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        name = store.check_name(p.get("name"))
        group = store.active_dataset_group(p.get("datasetGroupArn"))
        interactions = self._schema_fields(group.arn, "interactions")
        if interactions is None or "EVENT_TYPE" not in interactions:
            raise invalid(
                f"Dataset group {group.arn} needs an Interactions dataset with an EVENT_TYPE column "
                "before a metric attribution can be created."
            )
        metrics = self._metrics(group.arn, p.get("metrics"), "metrics")
        output = self._output(p.get("metricsOutputConfig"))
        arn = store.arn(ctx, "metric-attribution", name)
        attribution = store.new(
            MetricAttribution,
            ctx,
            arn,
            name,
            None,
            dataset_group_arn=group.arn,
            metrics=metrics,
            output=output,
        )
        existing = store.all_of(MetricAttribution, lambda a: a.dataset_group_arn == group.arn)
        if existing:
            raise limit(
                f"You can create at most one metric attribution per dataset group: dataset group "
                f"{group.arn} already has {existing[0].arn} (status: {existing[0].status})."
            )
        store.add(attribution)
        store.start_create(
            attribution, store.durations.of("metric_attribution", name), done="attribution_ready"
        )
        return {"metricAttributionArn": arn}

    def _on_ready(self, attribution: MetricAttribution, at: float, _: Any) -> None:
        problem = self._role_problem(attribution)
        if problem:
            self.store.set_status(attribution, "CREATE FAILED", at, problem)
        else:
            self.store.set_status(attribution, "ACTIVE", at)

    def op_DescribeMetricAttribution(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        found = self.store.find(MetricAttribution, p.get("metricAttributionArn"))
        return {"metricAttribution": found.describe()}

    def op_ListMetricAttributions(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        group = p.get("datasetGroupArn")
        found = self.store.listed(
            MetricAttribution, ctx, lambda a: group is None or a.dataset_group_arn == group
        )
        return self.store.page([a.summary() for a in found], p, "metricAttributions")

    def op_ListMetricAttributionMetrics(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        found = self.store.find(MetricAttribution, p.get("metricAttributionArn"))
        return self.store.page([dict(m) for m in found.metrics], p, "metrics")

    def op_UpdateMetricAttribution(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        attribution = store.find(MetricAttribution, p.get("metricAttributionArn"))
        if attribution.status != "ACTIVE":
            raise in_use(
                f"Metric attribution {attribution.arn} is not in ACTIVE state (status: {attribution.status})."
            )
        remove = p.get("removeMetrics") or []
        known = {m["metricName"] for m in attribution.metrics}
        unknown = [n for n in remove if str(n).upper() not in known]
        if unknown:
            raise invalid(
                f"removeMetrics names metrics the attribution does not have: {unknown} "
                f"(it has {sorted(known)})."
            )
        gone = {str(n).upper() for n in remove}
        kept = [m for m in attribution.metrics if m["metricName"] not in gone]
        added = self._metrics(attribution.dataset_group_arn, p.get("addMetrics") or [], "addMetrics")
        clash = sorted({m["metricName"] for m in added} & {m["metricName"] for m in kept})
        if clash:
            raise invalid(
                f"addMetrics: the attribution already has metrics named {clash}; remove them first "
                "(removeMetrics) to redefine them."
            )
        metrics = kept + added
        if len(metrics) > 10:
            raise invalid(
                f"A metric attribution can have at most 10 metrics; this update leaves {len(metrics)}."
            )
        output = (
            self._output(p["metricsOutputConfig"]) if p.get("metricsOutputConfig") else attribution.output
        )
        if not (remove or added or p.get("metricsOutputConfig")):
            raise invalid("Specify addMetrics, removeMetrics or metricsOutputConfig.")
        now = store.now()
        attribution.pending = (metrics, output)
        store.set_status(attribution, "UPDATE PENDING", now)
        total = store.durations.of("metric_attribution_update", attribution.name)
        store.schedule(now + dur.pending_part(total), "status", attribution, "UPDATE IN_PROGRESS")
        store.schedule(now + total, "attribution_updated", attribution)
        return {"metricAttributionArn": attribution.arn}

    def _on_updated(self, attribution: MetricAttribution, at: float, _: Any) -> None:
        if attribution.pending is not None:
            attribution.metrics, attribution.output = attribution.pending
            attribution.pending = None
        self.store.set_status(attribution, "ACTIVE", at)

    def op_DeleteMetricAttribution(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        attribution = store.find(MetricAttribution, p.get("metricAttributionArn"))
        store.check_deletable(attribution)
        if attribution.status in UPDATING:
            raise in_use(
                f"Metric attribution {attribution.arn} is being updated (status: {attribution.status})."
            )
        store.start_delete(attribution, store.durations.of("delete", attribution.name))
        return {}

    # ---- what events report ---------------------------------------------------------------------
    def record(
        self, group_arn: str, user_id: Any, session_id: Any, event: dict[str, Any], sources: dict[str, str]
    ) -> None:
        """PutEvents reports one event: every metric of the group's attribution that matches its
        event type gets a datum, under the event's attribution source. `sources` maps recommendation
        ids to the campaign that answered them."""
        store = self.store
        attribution = next(
            iter(
                store.all_of(
                    MetricAttribution,
                    lambda a: a.dataset_group_arn == group_arn and a.status in ("ACTIVE", *UPDATING),
                )
            ),
            None,
        )
        if attribution is None:
            return
        sent = float(event.get("sentAt") or store.now())
        if store.now() - sent >= MAX_AGE_SECONDS:
            return
        source = _source(event, sources)
        if source not in attribution.sources and len(attribution.sources) >= MAX_SOURCES:
            attribution.refused.append(
                f"event attribution source {source!r}: the attribution already reports {MAX_SOURCES} sources"
            )
            return
        event_type = str(event.get("eventType") or "").upper()
        data = []
        for metric in attribution.metrics:
            if metric["eventType"] != event_type:
                continue
            value = self._value(group_arn, metric["expression"], event)
            if value is None:
                continue
            data.append(
                {
                    "MetricName": metric["metricName"],
                    "Value": value,
                    "Unit": "None",
                    "Timestamp": datetime.fromtimestamp(sent, UTC),
                    "Dimensions": [
                        {"Name": SOURCE_DIMENSION, "Value": source.upper()},
                        {"Name": GROUP_DIMENSION, "Value": group_arn},
                    ],
                }
            )
        if not data:
            return
        problem = self._role_problem(attribution)
        if problem:
            attribution.refused.append(problem)
            return
        attribution.sources.add(source)
        moto_internals.put_metric_data(attribution.account, attribution.region, NAMESPACE, data)

    # ---- what bulk imports of interactions report -----------------------------------------------
    def _on_import(self, job: DatasetImportJob, at: float, rows: Any) -> None:
        """An interactions import finished: "For PutEvents data and incremental bulk data, Amazon
        Personalize automatically sends metrics to CloudWatch"; with publishAttributionMetricsToS3 and
        an S3 output, a report file of the import's metrics ("Each time you publish metrics, Amazon
        Personalize creates a new file") written with the attribution's role. Only an attribution
        created before the job reports on it ("won't report on data that you imported before you
        created it"). Rows give eventAttributionSource as EVENT_ATTRIBUTION_SOURCE, else the campaign
        of their RECOMMENDATION_ID."""
        dataset = self.store.resources.get(job.dataset_arn)
        if rows is None or not isinstance(dataset, Dataset):
            return
        group = dataset.dataset_group_arn
        attribution = next(
            iter(
                self.store.all_of(
                    MetricAttribution,
                    lambda a: (
                        a.dataset_group_arn == group
                        and a.status in ("ACTIVE", *UPDATING)
                        and a.created <= job.created
                    ),
                )
            ),
            None,
        )
        if attribution is None:
            return
        sources = self.store.recommendation_sources
        totals: dict[tuple[str, str, str, str, int], float] = {}
        recommendation_ids = rows.extra.get("RECOMMENDATION_ID")
        given_sources = rows.extra.get("EVENT_ATTRIBUTION_SOURCE")
        for index, (_user, item, when, event_type, value) in enumerate(rows):
            event: dict[str, Any] = {
                "eventType": event_type,
                "itemId": item,
                "sentAt": when,
                "eventValue": value,
                "recommendationId": recommendation_ids[index] if recommendation_ids else None,
            }
            if given_sources and given_sources[index]:
                event["metricAttribution"] = {"eventAttributionSource": given_sources[index]}
            for metric in attribution.metrics:
                if metric["eventType"] != str(event_type or "").upper():
                    continue
                amount = self._value(group, metric["expression"], event)
                if amount is None:
                    continue
                function = parse_expression(metric["expression"])[0]
                key = (
                    metric["metricName"],
                    metric["eventType"],
                    function,
                    _source(event, sources),
                    _bucket_of(when),
                )
                totals[key] = totals.get(key, 0.0) + amount
        if job.import_mode == "INCREMENTAL":
            self._publish(attribution, {k: v for k, v in totals.items() if at - k[4] < MAX_AGE_SECONDS})
        path = str((attribution.output.get("s3DataDestination") or {}).get("path") or "")
        if job.publish_metrics and path.startswith("s3://") and totals:
            self._report(attribution, job, path, totals, at)

    def _publish(
        self, attribution: MetricAttribution, totals: dict[tuple[str, str, str, str, int], float]
    ) -> None:
        """An incremental import's metrics to CloudWatch, one datum per metric, source and period."""
        if not totals:
            return
        problem = self._role_problem(attribution)
        if problem:
            attribution.refused.append(problem)
            return
        data = []
        for (name, _event_type, _function, source, period), total in sorted(totals.items()):
            if source not in attribution.sources and len(attribution.sources) >= MAX_SOURCES:
                continue
            attribution.sources.add(source)
            data.append(
                {
                    "MetricName": name,
                    "Value": total,
                    "Unit": "None",
                    "Timestamp": datetime.fromtimestamp(period, UTC),
                    "Dimensions": [
                        {"Name": SOURCE_DIMENSION, "Value": source.upper()},
                        {"Name": GROUP_DIMENSION, "Value": attribution.dataset_group_arn},
                    ],
                }
            )
        for start in range(0, len(data), 1000):  # PutMetricData takes at most 1000 datums
            moto_internals.put_metric_data(
                attribution.account, attribution.region, NAMESPACE, data[start : start + 1000]
            )

    def _report(
        self,
        attribution: MetricAttribution,
        job: DatasetImportJob,
        path: str,
        totals: dict[tuple[str, str, str, str, int], float],
        at: float,
    ) -> None:
        bucket, _, prefix = path.removeprefix("s3://").partition("/")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        key = f"{prefix}AggregatedAttributionMetrics - {job.import_mode} - {int(at)}.csv"
        problem = check_write_access(
            attribution.account,
            str(attribution.output.get("roleArn")),
            bucket,
            key,
            attribution.arn,
            attribution.region,
        )
        if problem:
            attribution.refused.append(problem)
            return
        lines = [",".join(REPORT_COLUMNS)]
        for (name, event_type, function, source, period), total in sorted(totals.items()):
            lines.append(",".join((name, event_type, repr(float(total)), function, source, str(period))))
        moto_internals.write_object(attribution.account, bucket, key, ("\n".join(lines) + "\n").encode())

    def _value(self, group_arn: str, expression: str, event: dict[str, Any]) -> float | None:
        function, dataset, column = parse_expression(expression)
        if function == "samplecount":
            return 1.0
        if dataset == "Interactions":
            if column == "EVENT_VALUE":
                raw = event.get("eventValue")
            else:
                raw = _properties(event).get(_camel(str(column)))
        else:
            items = next(
                iter(
                    self.store.all_of(
                        Dataset,
                        lambda d: (
                            d.dataset_group_arn == group_arn
                            and d.dataset_type.lower() == "items"
                            and d.data is not None
                        ),
                    )
                ),
                None,
            )
            raw = items.data.value(str(event.get("itemId") or ""), str(column)) if items is not None else None
        try:
            return None if raw is None else float(raw)
        except (TypeError, ValueError):
            return None


def _bucket_of(when: float) -> int:
    """The 15-minute period a record falls in (the reports' TIMESTAMP)."""
    return int(when // REPORT_PERIOD * REPORT_PERIOD)


def _source(event: dict[str, Any], sources: dict[str, str]) -> str:
    """eventAttributionSource when given ("If you provide both attributes, Amazon Personalize uses only
    the eventAttributionSource"), else the campaign the recommendationId came from, else
    SOURCE_NAME_UNDEFINED."""
    given = (event.get("metricAttribution") or {}).get("eventAttributionSource")
    if given:
        return str(given)
    recommendation = event.get("recommendationId")
    if recommendation and recommendation in sources:
        return sources[str(recommendation)]
    return UNDEFINED_SOURCE


def _properties(event: dict[str, Any]) -> dict[str, Any]:
    try:
        found = json.loads(event.get("properties") or "{}")
    except json.JSONDecodeError:
        return {}
    return found if isinstance(found, dict) else {}


def _camel(column: str) -> str:
    """An interactions column as PutEvents' properties name it (`NUMBER_OF_RATINGS` -> `numberOfRatings`)."""
    head, *rest = column.lower().split("_")
    return head + "".join(part.capitalize() for part in rest)
