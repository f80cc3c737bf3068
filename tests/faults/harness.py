"""The fault matrix's machinery: synthesize each config once, run a scenario in a fresh World on the
virtual clock, and check the invariants every scenario must hold afterwards.

Invariants, checked from the world itself, never from what the runner says it did:
- `not stuck`: the stack ends in a terminal state (complete or fully rolled back) with no resource
  left in an in-progress or failed state;
- `nothing left`: after a rollback or destroy no Personalize resource of the environment remains
  (any kind: dataset group, schema, dataset, solution, version, campaign, filter, tracker); after a
  successful or rolled-back update, no Personalize resource of the environment that the stack does
  not own (an orphan bills or blocks the dataset group's delete);
- `retained data`: every bucket with DeletionPolicy Retain, and every object ever seen in it, is
  still there with the same content;
- `error is clear`: for a scenario that fails, the reason the user sees names the resource and the
  cause.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from local.emulator.world import World
from local.runner import CloudAssembly, OperationResult, Runner, StackArtifact, StackStore
from local.runner.inventory import leftovers
from pipeline.naming import STACK_PREFIX, stack_name

REPO = Path(__file__).resolve().parents[2]
CONFIGS = Path(__file__).resolve().parent / "configs"
#: states a stack may rest in; anything else is stuck (or failed to clean up)
TERMINAL = (
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
    "ROLLBACK_COMPLETE",
    "DELETE_COMPLETE",
)
#: Personalize kinds without a delete API: they go with their dataset / solution
NO_DELETE_API = ("dataset-import-job", "solution-version")


def config_file(key: str) -> Path:
    """`small/dev`, `small/prod`, `quota/dev` (ours: the file's name is its environment's) or `dev`,
    `prod` (the shipped configs)."""
    ours = CONFIGS / f"{key}.toml"
    return ours if ours.is_file() else REPO / "config" / f"{key}.toml"


class Assemblies:
    """Synthesizes each (config, data root) once per run, in-process, into a temporary cdk.out."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._cache: dict[tuple[str, str], StackArtifact] = {}

    def get(self, key: str, root: Path = REPO) -> StackArtifact:
        cache_key = (key, str(root))
        if cache_key not in self._cache:
            outdir = Path(tempfile.mkdtemp(prefix=f"cdk-{key.replace('/', '-')}-", dir=self.workdir))
            self._cache[cache_key] = synth(key, outdir, root)
        return self._cache[cache_key]

    def changed_data(self, key: str) -> StackArtifact:
        """`key` synthesized over a copy of data/ with more interactions (a data update: re-import,
        retrain, UpdateCampaign)."""
        root = self.workdir / f"changed-{key.replace('/', '-')}"
        if not root.exists():
            shutil.copytree(REPO / "data", root / "data")
            interactions = root / "data" / "interactions.csv"
            lines = interactions.read_text().splitlines()
            extra = [r.replace(",view,", ",click,", 1) for r in lines[1:201] if ",view," in r]
            interactions.write_text("\n".join([*lines, *extra]) + "\n")
        return self.get(key, root)


def synth(key: str, outdir: Path, root: Path = REPO) -> StackArtifact:
    """The same templates `cdk synth` writes (stacks.build_app), nag off (tests/stack covers it)."""
    from pipeline.config import load_config
    from stacks import build_app

    path = config_file(key)
    config = load_config(path.stem, path=path)
    app = build_app(
        config.environment.name, str(outdir), config=config, root=root, asset_dir=REPO / "lambda", nag=False
    )
    app.synth()
    return CloudAssembly.load(outdir).stack(stack_name(config.environment.name))


@dataclass
class Check:
    """One invariant's verdict: held, or the details of how it failed; None = does not apply."""

    name: str
    held: bool | None
    detail: str = ""


