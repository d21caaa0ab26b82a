"""The two attributions the suite measures, each as {path: [author of each final line]}.

- `blame_authors`: `promptster blame BUNDLE --json` (line-level authorship), when the installed
  promptster has the command.
- `event_authors`: the per-event engine the recorder has always run, mapped to the final lines
  through the snapshots: `git blame` of the final snapshot gives, for each line, the snapshot
  commit that last changed it; that commit's `file_*` event for the path gives the verdict
  (`likely_ai` → ai, `likely_human` → human, `ai_revised_by_human` → ai_then_human; `mixed`
  and `unknown` say nothing about a given line → unknown); lines of the first snapshot (the
  session's starting point) are `starter`.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

from clients import promptster_command

VERDICT = {
    "likely_ai": "ai",
    "likely_human": "human",
    "ai_revised_by_human": "ai_then_human",
    "unknown": "unknown",
}
Authors = dict[str, list[str]]


@cache
def blame_available() -> bool:
    done = subprocess.run(
        [*promptster_command(), "blame", "--help"], capture_output=True, check=False
    )
    return done.returncode == 0


def blame_authors(bundle: Path) -> Authors:
    done = subprocess.run(
        [*promptster_command(), "blame", str(bundle), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"promptster blame failed ({done.returncode}): {done.stderr}")
    data = json.loads(done.stdout)
    assert data.get("version") == 1, data.get("version")
    return {
        f["path"]: [line["author"] for line in f.get("lines") or []]
        for f in data["files"]
        if not f.get("binary")
    }


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout


def _label(event: dict[str, Any]) -> str:
    return VERDICT.get(event["provenance"]["attribution"], "unknown")


def event_authors(bundle: Path, paths: list[str]) -> Authors:
    with zipfile.ZipFile(bundle) as archive, tempfile.TemporaryDirectory() as tmp:
        timeline = archive.read("timeline.jsonl").decode()
        (Path(tmp) / "snapshots.bundle").write_bytes(archive.read("snapshots.bundle"))
        repo = Path(tmp) / "repo.git"
        subprocess.run(["git", "init", "-q", "--bare", str(repo)], check=True)
        heads = _git(repo, "bundle", "list-heads", str(Path(tmp) / "snapshots.bundle")).split()
        _git(repo, "fetch", "-q", str(Path(tmp) / "snapshots.bundle"), f"{heads[1]}:refs/heads/s")
        events = [json.loads(line) for line in timeline.splitlines() if line.strip()]
        return authors_in_repo(repo, "s", events, paths)


def authors_in_repo(
    repo: Path, head: str, events: list[dict[str, Any]], paths: list[str]
) -> Authors:
    """The per-event labels of `events` mapped onto `paths` at `head` of the snapshot `repo`."""
    root = _git(repo, "rev-list", "--max-parents=0", head).split()[0]
    labels: dict[tuple[str, str], str] = {}
    for event in events:
        if event["kind"] in ("file_create", "file_diff"):
            data = event["data"]
            labels[(str(data.get("commit")), str(data.get("path")))] = _label(event)
    return {path: _blamed(repo, head, path, root, labels) for path in paths}


def _blamed(
    repo: Path, head: str, path: str, root: str, labels: dict[tuple[str, str], str]
) -> list[str]:
    try:
        porcelain = _git(repo, "blame", "--line-porcelain", head, "--", path)
    except subprocess.CalledProcessError:
        return []
    authors: list[str] = []
    commit, filename = "", path
    for line in porcelain.splitlines():
        if line.startswith("\t"):
            if commit == root:
                authors.append("starter")
            else:
                authors.append(labels.get((commit, filename), "unknown"))
        elif line.startswith("filename "):
            filename = line[len("filename ") :]
        elif len(line) > 40 and line[40] == " " and all(c in "0123456789abcdef" for c in line[:40]):
            commit = line[:40]
    return authors
