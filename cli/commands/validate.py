"""`pz validate -c env=NAME`: what `cdk synth` checks, without synthesizing: the config, the schema
files, the data files. Prints every problem (exit 2: yours to fix) or what would be deployed (0)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli.exitcodes import ExitCode

if TYPE_CHECKING:
    from pipeline.problems import Problem

EXAMPLES = """
  pz validate -c env=prod                    # every problem at once, or a summary of the pipeline
  pz validate -c env=dev --json              # {"environment", "ok", "problems": [...], "datasets"}
  pz validate -c env=dev --config /tmp/dev.toml --root .   # a config file from elsewhere
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from pipeline.naming import REPO_ROOT

    parser.add_argument(
        "--root",
        type=Path,
        default=REPO_ROOT,
        help="repository root the config's paths are relative to (default: this repo)",
    )
    parser.add_argument(
        "--config", type=Path, default=None, help="config file to read instead of <root>/config/<env>.toml"
    )
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")


def run(args: argparse.Namespace) -> int:
    from pipeline.config import load_config
    from pipeline.problems import ProblemReport
    from pipeline.validate import summary, validate

    root: Path = args.root
    try:
        config = load_config(args.env, args.config or root / "config" / f"{args.env}.toml", root=root)
    except ProblemReport as report:
        if args.json:
            _print_json(args.env, report.problems, {})
        else:
            print(f"validate: config rejected\n{report}", file=sys.stderr)
        return ExitCode.USAGE
    result = validate(config, root)
    if args.json:
        _print_json(args.env, result.problems, result.datasets)
    elif not result.ok:
        print(
            f"validate: {config.environment.name} rejected\n{ProblemReport(result.problems)}", file=sys.stderr
        )
    else:
        print(summary(config, result))
    return ExitCode.OK if result.ok else ExitCode.USAGE


def _print_json(env: str, problems: list[Problem], datasets: dict[str, Any]) -> None:
    errors = [p for p in problems if p.severity == "error"]
    shown = {
        "environment": env,
        "ok": not errors,
        "problems": [dataclasses.asdict(p) | {"text": str(p)} for p in problems],
        "datasets": {name: dataclasses.asdict(data) for name, data in datasets.items()},
    }
    print(json.dumps(shown, indent=1, default=str))
