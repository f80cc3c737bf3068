"""Running a row of the change list both ways: the review's simulation, and a plain local update as a
user makes it (`pz deploy` of the base, then a deploy of the head into the same state folder by the
runner `pz deploy` drives, with the stack's clients asking its campaigns for recommendations all
along: tests/updates/availability.py), whose outcome per resource is read from the event lines
`pz deploy` prints, as a reader of CloudFormation's stack events would: CREATE_COMPLETE is created;
an UPDATE_COMPLETE is updated in place unless the cleanup phase deletes the old physical resource
(`<id> (old)`: replaced); a DELETE_COMPLETE in the cleanup phase is deleted, DELETE_SKIPPED
retained; a rolled-back update is `rolled back` for every resource it had started."""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cli.main import main
from local.emulator.world import World
from local.runner import CloudAssembly, Runner, StackArtifact, StackError, StackStore
from pipeline.naming import stack_name
from tests.updates.availability import LOOK_EVERY, Clients, Watched, campaigns_of, judge
from tests.updates.changes import ENV, REPO, Change, Workspace

EVENT = re.compile(r"^\s*\[\d+/\d+\]\s+([A-Z_]+)\s+(.+?)\s+\d+:\d\d:\d\d(?:\s|$)")


def synth(root: Path, outdir: Path, env: str = ENV) -> StackArtifact:
    """The app built in-process from `root`'s config/ and data/ (the repository's code)."""
    from pipeline.config import load_config
    from stacks import build_app

    config = load_config(env, root / "config" / f"{env}.toml", root=root)
    app = build_app(env, str(outdir), config=config, root=root, asset_dir=REPO / "lambda", nag=False)
    app.synth()
    return CloudAssembly.load(outdir).stack(stack_name(env))


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """One pytest-xdist worker builds a shared thing; the others wait for it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def pz(*args: str) -> tuple[int, str]:
    """`pz ARGS` in-process: exit status and stdout."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(list(args))
    return code, out.getvalue()


def deployed_base(shared: Path, env: str = ENV) -> tuple[StackArtifact, Path]:
    """The shipped environment synthesized and deployed once with `pz deploy` (shared by the
    workers; each environment only when a row of it runs)."""
    with locked(shared / f"{env}-base.lock"):
        assembly, state = shared / f"{env}-base.out", shared / f"{env}-base-state"
        if not (state / "world.pkl").is_file():
            shutil.rmtree(assembly, ignore_errors=True)
            shutil.rmtree(state, ignore_errors=True)
            root = shared / f"{env}-base-root"
            shutil.rmtree(root, ignore_errors=True)
            Workspace(root, env)
            synth(root, assembly, env)
            code, out = pz(
                "deploy", "-c", f"env={env}", "--app", str(assembly), "--state-dir", str(state), "--quiet"
            )
            assert code == 0, out
        return CloudAssembly.load(assembly).stack(stack_name(env)), state


class Bases:
    """The deployed base of each environment, deployed on first use (a run of dev rows only never
    deploys prod)."""

    def __init__(self, shared: Path) -> None:
        self.shared = shared
        self._done: dict[str, tuple[StackArtifact, Path]] = {}

    def __call__(self, env: str = ENV) -> tuple[StackArtifact, Path]:
        if env not in self._done:
            self._done[env] = deployed_base(self.shared, env)
        return self._done[env]


def head(change: Change, tmp: Path) -> StackArtifact:
    workspace = Workspace(tmp / "head-root", change.env)
    change.mutate(workspace)
    return synth(workspace.root, tmp / "head.out", change.env)


REGION = "ap-southeast-2"  # config/dev.toml's


@dataclass
class Update:
    """The local update of a row: as `pz deploy` would exit and print, and what clients saw."""

    exit: int
    outcomes: dict[str, str]
    out: str
    #: logical id (`<id> (old)`: the ARN it had before a replacement) -> what its clients saw
    seen: dict[str, Watched]
    #: the moments the clients looked at and the real seconds they took
    looks: tuple[int, float] = (0, 0.0)


