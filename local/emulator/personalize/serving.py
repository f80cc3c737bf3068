"""What serves recommendations in the local Personalize: campaigns (create, update, delete),
filters and event trackers. The requests they serve are local.emulator.personalize.runtime's.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from local.emulator.personalize import borrowed
from local.emulator.personalize import durations as dur
from local.emulator.personalize.errors import in_use, invalid, limit
from local.emulator.personalize.filters import compile_filter
from local.emulator.personalize.resources import (
    Campaign,
    CampaignUpdate,
    EventTracker,
    Filter,
    Solution,
    SolutionVersion,
)
from local.emulator.personalize.store import Context, Part, Store


class Serving(Part):
    """Campaigns, event trackers and filters."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        store.on("campaign_active", self._on_campaign_active)
        store.on("update_status", self._on_update_status)
        store.on("update_done", self._on_update_done)

    # ================================ campaigns ===============================================
    def _active_version(self, arn: Any) -> SolutionVersion:
        version = self.store.find(SolutionVersion, arn)
        if version.status != "ACTIVE":
            raise in_use(f"Solution version {version.arn} is not in ACTIVE state (status: {version.status}).")
        return version

    def _check_deployable(self, version: SolutionVersion) -> None:
        """User-segmentation recipes serve batch segment jobs only: no campaign."""
        solution = self.store.resources.get(version.solution_arn)
        recipe = borrowed.recipe_name(solution.recipe_arn) if isinstance(solution, Solution) else ""
        if borrowed.family(recipe) == borrowed.RecipeFamily.USER_SEGMENTATION:
            raise invalid(f"Solution version {version.arn} uses {recipe}, a USER_SEGMENTATION recipe: it "
                          "can only be used for batch segment jobs, not deployed to a campaign.")

    def op_CreateCampaign(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        name = store.check_name(p.get("name"))
        version = self._active_version(p.get("solutionVersionArn"))
        self._check_deployable(version)
        tps = _tps(p.get("minProvisionedTPS"))
        arn = store.arn(ctx, "campaign", name)
        campaign = store.new(Campaign, ctx, arn, name, p.get("tags"), solution_version_arn=version.arn,
                             min_tps=tps, config=p.get("campaignConfig"))
        group = store.dataset_group_of(version.arn)
        quota = store.quotas["campaigns_per_dataset_group"]
        same_group = store.all_of(Campaign, lambda c: store.dataset_group_of(c.solution_version_arn) == group)
        if len(same_group) >= quota:
            raise limit(f"You have reached the maximum of {quota} campaigns in dataset group {group}.")
        store.add(campaign)
        total = store.durations.of("campaign", name)
        injected = store.faults.campaign_failure(name)
        store.schedule(campaign.created + dur.pending_part(total), "status", campaign, "CREATE IN_PROGRESS")
        if injected:
            store.schedule(campaign.created + total, "failed", campaign, injected)
        else:
            store.schedule(campaign.created + total, "campaign_active", campaign)
        return {"campaignArn": arn}

    def _on_campaign_active(self, campaign: Campaign, at: float, _: Any) -> None:
        campaign.serving_arn = campaign.solution_version_arn
        self.store.set_status(campaign, "ACTIVE", at)

    def op_UpdateCampaign(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        campaign = store.find(Campaign, p.get("campaignArn"))
        if campaign.status != "ACTIVE":
            raise in_use(f"Campaign {campaign.arn} is not in ACTIVE state (status: {campaign.status}).")
        if campaign.updating:
            raise in_use(f"Campaign {campaign.arn} has an update in progress "
                         f"(status: {campaign.latest_update.status if campaign.latest_update else ''}).")
        version_arn = p.get("solutionVersionArn") or campaign.solution_version_arn
        self._check_deployable(self._active_version(version_arn))
        tps = _tps(p.get("minProvisionedTPS", campaign.min_tps))
        config = p.get("campaignConfig", campaign.config)
        now = store.now()
        update = CampaignUpdate(version_arn, tps, config, "CREATE PENDING", now, now)
        campaign.latest_update = update
        campaign.updated = now
        total = store.durations.of("campaign_update", campaign.name)
        store.schedule(now + dur.pending_part(total), "update_status", campaign, "CREATE IN_PROGRESS")
        injected = store.faults.campaign_failure(campaign.name)
        store.schedule(now + total, "update_done", campaign, injected)
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

    def op_DescribeCampaign(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        return {"campaign": self.store.find(Campaign, p.get("campaignArn")).describe()}

    def op_ListCampaigns(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        sol = p.get("solutionArn")
        found = store.listed(Campaign, ctx, lambda c: sol is None
                             or c.solution_version_arn.startswith(sol + "/"))
        return store.page([c.summary() for c in found], p, "campaigns")

    def op_DeleteCampaign(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        campaign = store.find(Campaign, p.get("campaignArn"))
        store.check_deletable(campaign)
        if campaign.updating:
            raise in_use(f"Campaign {campaign.arn} cannot be deleted while an update is in progress.")
        store.start_delete(campaign, store.durations.of("delete_campaign", campaign.name))
        return {}

    # ================================ event trackers ==========================================
    def op_CreateEventTracker(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        name = store.check_name(p.get("name"))
        group = store.active_dataset_group(p.get("datasetGroupArn"))
        arn = store.arn(ctx, "event-tracker", name)
        tracking_id = str(uuid.UUID(hashlib.sha256(arn.encode()).hexdigest()[:32]))
        tracker = store.new(EventTracker, ctx, arn, name, p.get("tags"), dataset_group_arn=group.arn,
                            tracking_id=tracking_id)
        quota = store.quotas["event_trackers_per_dataset_group"]
        if len(store.all_of(EventTracker, lambda t: t.dataset_group_arn == group.arn)) >= quota:
            raise limit(f"You have reached the maximum of {quota} event tracker(s) in dataset group "
                        f"{group.arn}.")
        store.add(tracker)
        store.start_create(tracker, store.durations.of("event_tracker", name))
        return {"eventTrackerArn": arn, "trackingId": tracking_id}

    def op_DescribeEventTracker(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        return {"eventTracker": self.store.find(EventTracker, p.get("eventTrackerArn")).describe()}

    def op_ListEventTrackers(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        group = p.get("datasetGroupArn")
        found = store.listed(EventTracker, ctx, lambda t: group is None or t.dataset_group_arn == group)
        return store.page([t.summary() for t in found], p, "eventTrackers")

    def op_DeleteEventTracker(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        tracker = store.find(EventTracker, p.get("eventTrackerArn"))
        store.check_deletable(tracker)
        store.start_delete(tracker, store.durations.of("delete", tracker.name))
        return {}

    # ================================ filters =================================================
    def op_CreateFilter(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        name = store.check_name(p.get("name"))
        group = store.active_dataset_group(p.get("datasetGroupArn"))
        expression = p.get("filterExpression")
        if not isinstance(expression, str) or not expression.strip():
            raise invalid("filterExpression is required.")
        if len(expression) > 2500:
            raise invalid("filterExpression must be at most 2500 characters.")
        try:
            compiled = compile_filter(expression)
        except ValueError as error:
            raise invalid(str(error)) from None
        arn = store.arn(ctx, "filter", name)
        flt = store.new(Filter, ctx, arn, name, p.get("tags"), dataset_group_arn=group.arn,
                        expression=expression, compiled=compiled)
        quota = store.quotas["filters_per_dataset_group"]
        if len(store.all_of(Filter, lambda f: f.dataset_group_arn == group.arn)) >= quota:
            raise limit(f"You have reached the maximum of {quota} filters in dataset group {group.arn}.")
        store.add(flt)
        store.start_create(flt, store.durations.of("filter", name))
        return {"filterArn": arn}

    def op_DescribeFilter(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        return {"filter": self.store.find(Filter, p.get("filterArn")).describe()}

    def op_ListFilters(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        group = p.get("datasetGroupArn")
        found = store.listed(Filter, ctx, lambda f: group is None or f.dataset_group_arn == group)
        return store.page([f.summary() for f in found], p, "Filters")

    def op_DeleteFilter(self, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        store = self.store
        flt = store.find(Filter, p.get("filterArn"))
        store.check_deletable(flt)
        store.start_delete(flt, store.durations.of("delete", flt.name))
        return {}


def _tps(value: Any) -> int:
    tps = int(value) if value is not None else 1
    if tps < 1:
        raise invalid(f"minProvisionedTPS must be at least 1, got {tps}.")
    return tps
