"""`python -m local recommend -c env=dev --campaign user-recs --user-id u0001 [--item-id ...]
[--rank a,b,c] [--filter NAME [--filter-value K=V]] [--num 10] [--json]`: ask a deployed campaign,
print item id, score and a few fields of each item."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from local.runner.cli_support import REPO_ROOT, add_common, load_world, stack_name
from local.runner.queries import QueryError, filter_arn, find_campaign, item_fields, recommend, table
from local.runner.state import StackStore


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common(parser)
    parser.add_argument("--campaign", required=True, help="campaign name from the config (e.g. user-recs)")
    parser.add_argument("--user-id", help="user to recommend for (or to rank for with --rank)")
    parser.add_argument("--item-id", help="item to find related items for")
    parser.add_argument("--rank", help="comma-separated item ids to rank for --user-id")
    parser.add_argument("--filter", help="filter name from the config (e.g. exclude-purchased)")
    parser.add_argument(
        "--filter-value",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="value for a $placeholder in the filter expression",
    )
    parser.add_argument("--num", type=int, default=10, help="number of results (1-500, default 10)")
    parser.add_argument("--json", action="store_true", help="print the raw result as JSON")


def run(args: argparse.Namespace) -> int:
    name = stack_name(args.env)
    state = StackStore(Path(args.state_dir)).load(name)
    region = state.stack_id.split(":")[3] if state else "us-east-1"
    values = {}
    for pair in args.filter_value:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--filter-value expects KEY=VALUE, got {pair!r}")
        values[key] = value
    if not 1 <= args.num <= 500:
        raise SystemExit(f"--num must be 1..500, got {args.num}")
    world = load_world(args)
    try:
        query = find_campaign(state, args.campaign)
        with world.active():
            farn = filter_arn(state, args.filter, region) if args.filter else None  # type: ignore[arg-type]
            rows = recommend(
                query,
                region,
                user_id=args.user_id,
                item_id=args.item_id,
                rank=args.rank.split(",") if args.rank else None,
                num=args.num,
                filter_arn=farn,
                filter_values=values or None,
            )
    except QueryError as error:
        print(f"recommend: {error}")
        return 1
    except Exception as error:  # a service error: say it plainly
        print(f"recommend: {type(error).__name__}: {error}")
        return 1
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    who = f"user {args.user_id}" if args.user_id else f"item {args.item_id}"
    what = f"ranking of {args.rank} for {who}" if args.rank else f"recommendations for {who}"
    print(f"{args.campaign} ({query.arn}): {what}" + (f", filter {args.filter}" if args.filter else ""))
    print(table(rows, item_fields(args.env, REPO_ROOT)))
    return 0
