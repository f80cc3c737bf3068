"""`pz serve --port 4599 [--speed N] [--world PATH] [--fresh]`: the local AWS on 127.0.0.1."""

from __future__ import annotations

import argparse
from pathlib import Path

from cli.exitcodes import UserError
from cli.support import REPO_ROOT, STATE_DIR

EXAMPLES = """
  pz serve                                   # 127.0.0.1:4599, the world of the last local deploy
  pz serve --port 4600 --speed 60            # an hour of training passes in a minute
  aws --endpoint-url http://127.0.0.1:4599 personalize list-campaigns   # from another shell
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    default = REPO_ROOT / STATE_DIR / "world.pkl"
    parser.add_argument("--port", type=int, default=4599, help="port on 127.0.0.1 (default 4599)")
    parser.add_argument("--speed", type=float, default=1.0,
                        help="virtual seconds per real second (default 1; 60: an hour a minute)")
    parser.add_argument("--world", type=Path, default=default,
                        help="world file to load at start and save on exit (default .local/world.pkl)")
    parser.add_argument("--fresh", action="store_true", help="start from an empty world (saved on exit)")


def run(args: argparse.Namespace) -> int:
    from local.emulator.server import serve

    if args.speed <= 0:
        raise UserError(f"--speed must be > 0, got {args.speed}")
    return serve(port=args.port, path=str(args.world), speed=args.speed, fresh=args.fresh)
