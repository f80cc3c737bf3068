"""The `$NAME` placeholders of a Personalize filter expression, for everything that must supply
their values: the recommend CLI/API per request, and batch inference input at synth."""

from __future__ import annotations

import re

PLACEHOLDER = re.compile(r"\$([A-Za-z0-9_]+)")


def filter_parameters(expression: str) -> tuple[set[str], set[str]]:
    """($PARAMETERS of INCLUDE parts, those only in EXCLUDE parts): Personalize requires values
    for an INCLUDE expression's parameters; an EXCLUDE part without values is not applied
    (GetRecommendations `filterValues`, API reference)."""
    required: set[str] = set()
    every: set[str] = set()
    for part in expression.split("|"):
        names = set(PLACEHOLDER.findall(part))
        every |= names
        if part.strip().upper().startswith("INCLUDE"):
            required |= names
    return required, every - required