@dataclass
class Trial:
    """One scenario's world: a fresh World (virtual clock), a runner over a temporary state dir."""

    root: Path
    region: str
    world: World = field(default_factory=World)
    lines: list[str] = field(default_factory=list)
    hooks: list[Callable[[str], None]] = field(default_factory=list)
    #: every object seen in a bucket of a stack, by bucket then key: its bytes
    seen_objects: dict[str, dict[str, bytes]] = field(default_factory=dict)
    results: list[OperationResult] = field(default_factory=list)
    envs: set[str] = field(default_factory=set)
    #: the last template deployed per environment (which buckets it retains)
    templates: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._s3: Any = None
        self.runner = Runner(self.world, StackStore(self.root / "state"), out=self._out, region=self.region)

    def _out(self, line: str) -> None:
        self.lines.append(line)
        self._snapshot_buckets()
        for hook in list(self.hooks):
            hook(line)

    # --- operations --------------------------------------------------------------------------
    def deploy(self, artifact: StackArtifact, **kwargs: Any) -> OperationResult:
        env = artifact.name.removeprefix(STACK_PREFIX)
        self.envs.add(env)
        self.templates[env] = artifact.template
        result = self.runner.deploy(artifact, **kwargs)
        self.results.append(result)
        self._snapshot_buckets()
        return result

    def destroy(self, env: str) -> OperationResult | None:
        self._snapshot_buckets()
        result = self.runner.destroy(stack_name(env))
        if result is not None:
            self.results.append(result)
        return result

    def close(self) -> None:
        self.runner.close()

    # --- the world, read back ----------------------------------------------------------------
    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=self.region)

    def personalize(self, env: str) -> list[Any]:
        """Every Personalize resource of `env`: named `<env>-...` or inside a dataset group of it."""
        resources = self.world.personalize.resources
        groups = {
            arn for arn, r in resources.items() if r.KIND == "dataset-group" and r.name.startswith(f"{env}-")
        }
        found = []
        for resource in resources.values():
            parents = {
                getattr(resource, a, None) for a in ("dataset_group_arn", "solution_arn", "dataset_arn")
            }
            if resource.name.startswith(f"{env}-") or groups & parents or self._in_groups(resource, groups):
                found.append(resource)
        return found

    def _in_groups(self, resource: Any, groups: set[str]) -> bool:
        resources = self.world.personalize.resources
        for attr in ("solution_arn", "dataset_arn", "solution_version_arn"):
            parent = resources.get(getattr(resource, attr, None) or "")
            if parent is not None and (
                getattr(parent, "dataset_group_arn", None) in groups or self._in_groups(parent, groups)
            ):
                return True
        return False

    def _snapshot_buckets(self) -> None:
        """Record every object of the stacks' buckets (only when a deployed template retains one:
        that is what the retained-data invariant compares against)."""
        if not any(self._retained_ids(env) for env in self.templates):
            return
        with self.world.active():
            if self._s3 is None:
                self._s3 = self.client("s3")  # one client: making one costs more than the listing
            s3 = self._s3
            for bucket in self.stack_buckets_active(s3):
                seen = self.seen_objects.setdefault(bucket, {})
                for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                    for obj in page.get("Contents", []):
                        if obj["Key"] not in seen:
                            seen[obj["Key"]] = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()

    @staticmethod
    def stack_buckets_active(s3: Any) -> list[str]:
        return [
            b["Name"] for b in s3.list_buckets().get("Buckets", []) if b["Name"].startswith("personalize-")
        ]

    # --- invariants --------------------------------------------------------------------------
    def invariants(self, env: str, expect_error: tuple[str, ...] = ()) -> list[Check]:
        """The four invariants for `env` at the end of a scenario. `expect_error`: strings the
        reason of the last failed operation must all contain (resource, cause)."""
        state = self.runner.state(stack_name(env))
        status = state.status if state else "NO_STACK"
        checks = [self._not_stuck(state), self._nothing_left(env, state), self._retained(env, state)]
        failed = [r for r in self.results if r.stack_name == stack_name(env) and not r.ok]
        if expect_error:
            if not failed:
                checks.append(Check("error is clear", False, f"no operation failed (stack {status})"))
            else:
                reason = failed[-1].reason
                missing = [s for s in expect_error if s not in reason]
                checks.append(
                    Check(
                        "error is clear",
                        not missing,
                        f"reason lacks {missing}: {reason[:500]}" if missing else reason[:300],
                    )
                )
        else:
            checks.append(Check("error is clear", None, "no failure expected"))
        return checks

    def _not_stuck(self, state: Any) -> Check:
        if state is None:
            return Check("not stuck", True, "never created")
        bad = [
            f"{r.logical_id}={r.status}"
            for r in state.resources.values()
            if r.status.endswith(("_IN_PROGRESS", "_FAILED"))
        ]
        ok = state.status in TERMINAL and not bad
        if state.status in ("ROLLBACK_COMPLETE", "DELETE_COMPLETE") and state.resources:
            # CloudFormation keeps a rolled-back stack's record, but every resource is deleted
            live = [
                f"{r.logical_id}={r.status}"
                for r in state.resources.values()
                if r.status not in ("DELETE_COMPLETE", "DELETE_SKIPPED")
            ]
            if live:
                return Check("not stuck", False, f"{state.status} with resources {live[:8]}")
        return Check("not stuck", ok, state.status if ok else f"{state.status}; {bad[:8]}")

    def _nothing_left(self, env: str, state: Any) -> Check:
        status = state.status if state else "NO_STACK"
        ours = self.personalize(env)
        if status in ("ROLLBACK_COMPLETE", "DELETE_COMPLETE", "NO_STACK"):
            left = [f"{r.KIND} {r.name} ({r.status})" for r in ours]
            with self.world.active():
                other = leftovers(self.world, env, self.region, None, stack=stack_name(env))
            retained = [f"personalize-{env}-{lid.lower()}"[:40] for lid in self._retained_ids(env)]
            for kind in ("s3 bucket", "s3 object"):  # what the template retains may stay
                other[kind] = [
                    b for b in other.get(kind, []) if not b.removeprefix("s3://").startswith(tuple(retained))
                ]
            extra = [f"{k}: {v}" for k, v in other.items() if v and not k.startswith("personalize")]
            ok = not left and not extra
            return Check("nothing left", ok, "none" if ok else "; ".join([*left, *extra])[:600])
        owned = {r.physical_id for r in state.resources.values() if r.physical_id}
        orphans = [
            f"{r.KIND} {r.name} ({r.status})"
            for r in ours
            if r.arn not in owned
            and not (r.KIND in NO_DELETE_API and r.status in ("ACTIVE", "CREATE FAILED", "CREATE STOPPED"))
        ]
        return Check(
            "nothing left",
            not orphans,
            f"{status}: only the stack's own resources"
            if not orphans
            else f"{status}: orphans {orphans[:6]}",
        )

    def _retained_ids(self, env: str, state: Any = None) -> list[str]:
        """Logical ids of the buckets the template keeps (DeletionPolicy Retain)."""
        template = self.templates.get(env) or (state.template if state else {}) or {}
        return [
            lid
            for lid, res in template.get("Resources", {}).items()
            if res.get("Type") == "AWS::S3::Bucket" and res.get("DeletionPolicy") == "Retain"
        ]

    def _retained(self, env: str, state: Any) -> Check:
        retained = self._retained_ids(env, state)
        if not retained:
            return Check("retained data", None, "no retained bucket in this config")
        prefix = f"personalize-{env}-"
        buckets = [b for b in self.seen_objects if b.startswith(prefix)]
        if not buckets:
            return Check("retained data", None, "no bucket was created")
        problems = []
        total = 0
        with self.world.active():
            s3 = self.client("s3")
            existing = set(self.stack_buckets_active(s3))
            for bucket in buckets:
                if not any(bucket.startswith(f"{prefix}{lid.lower()}"[:40]) for lid in retained):
                    continue
                if bucket not in existing:
                    problems.append(f"bucket {bucket} is gone")
                    continue
                for key, body in self.seen_objects[bucket].items():
                    total += 1
                    try:
                        now = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                    except Exception as error:
                        problems.append(f"s3://{bucket}/{key}: {error}")
                        continue
                    if now != body:
                        problems.append(f"s3://{bucket}/{key} changed")
        return Check(
            "retained data",
            not problems,
            f"{total} objects in {len(buckets)} retained buckets intact"
            if not problems
            else "; ".join(problems)[:600],
        )


@contextmanager
def trial(region: str, workdir: Path | None = None) -> Iterator[Trial]:
    """A fresh world and runner over a temporary state directory, closed afterwards."""
    with tempfile.TemporaryDirectory(prefix="fault-", dir=workdir) as tmp:
        t = Trial(Path(tmp), region)
        try:
            yield t
        finally:
            t.close()
