"""`python -m cli <command> -c env=<name>`: each command lives in cli/commands/<command>.py
and exposes `add_arguments(parser)` and `run(args) -> int`."""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = {
    "validate": "check config, schemas and data for an environment (what cdk synth checks)",
    "deploy": "deploy the synthesized stack (cdk.out) to the local Personalize",
    "diff": "show what a deploy would change against the last local deployment",
    "destroy": "delete the local deployment in reverse dependency order",
    "recommend": "get recommendations from a deployed campaign",
    "serve": "serve S3, IAM, STS and Personalize on 127.0.0.1 for the AWS CLI and SDKs",
    "demo": "synth, deploy, recommend, show metrics, destroy: the main job",
}


def parse_context(values: list[str]) -> dict[str, str]:
    """`-c key=value` as the CDK CLI takes it."""
    context: dict[str, str] = {}
    for value in values:
        key, sep, item = value.partition("=")
        if not sep:
            raise SystemExit(f"-c expects key=value, got {value!r}")
        context[key] = item
    return context


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cli", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    for name, help_text in COMMANDS.items():
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("-c", "--context", action="append", default=[], metavar="KEY=VALUE",
                         help="CDK-style context; env=<name> picks config/<name>.toml (default dev)")
        try:
            module = importlib.import_module(f"cli.commands.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"cli.commands.{name}":
                raise
            sub.set_defaults(module=None)
            continue
        module.add_arguments(sub)
        sub.set_defaults(module=module)
    args = parser.parse_args(argv)
    args.env = parse_context(args.context).get("env", "dev")
    if args.module is None:
        print(f"python -m cli {args.command}: not built yet", file=sys.stderr)
        return 2
    return int(args.module.run(args))
