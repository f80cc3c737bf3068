"""`python -m local validate -c env=<name>`: what `cdk synth` checks, without synthesizing: the config,
the schema files, the data files. Prints every problem (exit 1) or what would be deployed (exit 0)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.config import REPO_ROOT, load_config
from pipeline.problems import ProblemReport
from pipeline.validate import summary, validate


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--root",
        type=Path,
        default=REPO_ROOT,
        help="repository root the config's paths are relative to (default: this repo)",
    )
    parser.add_argument(
        "--config", type=Path, default=None, help="config file to read instead of <root>/config/<env>.toml"
    )


def run(args: argparse.Namespace) -> int:
    root: Path = args.root
    try:
        config = load_config(args.env, args.config or root / "config" / f"{args.env}.toml", root=root)
    except ProblemReport as report:
        print(f"validate: config rejected\n{report}", file=sys.stderr)
        return 1
    result = validate(config, root)
    if not result.ok:
        print(
            f"validate: {config.environment.name} rejected\n{ProblemReport(result.problems)}", file=sys.stderr
        )
        return 1
    print(summary(config, result))
    return 0
