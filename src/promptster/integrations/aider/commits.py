"""Aider's commits: which are its own edits, and what they changed.

Aider (0.86) commits every edit it applies. Its marks, per `aider/repo.py`:

- an edit commit gets a `Co-authored-by: aider (<model>) <aider@aider.chat>` trailer (the
  default since 0.77), or with that off, the author name `<user.name> (aider)`;
- a commit of changes that were already in the work tree before Aider edited (`--dirty-commits`)
  or asked for with `/commit` gets only the committer name `<user.name> (aider)`: Aider made
  the commit, the candidate made the changes.

So an author mark or the trailer makes a commit's changes the AI's; a committer mark alone does
not.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from promptster.integrations.hookkit import patch_edits

MAX_COMMITS = 200  # per read; more than this since the last read is not an editing session
MAX_DIFF_BYTES = 8 * 1024 * 1024
_TRAILER = re.compile(r"^Co-authored-by:\s*aider\b", re.IGNORECASE | re.MULTILINE)
_SEP = "\x1e"


@dataclass(frozen=True)
class Commit:
    sha: str
    author: str
    committer: str
    message: str

    @property
    def by_aider(self) -> bool:
        """Aider's own edit (not a commit Aider made of the candidate's changes)."""
        return self.author.endswith("(aider)") or bool(_TRAILER.search(self.message))

    @property
    def committed_by_aider(self) -> bool:
        return self.by_aider or self.committer.endswith("(aider)")


def _git(workspace: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(workspace), *args],
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    return done.stdout[:MAX_DIFF_BYTES].decode("utf-8", "replace")


def head(workspace: Path) -> str | None:
    out = _git(workspace, "rev-parse", "--verify", "-q", "HEAD")
    return out.strip() if out else None


def top_level(workspace: Path) -> Path | None:
    out = _git(workspace, "rev-parse", "--show-toplevel")
    return Path(out.strip()) if out else None


def new_commits(workspace: Path, since: str | None, seen: set[str]) -> list[Commit]:
    """Commits reachable from HEAD and not from `since`, oldest first, not in `seen`."""
    fmt = _SEP.join(("%H", "%an", "%cn", "%B")) + "\x1f"
    args = ["log", f"-n{MAX_COMMITS}", f"--format={fmt}", "HEAD"]
    if since:
        args += ["--not", since]
    out = _git(workspace, *args)
    if out is None and since:  # `since` is gone (history rewritten): the latest commits
        out = _git(workspace, "log", "-n20", f"--format={fmt}", "HEAD")
    commits = []
    for record in (out or "").split("\x1f"):
        parts = record.strip("\n").split(_SEP)
        if len(parts) == 4 and parts[0] not in seen:
            commits.append(Commit(*parts))
    return list(reversed(commits))


def changes(workspace: Path, sha: str) -> dict[str, tuple[str, str]]:
    """{repository-relative path: (removed lines, added lines)} of one commit."""
    diff = _git(workspace, "show", "--format=", "--unified=0", "--no-color", "--no-ext-diff", sha)
    return patch_edits(diff or "")
