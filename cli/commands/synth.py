"""`pz synth -c env=NAME [-o DIR]`: the pinned CDK CLI's `npx cdk synth`, after the same checks in a
second (a rejected config exits 2 before synth starts), with progress while it runs."""

from __future__ import annotations

import argparse
from pathlib import Path

from cli.console import Console
from cli.exitcodes import ExitCode
from cli.support import run_synth
from pipeline.naming import REPO_ROOT, stack_name

EXAMPLES = """
  pz synth -c env=dev                        # = npx cdk synth -c env=dev --quiet, into ./cdk.out
  pz synth -c env=prod -o /tmp/prod.out      # another output directory
  npx cdk synth -c env=dev                   # the CDK CLI itself (prints the template)
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o", "--output", type=Path, default=REPO_ROOT / "cdk.out", metavar="DIR",
        help="where the cloud assembly is written (default: ./cdk.out)",
    )


def run(args: argparse.Namespace) -> int:
    console = Console(args.no_color)
    run_synth(args.env, args.output, console)
    console.print(f"{stack_name(args.env)} synthesized to {args.output}")
    return ExitCode.OK
