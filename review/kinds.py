"""What each outcome means in Amazon Personalize's terms, one table entry per `Custom::Personalize*`
type: a noun, a sentence per outcome, and (for the kinds whose work takes hours or breaks clients)
a function that reads what the simulation's service operations and describe calls showed.

A new kind (a recommender, a metric attribution) is one entry in KINDS; without one it is still
reported, by its type name, with the generic sentences and the `<noun>-replaced` / `<noun>-deleted`
categories.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from local.runner.results import hms
from review.outcomes import ResourceChange

if TYPE_CHECKING:
    from review.simulate import Simulation

GENERIC = {
    "created": "new {noun} {name}",
    "updated": "updated in place ({changed})",
    "replaced": "replaced: a new {noun} ({new}); the old one ({old}) is deleted after the update",
    "deleted": "{noun} {name} deleted",
    "retained": "removed from the stack and kept (DeletionPolicy Retain)",
    "rolled back": "the update started to change it and rolled back: it is as it was",
}


@dataclass
class Context:
    """What the consequences are read from."""

    sim: Simulation
    production: bool
    #: logical id -> the service operations its handler started in the update
    ops: dict[str, list[Any]] = field(default_factory=dict)
    #: logical id -> Timeout (seconds) of the WaitCondition that waits for its operation
    timeouts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, sim: Simulation, production: bool) -> Context:
        ops: dict[str, list[Any]] = defaultdict(list)
        for op in sim.update.service_ops:
            ops[op.resource].append(op)
        timeouts: dict[str, int] = {}
        for spec in sim.head.template.get("Resources", {}).values():
            if spec.get("Type") != "AWS::CloudFormation::WaitCondition":
                continue
            depends = spec.get("DependsOn", [])
            for lid in [depends] if isinstance(depends, str) else depends:
                timeouts[lid] = int(spec.get("Properties", {}).get("Timeout", 0))
        return cls(sim, production, dict(ops), timeouts)

    def after(self, arn: str | None) -> dict[str, Any]:
        return self.sim.facts_after.get(arn) or {}

    def before(self, arn: str | None) -> dict[str, Any]:
        return self.sim.facts_before.get(arn) or {}


Detail = Callable[[ResourceChange, Context], list[str]]


@dataclass(frozen=True)
class Kind:
    noun: str
    says: Mapping[str, str] = field(default_factory=dict)
    #: outcome -> categories besides `<noun>-replaced` / `<noun>-deleted`
    flags: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    detail: Detail | None = None
    #: outcomes that raise `<noun>-<outcome>` (a kind that is replaced as a matter of course, such
    #: as an import job for new data, has its own categories instead)
    watch: tuple[str, ...] = ("replaced", "deleted")

    @property
    def slug(self) -> str:
        return self.noun.replace(" ", "-")

    def sentence(self, change: ResourceChange) -> str:
        template = self.says.get(change.outcome, GENERIC.get(change.outcome, ""))
        shown = [n for n in change.changed_names if n not in ("WaitHandle", "ServiceToken")]
        return template.format(
            noun=self.noun, name=change.name or change.logical_id, old=change.before_id, new=change.after_id,
            changed=", ".join(shown) or "nothing the service sees",
        )

    def categories(self, change: ResourceChange) -> list[str]:
        found = list(self.flags.get(change.outcome, ()))
        if change.outcome in self.watch:
            found.insert(0, f"{self.slug}-{change.outcome}")
        return found


# ---- the details: what the service did -------------------------------------------------------


def _duration(op: Any) -> float:
    return (op.end - op.start) if op.end is not None else 0.0


def _import(change: ResourceChange, ctx: Context) -> list[str]:
    lines = []
    for op in ctx.ops.get(change.logical_id, []):
        if op.kind != "dataset-import-job":
            continue
        job = ctx.after(op.arn)
        location = job.get("dataSource", {}).get("dataLocation", "")
        rows, size = ctx.sim.facts_after.objects.get(location, (0, 0))
        mode = job.get("importMode", change.after.get("ImportMode", "FULL"))
        effect = "replaces the dataset's rows" if mode == "FULL" else "appends to the dataset's rows"
        lines.append(
            f"re-import of {rows:,} rows ({size / 1e6:.1f} MB) from {location}: {mode}, {effect}; "
            f"{hms(_duration(op))} ({op.status or 'not finished'})"
        )
    return lines


def _training_seconds(op: Any, ctx: Context) -> float:
    """How long the training takes on the local Personalize's duration model: as it ran, or, for one
    stopped before it finished (its wait timed out, the update rolled back), as it was planned."""
    planned = ctx.sim.facts_after.training_seconds.get(op.arn, 0.0)
    return _duration(op) if op.end is not None else planned


def _training(change: ResourceChange, ctx: Context) -> list[str]:
    lines = []
    timeout = ctx.timeouts.get(change.logical_id)
    for op in ctx.ops.get(change.logical_id, []):
        if op.kind != "solution-version":
            continue
        version = ctx.after(op.arn)
        solution = ctx.after(version.get("solutionArn") or change.after.get("SolutionArn"))
        recipe = str(solution.get("recipeArn", "")).rsplit("/", 1)[-1]
        hours = version.get("trainingHours")
        mode = version.get("trainingMode", change.after.get("TrainingMode", "FULL"))
        hpo = " with HPO" if solution.get("performHPO") else ""
        billed = f", {hours:.2f} training hours billed (estimate)" if isinstance(hours, (int, float)) else ""
        took = _training_seconds(op, ctx)
        line = f"{mode} training{hpo} of {solution.get('name', '?')} ({recipe}): {hms(took)}{billed}"
        if op.end is None:
            line += f" on the duration model ({op.status or 'not finished'} in the simulation)"
        if timeout and took > timeout:
            line += f"; longer than its training_timeout {hms(timeout)}: the wait fails"
        lines.append(line)
    return lines


def _training_flags(change: ResourceChange, ctx: Context) -> list[str]:
    flags = []
    timeout = ctx.timeouts.get(change.logical_id)
    for op in ctx.ops.get(change.logical_id, []):
        if op.kind == "solution-version":
            flags.append("retraining")
            if timeout and _training_seconds(op, ctx) > timeout:
                flags.append("timeout-exceeded")
    return flags


def _campaign(change: ResourceChange, ctx: Context) -> list[str]:
    lines = []
    changed = dict((name, (old, new)) for name, old, new in change.changed)
    moves = [op for op in ctx.ops.get(change.logical_id, []) if op.kind == "campaign-update"]
    if change.outcome == "updated" and "SolutionVersionArn" in changed:
        took = f" in {hms(_duration(moves[0]))}" if moves else ""
        lines.append(
            f"moved in place to the new solution version (UpdateCampaign{took}): same ARN, it serves "
            "the old version until the new one is active: no downtime"
        )
    if "MinProvisionedTPS" in changed:
        old, new = changed["MinProvisionedTPS"]
        lines.append(f"minProvisionedTPS {old} -> {new} (billed every hour, used or not)")
    if "CampaignConfig" in changed:
        lines.append("campaign config changed in place (UpdateCampaign)")
    if change.outcome == "replaced":
        lines.append(
            f"the campaign ARN changes ({change.before_id} -> {change.after_id}): every client that calls "
            "it by ARN must switch; the old campaign is deleted after the update"
        )
    if change.outcome == "created":
        created = ctx.after(change.after_id)
        lines.append(f"bills {created.get('minProvisionedTPS', change.after.get('MinProvisionedTPS'))} TPS "
                     "every hour from now on")
    return lines


def _tracker(change: ResourceChange, ctx: Context) -> list[str]:
    old = ctx.before(change.before_id).get("trackingId")
    new = ctx.after(change.after_id).get("trackingId")
    if change.outcome == "replaced":
        return [f"the event tracker id changes ({old} -> {new}): every PutEvents sender must switch"]
    if change.outcome == "created":
        return [f"new tracking id {new}: PutEvents senders need it (output EventTrackingId)"]
    if change.outcome == "deleted":
        return [f"PutEvents with tracking id {old} fails from now on"]
    return []


def _schedule(described: Mapping[str, Any]) -> str:
    return str(((described.get("solutionConfig") or {}).get("autoTrainingConfig") or {}).get(
        "schedulingExpression", "rate(7 days)"))


def _solution(change: ResourceChange, ctx: Context) -> list[str]:
    if change.outcome == "updated":  # UpdateSolution: automatic training, its schedule, event weights
        return _solution_updated(change, ctx)
    if change.outcome not in ("created", "replaced"):
        return []
    described = ctx.after(change.after_id)
    auto = described.get("performAutoTraining")
    lines = [
        f"recipe {str(described.get('recipeArn', '')).rsplit('/', 1)[-1]}, HPO "
        f"{'on' if described.get('performHPO') else 'off'}, automatic training {'on' if auto else 'off'}"
    ]
    if auto:
        expression = ((described.get("solutionConfig") or {}).get("autoTrainingConfig") or {}).get(
            "schedulingExpression", "rate(7 days)"
        )
        lines.append(f"automatic training {expression}: a new training billed each time")
    return lines


def _solution_updated(change: ResourceChange, ctx: Context) -> list[str]:
    """An in-place solution update trains nothing itself; automatic training left on bills later."""
    before, after = ctx.before(change.before_id), ctx.after(change.after_id)
    was, now = bool(before.get("performAutoTraining")), bool(after.get("performAutoTraining"))
    if now and (not was or _schedule(before) != _schedule(after)):
        return [f"updated in place (UpdateSolution), no training now; automatic training {_schedule(after)}: "
                "a new training billed each time"]
    if was and not now:
        return ["updated in place (UpdateSolution): automatic training off, no more automatic trainings"]
    return ["updated in place (UpdateSolution), no training now"]


def _solution_flags(change: ResourceChange, ctx: Context) -> list[str]:
    if change.outcome not in ("created", "replaced", "updated"):
        return []
    now = bool(ctx.after(change.after_id).get("performAutoTraining"))
    was = bool(ctx.before(change.before_id).get("performAutoTraining")) if change.before_id else False
    return ["auto-training"] if now and not was else []


def _batch(change: ResourceChange, ctx: Context) -> list[str]:
    lines = []
    for op in ctx.ops.get(change.logical_id, []):
        if op.kind != "batch-inference-job":
            continue
        job = ctx.after(op.arn)
        path = job.get("jobInput", {}).get("s3DataSource", {}).get("path", "")
        lines_in, _ = ctx.sim.facts_after.objects.get(path, (0, 0))
        lines.append(f"batch inference over {lines_in:,} input lines x {job.get('numResults', 25)} results: "
                     f"{hms(_duration(op))}")
    return lines


#: Custom::Personalize<X> -> its entry. Sentences may use {noun}, {name}, {old}, {new}, {changed}.
KINDS: dict[str, Kind] = {
    "Custom::PersonalizeDatasetGroup": Kind(
        "dataset group",
        says={
            "replaced": "a new dataset group: every dataset, model, campaign, filter and tracker in it is "
            "rebuilt and the data imported again",
            "deleted": "dataset group deleted with everything in it, its imported data included",
        },
        flags={"replaced": ("data-deleted",), "deleted": ("data-deleted",)},
    ),
    "Custom::PersonalizeSchema": Kind(
        "schema", says={"replaced": "a new schema version ({new}); schemas are immutable"}, watch=(),
    ),
    "Custom::PersonalizeDataset": Kind(
        "dataset",
        says={
            "updated": "schema replaced in place (UpdateDataset): the imported data stays",
            "replaced": "dataset re-created: its imported data is deleted and imported again",
            "deleted": "dataset deleted with its imported data",
        },
        flags={"replaced": ("data-deleted",), "deleted": ("data-deleted",)},
    ),
    "Custom::PersonalizeDataObject": Kind(
        "data file",
        says={
            "updated": "a new data file copied into the bucket ({changed})",
            "replaced": "a new data file copied into the bucket; the old copy is deleted",
            "deleted": "the data file's copy in the bucket is deleted",
        },
        watch=(),
    ),
    "Custom::PersonalizeDatasetImportJob": Kind(
        "import job",
        says={"created": "a new import job", "replaced": "a new import job (import jobs run once)"},
        flags={"created": ("reimport",), "replaced": ("reimport",)},
        detail=_import,
        watch=(),
    ),
    "Custom::PersonalizeSolution": Kind(
        "solution",
        says={
            "replaced": "a new solution ({new}): recipe, HPO, automatic training and solution config are "
            "immutable; it trains from scratch, the old one is deleted after the update",
            "deleted": "solution deleted with its trained versions",
        },
        detail=_solution,
    ),
    "Custom::PersonalizeSolutionVersion": Kind(
        "solution version",
        says={"created": "a training", "replaced": "a new training (new solution version {new})",
              "deleted": "its solution version goes with its solution"},
        detail=_training,
        watch=(),
    ),
    "Custom::PersonalizeCampaign": Kind(
        "campaign",
        says={
            "updated": "updated in place ({changed})",
            "replaced": "replaced: a new campaign ARN",
            "deleted": "campaign {name} deleted: clients calling it fail; its hourly billing stops",
            "created": "new campaign {name} ({new})",
        },
        detail=_campaign,
    ),
    "Custom::PersonalizeRecommender": Kind(
        "recommender",
        says={
            "updated": "updated in place (UpdateRecommender: {changed}); it serves its old configuration "
            "until the update is ACTIVE",
            "replaced": "replaced: a new recommender ARN (a new use case trains from scratch); clients must "
            "switch",
            "deleted": "recommender {name} deleted: clients calling it fail; its hourly billing stops",
            "created": "new recommender {name} ({new}): it trains, then bills every hour it is ACTIVE",
        },
    ),
    "Custom::PersonalizeFilter": Kind(
        "filter",
        says={
            "replaced": "the filter ARN changes ({old} -> {new}): clients pass filters by ARN and must "
            "switch",
            "deleted": "filter {name} deleted: clients passing its ARN get an error",
            "created": "new filter {name} ({new})",
        },
    ),
    "Custom::PersonalizeEventTracker": Kind("event tracker", detail=_tracker),
    "Custom::PersonalizeMetricAttribution": Kind(
        "metric attribution",
        says={
            "updated": "updated in place with UpdateMetricAttribution ({changed}); reports keep their names",
            "replaced": "replaced: a new metric attribution ({new}); reports restart under it",
            "deleted": "metric attribution {name} deleted: Personalize stops sending its metrics "
            "(what was already published stays)",
            "created": "new metric attribution {name}: metrics from the next events on",
        },
    ),
    "Custom::PersonalizeSolutionMetrics": Kind(
        "solution metrics", says={"updated": "metrics read again from the new solution version"}, watch=(),
    ),
    "Custom::PersonalizeBatchInferenceJob": Kind(
        "batch inference job",
        says={"created": "a new batch inference job",
              "replaced": "a new batch inference job (jobs run once)"},
        detail=_batch,
        watch=(),
    ),
}
#: kinds whose categories depend on what the service did
FLAGS: dict[str, Detail] = {
    "Custom::PersonalizeSolutionVersion": _training_flags,
    "Custom::PersonalizeSolution": _solution_flags,
}


def kind_of(type_name: str) -> Kind:
    """The entry for a type, or a generic one named after it (Custom::PersonalizeRecommender ->
    "recommender")."""
    if type_name in KINDS:
        return KINDS[type_name]
    bare = type_name.removeprefix("Custom::Personalize").removeprefix("Custom::")
    noun = re.sub(r"(?<!^)(?=[A-Z])", " ", bare).lower() or type_name
    return Kind(noun)


def explain(change: ResourceChange, ctx: Context) -> None:
    """Fill in `change.consequences` and `change.categories`."""
    if change.outcome == "untouched":
        return
    kind = kind_of(change.type)
    change.consequences = [kind.sentence(change)]
    if kind.detail is not None:
        change.consequences += kind.detail(change, ctx)
    change.categories = kind.categories(change)
    if change.type in FLAGS:
        change.categories += FLAGS[change.type](change, ctx)


def categories() -> dict[str, str]:
    """Every category a review can report, with what it means (docs/command-line.md lists them)."""
    found = {
        "update-failed": "the simulated update failed and rolled back",
        "retraining": "a solution trains (hours, billed per training hour)",
        "reimport": "a dataset is imported again (billed per GB)",
        "data-deleted": "imported data is deleted (a dataset or dataset group goes)",
        "retained-data-deleted": "data the environment retains is deleted, or no longer retained",
        "timeout-exceeded": "an operation takes longer than its configured timeout on the duration model",
        "auto-training": "automatic training switched on (a training billed every few days)",
        "production-campaign-replaced": "a campaign of a production environment gets a new ARN",
        "cost-increase": "the monthly cost goes up",
        "iam-added": "an IAM statement, trust or resource policy grants something new",
        "new-finding": "a cdk-nag or checkov finding new in the head",
    }
    for kind in KINDS.values():
        for outcome in kind.watch:
            article = "an" if kind.noun[0] in "aeiou" else "a"
            found[f"{kind.slug}-{outcome}"] = f"{article} {kind.noun} is {outcome}"
        for flags in kind.flags.values():
            for flag in flags:
                assert flag in found, flag
    return found
