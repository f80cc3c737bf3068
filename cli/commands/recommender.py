"""`pz recommender stop|start|status NAME -c env=vod`: stop a domain recommender to save its hourly
cost, start it again, or show its status (StopRecommender, StartRecommender, DescribeRecommender).

Stopping halts billing and retraining; GetRecommendations fails until the recommender is started
again; starting does not retrain or create a new recommender (stopping-starting-recommender,
botocore's StopRecommender/StartRecommender). The stack is not changed: a later deploy leaves a
stopped recommender stopped, and `pz destroy` deletes it as it is.

Exit status: 0 done (the recommender is ACTIVE or INACTIVE as asked, or its status was shown);
1 the service failed or the wait timed out; 2 something to fix first (arguments, environment,
stack or recommender not deployed, credentials, a transition already under way)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cli.exitcodes import CommandError, ExitCode
from pipeline.naming import REPO_ROOT
from recs.api import Recommender
from recs.errors import RecsError

EXAMPLES = """
  pz recommender stop top-picks -c env=vod          # stop billing; clients get errors until started
  pz recommender start top-picks -c env=vod         # serve again (no retraining)
  pz recommender status top-picks -c env=vod --json
  pz recommender stop top-picks -c env=vod --target aws --no-wait
"""
#: What each action tells the person running it, before anything changes.
MEANING = {
    "stop": "Stopping {name}: it stops billing and retraining, and GetRecommendations on it fails "
    "until you start it again (clients calling it get errors meanwhile).",
    "start": "Starting {name}: billing and weekly retraining resume; it serves its existing models "
    "(nothing is retrained now).",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("stop", "start", "status"), help="what to do")
    parser.add_argument("name", help="recommender name from the config (e.g. top-picks)")
    parser.add_argument("--no-wait", action="store_true",
                        help="return once Personalize accepted the stop or start (default: wait for "
                        "INACTIVE or ACTIVE)")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    parser.add_argument(
        "--target",
        choices=("local", "aws"),
        default="local",
        help="local: the stack `pz deploy` made (default); aws: the stack `cdk deploy` made, with your "
        "AWS credentials",
    )
    parser.add_argument("--region", help="aws: the stack's region (default: the config's)")
    parser.add_argument("--profile", help="aws: the AWS profile to use")
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=REPO_ROOT / ".local",
        help="local: where the local deploy keeps its state (default: .local)",
    )


def run(args: argparse.Namespace) -> int:
    """Run a parsed command line (`args.env` set)."""
    out = sys.stderr if args.json else sys.stdout
    try:
        with Recommender.for_environment(
            args.env, target=args.target, region=args.region, profile=args.profile, state_dir=args.state_dir
        ) as rec:
            arn = rec.recommender(args.name)
            if args.action == "status":
                status = rec.recommender_status(args.name)
            else:
                print(MEANING[args.action].format(name=args.name), file=out)
                last: list[str] = []

                def progress(status: str) -> None:
                    if not last or last[-1] != status:
                        print(f"  {args.name}: {status}", file=out)
                    last.append(status)

                status = rec.set_running(args.name, args.action == "start", wait=not args.no_wait,
                                         progress=progress)
    except RecsError as error:
        raise CommandError(str(error), ExitCode(error.exit_code)) from error
    goal = {"stop": "INACTIVE", "start": "ACTIVE"}.get(args.action)
    if args.json:
        print(json.dumps({"recommender": args.name, "recommenderArn": arn, "status": status}, indent=1))
    else:
        print(f"{args.name} ({arn}): {status}")
    if goal is not None and not args.no_wait and status != goal:
        raise CommandError(f"{args.name} is {status}, not {goal}, after waiting", ExitCode.FAILED)
    return ExitCode.OK
