"""`python -m local serve --port 4599 [--speed N] [--world PATH] [--fresh]`: the local AWS on 127.0.0.1."""

from __future__ import annotations

import argparse

from local.emulator.world import DEFAULT_PATH


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=4599, help="port on 127.0.0.1 (default 4599)")
    parser.add_argument("--speed", type=float, default=1.0,
                        help="virtual seconds per real second (default 1; 60: an hour a minute)")
    parser.add_argument("--world", default=str(DEFAULT_PATH),
                        help=f"world file to load at start and save on exit (default {DEFAULT_PATH})")
    parser.add_argument("--fresh", action="store_true", help="start from an empty world (saved on exit)")


def run(args: argparse.Namespace) -> int:
    from local.emulator.server import serve

    if args.speed <= 0:
        raise SystemExit(f"--speed must be > 0, got {args.speed}")
    return serve(port=args.port, path=args.world, speed=args.speed, fresh=args.fresh)
