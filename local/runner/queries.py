"""Asking a deployed stack's campaigns for recommendations (the `recommend` and `demo` commands).

Everything is found from the deployed stack's outputs (as a user would from `cdk deploy`'s output):
`CampaignNames` maps config campaign names to Personalize names, `CampaignArn*` holds the ARNs,
`Command*` the ready-made AWS CLI query (which call, and sample ids), `SolutionVersionArn*` the
trained versions. Item fields come from the items dataset's source file.
"""

from __future__ import annotations

import csv
import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from local.runner.state import StackState

#: item fields shown next to each recommendation (the first of these that the items file has)
DISPLAY_FIELDS = ("CATEGORY_L1", "STYLE", "BRAND", "PRICE", "GENRES", "TITLE")


class QueryError(Exception):
    """The stack is not deployed, the campaign or filter is unknown, or the query is malformed."""


@dataclass
class CampaignQuery:
    """What the stack's Command output says about querying a campaign."""

    name: str
    arn: str
    call: str  # get-recommendations | get-personalized-ranking
    user_id: str | None = None
    item_id: str | None = None
    input_list: list[str] = field(default_factory=list)

    @property
    def kind(self) -> str:
        if self.call == "get-personalized-ranking":
            return "ranking"
        return "related-items" if self.item_id and not self.user_id else "user"


def campaigns(state: StackState | None) -> dict[str, CampaignQuery]:
    if state is None or not state.outputs:
        raise QueryError("the stack is not deployed locally: run `python -m local deploy -c env=<name>`")
    outputs = state.outputs
    names = json.loads(outputs.get("CampaignNames", "{}"))
    found = {}
    for config_name, personalize_name in names.items():
        arn = next(
            (
                v
                for k, v in outputs.items()
                if k.startswith("CampaignArn") and str(v).endswith(f"campaign/{personalize_name}")
            ),
            None,
        )
        if arn is None:
            continue
        command = next((str(v) for k, v in outputs.items() if k.startswith("Command") and arn in str(v)), "")
        found[config_name] = _parse_command(config_name, arn, command)
    return found


def _parse_command(name: str, arn: str, command: str) -> CampaignQuery:
    words = shlex.split(command) if command else []
    call = words[2] if len(words) > 2 else "get-recommendations"
    query = CampaignQuery(name, arn, call)
    for i, word in enumerate(words):
        if word == "--user-id" and i + 1 < len(words):
            query.user_id = words[i + 1]
        elif word == "--item-id" and i + 1 < len(words):
            query.item_id = words[i + 1]
        elif word == "--input-list":
            query.input_list = [w for w in words[i + 1 :] if not w.startswith("--")]
    return query


def find_campaign(state: StackState | None, name: str) -> CampaignQuery:
    known = campaigns(state)
    if name not in known:
        raise QueryError(f"campaign {name!r} is not in the deployed stack; campaigns: {sorted(known)}")
    return known[name]


def filter_arn(state: StackState, name: str, region: str) -> str:
    """A filter's ARN by its config name (Personalize names it `<env>-<dataset group>-<name>-<hash>`)."""
    group = state.outputs.get("DatasetGroupArn")
    client = boto3.client("personalize", region_name=region)
    filters = client.list_filters(datasetGroupArn=group, maxResults=100).get("Filters", [])
    group_name = str(group).rsplit("/", 1)[-1]
    for item in filters:
        if item["name"] == f"{group_name}-{name}" or item["name"].startswith(f"{group_name}-{name}-"):
            return str(item["filterArn"])
    raise QueryError(f"filter {name!r} not found in {group}; filters: {[f['name'] for f in filters]}")


def recommend(
    query: CampaignQuery,
    region: str,
    user_id: str | None = None,
    item_id: str | None = None,
    rank: list[str] | None = None,
    num: int = 10,
    filter_arn: str | None = None,
    filter_values: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Call the campaign (inside `world.active()`); returns [{itemId, score}]."""
    runtime = boto3.client("personalize-runtime", region_name=region)
    extra: dict[str, Any] = {}
    if filter_arn:
        extra["filterArn"] = filter_arn
        if filter_values:
            extra["filterValues"] = {
                k: v if v.startswith('"') else json.dumps(v) for k, v in filter_values.items()
            }
    if rank:
        if not user_id:
            raise QueryError("--rank needs --user-id (GetPersonalizedRanking ranks items for a user)")
        answer = runtime.get_personalized_ranking(
            campaignArn=query.arn, userId=user_id, inputList=rank, **extra
        )
        return list(answer.get("personalizedRanking", []))
    if not (user_id or item_id):
        raise QueryError("give --user-id or --item-id (or --rank with --user-id)")
    args: dict[str, Any] = {"campaignArn": query.arn, "numResults": num, **extra}
    if user_id:
        args["userId"] = user_id
    if item_id:
        args["itemId"] = item_id
    return list(runtime.get_recommendations(**args).get("itemList", []))


def item_fields(env: str, root: Path) -> dict[str, dict[str, str]]:
    """The items dataset's rows by ITEM_ID (from its local source file; empty if it has none)."""
    from pipeline.config import load_config

    config = load_config(env)
    items = config.datasets.items
    if items is None or items.is_s3:
        return {}
    path = root / items.source
    with open(path, newline="", encoding="utf-8") as stream:
        return {row["ITEM_ID"]: row for row in csv.DictReader(stream) if row.get("ITEM_ID")}


def table(rows: list[dict[str, Any]], items: dict[str, dict[str, str]]) -> str:
    if not rows:
        return "  (no items)"
    fields = [f for f in DISPLAY_FIELDS if items and f in next(iter(items.values()))][:3]
    header = f"  {'#':>2}  {'item':<8} {'score':>8}  " + "  ".join(f"{f.lower():<14}" for f in fields)
    lines = [header]
    for rank, row in enumerate(rows, 1):
        info = items.get(row.get("itemId", ""), {})
        score = row.get("score")
        score_text = f"{score:8.4f}" if isinstance(score, (int, float)) else f"{'-':>8}"
        values = "  ".join(f"{str(info.get(f, ''))[:14]:<14}" for f in fields)
        lines.append(f"  {rank:>2}  {row.get('itemId', ''):<8} {score_text}  {values}")
    return "\n".join(lines)


def solution_metrics(state: StackState, region: str) -> dict[str, dict[str, float]]:
    client = boto3.client("personalize", region_name=region)
    metrics = {}
    for key, arn in sorted(state.outputs.items()):
        if key.startswith("SolutionVersionArn"):
            answer = client.get_solution_metrics(solutionVersionArn=arn)
            metrics[key[len("SolutionVersionArn") :]] = dict(answer.get("metrics", {}))
    return metrics