def local_update(change: Change, base_state: Path, head_artifact: StackArtifact, state: Path) -> Update:
    """The head deployed into a copy (`state`) of the deployed base's state folder by the runner, as
    `pz deploy` does it (the same world, store, region and event lines), with the stack's clients
    watching (`Clients`): the exit status `pz deploy` would give, the outcome per resource from the
    event lines, and what every campaign's clients got during the update."""
    shutil.copytree(base_state, state, ignore=shutil.ignore_patterns("waitcondition.port"))
    world = World.load(state / "world.pkl")
    if change.seed is not None:
        with world.active():
            change.seed(world, REGION)
    store = StackStore(state)
    name = stack_name(change.env)
    clients = Clients(change.env, REGION, campaigns_of(store.load(name)))
    lines: list[str] = []
    runner = Runner(world, store, out=lines.append, region=REGION)
    runner.watchers.every = LOOK_EVERY
    runner.watchers.append(clients)
    try:
        try:
            code = 0 if runner.deploy(head_artifact).ok else 1
        except StackError as error:
            lines.append(f"{name}: {error}")
            code = 1
    finally:
        runner.close()
        world.save(state / "world.pkl")
        world.close()
    seen = clients.report(campaigns_of(store.load(name)))
    outcomes = outcomes_from_events(lines, change.env)
    return Update(code, outcomes, "\n".join(lines), seen, (clients.moments, clients.seconds))


def served(state: Path, env: str = ENV) -> dict[str, str]:
    """Every ACTIVE campaign of the world in `state` asked for recommendations the way its recipe
    is asked (`Clients.ask`): campaign name -> "ok" or the error (an empty answer is an error too)."""
    world = World.load(state / "world.pkl")
    try:
        with world.active():
            clients = Clients(env, REGION, {})
            return {name: clients.ask(arn) for name, arn in clients.active().items()}
    finally:
        world.close()


def destroy(state: Path, env: str = ENV) -> dict[str, list[str]]:
    """`pz destroy` of the updated stack: what is left of it in the world (nothing for dev; prod's
    retained buckets with their data)."""
    _code, out = pz("destroy", "-c", f"env={env}", "--state-dir", str(state), "--json", "--quiet")
    left: dict[str, list[str]] = json.loads(out)["left"]
    return left


@dataclass
class Row:
    """One row of the update matrix, run: what was expected, predicted and done."""

    change: Change
    expected: dict[str, str]
    predicted: dict[str, str] = field(default_factory=dict)
    #: the review's categories (what --fail-on matches) and its warnings (shown first)
    categories: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    actual: dict[str, str] = field(default_factory=dict)
    status: str = ""
    reason: str = ""
    deploy_exit: int = -1
    served: dict[str, str] = field(default_factory=dict)
    #: each campaign's clients during the update (availability.py), and their verdicts
    seen: dict[str, Watched] = field(default_factory=dict)
    during: dict[str, str] = field(default_factory=dict)
    looks: tuple[int, float] = (0, 0.0)
    left: dict[str, list[str]] = field(default_factory=dict)
    virtual_seconds: float = 0.0
    real_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.verdict() == "PASS"

    @property
    def missing_flags(self) -> list[str]:
        return [f for f in self.change.flags if f not in self.categories]

    def verdict(self) -> str:
        """The first thing that went wrong, or `PASS`."""
        if self.change.refused:
            if self.deploy_exit == 0:
                return "the update was not refused"
            if self.status != "UPDATE_ROLLBACK_COMPLETE" or self.change.refused not in self.reason:
                return f"not refused as expected ({self.status}): {self.reason}"
        elif self.deploy_exit != 0:
            return f"update failed ({self.status}): {self.reason}"
        elif self.actual != self.expected:
            return f"outcome {_diff(self.expected, self.actual)}"
        elif self.predicted != self.actual:
            return f"review predicted {_diff(self.actual, self.predicted)}"
        elif self.missing_flags:
            return f"review did not flag {self.missing_flags} (it flagged {self.categories})"
        bad = {k: v for k, v in self.during.items() if v != "ok"}
        if not self.during or bad:
            return f"recommendations not served during the update: {bad or 'no campaign asked'}"
        bad = {k: v for k, v in self.served.items() if v != "ok"}
        if not self.served or bad:
            return f"recommendations not served: {bad or 'no active campaign'}"
        if self.unretained_left:
            return f"destroy left {self.unretained_left}"
        if self.change.env != ENV and not self.retained:
            return "destroy kept no retained data"
        return "PASS"

    @property
    def retained(self) -> list[str]:
        """Buckets destroy kept because the stack retains them (DeletionPolicy Retain)."""
        return [b for b in self.left.get("s3 bucket", []) if "(retained: DeletionPolicy Retain)" in b]

    @property
    def unretained_left(self) -> dict[str, list[str]]:
        """What destroy left that the stack does not retain: the retained buckets' objects are their
        data; anything else (a campaign, a role, a bucket not retained) should be gone."""
        out = {k: v for k, v in self.left.items() if k not in ("s3 bucket", "s3 object")}
        other = [b for b in self.left.get("s3 bucket", []) if b not in self.retained]
        if other:
            out["s3 bucket"] = other
        kept = {line.split(":", 1)[0] for line in self.retained}
        objects = self.left.get("s3 object", [])
        loose = [o for o in objects if o.removeprefix("s3://").split("/", 1)[0] not in kept]
        if loose:
            out["s3 object"] = loose
        return out

    def longest_outage(self) -> float:
        """The longest time a campaign its clients should reach did not answer (virtual seconds)."""
        reachable = [
            w for key, w in self.seen.items()
            if not key.endswith(" (old)") and self.expected.get(key) != "deleted"
        ]
        return max((w.outage() for w in reachable), default=0.0)

