#!/usr/bin/env python3
"""CDK entry point: `npx cdk synth -c env=dev|prod`.

Reads the `env` context once, loads and validates config/<env>.toml, builds the stack. Bad config
or data stops here with the validator's message and no template written.
"""

from __future__ import annotations

import sys

from pipeline.problems import ProblemReport
from stacks import build_app


def main() -> int:
    try:
        app = build_app()
    except ProblemReport as report:
        print(f"cdk synth: configuration rejected\n{report}", file=sys.stderr)
        return 1
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
