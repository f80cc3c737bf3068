"""Synth-time content hashes and logical-id labels."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

_CHUNK = 1 << 20


def file_digest(path: Path, length: int = 16) -> str:
    """sha256 of a file's bytes, streamed (data files can be large)."""
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            sha.update(chunk)
    return sha.hexdigest()[:length]


def logical_label(*parts: str) -> str:
    """'user-personalization' -> 'UserPersonalization': readable, CloudFormation-safe logical ids."""
    words: list[str] = []
    for part in parts:
        words.extend(w for w in re.split(r"[^A-Za-z0-9]+", part) if w)
    return "".join(w[:1].upper() + w[1:] for w in words)
