"""`pz recommend -c env=dev --campaign user-recs --user-id u0246 [options]` (also `./recommend`): ask a
deployed campaign (or, with --recommender, a domain recommender) through recs.Recommender and print
item id, score and item fields.

Exit status: 0 answered; 2 something the caller can fix (arguments, config, deployment,
credentials, permissions: the message says what to do); 1 the service failed (retry later): each
recs error carries its own."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cli.exitcodes import CommandError, ExitCode
from pipeline.naming import REPO_ROOT
from recs.api import DEFAULT_NUM, MAX_RESULTS, Recommender, Result
from recs.errors import BadRequest, RecsError
from recs.render import table

EXAMPLES = """
  pz recommend -c env=dev --campaign user-recs --user-id u0246 --num 5
  pz recommend -c env=dev --campaign similar-items --item-id i0103
  pz recommend -c env=dev --campaign ranking --user-id u0246 --rank i0103,i0010,i0067
  pz recommend -c env=dev --campaign user-recs --user-id u0246 --filter exclude-purchased --json
  pz recommend -c env=dev --campaign user-recs --user-id u0246 --filter in-category \\
      --filter-value CATEGORY=books,garden
  pz recommend -c env=dev --target aws --campaign user-recs --user-id u0246
  pz recommend -c env=vod --recommender top-picks --user-id p0001
  pz recommend -c env=vod --recommender because-you-watched --user-id p0001 --item-id v001
  ./recommend ...                            # the same command (an alias of pz recommend)
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--campaign", help="campaign name from the config (e.g. user-recs)")
    source.add_argument("--recommender", help="domain recommender name from the config (e.g. top-picks)")
    parser.add_argument("--user-id", help="user to recommend for (or to rank for, with --rank)")
    parser.add_argument("--item-id", help="item to find related items for (related-items campaigns)")
    parser.add_argument(
        "--rank", metavar="ITEM,ITEM,...", help="item ids to rank for --user-id (ranking campaigns)"
    )
    parser.add_argument("--filter", help="filter name from the config (e.g. exclude-purchased)")
    parser.add_argument(
        "--filter-value",
        action="append",
        default=[],
        metavar="PARAM=VALUE[,VALUE]",
        help="value(s) for a $PARAM of the filter expression; repeat per parameter",
    )
    parser.add_argument(
        "--num", type=int, default=None, help=f"number of results, 1-{MAX_RESULTS} (default {DEFAULT_NUM})"
    )
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    parser.add_argument(
        "--target",
        choices=("local", "aws"),
        default="local",
        help="local: the stack `pz deploy` made (default); aws: the stack `cdk deploy` "
        "made, found with CloudFormation DescribeStacks and your AWS credentials",
    )
    parser.add_argument(
        "--region", help="aws: the stack's region (default: the config's, else your profile's)"
    )
    parser.add_argument("--profile", help="aws: the AWS profile to use (default: the usual credential chain)")
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=REPO_ROOT / ".local",
        help="local: where the local deploy keeps its state (default: .local)",
    )


def run(args: argparse.Namespace) -> int:
    """Run a parsed command line (`args.env` set); prints the result or the error."""
    try:
        values = filter_values(args.filter_value)
        if args.rank is not None and args.num is not None:
            raise _usage("--num does not apply to --rank: a ranking returns every item it was given")
        if args.rank is not None and args.item_id is not None:
            raise _usage("--rank ranks items for --user-id; --item-id does not apply")
        with Recommender.for_environment(
            args.env,
            target=args.target,
            region=args.region,
            profile=args.profile,
            state_dir=args.state_dir,
        ) as rec:
            if args.recommender is not None:
                if args.rank is not None:
                    raise _usage("--rank needs a ranking campaign; recommenders serve GetRecommendations")
                result = rec.recommend_from(
                    args.recommender,
                    args.user_id,
                    args.item_id,
                    num=DEFAULT_NUM if args.num is None else args.num,
                    filter=args.filter,
                    filter_values=values,
                )
            elif args.rank is not None:
                result = rec.rank(
                    args.campaign,
                    args.user_id,
                    [item.strip() for item in args.rank.split(",")],
                    filter=args.filter,
                    filter_values=values,
                )
            else:
                result = rec.recommend(
                    args.campaign,
                    args.user_id,
                    args.item_id,
                    num=DEFAULT_NUM if args.num is None else args.num,
                    filter=args.filter,
                    filter_values=values,
                )
            fields = rec.catalog.display_fields
    except RecsError as error:
        raise CommandError(str(error), ExitCode(error.exit_code)) from error
    show(result, fields, as_json=args.json)
    return ExitCode.OK


def show(result: Result, fields: tuple[str, ...], as_json: bool) -> None:
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr if as_json else sys.stdout)
    if as_json:
        print(json.dumps(result.to_json(), indent=1))
        return
    if result.kind == "ranking":
        what = f"ranking of {len(result.items)} items for user {result.user_id}"
    elif result.item_id is not None and result.user_id is None:
        what = f"items related to {result.item_id}"
    else:
        what = f"recommendations for user {result.user_id}"
    shown = f", filter {result.filter}" if result.filter else ""
    if result.filter_values:
        shown += " " + " ".join(f"{k}={v}" for k, v in sorted(result.filter_values.items()))
    print(f"{result.campaign} ({result.campaign_arn}): {what}{shown}")
    print(table(result.items, fields))


def filter_values(pairs: list[str]) -> dict[str, list[str]]:
    """`--filter-value PARAM=a,b` -> {"PARAM": ["a", "b"]}; a repeated PARAM adds values."""
    values: dict[str, list[str]] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip().lstrip("$")
        parts = [v.strip() for v in value.split(",")]
        if not sep or not key or not value.strip() or not all(parts):
            raise _usage(f"--filter-value expects PARAM=VALUE[,VALUE...], got {pair!r}")
        values.setdefault(key, []).extend(parts)
    return values


def _usage(message: str) -> RecsError:
    return BadRequest(message)
