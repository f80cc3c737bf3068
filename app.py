#!/usr/bin/env python3
"""CDK entry point: `npx cdk synth -c env=dev|prod`.

Reads the `env` context once, loads and validates config/<env>.toml, builds the stack. Bad config
or data stops here with the validator's message and no template written.

Garbage collection: the imports (aws-cdk-lib's generated bindings, cdk-nag, pydantic) create a
large object graph that lives until exit and is never garbage. The cyclic collector is off while
importing and that graph is then frozen (`gc.freeze()`), so neither the collections during the build
nor the interpreter's final sweep at exit rescan it: about 0.5 s of a ~2.6 s synth (bench/synth.py).
"""

from __future__ import annotations

import gc

gc.disable()

import sys  # noqa: E402

from pipeline.problems import ProblemReport  # noqa: E402
from stacks import build_app  # noqa: E402

gc.freeze()
gc.enable()


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
