"""`pz <command> [options]` (or `python -m cli`): the project's one command line.

Each command lives in cli/commands/<command>.py with EXAMPLES, `add_arguments(parser)` and
`run(args) -> int`, and has its line in COMMANDS below; only the command being run is imported, so
`pz --help` answers at once. Exit statuses: cli/exitcodes.py."""

from __future__ import annotations

import argparse
import importlib
import sys
import textwrap
import tomllib
from collections.abc import Sequence
from types import ModuleType

from cli.console import Console
from cli.exitcodes import CommandError, ExitCode, help_text, short_help
from cli.support import REPO_ROOT

PROG = "pz"
#: The commands in the order `pz --help` lists them, each with its one line.
COMMANDS = {
    "validate": "check an environment's config, schemas and data, as synth does, in seconds",
    "synth": "synthesize the CDK app into cdk.out (the pinned `npx cdk synth`)",
    "diff": "compare the synthesized stack with its local deployment",
    "deploy": "deploy the stack to the local Personalize as CloudFormation would, with events",
    "destroy": "delete the local deployment in reverse dependency order, then list what is left",
    "review": "what a change does to the deployed pipeline, simulated: per resource, hours, dollars, IAM",
    "recommend": "ask a deployed campaign for recommendations (the local deploy, or --target aws)",
    "delete-users": "delete users and their data from the deployed dataset group (a data deletion job)",
    "recommender": "stop or start a domain recommender (billed every hour it is ACTIVE), or its status",
    "serve": "serve S3, IAM, STS and Personalize on 127.0.0.1 for the AWS CLI and SDKs",
    "demo": "the whole pipeline offline: synth, deploy, recommend, solution metrics, destroy",
}
#: Commands that take no environment.
WITHOUT_ENV = {"serve"}
DESCRIPTION = """The Amazon Personalize pipeline as code: validate and synthesize the CDK app per
environment (-c env=NAME), deploy it to the local Personalize, ask its campaigns, tear it down.
On AWS, `npx cdk deploy -c env=NAME` deploys the same app."""


def version() -> str:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    return f"{PROG} {project['version']} ({project['name']})"


def context_pair(value: str) -> tuple[str, str]:
    """`-c key=value`, as the CDK CLI takes it."""
    key, sep, item = value.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"-c expects KEY=VALUE, got {value!r}")
    return key, item


def chosen(argv: Sequence[str]) -> str | None:
    """The command named on the line (the first word that is one), if any."""
    return next((word for word in argv if word in COMMANDS), None)


def load(name: str) -> ModuleType:
    return importlib.import_module(f"cli.commands.{name.replace('-', '_')}")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; only `command`'s module is imported and its options added (each command's
    --help shows its own options and examples)."""
    width = max(len(name) for name in COMMANDS) + 4
    listing = "\n".join(
        "\n".join(textwrap.wrap(summary, 96, initial_indent=f"  {name:<{width}}",
                                subsequent_indent=" " * (width + 2)))
        for name, summary in COMMANDS.items()
    )
    parser = argparse.ArgumentParser(
        prog=PROG,
        usage=f"{PROG} <command> [options]\n       {PROG} <command> --help\n       {PROG} --version",
        description=f"{DESCRIPTION}\n\ncommands:\n{listing}",
        epilog=f"Run `{PROG} <command> --help` for a command's options and examples. The command line,\n"
        "its output and exit statuses: docs/command-line.md\n\n" + help_text(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=version())
    commands = parser.add_subparsers(dest="command", metavar="<command>", help=argparse.SUPPRESS)
    for name, summary in COMMANDS.items():
        sub = commands.add_parser(
            name, prog=f"{PROG} {name}", description=summary,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        if name != command:
            continue
        module = load(name)
        if name not in WITHOUT_ENV:
            sub.add_argument(
                "-c", "--context", action="append", default=[], type=context_pair, metavar="KEY=VALUE",
                help="CDK-style context; env=NAME picks config/NAME.toml (default dev)",
            )
        module.add_arguments(sub)
        sub.add_argument("--no-color", action="store_true", help="no colour (also: NO_COLOR=1)")
        sub.epilog = "examples:\n" + module.EXAMPLES.strip("\n") + "\n\n" + short_help()
        sub.set_defaults(module=module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(chosen(argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help and --version (0), or a usage error argparse printed (2)
        return int(done.code) if isinstance(done.code, int) else ExitCode.USAGE
    if args.command is None:
        parser.print_usage(sys.stderr)
        print(f"{PROG}: error: name a command (`{PROG} --help` lists them)", file=sys.stderr)
        return ExitCode.USAGE
    args.env = dict(getattr(args, "context", [])).get("env", "dev")
    try:
        return int(args.module.run(args))
    except CommandError as error:
        Console(args.no_color).error(f"{PROG} {args.command}", str(error))
        return error.code
    except KeyboardInterrupt:
        print(f"\n{PROG} {args.command}: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
