"""The update matrix's change list, written once: each row a named change a team makes to a live
pipeline (a mutation of config/dev.toml or its data; `env="prod"`: of config/prod.toml), and what
an update from the shipped environment to it must do to each Personalize resource (logical id ->
outcome; every resource not named stays untouched). Every row expects what AWS does; a row that
needs a product fix to get there names the defect in `known_defect`, which the table in
docs/reliability.md shows beside a failing row (the test asserts the right outcome all the same:
no row is skipped or expected to fail).

Used by tests/updates (the update matrix, in `make test`, and `make updates` for the table):
`CHANGES` is a plain list, `Workspace` applies a row to a copy of the
repository's config/ and data/, and `seed` puts what a row's external source needs into a world.

Outcomes: created, updated (in place, same physical id), replaced (a new physical id: a new ARN),
deleted, retained (removed from the stack, kept), rolled back, untouched (see review.outcomes).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
ENV = "dev"

SOLUTIONS = {"UserPersonalization": "UserRecs", "SimilarItems": "SimilarItems", "Ranking": "Ranking"}
DATA_OBJECTS = {
    "interactions": "UploadInteractionsObject8BCEB453",
    "items": "UploadItemsObject9B75FF24",
    "users": "UploadUsersObjectAFDCCB67",
}
#: Personalize resources that take tags (the contract's taggable types, as dev synthesizes them)
TAGGED = (
    "DatasetGroup",
    "DatasetInteractions",
    "DatasetItems",
    "DatasetUsers",
    "ImportInteractions",
    "ImportItems",
    "ImportUsers",
    *(f"Solution{s}" for s in SOLUTIONS),
    *(f"Train{s}" for s in SOLUTIONS),
    *(f"Campaign{c}" for c in SOLUTIONS.values()),
    "FilterExcludePurchased",
    "FilterInCategory",
    "EventTracker",
)
#: the external bucket of the s3:// folder row (created in the world by `seed`)
EXTERNAL_BUCKET = "dev-external-items"


class Workspace:
    """A copy of config/ and data/ (the root a synth reads them from) with helpers to change them;
    `config` is config/<env>.toml's."""

    def __init__(self, root: Path, env: str = ENV) -> None:
        self.root, self.env = root, env
        for folder in ("config", "data"):
            shutil.copytree(
                REPO / folder, root / folder, ignore=shutil.ignore_patterns("*.py", "__pycache__")
            )
        self.config_path = root / "config" / f"{env}.toml"
        self.config: dict[str, Any] = tomllib.loads(self.config_path.read_text())

    def save(self) -> None:
        self.config_path.write_text(dump_toml(self.config))

    def solution(self, name: str) -> dict[str, Any]:
        return next(s for s in self.config["solutions"] if s["name"] == name)

    def campaign(self, name: str) -> dict[str, Any]:
        return next(c for c in self.config["campaigns"] if c["name"] == name)

    def data(self, name: str) -> Path:
        return self.root / "data" / name