def _diff(want: dict[str, str], got: dict[str, str]) -> str:
    keys = sorted(k for k in set(want) | set(got) if want.get(k) != got.get(k))
    return "; ".join(f"{k}: {want.get(k, 'untouched')} -> {got.get(k, 'untouched')}" for k in keys)


def run_row(change: Change, base: tuple[StackArtifact, Path], shared: Path, tmp: Path) -> Row:
    """The row end to end: the head synthesized; the review's simulation; the same update as a user
    makes it (`pz deploy`), with recommendations asked all along; recommendations after it;
    `pz destroy` and what it leaves. `base`: the deployed base of the row's environment."""
    from review import Request, run

    started = time.perf_counter()
    base_artifact, base_state = base
    row = Row(change, dict(change.expect))
    head_artifact = head(change, tmp)
    review = run(
        Request(
            env=change.env,
            base=base_artifact.directory,
            head=head_artifact.directory,
            checkov=False,
            cache=shared / "review-cache",
            prepare=change.seed,
        )
    )
    templates = (base_artifact.template, head_artifact.template)
    row.predicted = personalize_only({c.logical_id: c.outcome for c in review.changes}, *templates)
    row.categories = review.categories
    row.warnings = [w.message for w in review.warnings]
    row.status, row.reason = review.update.status, review.update.reason
    row.virtual_seconds = review.update.virtual_seconds
    state = tmp / "state"
    update = local_update(change, base_state, head_artifact, state)
    row.deploy_exit = update.exit
    row.actual = personalize_only(update.outcomes, *templates)
    row.seen, row.looks = update.seen, update.looks
    row.during = judge(update.seen, row.expected, dict(change.moves))
    row.served = served(state, change.env)
    row.left = destroy(state, change.env)
    row.real_seconds = time.perf_counter() - started
    return row


def outcomes_from_events(lines: list[str], env: str = ENV) -> dict[str, str]:
    """What each resource went through, from `pz deploy`'s event lines (every resource that had an
    event; the stack's own lines are left out)."""
    events = [(m.group(1), m.group(2)) for line in lines if (m := EVENT.match(line))]
    stack = stack_name(env)
    phase = "forward"
    started: set[str] = set()
    outcome: dict[str, str] = {}
    for status, lid in events:
        if lid == stack:
            if status in ("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",):
                phase = "cleanup"
            elif status.startswith("UPDATE_ROLLBACK"):
                phase = "rollback"
            continue
        if phase == "forward":
            if status.endswith("_IN_PROGRESS"):
                started.add(lid)
            if status == "CREATE_COMPLETE":
                outcome[lid] = "created"
            elif status == "UPDATE_COMPLETE":
                outcome[lid] = "updated"
        elif phase == "cleanup":
            if status == "DELETE_COMPLETE" and lid.endswith(" (old)"):
                outcome[lid.removesuffix(" (old)")] = "replaced"
            elif status == "DELETE_COMPLETE":
                outcome[lid] = "deleted"
            elif status == "DELETE_SKIPPED":
                outcome[lid] = "retained"
    if phase == "rollback":
        return {lid: "rolled back" for lid in started}
    return outcome


def personalize_only(outcomes: dict[str, str], *templates: dict[str, Any]) -> dict[str, str]:
    """The Personalize resources' outcomes (the types come from the templates)."""
    types = {lid: spec["Type"] for t in templates for lid, spec in t.get("Resources", {}).items()}
    return {
        lid: o
        for lid, o in outcomes.items()
        if types.get(lid, "").startswith("Custom::Personalize") and o != "untouched"
    }
