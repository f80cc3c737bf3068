"""The review, start to end: synthesize both sides (each in its own process, in parallel), deploy the
base to a scratch local world while the head still synthesizes, update it to the head, then read
what happened: per resource, in the service's terms, the update's timeline, cost and security.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.runner import OperationResult, StackArtifact
from pipeline.naming import stack_name
from review.cost import Cost, Prices, load_pricing, monthly, one_off
from review.kinds import Context, explain
from review.outcomes import ResourceChange, is_personalize, outcomes
from review.security import Checkov, Security, compare, nag_findings
from review.simulate import Simulation, load_stack, region_of, simulate
from review.sources import Synth, Tree

Step = Callable[[str], AbstractContextManager[Any]]
#: Environments treated as production unless told otherwise (besides any that retains its data).
PRODUCTION_NAMES = frozenset({"prod", "production"})


@dataclass
class Request:
    """What to review. A side is a Tree to synthesize or the folder of a synthesized cloud assembly."""

    env: str
    base: Tree | Path
    head: Tree | Path
    production: bool | None = None  # None: decided from the environment (name, retained data)
    pricing: Path | None = None
    cache: Path | None = None
    checkov: bool = True
    #: runs on the scratch world before the update (tests: data the stack reads but does not own)
    prepare: Callable[[Any, str], None] | None = None


@dataclass
class Warning:
    category: str
    message: str


@dataclass
class Review:
    env: str
    stack: str
    base_label: str
    head_label: str
    region: str
    production: bool
    update: OperationResult
    changes: list[ResourceChange]
    warnings: list[Warning]
    categories: list[str]
    prices: Prices
    one_off: Cost
    monthly_before: Cost
    monthly_after: Cost
    security: Security
    seconds: dict[str, float] = field(default_factory=dict)
    cached_base: bool = False

    @property
    def ok(self) -> bool:
        return self.update.ok

    @property
    def personalize(self) -> list[ResourceChange]:
        return [c for c in self.changes if is_personalize(c.type)]

    def touched(self, personalize: bool = True) -> list[ResourceChange]:
        return [c for c in self.changes if c.outcome != "untouched" and is_personalize(c.type) == personalize]


def _label(side: Tree | Path) -> str:
    return side.label if isinstance(side, Tree) else str(side)


def run(request: Request, step: Step | None = None) -> Review:
    """Review the change from `request.base` to `request.head`."""
    progress: Step = step or (lambda _text: _quiet())
    started = time.perf_counter()
    seconds: dict[str, float] = {}
    name = stack_name(request.env)
    with tempfile.TemporaryDirectory(prefix="pz-review-") as tmp:
        synths: dict[str, Synth] = {}
        try:
            for side, source in (("base", request.base), ("head", request.head)):
                if isinstance(source, Tree):
                    synths[side] = Synth(source, request.env, Path(tmp) / f"{side}.out")
            base = _artifact("base", request.base, synths, name, progress, seconds)
            checkov = Checkov()
            heads: list[StackArtifact] = []

            def head() -> StackArtifact:
                artifact = _artifact("head", request.head, synths, name, progress, seconds)
                if request.checkov:
                    checkov.start({"base": base.template, "head": artifact.template})
                heads.append(artifact)
                return artifact

            with simulate(base, head, cache=request.cache, prepare=request.prepare, step=progress) as sim:
                if sim.base_deploy is not None:
                    seconds["base deploy"] = sim.base_deploy.wall_seconds
                seconds["update"] = sim.update.wall_seconds
                review = _read(request, sim, checkov, seconds)
        finally:
            for synth in synths.values():
                synth.kill()
    review.seconds["total"] = time.perf_counter() - started
    return review


def _artifact(
    side: str, source: Tree | Path, synths: dict[str, Synth], stack: str, progress: Step,
    seconds: dict[str, float],
) -> StackArtifact:
    if isinstance(source, Tree):
        with progress(f"synthesizing the {side} ({source.label})"):
            folder = synths[side].wait()
        seconds[f"synth {side}"] = synths[side].seconds
    else:
        folder = source
    return load_stack(folder, stack)


def is_production(env: str, base: StackArtifact, forced: bool | None) -> bool:
    """Production: said so, or named prod/production, or an environment that retains its data (a
    bucket with DeletionPolicy Retain, as removal_policy = "retain" makes)."""
    if forced is not None:
        return forced
    if env in PRODUCTION_NAMES:
        return True
    return any(
        spec.get("Type") == "AWS::S3::Bucket" and spec.get("DeletionPolicy") == "Retain"
        for spec in base.template.get("Resources", {}).values()
    )


def _read(request: Request, sim: Simulation, checkov: Checkov, seconds: dict[str, float]) -> Review:
    production = is_production(request.env, sim.base, request.production)
    changes = outcomes(sim.before, sim.after, sim.update)
    ctx = Context.of(sim, production)
    for change in changes.values():
        if is_personalize(change.type):  # the service's terms; other resources are listed as they are
            explain(change, ctx)
    prices = load_pricing(sim.region, request.pricing)
    cost_once = one_off(sim.update.service_ops, sim.facts_after, prices)
    before, after = monthly(sim.facts_before, prices), monthly(sim.facts_after, prices)
    templates = {"base": sim.base.template, "head": sim.head.template}
    found = checkov.result(templates) if request.checkov else None
    note = checkov.error if request.checkov else "checkov not run (--no-checkov)"
    security = compare(sim.base.template, sim.head.template,
                       (nag_findings(sim.base.directory), nag_findings(sim.head.directory)), found, note)
    warnings = _warnings(request, sim, list(changes.values()), production)
    categories = {c for change in changes.values() for c in change.categories}
    categories |= {w.category for w in warnings}
    if after.dollars > before.dollars + 0.005:
        categories.add("cost-increase")
    if any(s.effect == "Allow" for s in security.added):
        categories.add("iam-added")
    if security.new_findings:
        categories.add("new-finding")
    return Review(
        env=request.env, stack=sim.head.name, base_label=_label(request.base),
        head_label=_label(request.head),
        region=sim.region, production=production, update=sim.update,
        changes=sorted(changes.values(), key=_order), warnings=warnings, categories=sorted(categories),
        prices=prices, one_off=cost_once, monthly_before=before, monthly_after=after, security=security,
        seconds=seconds, cached_base=sim.cached,
    )


def _warnings(
    request: Request, sim: Simulation, changes: list[ResourceChange], production: bool
) -> list[Warning]:
    """What a reviewer must see first, most severe first."""
    out: list[Warning] = []
    update = sim.update
    if not update.ok:
        out.append(Warning("update-failed",
                           f"the update fails and rolls back ({update.status}): {update.reason}"))
    for change in changes:
        campaign = change.type == "Custom::PersonalizeCampaign"
        if production and campaign and change.outcome in ("replaced", "deleted"):
            verb = "gets a new ARN" if change.outcome == "replaced" else "is deleted"
            out.append(Warning("production-campaign-replaced",
                               f"production campaign {change.name} {verb}: every client calling it breaks"))
    base_resources = sim.base.template.get("Resources", {})
    head_resources = sim.head.template.get("Resources", {})
    for change in changes:
        spec = base_resources.get(change.logical_id, {})
        kept = spec.get("DeletionPolicy") == "Retain"
        kept_on_replace = spec.get("UpdateReplacePolicy") == "Retain"
        if kept and (change.outcome == "deleted" or (change.outcome == "replaced" and not kept_on_replace)):
            out.append(Warning("retained-data-deleted",
                               f"{change.logical_id} ({change.type}) is retained by the base and deleted by "
                               "this update"))
        elif kept and change.logical_id in head_resources and \
                head_resources[change.logical_id].get("DeletionPolicy") != "Retain":
            out.append(Warning("retained-data-deleted",
                               f"{change.logical_id} ({change.type}) is no longer retained (DeletionPolicy "
                               "Retain -> Delete): a destroy would delete it with its data"))
    for change in changes:
        if "timeout-exceeded" in change.categories:
            out.append(Warning("timeout-exceeded", f"{change.logical_id}: {change.consequences[-1]}"))
        if "auto-training" in change.categories:
            out.append(Warning("auto-training", f"automatic training switched on for {change.name}: "
                                                "a new training is billed every few days"))
    return out


#: Personalize resources in the order a pipeline is built, then the rest.
ORDER = ("DatasetGroup", "Schema", "DataObject", "Dataset", "DatasetImportJob", "Solution",
         "SolutionVersion", "Campaign", "Filter", "EventTracker", "MetricAttribution", "BatchInferenceJob",
         "SolutionMetrics")


def _order(change: ResourceChange) -> tuple[int, int, str]:
    bare = change.type.removeprefix("Custom::Personalize")
    rank = ORDER.index(bare) if is_personalize(change.type) and bare in ORDER else len(ORDER)
    return (0 if is_personalize(change.type) else 1, rank, change.logical_id)


@contextmanager
def _quiet() -> Iterator[None]:
    yield


__all__ = ["Request", "Review", "Warning", "is_production", "region_of", "run"]
