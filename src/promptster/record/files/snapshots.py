"""File snapshots in a shadow git repository (the git-wip pattern).

The shadow repository is a bare GIT_DIR under `.promptster/shadow.git`; every command that
reads the workspace passes it as the work tree explicitly, and a private index file
(`.promptster/shadow.index`) stands in for the candidate's index, so the candidate's `.git`,
index, branches and config are never touched. The workspace's `.gitignore` files apply; the
shadow's own `info/exclude` adds a default ignore list, secret files, and files skipped for
being over the size cap.

One snapshot: list what changed (`ls-files -o -m -d`), skip oversized or secret files, stage
exactly those paths (`update-index --add --remove`; a file holding a secret is staged as its
redacted copy), `write-tree` (not needed when nothing was listed: the index is then as the last
`write-tree` left it); when the tree differs from the last snapshot, a commit with a fixed
author on `refs/heads/snapshots` (written in process, as `commit-tree` and `update-ref` would:
gitobjects.py). What the commit changed, path by path, is read by changes.py.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from promptster.bundle.format import SNAPSHOT_REF
from promptster.errors import EnvironmentProblem
from promptster.gitutil import SNAPSHOT_AUTHOR, run_git
from promptster.record.files import blob_pack, gitobjects
from promptster.record.files.blob_pack import BlobPacker
from promptster.record.files.changes import FileChange, snapshot_changes
from promptster.record.files.gitparse import nul_join
from promptster.record.files.ignores import (
    DEFAULT_EXCLUDES,
    literal_pattern,
    maybe_secret,
    redact_content,
)
from promptster.record.redact.redactor import is_secret_path

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"

SKIPPED_MARKER = "# --- skipped by promptster (too large or secret); one literal path per line"


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str  # "too_large" | "secret" | "unreadable"
    size: int


@dataclass(frozen=True)
class Snapshot:
    commit: str
    parent: str | None
    changes: list[FileChange]
    skipped: list[SkippedFile] = field(default_factory=list)
    nested_repos: list[str] = field(default_factory=list)
    redacted: list[tuple[str, dict[str, int]]] = field(default_factory=list)  # path, kinds


class ShadowRepo:
    """The session's snapshot repository. Not thread-safe by itself: `take` holds a lock."""

    def __init__(
        self, git_dir: Path, workspace: Path, index_file: Path, *, max_file_bytes: int
    ) -> None:
        self.git_dir = git_dir
        self.workspace = workspace
        self.index_file = index_file
        self.max_file_bytes = max_file_bytes
        self._lock = threading.Lock()
        self._skipped: dict[str, str] = {}
        self._nested_seen: set[str] = set()
        self._head: str | None = None
        self._head_tree: str | None = None
        # The tree of the index as the last `write-tree` in this process left it; None once
        # anything may have changed the index since (or before the first).
        self._index_tree: str | None = None
        self._refs_in_process: bool | None = None
        self._env = {"GIT_INDEX_FILE": str(index_file), "GIT_LITERAL_PATHSPECS": "1"}
        self._redactions_seen: set[tuple[str, str]] = set()
        self._redacted_now: list[tuple[str, dict[str, int]]] = []
        self._unreadable: set[str] = set()

    # -- setup ---------------------------------------------------------------------------

    def create(self) -> None:
        """Initialise the bare repository with its excludes and attributes (idempotent)."""
        if not (self.git_dir / "HEAD").exists():
            run_git(["init", "--quiet", "--bare", str(self.git_dir)])
        for key, value in (
            ("core.autocrlf", "false"),
            ("core.safecrlf", "false"),
            ("core.symlinks", "true"),
            ("core.untrackedCache", "true"),
            ("core.excludesFile", os.devnull),  # no per-user global ignore file
            ("index.version", "4"),
        ):
            run_git(["config", key, value], git_dir=self.git_dir)
        info = self.git_dir / "info"
        info.mkdir(exist_ok=True)
        # Store bytes exactly as they are on disk: no line-ending, filter or encoding
        # conversions (secrets are redacted before git sees the content, in `_add`).
        (info / "attributes").write_text("* -text -filter -ident -working-tree-encoding\n")
        self._load_skipped()  # keep what an earlier run skipped
        self._write_excludes()

    def load(self) -> None:
        """Read back the skipped-file list and the snapshot head (after a restart)."""
        self._load_skipped()
        self._head = self._resolve_head()
        self._head_tree = self._tree_of(self._head) if self._head else None

    def _load_skipped(self) -> None:
        exclude = self.git_dir / "info" / "exclude"
        text = exclude.read_text(encoding="utf-8") if exclude.exists() else ""
        if SKIPPED_MARKER in text:
            for line in text.split(SKIPPED_MARKER, 1)[1].splitlines():
                if line.startswith("# ") and "\t" in line:
                    reason, path = line[2:].split("\t", 1)
                    self._skipped[path] = reason

    def _write_excludes(self) -> None:
        lines = ["# promptster: never snapshotted", *DEFAULT_EXCLUDES, SKIPPED_MARKER]
        for path, reason in sorted(self._skipped.items()):
            lines.append(f"# {reason}\t{path}")
            lines.append(literal_pattern(path))
        target = self.git_dir / "info" / "exclude"
        tmp = target.with_name("exclude.tmp")
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        os.replace(tmp, target)

    # -- git plumbing --------------------------------------------------------------------

    def _git(self, args: list[str], *, worktree: bool = False, stdin: bytes | None = None) -> bytes:
        result = run_git(
            args,
            git_dir=self.git_dir,
            work_tree=self.workspace if worktree else None,
            cwd=self.workspace if worktree else None,
            env=self._env,
            stdin=stdin,
        )
        return result.stdout

    def _resolve_head(self) -> str | None:
        found = run_git(
            ["rev-parse", "--verify", "--quiet", SNAPSHOT_REF], git_dir=self.git_dir, check=False
        )
        return found.text.strip() or None if found.returncode == 0 else None

    def _tree_of(self, commit: str) -> str:
        return self._git(["rev-parse", f"{commit}^{{tree}}"]).decode().strip()

    def ignored_dirs(self) -> list[str]:
        """Folders the snapshots ignore (.gitignore, defaults), for the watcher's plan."""
        out = self._git(
            ["ls-files", "-z", "--others", "--ignored", "--directory", "--exclude-standard"],
            worktree=True,
        )
        names = out.decode("utf-8", "surrogateescape").split("\0")
        return [p.rstrip("/") for p in names if p.endswith("/")]

    @property
    def head(self) -> str | None:
        return self._head

    @property
    def skipped(self) -> dict[str, str]:
        return dict(self._skipped)

    # -- snapshots -----------------------------------------------------------------------

    def take(self, message: str = "snapshot") -> Snapshot | None:
        """Snapshot the workspace; None when nothing changed since the last snapshot."""
        with self._lock:
            return self._take(message)

    def _take(self, message: str) -> Snapshot | None:
        listed = self._git(
            ["ls-files", "-z", "--others", "--modified", "--deleted", "--exclude-standard"],
            worktree=True,
        )
        paths = sorted({p for p in listed.decode("utf-8", "surrogateescape").split("\0") if p})
        skipped: list[SkippedFile] = []
        nested: list[str] = []
        if paths or self._index_tree is None:
            self._index_tree = None
            skipped, nested = self._stage(paths)
            self._index_tree = self._git(["write-tree"]).decode().strip()
        tree = self._index_tree
        redacted = self._take_redactions()
        if self._head is not None and tree == self._head_tree:
            return None
        commit = self._commit(tree, message)
        parent, self._head, self._head_tree = self._head, commit, tree
        changes = snapshot_changes(self.git_dir, parent, commit) if parent else []
        return Snapshot(commit, parent, changes, skipped, nested, redacted)

    def _stage(self, paths: list[str]) -> tuple[list[SkippedFile], list[str]]:
        """Bring the index to the workspace for these paths; the files skipped, the nested
        repositories found."""
        skipped, nested = self._screen(paths)
        if skipped:
            tracked = {s.path for s in skipped} & self._tracked(s.path for s in skipped)
            if tracked:
                self._git(
                    ["update-index", "-z", "--force-remove", "--stdin"],
                    worktree=True,
                    stdin=nul_join(sorted(tracked)),
                )
            self._write_excludes()
        skip_set = {s.path for s in skipped}
        unreadable = self._add([p for p in paths if p not in skip_set])
        for path in unreadable:  # retried every snapshot, reported once
            if path not in self._unreadable:
                self._unreadable.add(path)
                skipped.append(SkippedFile(path, "unreadable", 0))
        return skipped, nested

    def _commit(self, tree: str, message: str) -> str:
        """Commit `tree` on the snapshot head and move the snapshot ref to it."""
        parents = [self._head] if self._head else []
        if gitobjects.plain_message(message):
            seconds = int(time.time())
            zone = gitobjects.git_timezone(seconds)
            body = gitobjects.commit_body(tree, parents, SNAPSHOT_AUTHOR, seconds, zone, message)
            commit = gitobjects.write_loose(self.git_dir, "commit", body)
        else:  # git's own rules for an unusual message
            args = ["commit-tree", tree, *(a for p in parents for a in ("-p", p)), "-m", message]
            commit = self._git(args).decode().strip()  # gitutil's fixed identity
        old = self._head or "0" * 40
        if self._refs_in_process is None:
            self._refs_in_process = gitobjects.refs_in_process(self.git_dir)
        if not (
            self._refs_in_process and gitobjects.update_ref(self.git_dir, SNAPSHOT_REF, commit, old)
        ):
            self._git(["update-ref", "-m", message, SNAPSHOT_REF, commit, old])
        return commit

    def _add(self, paths: list[str]) -> list[str]:
        """Stage exactly these paths (new, changed or gone); return the ones that could not be.

        Text files holding secrets are stored redacted: their cleaned content is written as a
        blob and staged by id. Everything else goes through `update-index --add --remove`,
        which takes the list as it is (no pathspec matching, which is quadratic in git) and
        drops a path that vanished since it was listed.
        """
        wanted = [p for p in paths if not p.endswith("/")]  # nested repositories stay out
        if len(wanted) >= blob_pack.PACK_AT_LEAST:
            # a big batch (the first snapshot): its blobs go into one pack, not a file each
            with BlobPacker(self.git_dir) as packer:
                plain, cleaned = self._redact_contents(wanted, packer)
        else:
            plain, cleaned = self._redact_contents(wanted)
        if cleaned:
            self._stage_blobs(cleaned)
        if self._update_index(plain):
            return []
        if len(plain) > 200:
            raise EnvironmentProblem("git update-index failed for a large batch of files")
        # One unreadable file (permissions) must not stop the others.
        return [path for path in plain if not self._update_index([path])]

    def _redact_contents(
        self, paths: list[str], packer: BlobPacker | None = None
    ) -> tuple[list[str], list[tuple[str, int, bytes]]]:
        """Plain paths, and (path, mode, redacted content) for files that hold secrets. With
        a `packer`, the content of every plain file read goes into its pack."""
        plain: list[str] = []
        cleaned: list[tuple[str, int, bytes]] = []
        for path in paths:
            full = self.workspace / path
            try:
                info = full.lstat()
                if not stat.S_ISREG(info.st_mode) or info.st_size > self.max_file_bytes:
                    plain.append(path)
                    continue
                data = full.read_bytes()
            except OSError:
                plain.append(path)  # gone or unreadable: update-index decides
                continue
            content, kinds = redact_content(data)
            if not kinds:
                plain.append(path)
                if packer is not None:
                    packer.add(data)
                continue
            mode = 0o100755 if info.st_mode & 0o111 else 0o100644
            cleaned.append((path, mode, content))
            self._note_redaction(path, kinds)
        return plain, cleaned

    def _stage_blobs(self, cleaned: list[tuple[str, int, bytes]]) -> None:
        lines = []
        for path, mode, content in cleaned:
            oid = self._git(["hash-object", "-w", "--stdin"], stdin=content).decode().strip()
            lines.append(f"{mode:o} {oid}\t".encode() + path.encode("utf-8", "surrogateescape"))
        self._git(["update-index", "-z", "--index-info"], stdin=b"\0".join(lines) + b"\0")

    def _note_redaction(self, path: str, kinds: dict[str, int]) -> None:
        listed = ",".join(f"{k}:{v}" for k, v in sorted(kinds.items()))
        if (path, listed) not in self._redactions_seen:
            self._redactions_seen.add((path, listed))
            self._redacted_now.append((path, kinds))

    def _update_index(self, paths: list[str]) -> bool:
        if not paths:
            return True
        result = run_git(
            ["update-index", "--add", "--remove", "-z", "--stdin"],
            git_dir=self.git_dir,
            work_tree=self.workspace,
            cwd=self.workspace,
            env=self._env,
            stdin=nul_join(paths),
            check=False,
        )
        return result.returncode == 0

    def _take_redactions(self) -> list[tuple[str, dict[str, int]]]:
        """Files stored redacted since the last call (each path and set of kinds once)."""
        found, self._redacted_now = self._redacted_now, []
        return found

    def _screen(self, paths: list[str]) -> tuple[list[SkippedFile], list[str]]:
        """Find paths to leave out (over the size cap, secret files) and nested repositories."""
        skipped: list[SkippedFile] = []
        nested: list[str] = []
        for path in paths:
            if path.endswith("/"):  # an untracked folder git would not enter: a nested repo
                if path not in self._nested_seen:
                    self._nested_seen.add(path)
                    nested.append(path.rstrip("/"))
                continue
            try:
                info = (self.workspace / path).lstat()
            except OSError:
                continue  # deleted: `add -A` records the deletion
            if maybe_secret(path) and is_secret_path(path):
                reason = "secret"
            elif stat.S_ISREG(info.st_mode) and info.st_size > self.max_file_bytes:
                reason = "too_large"
            else:
                continue
            if self._skipped.get(path) != reason:
                self._skipped[path] = reason
                skipped.append(SkippedFile(path, reason, info.st_size))
        return skipped, nested

    def _tracked(self, paths: Iterable[str]) -> set[str]:
        listed = self._git(["ls-files", "-z", "--cached", "--", *paths], worktree=True)
        return {p for p in listed.decode("utf-8", "surrogateescape").split("\0") if p}
