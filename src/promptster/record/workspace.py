"""Preparing a candidate's workspace: the starter repository, TASK.md, and git excludes."""

from __future__ import annotations

import re
from pathlib import Path

from promptster.errors import EnvironmentProblem, InputError
from promptster.fsutil import atomic_write_text
from promptster.gitutil import run_git
from promptster.record.files.gitwatch import candidate_git_dir

# Kept out of the candidate's own git: the session folder, archived sessions, bundles.
CANDIDATE_EXCLUDES = ("/.promptster/", "/.promptster.*/", "*.pst")
_SHA = re.compile(r"[0-9a-fA-F]{7,64}")


def clone_starter(workspace: Path, url: str, rev: str | None) -> str:
    """Clone `url` into `workspace` (which may already hold `.promptster/`) at `rev`.

    Returns the commit checked out. Runs git with the isolated environment (no user config,
    no hooks); https, ssh and local repositories are allowed.
    """
    if (workspace / ".git").exists():
        raise InputError(
            f"{workspace} already is a git repository; the assessment's starter repository "
            "cannot be cloned into it",
            "pass --workspace with a new folder",
        )
    allow = ["-c", "protocol.https.allow=always", "-c", "protocol.ssh.allow=always"]
    run_git(["init", "--quiet", str(workspace)])
    try:
        refspec = "+refs/heads/*:refs/remotes/origin/*"
        run_git([*allow, "fetch", "--quiet", "--no-tags", url, refspec], cwd=workspace)
    except EnvironmentProblem as exc:
        raise EnvironmentProblem(
            f"cannot fetch the starter repository {url}: {exc.message}",
            "check your network connection and that git can reach the URL",
        ) from exc
    run_git(["remote", "add", "origin", url], cwd=workspace)
    commit, branch = _resolve(workspace, rev)
    run_git(["checkout", "--quiet", "-B", branch, commit], cwd=workspace)
    return commit


def _resolve(workspace: Path, rev: str | None) -> tuple[str, str]:
    """(commit, local branch name) for the pinned revision."""
    candidates: list[tuple[str, str]] = []
    if rev:
        candidates.append((f"refs/remotes/origin/{rev}", rev))
        if _SHA.fullmatch(rev):
            candidates.append((rev, "main"))
        candidates.append((f"refs/tags/{rev}", "main"))
    else:
        remote_branches = run_git(
            ["for-each-ref", "--format=%(refname:strip=3)", "refs/remotes/origin"], cwd=workspace
        ).text.split()
        for name in ("main", "master", *remote_branches):
            if name in remote_branches:
                candidates.append((f"refs/remotes/origin/{name}", name))
                break
    for ref, branch in candidates:
        found = run_git(
            ["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], cwd=workspace, check=False
        )
        if found.returncode == 0:
            return found.text.strip(), branch
    raise InputError(
        f"the starter repository has no revision {rev or '(default branch)'}",
        "ask the reviewer to check the assessment's --repo URL@REV",
    )


def write_task_file(workspace: Path, title: str | None, brief: str) -> bool:
    """Write TASK.md with the brief unless one exists. Returns whether it was written."""
    target = workspace / "TASK.md"
    if target.exists():
        return False
    heading = f"# {title}\n\n" if title and not brief.lstrip().startswith("#") else ""
    atomic_write_text(target, heading + brief.rstrip() + "\n")
    return True


def exclude_from_candidate_git(workspace: Path, extra: tuple[str, ...] = ()) -> bool:
    """Add the session folder (and `extra` patterns) to the candidate's `.git/info/exclude`."""
    git_dir = candidate_git_dir(workspace)
    if git_dir is None:
        return False
    common = run_git(["rev-parse", "--git-common-dir"], cwd=workspace, check=False).text.strip()
    base = Path(common) if common else git_dir
    if not base.is_absolute():
        base = (workspace / base).resolve()
    exclude = base / "info" / "exclude"
    existing = exclude.read_text(encoding="utf-8") if exclude.exists() else ""
    lines = existing.splitlines()
    missing = [p for p in (*CANDIDATE_EXCLUDES, *extra) if p not in lines]
    if not missing:
        return False
    exclude.parent.mkdir(parents=True, exist_ok=True)
    text = existing + ("" if not existing or existing.endswith("\n") else "\n")
    text += "# added by promptster (session data, kept out of your commits)\n"
    text += "".join(p + "\n" for p in missing)
    atomic_write_text(exclude, text)
    return True
