"""Custom::PersonalizeSolutionMetrics (properties: contract.SOLUTION_METRICS). Data: the version's
GetSolutionMetrics values, one key per metric, plus `Json` (all of them as one JSON object) and
`SolutionVersionArn`.

Not a Personalize resource: it reads the evaluation metrics of a trained version so the stack can
publish them as Outputs. Nothing is created, so Delete is a no-op. Create/Update finish in
`is_complete` once the version is ACTIVE (the stack creates this after the training's
WaitCondition, so that is at once; without the wait it polls within the Provider's timeout)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from .base import ACTIVE, IN_PROGRESS, Ctx, Kind
from .clients import error_code, error_message
from .common import HandlerError, digest, failure, is_personalize_arn
from .contract import SOLUTION_METRICS

#: Keep the Provider's response well under CloudFormation's 4096 bytes; past this the per-metric
#: keys are dropped and only `Json` is kept (a handful of metrics is ~600 bytes).
MAX_DATA_BYTES = 2500


class SolutionMetrics(Kind):
    spec = SOLUTION_METRICS
    arn_kind = "solution"
    arn_key = "solutionVersionArn"
    result_key = "solutionVersion"
    name_prop = "SolutionVersionArn"

    def display_name(self, event: Any) -> str:
        props = event.properties or event.old_properties
        arn = str(props.get("SolutionVersionArn") or "")
        return arn.split(":", 5)[-1] if arn else event.logical_id or "(unnamed)"

    def version_arn(self, ctx: Ctx) -> str:
        arn: str = self.prop(ctx, "SolutionVersionArn")
        # arn:...:solution/<solution name>/<version id>
        if not is_personalize_arn(arn, "solution") or arn.split(":", 5)[5].count("/") != 2:
            raise HandlerError(f"{self.label} {ctx.name}: property SolutionVersionArn: expected a solution "
                               f"version ARN (arn:aws:personalize:<region>:<account>:solution/<name>/<id>), "
                               f"got {arn!r}")
        return arn

    def physical_id(self, arn: str) -> str:
        """Stable per version: a new version is a new physical id (CloudFormation then deletes the old
        one, a no-op), the same version keeps it."""
        return f"solution-metrics-{digest(arn, length=16)}"

    def describe(self, ctx: Ctx, arn: str) -> dict[str, Any] | None:
        try:
            response = ctx.pz("describe_solution_version", solutionVersionArn=arn)
        except ClientError as exc:
            if error_code(exc) == "ResourceNotFoundException":
                return None
            raise failure(self.label, ctx.name, "DescribeSolutionVersion", error_message(exc)) from exc
        result: dict[str, Any] = response["solutionVersion"]
        return result

    def on_event(self, ctx: Ctx) -> dict[str, Any]:
        if ctx.event.request_type == "Delete":
            return {"PhysicalResourceId": ctx.event.physical_id or ctx.event.logical_id}
        arn = self.version_arn(ctx)
        return {"PhysicalResourceId": self.physical_id(arn)}

    def is_complete(self, ctx: Ctx) -> dict[str, Any]:
        if ctx.event.request_type == "Delete":
            return {"IsComplete": True}
        arn = self.version_arn(ctx)
        described = self.describe(ctx, arn)
        if described is None:
            raise failure(self.label, ctx.name, "DescribeSolutionVersion", f"{arn} does not exist")
        status = described.get("status")
        if status in IN_PROGRESS:
            return {"IsComplete": False}
        if status != ACTIVE:
            raise failure(self.label, ctx.name, "GetSolutionMetrics",
                          f"the solution version is {status} (metrics exist only for ACTIVE versions): "
                          f"{described.get('failureReason') or 'no failureReason'}")
        try:
            metrics = ctx.pz("get_solution_metrics", solutionVersionArn=arn).get("metrics") or {}
        except ClientError as exc:
            if error_code(exc) == "ResourceInUseException":  # a race with the training's last step
                return {"IsComplete": False}
            raise failure(self.label, ctx.name, "GetSolutionMetrics", error_message(exc)) from exc
        return {"IsComplete": True, "Data": metrics_data(arn, metrics)}


def metrics_data(arn: str, metrics: Mapping[str, Any]) -> dict[str, Any]:
    """Data for CloudFormation: `Json` (sorted, rounded to 4 places), one key per metric (as strings,
    which is what GetAtt returns anyway) and the version's ARN."""
    rounded = {k: round(float(v), 4) for k, v in sorted(metrics.items())}
    data: dict[str, Any] = {"SolutionVersionArn": arn, "Json": json.dumps(rounded, separators=(",", ":"))}
    data.update({k: str(v) for k, v in rounded.items()})
    if len(json.dumps(data)) > MAX_DATA_BYTES:
        data = {"SolutionVersionArn": arn, "Json": data["Json"]}
    return data
