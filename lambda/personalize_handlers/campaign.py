"""Custom::PersonalizeCampaign (properties: contract.CAMPAIGN).

SolutionVersionArn, MinProvisionedTPS and CampaignConfig change in place with UpdateCampaign, so
the campaign keeps serving while it moves to a new version; a new WaitHandle then waits for
latestCampaignUpdate. Only a new Name replaces the campaign.

With campaignConfig.syncWithLatestSolutionVersion true, Personalize requires the solution's ARN in
`SolutionArn/$LATEST` form as solutionVersionArn (botocore: CreateCampaignRequest.solutionVersionArn),
so a version ARN is sent as its solution's `$LATEST`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import ACTIVE, CREATE_FAILED, IN_PROGRESS, Ctx, Kind, diff
from .common import failure, is_subset
from .contract import CAMPAIGN

#: What UpdateCampaign changes in place (the contract); a new WaitHandle then waits for it.
CONFIG_PROPS = frozenset(p.name for p in CAMPAIGN.props if p.via == "UpdateCampaign")
LATEST = "$LATEST"


def latest_of(arn: str) -> str:
    """`<solution ARN>/$LATEST` for a solution version ARN (`solution/<name>/<id>`), a solution ARN
    or an ARN already in that form."""
    head, _, resource = arn.rpartition(":")
    parts = resource.split("/")
    if len(parts) < 2 or parts[0] != "solution":
        raise ValueError(f"expected a solution or solution version ARN, got {arn!r}")
    return f"{head}:solution/{parts[1]}/{LATEST}"


def same_version(wanted: Any, current: Any) -> bool:
    """The deployed version is the wanted one; `.../$LATEST` is any version of that solution."""
    wanted, current = str(wanted), str(current)
    if wanted.endswith("/" + LATEST):
        return current == wanted or current.startswith(wanted[: -len(LATEST)])
    return current == wanted


class Campaign(Kind):
    spec = CAMPAIGN
    arn_kind = "campaign"
    arn_key = "campaignArn"
    result_key = "campaign"
    waiter_kind = "Campaign"

    def wanted(self, ctx: Ctx) -> dict[str, Any]:
        version = self.prop(ctx, "SolutionVersionArn")
        config = self.prop(ctx, "CampaignConfig")
        if config and config.get("syncWithLatestSolutionVersion") is True:
            try:
                version = latest_of(version)
            except ValueError as exc:
                raise failure(self.label, ctx.name, "CreateCampaign", f"SolutionVersionArn: {exc}") from None
        params: dict[str, Any] = {"solutionVersionArn": version,
                                  "minProvisionedTPS": self.prop(ctx, "MinProvisionedTPS")}
        if config:
            params["campaignConfig"] = config
        return params

    def create_params(self, ctx: Ctx, name: str) -> dict[str, Any]:
        return {"name": name, **self.wanted(ctx)}

    def config_diffs(self, ctx: Ctx, existing: Mapping[str, Any]) -> list[str]:
        out = []
        for key, value in self.wanted(ctx).items():
            current = existing.get(key)
            if key == "campaignConfig":
                same = is_subset(value, current or {})
            elif key == "solutionVersionArn":
                same = same_version(value, current)
            else:
                same = str(current) == str(value)
            if not same:
                out.append(diff(key, current, value))
        return out

    def mismatches(self, ctx: Ctx, existing: Mapping[str, Any]) -> list[str]:
        diffs = self.config_diffs(ctx, existing)
        update = existing.get("latestCampaignUpdate") or {}
        if diffs and update.get("status") in IN_PROGRESS | {ACTIVE} and not self.config_diffs(ctx, update):
            return []  # already moving to (or at) the wanted configuration
        return diffs

    def find(self, ctx: Ctx, name: str) -> dict[str, Any] | None:
        return self.find_listed(ctx, name, "list_campaigns", "campaigns")

    def restarts_wait(self, changed: set[str]) -> bool:
        return bool(changed & CONFIG_PROPS)

    def waiter_kind_for(self, update: bool) -> str:
        return "CampaignUpdate" if update else "Campaign"

    def update_in_place(self, ctx: Ctx, arn: str, changed: set[str]) -> None:
        super().update_in_place(ctx, arn, changed)
        if not changed & CONFIG_PROPS:
            return
        current = self.describe(ctx, arn)
        if current is None:
            raise failure(self.label, ctx.name, "UpdateCampaign", f"{arn} does not exist")
        if not self.mismatches(ctx, current):
            return  # a duplicate event: the update is already under way or done
        if (current.get("latestCampaignUpdate") or {}).get("status") in IN_PROGRESS:
            return  # another update (e.g. the one a rollback undoes) is in flight: is_complete follows up
        self.call(ctx, "UpdateCampaign", campaignArn=arn, **self.wanted(ctx))

    def is_complete(self, ctx: Ctx) -> dict[str, Any]:
        """As the base, plus reconciliation: when the campaign is not at the wanted configuration
        and no update towards it is under way (a rollback arriving while the update it undoes was
        still running), wait for the running one to end, then issue UpdateCampaign."""
        if ctx.event.request_type == "Delete":
            return super().is_complete(ctx)
        arn = ctx.event.physical_id or ""
        waited_elsewhere = bool(ctx.props.get("WaitHandle"))
        described = self.describe(ctx, arn)
        if described is None:
            raise failure(self.label, ctx.name, "DescribeCampaign", f"{arn} does not exist")
        status = described.get("status")
        if status != ACTIVE:  # creating, failed: the base answers (the waiter's job with a WaitHandle)
            return super().is_complete(ctx)
        update = described.get("latestCampaignUpdate") or {}
        at_wanted = not self.config_diffs(ctx, described)
        update_is_ours = bool(update) and not self.config_diffs(ctx, update)
        if update.get("status") in IN_PROGRESS:
            if update_is_ours and waited_elsewhere:
                return {"IsComplete": True, "Data": self.data(ctx, arn, described)}
            return {"IsComplete": False}
        if update_is_ours and update.get("status") == CREATE_FAILED and not at_wanted:
            raise failure(self.label, ctx.name, "UpdateCampaign",
                          update.get("failureReason") or "CREATE FAILED without a failureReason")
        if at_wanted or update_is_ours:
            return {"IsComplete": True, "Data": self.data(ctx, arn, described)}
        self.call(ctx, "UpdateCampaign", campaignArn=arn, **self.wanted(ctx))
        if waited_elsewhere:
            return {"IsComplete": True, "Data": self.data(ctx, arn, described)}
        return {"IsComplete": False}
