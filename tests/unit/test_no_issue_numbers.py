"""Code, comments and docs speak of the project, never of an issue number: a reader of a clone has
no tracker to look the number up in. Every tracked .py and .md file is read (git ls-files)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from pipeline.naming import REPO_ROOT

#: The word (singular or plural, any case), then a number, with a "#" or "-" between them or not.
CITATION = re.compile(r"\bissues?[ \t]*[#-]?[ \t]*\d", re.IGNORECASE)
SUFFIXES = (".py", ".md")


def tracked(root: Path = REPO_ROOT) -> list[Path]:
    """The repository's tracked .py and .md files (new files count once they are added)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--", *(f"*{suffix}" for suffix in SUFFIXES)],
        cwd=root, capture_output=True, check=True,
    ).stdout.decode()
    return [root / name for name in listed.split("\0") if name and (root / name).is_file()]


def citations(paths: list[Path], root: Path = REPO_ROOT) -> list[str]:
    """`file:line: text` for every line that cites an issue number."""
    found = []
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if CITATION.search(line):
                found.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    return found


def test_no_tracked_file_cites_an_issue_number() -> None:
    files = tracked()
    assert REPO_ROOT / "pipeline" / "naming.py" in files and REPO_ROOT / "README.md" in files
    assert citations(files) == []


#: Built, so that this file does not cite what it plants.
WORD = "issue"


def test_a_citation_is_found(tmp_path: Path) -> None:
    planted = tmp_path / "planted.py"
    lines = [f'"""Retries as {WORD} #12 asked."""', "", f"# fixed in {WORD.title()} 3",
             f"x = 1  # {WORD}s 4 and 5", f"y = 2  # {WORD}-6"]
    planted.write_text("\n".join(lines) + "\n")
    clean = tmp_path / "clean.md"
    clean.write_text(f"The handler {WORD}s UpdateCampaign; 3 {WORD}s left.\n")
    assert citations([planted, clean], tmp_path) == [
        f"planted.py:{n}: {lines[n - 1]}" for n in (1, 3, 4, 5)
    ]


def test_the_listing_sees_new_tracked_files(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "doc.md").write_text(f"see {WORD} 9\n")
    (tmp_path / "data.txt").write_text(f"see {WORD} 9\n")
    assert tracked(tmp_path) == []  # untracked files are not the repository's yet
    subprocess.run(["git", "add", "doc.md", "data.txt"], cwd=tmp_path, check=True)
    assert citations(tracked(tmp_path), tmp_path) == [f"doc.md:1: see {WORD} 9"]
