"""`python -m local recommend ...`: the same command as `./recommend` / `python -m recs` (recs/cli.py),
kept under `python -m local` beside deploy and destroy. Defaults to the local deploy."""

from __future__ import annotations

import argparse

from recs import cli


def add_arguments(parser: argparse.ArgumentParser) -> None:
    cli.add_arguments(parser)
    parser.epilog = cli.EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter


def run(args: argparse.Namespace) -> int:
    return cli.run(args)
