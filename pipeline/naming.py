"""Deterministic physical names: environment first, so dev and prod share an account without clashing."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pipeline.config import NAME_MAX, NAME_PATTERN


def digest(*inputs: Any, length: int = 8) -> str:
    """A short, stable hash of JSON-serialisable inputs (dict key order does not matter)."""
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
