"""Names, defined once: the stack's, every Personalize resource's, and where the repository is.

Standard library only, so the command line, recs and the tests can name a stack without loading the
CDK (importing aws_cdk starts a jsii process: about 2.5 s). Physical names are deterministic and
environment first, so dev and prod share an account without clashing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

#: The repository: config/, data/, lambda/ and cdk.json live here.
REPO_ROOT = Path(__file__).resolve().parent.parent

#: Every environment's stack is `Personalize-<env>`.
STACK_PREFIX = "Personalize-"

#: Personalize's name rule (every resource kind), from the API reference.
NAME_PATTERN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9\-_]*$")
NAME_MAX = 63
#: An environment name becomes part of stack names, bucket names and every Personalize name.
ENV_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,14}$")


def stack_name(env: str) -> str:
    """The CloudFormation stack of one environment."""
    return f"{STACK_PREFIX}{env}"


def digest(*inputs: Any, length: int = 8) -> str:
    """A short, stable hash of JSON-serialisable inputs (dict key order does not matter)."""
    # Imported here: hashlib maps OpenSSL (~4 MB resident), a cost that callers needing only
    # REPO_ROOT or stack_name (the CSV checker's worker process, problem reports) should not pay.
    import hashlib

    text = json.dumps(inputs, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def physical_name(env: str, *parts: str, version_of: Any = None) -> str:
    """`<env>-<part>-...`, with `-<hash>` of `version_of` for immutable resources, so that a
    replacement gets a new name and never collides with the resource it replaces."""
    suffix = f"-{digest(version_of, length=6)}" if version_of is not None else ""
    base = "-".join((env, *parts))
    if len(base) + len(suffix) > NAME_MAX:
        base = base[: NAME_MAX - len(suffix) - 7] + "-" + digest(base, length=6)
    name = base + suffix
    if not NAME_PATTERN.match(name):
        raise ValueError(f"derived name {name!r} does not match {NAME_PATTERN.pattern}")
    return name
