"""Running git safely: an isolated environment, no user config, no hooks, no prompts.

Both sides use it: the recorder snapshots into a shadow repository, and `verify` unpacks a
bundle's snapshots (untrusted input) into a temporary repository.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from promptster.errors import EnvironmentProblem

# Fixed identity and dates make snapshot commits reproducible and keep user config out.
SNAPSHOT_AUTHOR = ("Promptster", "snapshots@promptster.invalid")
SAFE_CONFIG = (
    "-c", "core.hooksPath=/dev/null",
    "-c", "core.fsmonitor=false",
    "-c", "commit.gpgSign=false",
    "-c", "gc.auto=0",
    "-c", "pack.threads=1",
    "-c", "transfer.fsckObjects=true",
    "-c", "protocol.allow=never",
    "-c", "protocol.file.allow=always",
    "-c", "core.quotePath=false",
    "-c", "log.showRoot=true",
)  # fmt: skip


def git_executable() -> str:
    path = shutil.which("git")
    if path is None:
        raise EnvironmentProblem(
            "git is not installed", "install git (e.g. apt-get install git) and try again"
        )
    return path


def git_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("GIT_") or key in ("GIT_EXEC_PATH",)
    }
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_TERMINAL_PROMPT="0",
        GIT_AUTHOR_NAME=SNAPSHOT_AUTHOR[0],
        GIT_AUTHOR_EMAIL=SNAPSHOT_AUTHOR[1],
        GIT_COMMITTER_NAME=SNAPSHOT_AUTHOR[0],
        GIT_COMMITTER_EMAIL=SNAPSHOT_AUTHOR[1],
        LC_ALL="C",
    )
    if extra:
        env.update(extra)
    return env


# For reading a stranger's repository (verify, the report): a file over this size is diffed as
# binary, so a snapshot "diff bomb" (a huge, highly compressible file) costs git no memory or
# time. The recorder never snapshots files this big by default (max_file_bytes is 5 MiB).
# Git's caches are bounded too (8 MiB of delta bases, 32 MiB of the pack mapped at a time): a
# million-event history cost `git fetch` 240 MB and `git log -p` 300 MB with git's defaults,
# ~130 MB each with these, no slower.
BIG_FILE_THRESHOLD = (
    "-c", "core.bigFileThreshold=16m",
    "-c", "core.deltaBaseCacheLimit=8m",
    "-c", "core.packedGitLimit=32m",
    "-c", "core.packedGitWindowSize=8m",
)  # fmt: skip


@dataclass(frozen=True)
class GitResult:
    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def text(self) -> str:
        return self.stdout.decode("utf-8", "replace")

    @property
    def error_text(self) -> str:
        return self.stderr.decode("utf-8", "replace").strip()


def run_git(
    args: Sequence[str],
    *,
    git_dir: Path | None = None,
    work_tree: Path | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    stdin: bytes | None = None,
    check: bool = True,
    spool: bool = False,
) -> GitResult:
    """Run git and collect what it printed. `spool`: its output goes to a temporary file,
    read once it has ended: for output written in many small pieces (`cat-file --batch`
    writes object by object), which a pipe would hand over a wake-up per piece."""
    command = [git_executable(), *SAFE_CONFIG]
    if git_dir is not None:
        command.append(f"--git-dir={git_dir}")
    if work_tree is not None:
        command.append(f"--work-tree={work_tree}")
    command.extend(args)
    if spool:
        with tempfile.TemporaryFile() as out:
            completed = subprocess.run(
                command, cwd=cwd, env=git_env(env), input=stdin, stdout=out,
                stderr=subprocess.PIPE, check=False,
            )  # fmt: skip
            out.seek(0)
            completed.stdout = out.read()
    else:
        completed = subprocess.run(
            command, cwd=cwd, env=git_env(env), input=stdin, capture_output=True, check=False
        )
    result = GitResult(completed.returncode, completed.stdout, completed.stderr)
    if check and completed.returncode != 0:
        raise EnvironmentProblem(
            f"git {args[0]} failed: {result.error_text or 'exit ' + str(completed.returncode)}"
        )
    return result


@dataclass(frozen=True, slots=True)  # one per file of every commit: keep them small
class FileStat:
    added: int
    removed: int
    binary: bool


@dataclass(frozen=True, slots=True)
class LoggedCommit:
    commit: str
    parents: tuple[str, ...]
    stats: dict[str, FileStat]  # path -> lines added/removed in this commit (renames off)


def commit_log(git_dir: Path, head: str) -> list[LoggedCommit]:
    """Every commit reachable from `head`, newest first, with its parents and numstat.

    One `git log` run; for a linear history the order is the history's order.
    """
    result = run_git(
        [*BIG_FILE_THRESHOLD, "log", "--format=%x01%H %P", "--numstat", "--no-renames", "-z", head],
        git_dir=git_dir,
    )
    commits: list[LoggedCommit] = []
    current: dict[str, FileStat] | None = None
    # With -z each numstat entry is "added\tremoved\tpath\0"; commit headers start with \1.
    for chunk in result.stdout.split(b"\0"):
        chunk = chunk.lstrip(b"\n")
        if not chunk:
            continue
        if chunk.startswith(b"\x01"):
            header, _, rest = chunk[1:].partition(b"\n")
            ids = [sys.intern(i) for i in header.decode("ascii", "replace").split()]
            current = {}
            commits.append(LoggedCommit(ids[0] if ids else "", tuple(ids[1:]), current))
            chunk = rest
            if not chunk:
                continue
        if current is None:
            continue
        parts = chunk.split(b"\t", 2)
        if len(parts) != 3:
            continue
        added, removed, path = parts
        binary = added == b"-"
        current[path.decode("utf-8", "surrogateescape")] = FileStat(
            0 if binary else int(added), 0 if binary else int(removed), binary
        )
    return commits


def numstat_by_commit(git_dir: Path, head: str) -> dict[str, dict[str, FileStat]]:
    """Per commit reachable from `head`, the lines added/removed per path (renames off)."""
    return {logged.commit: logged.stats for logged in commit_log(git_dir, head)}
