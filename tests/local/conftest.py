"""Fixtures of the local Personalize tests (helpers live in pz_helpers.py, importable by name)."""

from pz_helpers import events, iam, pipeline, pz, runtime, s3, trained, trained_path, world

__all__ = ["events", "iam", "pipeline", "pz", "runtime", "s3", "trained", "trained_path", "world"]