def dump_toml(data: Mapping[str, Any]) -> str:
    """The config's shape back as TOML: tables, arrays of tables, inline tables inside them."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(i) for i in v) + "]"
        if isinstance(v, Mapping):
            return "{" + ", ".join(f"{json.dumps(k)} = {value(x)}" for k, x in v.items()) + "}"
        raise TypeError(f"cannot write {v!r} as TOML")

    def body(table: Mapping[str, Any]) -> list[str]:
        return [f"{json.dumps(k)} = {value(v)}" for k, v in table.items()]

    out: list[str] = []
    for key, item in data.items():
        if isinstance(item, list) and item and all(isinstance(i, Mapping) for i in item):
            for entry in item:
                out += ["", f"[[{key}]]", *body(entry)]
        elif isinstance(item, Mapping) and item and all(isinstance(i, Mapping) for i in item.values()):
            for sub, entry in item.items():
                out += ["", f"[{key}.{sub}]", *body(entry)]
        elif isinstance(item, Mapping):
            out += ["", f"[{key}]", *body(item)]
        else:
            out.insert(0, f"{json.dumps(key)} = {value(item)}")
    return "\n".join(out).lstrip("\n") + "\n"


@dataclass(frozen=True)
class Change:
    name: str
    mutate: Callable[[Workspace], None]
    #: logical id -> outcome, for the Personalize resources the update changes
    expect: Mapping[str, str]
    #: the product defect this row needs fixed to reach the expected outcome (shown in the table)
    known_defect: str | None = None
    #: data the head reads but the stack does not own (an external s3:// source): put into the world
    seed: Callable[[Any, str], None] | None = None
    #: categories the review must report for this change (a subset of what it reports)
    flags: tuple[str, ...] = ()
    #: the update is refused, as AWS refuses it: the reason contains this text, and the stack rolls
    #: back to the base (UPDATE_ROLLBACK_COMPLETE) with every campaign still serving
    refused: str | None = None
    #: the environment changed (config/<env>.toml, deployed as the row's base); prod retains its data
    env: str = ENV
    #: a campaign deleted whose clients switch to a new one (old logical id -> new): the new one
    #: must answer before the old one goes
    moves: Mapping[str, str] = field(default_factory=dict)


def retrain_all(*also: tuple[str, str]) -> dict[str, str]:
    """New data: every solution trains again, every campaign moves to its new version in place."""
    out = {f"Train{s}": "replaced" for s in SOLUTIONS}
    out |= {f"Campaign{c}": "updated" for c in SOLUTIONS.values()}
    out |= {f"Metrics{s}": "replaced" for s in SOLUTIONS}  # a new version: metrics read afresh
    return out | dict(also)


def new_solution(label: str, campaign: str) -> dict[str, str]:
    """A solution replaced (immutable inputs changed): it trains, its campaign moves in place."""
    return {
        f"Solution{label}": "replaced",
        f"Train{label}": "replaced",
        f"Campaign{campaign}": "updated",
        f"Metrics{label}": "replaced",
    }


def _append_csv_column(path: Path, name: str) -> None:
    rows = list(csv.reader(io.StringIO(path.read_text())))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*rows[0], name])
    writer.writerows([*row, ""] for row in rows[1:])
    path.write_text(out.getvalue())


def add_items_field(ws: Workspace) -> None:
    schema_path = ws.data("schemas/items.json")
    schema = json.loads(schema_path.read_text())
    schema["fields"].append({"name": "COLOUR", "type": ["null", "string"], "categorical": True})
    schema_path.write_text(json.dumps(schema, indent=2) + "\n")
    _append_csv_column(ws.data("items.csv"), "COLOUR")


def more_interactions(ws: Workspace) -> None:
    path = ws.data("interactions.csv")
    lines = path.read_text().splitlines()
    extra = [row.replace(",view,", ",click,", 1) for row in lines[1:201] if ",view," in row]
    path.write_text("\n".join([*lines, *extra]) + "\n")


def set_(path: str, value: Any) -> Callable[[Workspace], None]:
    """A mutation that sets config key `path` ('solutions[user-personalization].perform_hpo')."""

    def mutate(ws: Workspace) -> None:
        node: Any = ws.config
        parts = path.split(".")
        for part in parts[:-1]:
            if "[" in part:
                kind, name = part.rstrip("]").split("[")
                node = next(i for i in node[kind] if i["name"] == name)
            else:
                node = node.setdefault(part, {})
        node[parts[-1]] = value
        ws.save()

    return mutate


def edit(fn: Callable[[dict[str, Any]], None]) -> Callable[[Workspace], None]:
    def mutate(ws: Workspace) -> None:
        fn(ws.config)
        ws.save()

    return mutate


def _remove(kind: str, name: str) -> Callable[[dict[str, Any]], None]:
    def fn(config: dict[str, Any]) -> None:
        config[kind] = [i for i in config[kind] if i["name"] != name]

    return fn


def _remove_ranking(config: dict[str, Any]) -> None:
    _remove("solutions", "ranking")(config)
    _remove("campaigns", "ranking")(config)


def _rename_solution(config: dict[str, Any]) -> None:
    for solution in config["solutions"]:
        if solution["name"] == "similar-items":
            solution["name"] = "related-items"
    for campaign in config["campaigns"]:
        if campaign["name"] == "similar-items":
            campaign["name"], campaign["solution"] = "related-items", "related-items"


def _add_solution(config: dict[str, Any]) -> None:
    config["solutions"].append({"name": "popular", "recipe": "aws-popularity-count"})
    config["campaigns"].append({"name": "popular", "solution": "popular"})


def add_batch_job(ws: Workspace) -> None:
    path = ws.data("batch/users.jsonl")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps({"userId": f"u{n:04d}"}) + "\n" for n in range(1, 51)))
    ws.config.setdefault("batch_jobs", []).append(
        {"name": "nightly", "solution": "user-personalization", "input": "data/batch/users.jsonl"}
    )
    ws.save()


def external_items(ws: Workspace) -> None:
    ws.config["datasets"]["items"]["source"] = f"s3://{EXTERNAL_BUCKET}/items/"
    ws.save()


def seed_external_items(world: Any, region: str) -> None:
    """The external bucket of `external_items`, with the repo's items.csv and the policy the README
    asks its owner for (Personalize may read it, from this account)."""
    import boto3

    s3 = boto3.client("s3", region_name=region)
    s3.create_bucket(Bucket=EXTERNAL_BUCKET, CreateBucketConfiguration={"LocationConstraint": region})
    s3.put_object(
        Bucket=EXTERNAL_BUCKET, Key="items/items.csv", Body=(REPO / "data" / "items.csv").read_bytes()
    )
    account = "123456789012"
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "personalize.amazonaws.com"},
                "Action": ["s3:GetObject", "s3:ListBucket"],
                "Resource": [f"arn:aws:s3:::{EXTERNAL_BUCKET}", f"arn:aws:s3:::{EXTERNAL_BUCKET}/*"],
                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
            }
        ],
    }
    s3.put_bucket_policy(Bucket=EXTERNAL_BUCKET, Policy=json.dumps(policy))


#: renaming similar-items to related-items: a new solution, version and campaign beside the old ones,
#: which go in the cleanup phase (a new campaign ARN: its clients switch to it)
RENAMED = {
    "SolutionRelatedItems": "created",
    "TrainRelatedItems": "created",
    "CampaignRelatedItems": "created",
    "MetricsRelatedItems": "created",
    "SolutionSimilarItems": "deleted",
    "TrainSimilarItems": "deleted",
    "CampaignSimilarItems": "deleted",
    "MetricsSimilarItems": "deleted",
}

KMS_KEY = "arn:aws:kms:ap-southeast-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

CHANGES: list[Change] = [
    Change(
        "schema: add a nullable field to items",
        add_items_field,
        retrain_all(
            ("SchemaItems", "replaced"),
            ("DatasetItems", "updated"),
            (DATA_OBJECTS["items"], "updated"),
            ("ImportItems", "replaced"),
        ),
        flags=("retraining", "reimport"),
    ),
    Change(
        "interactions: new data",
        more_interactions,
        retrain_all((DATA_OBJECTS["interactions"], "updated"), ("ImportInteractions", "replaced")),
        flags=("retraining", "reimport"),
    ),
    Change(
        "interactions: import_mode INCREMENTAL",
        set_("datasets.interactions.import_mode", "INCREMENTAL"),
        retrain_all(("ImportInteractions", "replaced")),
    ),
    Change(
        "ranking: another recipe",
        set_("solutions[ranking].recipe", "aws-personalized-ranking"),
        new_solution("Ranking", "Ranking"),
        flags=("solution-replaced", "retraining"),
    ),
    Change(
        "user-personalization: training_timeout 8h",
        set_("solutions[user-personalization].training_timeout", "8h"),
        {"TrainUserPersonalization": "updated"},
    ),
    Change(
        "user-personalization: perform_hpo on",
        set_("solutions[user-personalization].perform_hpo", True),
        new_solution("UserPersonalization", "UserRecs"),
        flags=("solution-replaced", "retraining"),
    ),
    Change(
        "user-personalization: auto_training on",
        set_("solutions[user-personalization].auto_training", True),
        # UpdateSolution in place: no new solution, no training by the deploy; the service's
        # automatic trainings bill afterwards (the review warns)
        {"SolutionUserPersonalization": "updated"},
        flags=("auto-training", "cost-increase"),
    ),
    Change(
        "user-personalization: solution_config with typed values",
        set_(
            "solutions[user-personalization].solution_config",
            {"eventsConfig": {"eventParametersList": [{"eventType": "purchase", "weight": 0.9}]}},
        ),
        {"SolutionUserPersonalization": "updated"},  # eventsConfig: UpdateSolution, in place
    ),
    Change(
        "user-recs: min_provisioned_tps 5",
        set_("campaigns[user-recs].min_provisioned_tps", 5),
        {"CampaignUserRecs": "updated"},
        flags=("cost-increase",),
    ),
    Change(
        "user-recs: campaign_config syncWithLatestSolutionVersion",
        set_("campaigns[user-recs].campaign_config", {"syncWithLatestSolutionVersion": True}),
        {"CampaignUserRecs": "updated"},
    ),
    Change(
        "filters: add one",
        edit(
            lambda c: c["filters"].append(
                {
                    "name": "exclude-viewed",
                    "expression": 'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("view")',
                }
            )
        ),
        {"FilterExcludeViewed": "created"},
    ),
    Change(
        "filters: change an expression",
        set_(
            "filters[exclude-purchased].expression",
            'EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("purchase", "click")',
        ),
        {"FilterExcludePurchased": "replaced"},
        flags=("filter-replaced",),
    ),
    Change(
        "filters: remove one",
        edit(_remove("filters", "in-category")),
        {"FilterInCategory": "deleted"},
        flags=("filter-deleted",),
    ),
    Change(
        "event tracker: rename",
        set_("event_tracker.name", "site-events"),
        {"EventTracker": "replaced"},
    ),
    Change(
        "solutions: add one with its campaign",
        edit(_add_solution),
        {
            "SolutionPopular": "created",
            "TrainPopular": "created",
            "CampaignPopular": "created",
            "MetricsPopular": "created",
        },
    ),
    Change(
        "solutions: rename one with its campaign",
        edit(_rename_solution),
        RENAMED,
        moves={"CampaignSimilarItems": "CampaignRelatedItems"},
    ),
    Change(
        "solutions: remove one with its campaign",
        edit(_remove_ranking),
        {
            "SolutionRanking": "deleted",
            "TrainRanking": "deleted",
            "CampaignRanking": "deleted",
            "MetricsRanking": "deleted",
        },
        flags=("campaign-deleted", "solution-deleted"),
    ),
    Change(
        "tags: add one", set_("environment.tags.team", "recs-platform"), {lid: "updated" for lid in TAGGED}
    ),
    Change("tags: change one", set_("environment.tags.owner", "ml-team"), {lid: "updated" for lid in TAGGED}),
    Change(
        "dataset group: set a KMS key",
        set_("dataset_group.kms_key_arn", KMS_KEY),
        {},
        # CreateDatasetGroup's kmsKeyArn is fixed at creation and there is no UpdateDatasetGroup for
        # it: a key means a new dataset group (re-import, retrain, new campaign ARNs), which the
        # handler will not do under the same name. The update is refused and rolls back cleanly.
        refused="KmsKeyArn, RoleArn cannot change in place and Name did not change",
    ),
    Change(
        "batch jobs: add one",
        add_batch_job,
        {"BatchNightly": "created", "BatchJobNightlyInput14FC749D": "created"},
    ),
    Change(
        "items: an s3:// folder source",
        external_items,
        retrain_all((DATA_OBJECTS["items"], "deleted"), ("ImportItems", "replaced")),
        seed=seed_external_items,
    ),
    Change(
        "prod: rename a solution with its campaign",
        edit(_rename_solution),
        RENAMED,
        env="prod",
        # production (removal_policy = retain): the review warns first that a production campaign
        # goes and its clients break; destroy afterwards keeps the retained buckets and their data
        flags=("production-campaign-replaced", "campaign-deleted"),
        moves={"CampaignSimilarItems": "CampaignRelatedItems"},
    ),
]
