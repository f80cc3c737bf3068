"""`pz deploy -c env=NAME`: deploy the stack to the local world as CloudFormation would, on the
virtual clock: synthesize first when cdk.out is missing, stale or for another environment (as
`cdk deploy` does; --app DIR deploys an assembly as it is), print CFN-style events, a summary and
the outputs, and write the timeline."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cli.console import Console
from cli.exitcodes import ExitCode, OperationFailed
from cli.support import add_assembly_options, assembly_for, region_of, runner_for

EXAMPLES = """
  pz deploy -c env=dev                       # synthesizes first when cdk.out is missing or stale
  pz deploy -c env=dev --app cdk.out         # deploy cdk.out as it is (as cdk deploy --app cdk.out)
  pz deploy -c env=dev --quiet               # the summary only, no per-resource events
  pz deploy -c env=dev --json | jq .status   # events on stderr, the result as JSON on stdout
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_assembly_options(parser)
    parser.add_argument(
        "--timeline",
        type=Path,
        default=None,
        help="markdown file for the mermaid timeline (default: <state-dir>/<env>-timeline.md)",
    )
    parser.add_argument("--quiet", action="store_true", help="no per-resource events, only the summary")
    parser.add_argument(
        "--json", action="store_true", help="print the result as JSON (events, if any, go to stderr)"
    )


def run(args: argparse.Namespace) -> int:
    from local.runner import report
    from local.runner.engine import StackError

    console = Console(args.no_color, events_to_stderr=args.json)
    artifact = assembly_for(args.env, args, console)
    region = region_of(artifact)
    timeline = args.timeline or Path(args.state_dir) / f"{args.env}-timeline.md"
    with runner_for(args, region, console, quiet=args.quiet) as (runner, _world):
        try:
            result = runner.deploy(artifact)
        except StackError as error:
            raise OperationFailed(f"{artifact.name}: {error}") from error
    timeline.parent.mkdir(parents=True, exist_ok=True)
    timeline.write_text(report.timeline_markdown(result, f"{artifact.name} local deploy timeline"))
    if args.json:
        shown = {**report.as_dict(result), "reason": result.reason, "outputs": result.outputs,
                 "timeline": str(timeline)}
        print(json.dumps(shown, indent=1, default=str))
    else:
        console.print()
        console.print(report.summary(result, str(timeline)))
        if result.ok and result.outputs:
            console.print("Outputs:")
            for key, value in sorted(result.outputs.items()):
                console.print(f"  {key} = {value}")
    return ExitCode.OK if result.ok else ExitCode.FAILED
