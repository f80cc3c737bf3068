"""`python -m local recommend -c env=dev --campaign user-recs --user-id u0001 [--item-id ...]
[--rank a,b,c] [--filter NAME [--filter-value K=V]] [--num 10] [--json]`: ask a deployed campaign,
print item id, score and a few fields of each item."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

from local.runner.cli_support import REPO_ROOT, add_common, load_world, stack_name
from local.runner.queries import QueryError, filter_arn, find_campaign, item_fields, recommend, table
from local.runner.state import StackState, StackStore


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
    parser.add_argument(
        "--target",
        choices=("local", "aws"),
        default="local",
        help="local: the stack the runner deployed (default); aws: the stack `cdk deploy` made, found "
        "with CloudFormation DescribeStacks using your AWS credentials",
    )


def aws_stack_state(env: str) -> tuple[StackState, str]:
    """The deployed stack's outputs from CloudFormation, with errors a person can act on."""
    import boto3
    from botocore.exceptions import ClientError, NoCredentialsError, NoRegionError

    from pipeline.config import load_config

    name = stack_name(env)
    region = load_config(env).environment.region or boto3.session.Session().region_name
    if not region:
        raise QueryError(f"no region: set environment.region in config/{env}.toml or AWS_REGION")
    try:
        stacks = boto3.client("cloudformation", region_name=region).describe_stacks(StackName=name)
    except (NoCredentialsError, NoRegionError) as error:
        raise QueryError(
            f"AWS credentials are missing ({error}): configure them (aws configure, AWS_PROFILE) "
            "or use --target local"
        ) from None
    except ClientError as error:
        if "does not exist" in str(error):
            raise QueryError(
                f"no stack {name} in {region}: deploy it with `npx cdk deploy -c env={env}`"
            ) from None
        raise
    stack = stacks["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    state = StackState(name=name, stack_id=stack["StackId"], status=stack["StackStatus"], outputs=outputs)
    return state, region


def known_users(env: str) -> set[str] | None:
    """USER_IDs in the interactions file the stack imports (None when it is an s3:// source)."""
    import csv

    from pipeline.config import load_config

    source = load_config(env).datasets.interactions
    if source.is_s3:
        return None
    with open(REPO_ROOT / source.source, newline="", encoding="utf-8") as stream:
        return {row["USER_ID"] for row in csv.DictReader(stream)}


def run(args: argparse.Namespace) -> int:
    state: StackState | None
    if args.target == "aws":
        try:
            state, region = aws_stack_state(args.env)
        except QueryError as error:
            print(f"recommend: {error}")
            return 1
    else:
        found = StackStore(Path(args.state_dir)).load(stack_name(args.env))
        region = found.stack_id.split(":")[3] if found else "us-east-1"
        state = found
    values = {}
    for pair in args.filter_value:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--filter-value expects KEY=VALUE, got {pair!r}")
        values[key] = value
    if not 1 <= args.num <= 500:
        raise SystemExit(f"--num must be 1..500, got {args.num}")
    world = load_world(args) if args.target == "local" else None
    try:
        query = find_campaign(state, args.campaign)
        with world.active() if world is not None else contextlib.nullcontext():
            farn = filter_arn(state, args.filter, region) if args.filter and state else None
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
    users = known_users(args.env) if args.user_id else None
    if users is not None and args.user_id not in users:
        print(
            f"note: user {args.user_id!r} has no interactions in the imported data (cold start): "
            "Personalize answers with popular items, not personal ones",
            file=sys.stderr if args.json else sys.stdout,
        )
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    who = f"user {args.user_id}" if args.user_id else f"item {args.item_id}"
    what = f"ranking of {args.rank} for {who}" if args.rank else f"recommendations for {who}"
    print(f"{args.campaign} ({query.arn}): {what}" + (f", filter {args.filter}" if args.filter else ""))
    print(table(rows, item_fields(args.env, REPO_ROOT)))
    return 0
