"""The two sides of a review: a git ref exported to a temporary tree (its own code, config and data),
and the working tree; each synthesized in a process of its own, the way `cdk synth` runs the app.

Why a process per side: the base's stacks, constructs and pipeline packages are not the working
tree's, and both must not share one interpreter. Why not the CDK CLI: it only runs `app.py` with
the context in CDK_CONTEXT_JSON and the output folder in CDK_OUTDIR, so setting both ourselves gives
the same cloud assembly (a test compares the templates) without the CLI's start-up.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

from pipeline.naming import REPO_ROOT

#: What `cdk synth` reads of a tree (cdk.json's watch list, cdk.json, the app and its pins).
SYNTH_PATHS = (
    "app.py", "cdk.json", "cdk.context.json", "requirements.txt",
    "stacks", "personalize_constructs", "pipeline", "lambda", "data", "config",
)
#: Context the CDK CLI adds for every synth (its defaults: path and asset metadata, version
#: reporting, bundling of every stack), so the template is the one `cdk synth` writes.
CLI_CONTEXT = {
    "aws:cdk:enable-path-metadata": True,
    "aws:cdk:enable-asset-metadata": True,
    "aws:cdk:version-reporting": True,
    "aws:cdk:bundling-stacks": ["**"],
}


class SourceError(Exception):
    """A ref that is not there, a tree that cannot be exported, a side that does not synthesize."""

    def __init__(self, message: str, user_error: bool = True) -> None:
        super().__init__(message)
        #: True: something the user must fix (a bad ref, a config rejected); False: a tool failed
        self.user_error = user_error


@dataclass(frozen=True)
class Tree:
    """A source tree to synthesize: `label` names it in the report (`main@1a2b3c4`, `working tree`)."""

    root: Path
    label: str
    commit: str | None = None


def git(*args: str, cwd: Path = REPO_ROOT) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SourceError(f"git {' '.join(args)}: {done.stderr.strip() or 'failed'}")
    return done.stdout.strip()


def resolve(ref: str, merge_base: bool = True, repo: Path = REPO_ROOT) -> tuple[str, str]:
    """(commit, label) of `ref`; with `merge_base`, of the merge base of `ref` and HEAD (what a
    pull request is compared with)."""
    commit = git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", cwd=repo) if ref else ""
    if not commit:
        raise SourceError(f"{ref!r} is not a commit in {repo} (try `git fetch`, or a branch or tag name)")
    label = ref
    if merge_base:
        base = git("merge-base", commit, "HEAD", cwd=repo)
        if base != commit:
            label = f"merge base of {ref} and HEAD"
        commit = base
    return commit, f"{label}@{commit[:7]}"


def export(commit: str, label: str, into: Path, repo: Path = REPO_ROOT) -> Tree:
    """The synth inputs of `commit` written under `into` (`git archive`: the repository and its
    worktrees are left as they are)."""
    present = set(git("ls-tree", "--name-only", commit, cwd=repo).splitlines())
    paths = [p for p in SYNTH_PATHS if p in present]
    if "app.py" not in paths:
        raise SourceError(f"{label} has no app.py: not a commit of this CDK app")
    done = subprocess.run(
        ["git", "archive", "--format=tar", commit, "--", *paths],
        cwd=repo, capture_output=True, check=False,
    )
    if done.returncode != 0:
        raise SourceError(f"git archive {commit[:7]}: {done.stderr.decode(errors='replace').strip()}")
    into.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(done.stdout)) as archive:
        archive.extractall(into, filter="data")
    return Tree(into, label, commit)


def working_tree(root: Path = REPO_ROOT) -> Tree:
    return Tree(root, "working tree")


def context(tree: Path, env: str) -> dict[str, object]:
    """What the CDK CLI hands the app: cdk.json's and cdk.context.json's context, `-c env=NAME`,
    and the CLI's own defaults."""
    merged: dict[str, object] = {}
    for name in ("cdk.json", "cdk.context.json"):
        path = tree / name
        if path.is_file():
            data = json.loads(path.read_text(encoding="utf-8"))
            merged.update(data.get("context", {}) if name == "cdk.json" else data)
    return {**merged, "env": env, **CLI_CONTEXT}


class Synth:
    """One side's synth, running in its own process: `wait()` returns the cloud assembly folder."""

    def __init__(self, tree: Tree, env: str, outdir: Path, python: str = sys.executable) -> None:
        self.tree = tree
        self.outdir = outdir
        self.started = time.perf_counter()
        self.seconds = 0.0
        env_vars = {k: v for k, v in os.environ.items() if k not in ("CDK_DEBUG", "PYTHONPATH")}
        node_bin = REPO_ROOT / "node_modules" / ".bin"  # the pinned Node.js that jsii runs
        env_vars["PATH"] = f"{node_bin}{os.pathsep}{env_vars.get('PATH', '')}"
        env_vars["CDK_OUTDIR"] = str(outdir)
        env_vars["CDK_CONTEXT_JSON"] = json.dumps(context(tree.root, env))
        env_vars["PYTHONDONTWRITEBYTECODE"] = "1"
        outdir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [python, "app.py"], cwd=tree.root, env=env_vars,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )

    def wait(self) -> Path:
        output, _ = self.process.communicate()
        self.seconds = time.perf_counter() - self.started
        if self.process.returncode != 0:
            said = output.strip() or f"exit {self.process.returncode}"
            rejected = "configuration rejected" in said
            raise SourceError(f"{self.tree.label} does not synthesize:\n{said}", user_error=rejected)
        if not (self.outdir / "manifest.json").is_file():
            raise SourceError(f"{self.tree.label}: app.py wrote no cloud assembly", user_error=False)
        return self.outdir

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
