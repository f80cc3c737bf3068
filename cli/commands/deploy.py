"""`python -m local deploy -c env=<name> [--synth]`: deploy cdk.out to the local world as
CloudFormation would, on the virtual clock; print events, a summary and write the timeline."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cli.support import add_common, assembly_for, region_of, runner_for
from local.runner import report
from local.runner.engine import StackError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common(parser)
    parser.add_argument(
        "--synth",
        action="store_true",
        help="run `npx cdk synth -c env=<name>` first if cdk.out is missing, stale or for "
        "another environment",
    )
    parser.add_argument(
        "--timeline",
        type=Path,
        default=None,
        help="markdown file for the mermaid timeline (default: <state-dir>/<env>-timeline.md)",
    )
    parser.add_argument("--quiet", action="store_true", help="no per-resource events, only the summary")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def run(args: argparse.Namespace) -> int:
    artifact = assembly_for(args.env, args.cdk_out, args.synth)
    region = region_of(artifact)
    timeline = args.timeline or Path(args.state_dir) / f"{args.env}-timeline.md"
    with runner_for(args, region, quiet=args.quiet or args.json) as (runner, _world):
        try:
            result = runner.deploy(artifact)
        except StackError as error:
            print(f"deploy {artifact.name}: {error}")
            return 1
    timeline.parent.mkdir(parents=True, exist_ok=True)
    timeline.write_text(report.timeline_markdown(result, f"{artifact.name} local deploy timeline"))
    if args.json:
        print(
            json.dumps(
                {**report.as_dict(result), "outputs": result.outputs, "timeline": str(timeline)}, indent=1
            )
        )
    else:
        print()
        print(report.summary(result, str(timeline)))
        if result.ok and result.outputs:
            print("Outputs:")
            for key, value in sorted(result.outputs.items()):
                print(f"  {key} = {value}")
    return 0 if result.ok else 1
