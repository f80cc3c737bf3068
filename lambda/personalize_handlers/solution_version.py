"""Custom::PersonalizeSolutionVersion, a training (properties: contract.SOLUTION_VERSION).

A changed Trigger (hash of the data and solution inputs) trains a new version; the name carries a
hash of the RequestId, so a duplicated event adopts the training the first one started instead of
paying for a second one. TrainingMode UPDATE is sent as FULL while the solution has no ACTIVE FULL
version ("The UPDATE option can only be used when you already have an active solution version
created from the input solution using the FULL option", CreateSolutionVersionRequest.trainingMode):
a solution's first deploy trains FULL, the later ones UPDATE. There is no delete API (versions go
with their solution): Delete stops a training still in progress (StopSolutionVersionCreation) and
waits until it has stopped."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from .base import IN_PROGRESS, Ctx, Kind, diff, list_all
from .clients import error_code, error_message
from .common import digest, failure, unique_name
from .contract import REQUEST_SUFFIX_HEX, SOLUTION_VERSION

STOPPING = "CREATE STOPPING"


class SolutionVersion(Kind):
    spec = SOLUTION_VERSION
    arn_kind = "solution"  # arn:...:solution/<solution name>/<version id>
    arn_key = "solutionVersionArn"
    result_key = "solutionVersion"
    waiter_kind = "SolutionVersion"
    name_per_request = True
    find_first = True  # version ARNs are ids, and a duplicate training costs hours

    def display_name(self, event: Any) -> str:
        props = event.properties or event.old_properties
        if props.get("Name"):
            return str(props["Name"])
        solution = str(props.get("SolutionArn", "")).rsplit("/", 1)[-1]
        return f"{solution or event.logical_id} (version)"

    def base_name(self, ctx: Ctx) -> str:
        solution_arn: str = self.prop(ctx, "SolutionArn")
        # Trigger as sent (the stack always sends one; it is not checked here, only hashed).
        base = self.prop(ctx, "Name") or (
            f"{solution_arn.rsplit('/', 1)[-1]}-{digest(ctx.props.get('Trigger', ''), length=6)}")
        return str(base)

    def training_mode(self, ctx: Ctx) -> str:
        """TrainingMode, or FULL for an UPDATE without an ACTIVE FULL version (module docstring)."""
        mode: str = self.prop(ctx, "TrainingMode")
        if mode == "UPDATE" and not self.has_full_version(ctx):
            return "FULL"
        return mode

    def has_full_version(self, ctx: Ctx) -> bool:
        solution = ctx.props.get("SolutionArn")
        if not solution:
            return False
        return any(v.get("status") == "ACTIVE" and str(v.get("trainingMode") or "FULL").upper() == "FULL"
                   for v in list_all(ctx, "list_solution_versions", "solutionVersions", solutionArn=solution))

    def create_params(self, ctx: Ctx, name: str) -> dict[str, Any]:
        params: dict[str, Any] = {
            "name": name,
            "solutionArn": self.prop(ctx, "SolutionArn"),
            "trainingMode": self.training_mode(ctx),
        }
        return params

    def mismatches(self, ctx: Ctx, existing: Mapping[str, Any]) -> list[str]:
        out = []
        if existing.get("solutionArn") not in (None, ctx.props.get("SolutionArn")):
            out.append(diff("solutionArn", existing.get("solutionArn"), ctx.props.get("SolutionArn")))
        found = str(existing.get("trainingMode") or "FULL").upper()
        asked: str = self.prop(ctx, "TrainingMode")
        if found != asked and not (asked == "UPDATE" and found == "FULL"):  # FULL: an UPDATE's first version
            out.append(diff("trainingMode", existing.get("trainingMode"), asked))
        return out

    def satisfies(self, ctx: Ctx, arn: str) -> bool:
        """The version was trained from the wanted inputs: its name is this request's base name (the
        solution and the Trigger's hash) plus some request's suffix, and nothing else differs. An
        update rollback's Update back to the old properties finds the deployed version this way."""
        described = self.describe(ctx, arn)
        if not described or described.get("status") not in ("ACTIVE", *IN_PROGRESS):
            return False
        name = str(described.get("name") or "")
        # unique_name's form: the base (cut to fit) and "-" + REQUEST_SUFFIX_HEX hex digits.
        prefix, dash, token = name.rpartition("-")
        wanted = unique_name(self.base_name(ctx), "")[: -len(token) - 1] if dash else None
        same_inputs = (bool(dash) and prefix == wanted and len(token) == REQUEST_SUFFIX_HEX
                       and all(c in "0123456789abcdef" for c in token))
        return same_inputs and not self.mismatches(ctx, described)

    def find(self, ctx: Ctx, name: str) -> dict[str, Any] | None:
        solution = ctx.props.get("SolutionArn")
        if not solution:
            return None
        for item in list_all(ctx, "list_solution_versions", "solutionVersions", solutionArn=solution):
            described = self.describe(ctx, item["solutionVersionArn"])
            if described and described.get("name") == name:
                return described
        return None

    def on_delete(self, ctx: Ctx) -> None:
        arn = self.target(ctx)
        if arn is not None:
            self.stop_if_running(ctx, arn)

    def stop_if_running(self, ctx: Ctx, arn: str) -> str | None:
        described = self.describe(ctx, arn)
        status = (described or {}).get("status")
        if status in IN_PROGRESS:
            try:
                ctx.pz("stop_solution_version_creation", solutionVersionArn=arn)
            except ClientError as exc:
                # A race with the training's own end: the next round's describe tells.
                if error_code(exc) not in ("ResourceInUseException", "ResourceNotFoundException",
                                           "InvalidInputException"):
                    raise failure(self.label, ctx.name, "StopSolutionVersionCreation",
                                  error_message(exc)) from exc
        return status

    def delete_finished(self, ctx: Ctx) -> bool:
        arn = self.target(ctx)
        if arn is None:
            return True
        status = self.stop_if_running(ctx, arn)
        return status is None or (status not in IN_PROGRESS and status != STOPPING)
