"""Custom::PersonalizeMetricAttribution (properties: contract.METRIC_ATTRIBUTION).

Metrics, RoleArn and OutputPath change in place: UpdateMetricAttribution takes the difference
(addMetrics, removeMetrics by metric name, metricsOutputConfig), so the attribution keeps its ARN
and its reports ("When you update a metric attribution, you can add and remove metrics and modify
its output configuration", updating-metric-attribution). A metric whose event type or expression
changed is removed and added again in the same call. Only a new Name or dataset group replaces it;
the stack derives the name from the dataset group's, so a replacement is always in a new group
(a dataset group holds one metric attribution).

The service keeps metric names and event types upper-cased (the CloudFormation schema of
AWS::Personalize::MetricAttribution transforms both with `$uppercase`), so they compare that way.
DescribeMetricAttribution does not return the metrics: ListMetricAttributionMetrics does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import ACTIVE, CREATE_FAILED, DELETING, IN_PROGRESS, Ctx, Kind, diff, list_all
from .common import failure, is_personalize_arn
from .contract import METRIC_ATTRIBUTION

#: What an update reports until it is done (the model's status is a free string; statuses named
#: like every other Personalize operation's).
UPDATING = frozenset({"UPDATE PENDING", "UPDATE IN_PROGRESS"})


def _key(metric: Mapping[str, Any]) -> tuple[str, str, str]:
    """A metric as the service compares it: name and event type upper-cased, expression without spaces."""
    return (str(metric.get("metricName", "")).upper(), str(metric.get("eventType", "")).upper(),
            "".join(str(metric.get("expression", "")).split()).upper())


class MetricAttribution(Kind):
    spec = METRIC_ATTRIBUTION
    arn_kind = "metric-attribution"
    arn_key = "metricAttributionArn"
    result_key = "metricAttribution"
    running = IN_PROGRESS | UPDATING

    # ---- what is wanted ---------------------------------------------------------------------

    def metrics(self, ctx: Ctx) -> list[dict[str, str]]:
        """The metrics as the API takes them (CloudFormation sent every value as a string)."""
        return [{k: str(v) for k, v in metric.items()} for metric in self.prop(ctx, "Metrics")]

    def output(self, ctx: Ctx) -> dict[str, Any]:
        config: dict[str, Any] = {"roleArn": self.prop(ctx, "RoleArn")}
        path = self.prop(ctx, "OutputPath")
        if path:
            config["s3DataDestination"] = {"path": path}
        return config

    def create_params(self, ctx: Ctx, name: str) -> dict[str, Any]:
        return {"name": name, "datasetGroupArn": self.prop(ctx, "DatasetGroupArn"),
                "metrics": self.metrics(ctx), "metricsOutputConfig": self.output(ctx)}

    # ---- what is there ----------------------------------------------------------------------

    def current_metrics(self, ctx: Ctx, arn: str) -> list[dict[str, Any]]:
        return list_all(ctx, "list_metric_attribution_metrics", "metrics", metricAttributionArn=arn)

    def changes(self, ctx: Ctx, arn: str, described: Mapping[str, Any]) -> dict[str, Any]:
        """UpdateMetricAttribution's parameters that take the attribution to the wanted one (empty:
        it already is)."""
        wanted = {_key(m): m for m in self.metrics(ctx)}
        current = {_key(m): m for m in self.current_metrics(ctx, arn)}
        params: dict[str, Any] = {}
        remove = sorted(str(m.get("metricName")) for k, m in current.items() if k not in wanted)
        add = [m for k, m in wanted.items() if k not in current]
        if remove:
            params["removeMetrics"] = remove
        if add:
            params["addMetrics"] = add
        output = self.output(ctx)
        if (described.get("metricsOutputConfig") or {}) != output:
            params["metricsOutputConfig"] = output
        return params

    def mismatches(self, ctx: Ctx, existing: Mapping[str, Any]) -> list[str]:
        out = []
        group = self.prop(ctx, "DatasetGroupArn")
        if existing.get("datasetGroupArn") != group:
            out.append(diff("datasetGroupArn", existing.get("datasetGroupArn"), group))
        # Metrics and output differ only until is_complete reconciles them in place.
        return out

    def find(self, ctx: Ctx, name: str) -> dict[str, Any] | None:
        return self.find_listed(ctx, name, "list_metric_attributions", "metricAttributions")

    # ---- update in place, and reconcile until done --------------------------------------------

    def update_in_place(self, ctx: Ctx, arn: str, changed: set[str]) -> None:
        super().update_in_place(ctx, arn, changed)
        described = self.describe(ctx, arn)
        if described is None:
            raise failure(self.label, ctx.name, "UpdateMetricAttribution", f"{arn} does not exist")
        if described.get("status") != ACTIVE:
            return  # creating or updating: is_complete issues the update once it is ACTIVE
        params = self.changes(ctx, arn, described)
        if params:
            self.call(ctx, "UpdateMetricAttribution", metricAttributionArn=arn, **params)

    def is_complete(self, ctx: Ctx) -> dict[str, Any]:
        """Done when ACTIVE with the wanted metrics and output; an ACTIVE attribution that is not
        there yet (an update that had to wait, a rollback) gets UpdateMetricAttribution here."""
        if ctx.event.request_type == "Delete":
            return super().is_complete(ctx)
        arn = ctx.event.physical_id or ""
        described = self.describe(ctx, arn)
        if described is None:
            raise failure(self.label, ctx.name, "DescribeMetricAttribution", f"{arn} does not exist")
        status = described.get("status")
        if status == CREATE_FAILED:
            raise failure(self.label, ctx.name, self.create_op,
                          described.get("failureReason") or "CREATE FAILED without a failureReason")
        if status in self.running:
            return {"IsComplete": False}
        if status != ACTIVE:
            raise failure(self.label, ctx.name, "DescribeMetricAttribution", f"unexpected status {status!r}"
                          + (f": {described['failureReason']}" if described.get("failureReason") else ""))
        params = self.changes(ctx, arn, described)
        if params:
            self.call(ctx, "UpdateMetricAttribution", metricAttributionArn=arn, **params)
            return {"IsComplete": False}
        return {"IsComplete": True, "Data": self.data(ctx, arn, described)}

    # ---- delete: by the list, so a stack that no longer configures an attribution (whose role may
    # ---- delete and list attributions, nothing more) can still delete the one it had

    def listed(self, ctx: Ctx, arn: str) -> dict[str, Any] | None:
        group = ctx.props.get("DatasetGroupArn") or ctx.event.old_properties.get("DatasetGroupArn")
        params = {"datasetGroupArn": group} if group else {}
        found = list_all(ctx, "list_metric_attributions", "metricAttributions", **params)
        return next((a for a in found if a.get(self.arn_key) == arn), None)

    def target(self, ctx: Ctx) -> str | None:
        physical = ctx.event.physical_id
        if is_personalize_arn(physical, self.arn_kind):
            return physical
        name = ctx.props.get(self.name_prop)
        listed = list_all(ctx, "list_metric_attributions", "metricAttributions")
        return next((str(a[self.arn_key]) for a in listed if name and a.get("name") == name), None)

    def delete_finished(self, ctx: Ctx) -> bool:
        arn = self.target(ctx)
        if arn is None:
            return True
        found = self.listed(ctx, arn)
        if found is None:
            return True
        if found.get("status") in UPDATING | DELETING | IN_PROGRESS:
            return False  # an update or a create must end before the delete is accepted
        self.try_delete(ctx, arn)
        return False
