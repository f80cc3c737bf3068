"""The change, simulated: the base deployed to a scratch local world, then updated to the head by the
runner on the virtual clock, exactly as `pz deploy` of the base and then of the head would do.

What it keeps for the review: CloudFormation's record of the stack before and after the update
(physical ids, resolved properties, DeletionPolicy), the update's `OperationResult` (events, timings,
service operations, critical path), and what the local Personalize and S3 hold before and after,
read through their public APIs (describe calls, object sizes) as a client of the service would.

The scratch world's stack record lives in memory (`MemoryStore`): the runner saves it after every
resource, which on disk is most of a deploy's time. A base deployed once is kept in `cache` keyed by
its cloud assembly and the code of the local world and this package, so a review against the same
base again starts from the deployed base at once (`--no-cache` turns it off).
"""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.emulator.world import World
from local.runner import CloudAssembly, OperationResult, Runner, StackArtifact, StackState, StackStore
from pipeline.naming import REPO_ROOT

#: Code whose change makes a cached base deploy stale: the local world, the runner, this package.
CODE = ("local", "review")
PERSONALIZE = "Custom::Personalize"


class MemoryStore(StackStore):
    """StackStore whose stack records stay in memory (assets and Lambda code still go under `root`):
    `load` hands out a copy, as reading the JSON back would."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.states: dict[str, StackState] = {}

    def save(self, state: StackState) -> None:
        self.states[state.name] = state

    def load(self, name: str) -> StackState | None:
        state = self.states.get(name)
        return None if state is None else StackState.from_json(copy.deepcopy(state.to_json()))

    def names(self) -> list[str]:
        return sorted(self.states)


@dataclass
class Observed:
    """One Personalize resource as its describe call shows it (None: it does not exist)."""

    arn: str
    kind: str
    described: dict[str, Any] | None


@dataclass
class Facts:
    """What the service and S3 say about the resources of interest, keyed by ARN."""

    resources: dict[str, Observed] = field(default_factory=dict)
    #: s3 location -> (rows after the header, bytes), summed over a folder's objects
    objects: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: solution version ARN -> the training's length on the local Personalize's duration model
    #: (known from its start, also for a training stopped before it finished)
    training_seconds: dict[str, float] = field(default_factory=dict)

    def get(self, arn: str | None) -> dict[str, Any] | None:
        found = self.resources.get(arn or "")
        return found.described if found else None


@dataclass
class Simulation:
    """The outcome of deploying the base and updating it to the head."""

    base: StackArtifact
    head: StackArtifact
    region: str
    before: StackState
    after: StackState
    update: OperationResult
    base_deploy: OperationResult | None  # None when the deployed base came from the cache
    facts_before: Facts
    facts_after: Facts
    cached: bool = False


def region_of(artifact: StackArtifact, default: str = "us-east-1") -> str:
    manifest = json.loads((artifact.directory / "manifest.json").read_text())
    entry = manifest.get("artifacts", {}).get(artifact.name, {})
    region = str(entry.get("environment", "")).rsplit("/", 1)[-1]
    return region if region and region != "unknown-region" else default


def load_stack(assembly: Path, stack: str) -> StackArtifact:
    return CloudAssembly.load(assembly).stack(stack)


def fingerprint(artifact: StackArtifact, region: str) -> str:
    """The cache key of a deployed base: its template, its assets (content hashes), the region and
    the code that deploys and emulates it."""
    digest = hashlib.sha256()
    digest.update(json.dumps(artifact.template, sort_keys=True).encode())
    for manifest in sorted(artifact.directory.glob("*.assets.json")):
        digest.update(json.dumps(sorted(json.loads(manifest.read_text()).get("files", {}))).encode())
    digest.update(region.encode())
    for folder in CODE:
        for path in sorted((REPO_ROOT / folder).rglob("*.py")):
            digest.update(str(path.relative_to(REPO_ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:24]


class Scratch:
    """A scratch local world with a runner over an in-memory stack record under `root`."""

    def __init__(self, root: Path, region: str, world: World | None = None) -> None:
        self.root = root
        self.world = world or World()
        self.store = MemoryStore(root)
        self.runner = Runner(self.world, self.store, out=lambda _line: None, region=region, quiet_events=True)

    def close(self) -> None:
        self.runner.close()
        self.world.close()

    def save(self, into: Path, stack: str) -> None:
        """The deployed world, its stack record and the runner's files, as a cache entry."""
        tmp = into.with_name(into.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(self.root, tmp / "root", ignore=shutil.ignore_patterns("waitcondition.port", "*.log"))
        state = self.store.states[stack]
        text = json.dumps(state.to_json(), default=str).replace(str(self.root), "@ROOT@")
        (tmp / "state.json").write_text(text)
        self.world.save(tmp / "world.pkl")
        shutil.rmtree(into, ignore_errors=True)
        tmp.replace(into)

    @classmethod
    def restore(cls, entry: Path, root: Path, region: str) -> Scratch:
        shutil.copytree(entry / "root", root, dirs_exist_ok=True)
        scratch = cls(root, region, World.load(entry / "world.pkl"))
        text = (entry / "state.json").read_text().replace("@ROOT@", str(root))
        state = StackState.from_json(json.loads(text))
        scratch.store.states[state.name] = state
        return scratch


def observe(world: World, region: str, state: StackState, extra_arns: list[str]) -> Facts:
    """Describe every Personalize resource the stack holds (and `extra_arns`: what the update's
    service operations started), and size the S3 data each import job reads."""
    import boto3
    from botocore.exceptions import ClientError

    facts = Facts()
    arns = {
        r.physical_id for r in state.resources.values() if r.type.startswith(PERSONALIZE) and r.physical_id
    }
    arns |= set(extra_arns)
    with world.active():
        pz = boto3.client("personalize", region_name=region)
        s3 = boto3.client("s3", region_name=region)
        queue = sorted(a for a in arns if a.startswith("arn:") and ":personalize:" in a)
        while queue:
            arn = queue.pop(0)
            if arn in facts.resources:
                continue
            kind, call, key, result = _describer(arn)
            if call is None:
                continue
            try:
                described = getattr(pz, call)(**{key: arn})[result]
            except ClientError:
                described = None
            facts.resources[arn] = Observed(arn, kind, described)
            if kind == "solution" and described:  # e.g. an automatic training the service started
                latest = (described.get("latestSolutionVersion") or {}).get("solutionVersionArn")
                if latest and latest not in facts.resources:
                    queue.append(latest)
            if kind == "solution-version":
                planned = getattr(getattr(world, "personalize", None), "resources", {}).get(arn)
                seconds = float(getattr(planned, "training_seconds", 0.0) or 0.0)
                if seconds:
                    facts.training_seconds[arn] = seconds
            if kind == "dataset-import-job" and described:
                location = described.get("dataSource", {}).get("dataLocation", "")
                if location and location not in facts.objects:
                    facts.objects[location] = _size(s3, location)
            if kind == "batch-inference-job" and described:
                location = described.get("jobInput", {}).get("s3DataSource", {}).get("path", "")
                if location and location not in facts.objects:
                    facts.objects[location] = _size(s3, location)
    return facts


#: ARN resource segment -> (kind, describe call, its parameter, the response's object)
DESCRIBE = {
    "dataset-group": ("describe_dataset_group", "datasetGroupArn", "datasetGroup"),
    "schema": ("describe_schema", "schemaArn", "schema"),
    "dataset": ("describe_dataset", "datasetArn", "dataset"),
    "dataset-import-job": ("describe_dataset_import_job", "datasetImportJobArn", "datasetImportJob"),
    "solution": ("describe_solution", "solutionArn", "solution"),
    "solution-version": ("describe_solution_version", "solutionVersionArn", "solutionVersion"),
    "campaign": ("describe_campaign", "campaignArn", "campaign"),
    "filter": ("describe_filter", "filterArn", "filter"),
    "event-tracker": ("describe_event_tracker", "eventTrackerArn", "eventTracker"),
    "batch-inference-job": ("describe_batch_inference_job", "batchInferenceJobArn", "batchInferenceJob"),
    "recommender": ("describe_recommender", "recommenderArn", "recommender"),
}


def arn_kind(arn: str) -> str:
    """`arn:aws:personalize:r:a:solution/name/1a2b3c4d` -> solution-version; else the segment."""
    tail = arn.split(":", 5)[-1]
    segment, _, rest = tail.partition("/")
    if segment == "solution" and "/" in rest:
        return "solution-version"
    return segment


def _describer(arn: str) -> tuple[str, str | None, str, str]:
    kind = arn_kind(arn)
    if kind not in DESCRIBE:
        return kind, None, "", ""
    call, key, result = DESCRIBE[kind]
    return kind, call, key, result


def _size(s3: Any, location: str) -> tuple[int, int]:
    """(rows after each file's header, bytes) of an s3:// object, or of every object under a folder."""
    from botocore.exceptions import ClientError

    bucket, _, key = location.removeprefix("s3://").partition("/")
    try:
        if key.endswith("/") or not key:
            listed = s3.list_objects_v2(Bucket=bucket, Prefix=key).get("Contents", [])
            keys = [o["Key"] for o in listed if not o["Key"].endswith("/")]
        else:
            keys = [key]
        rows = size = 0
        for name in keys:
            body = s3.get_object(Bucket=bucket, Key=name)["Body"].read()
            size += len(body)
            lines = body.count(b"\n") + (0 if body.endswith(b"\n") or not body else 1)
            rows += max(0, lines - (0 if name.endswith((".json", ".jsonl")) else 1))
        return rows, size
    except ClientError:
        return 0, 0


@contextmanager
def simulate(
    base: StackArtifact,
    head: Callable[[], StackArtifact],
    *,
    cache: Path | None = None,
    prepare: Callable[[World, str], None] | None = None,
    step: Callable[[str], Any] | None = None,
) -> Iterator[Simulation]:
    """Deploy `base` to a scratch world (or take it from `cache`), update it to `head()` (asked for
    only then: its synth may still be running while the base deploys), and yield what happened; the
    scratch world is gone afterwards. `prepare(world, region)` runs before the update (data the
    stack reads but does not own, e.g. an external s3:// source)."""
    region = region_of(base)
    progress = step or (lambda _text: _null())
    with tempfile.TemporaryDirectory(prefix="pz-review-world-") as tmp:
        root = Path(tmp) / "state"
        key = fingerprint(base, region) if cache is not None else ""
        entry = cache / f"base-{base.name}-{key}" if cache is not None else None
        base_deploy: OperationResult | None = None
        with _locked(entry):  # another review of the same base waits, then restores it
            if entry is not None and (entry / "world.pkl").is_file():
                with progress(f"the base deployed before ({entry.name}): restoring it"):
                    scratch = Scratch.restore(entry, root, region)
            else:
                scratch = Scratch(root, region)
                with progress("deploying the base to a scratch local world (virtual clock)"):
                    base_deploy = scratch.runner.deploy(base)
                if not base_deploy.ok:
                    scratch.close()
                    raise SimulationError(
                        f"the base does not deploy to the local world: {base_deploy.status} "
                        f"({base_deploy.reason})"
                    )
                if entry is not None:
                    scratch.save(entry, base.name)
        try:
            before = scratch.store.load(base.name)
            assert before is not None
            facts_before = observe(scratch.world, region, before, [])
            head_artifact = head()
            if prepare is not None:
                with scratch.world.active():
                    prepare(scratch.world, region)
            with progress("updating it to the head (virtual clock)"):
                update = scratch.runner.deploy(head_artifact)
            after = scratch.store.load(head_artifact.name)
            assert after is not None
            started = [op.arn.split("#", 1)[0] for op in update.service_ops]
            facts_after = observe(scratch.world, region, after, started)
            yield Simulation(
                base=base, head=head_artifact, region=region, before=before, after=after, update=update,
                base_deploy=base_deploy, facts_before=facts_before, facts_after=facts_after,
                cached=base_deploy is None,
            )
        finally:
            scratch.close()


class SimulationError(Exception):
    """The base could not be deployed: nothing to compare the head with."""


@contextmanager
def _null() -> Iterator[None]:
    yield


@contextmanager
def _locked(entry: Path | None) -> Iterator[None]:
    if entry is None:
        yield
        return
    import fcntl

    entry.parent.mkdir(parents=True, exist_ok=True)
    with open(entry.with_name(entry.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
