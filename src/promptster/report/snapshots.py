"""The snapshot history for the report: each file change's diff and the final tree.

The bundle's `snapshots.bundle` is unpacked into a temporary bare repository (always removed),
exactly as `verify` does, then read with two git commands: one `git log -p` over every commit
after the baseline, and `ls-tree` + `cat-file --batch` for the final files. Paths are read in
git's quoted form (no -z), so no path or content can forge a commit or file boundary: a line
that starts with \\x01 can only be the commit marker (diff content lines start with ' ', '+',
'-' or '\\'), and a path with a newline is C-quoted.

The snapshots are a stranger's: the member is copied to the temporary tree in pieces; a path
whose content is ever over `MAX_DIFF_BLOB` is left out of the patches (found first from the
raw log and the blob sizes: a highly compressible "diff bomb" is never inflated by `git log
-p`, which ignores core.bigFileThreshold); the log is read as it streams, each patch keeps
only its bounded head, and reading stops after `MAX_PATCHES` patches or `MAX_LOG_BYTES`.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from promptster.bundle import format as fmt
from promptster.bundle.members import copy_member
from promptster.bundle.reader import BundleReader, bounded_lines
from promptster.errors import PromptsterError
from promptster.gitutil import BIG_FILE_THRESHOLD, SAFE_CONFIG, git_env, git_executable, run_git
from promptster.report.diffstore import DiffStore
from promptster.report.final_diff import FinalDiff, build_final_diff

MAX_DIFF_LINES = 400
MAX_DIFF_CHARS = 32 * 1024
MAX_FILE_CHARS = 200 * 1024
TREE_CONTENT_BUDGET = 4 * 1024 * 1024
MAX_PATCHES = 100_000
MAX_LOG_BYTES = 512 * 1024 * 1024
MAX_LOG_LINE = 64 * 1024
MAX_DIFF_BLOB = 16 * 1024 * 1024
MAX_BIG_PATHS = 1000  # beyond this many over-size paths no patch is shown at all
_RAW_IDS = re.compile(r":\d+ \d+ ([0-9a-f]{40}) ([0-9a-f]{40}) [A-Z]\d*\t(.*)")
_RAW = re.compile(r":\d+ \d+ [0-9a-f]+ [0-9a-f]+ [A-Z]\d*\t(.*)")
_ESCAPES = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, "\\": 92, '"': 34}


@dataclass(frozen=True)
class TreeFile:
    path: str
    size: int
    binary: bool
    text: str | None  # None for binary files and files beyond the budgets
    cut: bool


@dataclass
class SnapshotData:
    diffs: Mapping[tuple[str, str], tuple[str, int]] = field(default_factory=dict)
    # (commit, path) -> (patch hunks, lines left out); a DiffStore (a temporary file) when read
    # from a bundle: `close()` removes it
    tree: list[TreeFile] = field(default_factory=list)
    baseline_paths: set[str] = field(default_factory=set)
    baseline_commit: str | None = None  # the first snapshot: the starter as handed out
    final_commit: str | None = None
    final_diff: FinalDiff | None = None  # the final tree against the baseline
    problem: str | None = None

    def close(self) -> None:
        """Remove the patches' temporary file (when they are in one)."""
        if isinstance(self.diffs, DiffStore):
            self.diffs.close()


def unquote_path(text: str) -> str:
    """A path as git prints it (C-quoted when it holds special characters) back as text."""
    if not (len(text) >= 2 and text.startswith('"') and text.endswith('"')):
        return text
    body, out, i = text[1:-1], bytearray(), 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            if body[i + 1 : i + 4].isdigit() and len(body[i + 1 : i + 4]) == 3:
                out.append(int(body[i + 1 : i + 4], 8) & 0xFF)
                i += 4
                continue
        out.extend(ch.encode("utf-8", "surrogateescape"))
        i += 1
    return out.decode("utf-8", "surrogateescape")


class _Patch:
    """One file's patch as it streams: the hunks (headers dropped), at most MAX_DIFF_LINES /
    _CHARS of them kept, and how many lines were left out (trailing empty lines not counted)."""

    def __init__(self) -> None:
        self.started = False
        self.kept: list[str] = []
        self.size = 0
        self.full = False
        self.total = 0
        self.trailing_empty = 0

    def add(self, line: str) -> None:
        if not self.started:
            if not line.startswith(("@@", "Binary files")):
                return
            self.started = True
        self.total += 1
        self.trailing_empty = self.trailing_empty + 1 if line == "" else 0
        if self.full:
            return
        if len(self.kept) >= MAX_DIFF_LINES or self.size + len(line) > MAX_DIFF_CHARS:
            self.full = True
            return
        self.kept.append(line)
        self.size += len(line) + 1

    def result(self) -> tuple[str, int]:
        body = self.total - self.trailing_empty
        kept = min(len(self.kept), body)
        return "\n".join(self.kept[:kept]), body - kept


def parse_log(text: str) -> Mapping[tuple[str, str], tuple[str, int]]:
    """Parse `git log -p --raw --no-renames --format=%x01%H` into (commit, path) -> patch."""
    return parse_log_lines(text.split("\n"))


def parse_log_lines(
    lines: Iterable[str], into: DiffStore | None = None
) -> Mapping[tuple[str, str], tuple[str, int]]:
    """`parse_log` over lines as they stream; stops after MAX_PATCHES patches. The patches go
    `into` a DiffStore when given (a real review: out of memory), else into a dict."""
    diffs: dict[tuple[str, str], tuple[str, int]] | DiffStore = {} if into is None else into
    commit = ""
    paths: list[str] = []
    patch: _Patch | None = None

    def flush() -> None:
        if patch is not None and paths:
            diffs[(commit, paths.pop(0))] = patch.result()

    for line in lines:
        if line.startswith("\x01"):
            flush()
            commit, paths, patch = line[1:].strip(), [], None
        elif patch is None and line.startswith(":"):
            match = _RAW.fullmatch(line)
            if match and len(paths) < MAX_PATCHES:
                paths.append(unquote_path(match.group(1)))
        elif line.startswith("diff --git "):
            flush()
            if len(diffs) >= MAX_PATCHES:
                return diffs
            patch = _Patch()
        elif patch is not None:
            patch.add(line)
    flush()
    return diffs


def _big_paths(repo: Path, log_range: list[str]) -> set[str]:
    """Paths that have, in some commit of the range, content over MAX_DIFF_BLOB (either side)."""
    raw = run_git(
        [
            *BIG_FILE_THRESHOLD,
            "log",
            "--raw",
            "--no-renames",
            "--no-abbrev",
            "--format=",
            *log_range,
        ],
        git_dir=repo,
    ).text
    sides: dict[str, set[str]] = {}
    for line in raw.splitlines():
        match = _RAW_IDS.fullmatch(line)
        if match:
            blobs = sides.setdefault(unquote_path(match.group(3)), set())
            blobs.update(b for b in match.group(1, 2) if b.strip("0"))
    ids = sorted({blob for blobs in sides.values() for blob in blobs})
    if not ids:
        return set()
    checked = run_git(
        ["cat-file", "--batch-check=%(objectname) %(objectsize)"],
        git_dir=repo,
        stdin="\n".join(ids).encode() + b"\n",
    ).text
    big = set()
    for line in checked.splitlines():
        blob, _, size = line.partition(" ")
        if size.isdigit() and int(size) > MAX_DIFF_BLOB:
            big.add(blob)
    return {path for path, blobs in sides.items() if blobs & big}


def _streamed_log(
    repo: Path, log_range: list[str], leave_out: set[str]
) -> Mapping[tuple[str, str], tuple[str, int]]:
    """Run `git log -p` (without the paths in `leave_out`) and parse its output as it streams,
    within MAX_LOG_BYTES."""
    excluded = [f":(exclude,literal){path}" for path in sorted(leave_out)]
    command = [
        git_executable(), *SAFE_CONFIG, f"--git-dir={repo}", *BIG_FILE_THRESHOLD,
        "log", "-p", "--raw", "--no-renames", "--no-color", "--format=%x01%H", *log_range,
        *(["--", ".", *excluded] if excluded else []),
    ]  # fmt: skip
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=git_env()
    ) as process:
        out = process.stdout
        assert out is not None

        def lines() -> Iterator[str]:
            used = 0
            for raw in bounded_lines(out, MAX_LOG_LINE):
                if isinstance(raw, int):
                    used += raw
                    yield f" [a line of {raw:,} bytes is left out]"
                    continue
                used += len(raw)
                if used > MAX_LOG_BYTES:
                    return
                yield raw.decode("utf-8", "replace").removesuffix("\n")

        store = DiffStore()
        try:
            parse_log_lines(lines(), store)
            store.finish()
            return store
        except BaseException:
            store.close()
            raise
        finally:
            process.kill()


def _tree(repo: Path, head: str) -> list[TreeFile]:
    listing = run_git(["ls-tree", "-r", "--long", head], git_dir=repo).text
    entries: list[tuple[str, str, int]] = []
    for line in listing.splitlines():
        meta, _, raw_path = line.partition("\t")
        parts = meta.split()
        if len(parts) == 4 and parts[1] == "blob" and parts[3].isdigit():
            entries.append((unquote_path(raw_path), parts[2], int(parts[3])))
    wanted = []
    budget = TREE_CONTENT_BUDGET
    for _path, sha, size in sorted(entries):
        if size <= MAX_FILE_CHARS and size <= budget:
            wanted.append(sha)
            budget -= size
    contents: dict[str, bytes] = {}
    if wanted:
        batch = run_git(
            ["cat-file", "--batch"], git_dir=repo, stdin="\n".join(wanted).encode() + b"\n"
        ).stdout
        position = 0
        for sha in wanted:
            header_end = batch.find(b"\n", position)
            header = batch[position:header_end].split()
            if header_end < 0 or len(header) != 3 or not header[2].isdigit():
                break  # "<sha> missing" or a short read: the rest is listed without content
            size = int(header[2])
            contents[sha] = batch[header_end + 1 : header_end + 1 + size]
            position = header_end + 1 + size + 1
    files = []
    for path, sha, size in sorted(entries):
        data = contents.get(sha)
        binary = data is not None and b"\0" in data[:8192]
        text = None if data is None or binary else data.decode("utf-8", "replace")
        files.append(TreeFile(path, size, binary, text, data is None and not binary))
    return files


def _final_diff(repo: Path, baseline: str, head: str, leave_out: set[str]) -> FinalDiff:
    """The final snapshot against the baseline, as one diff (see final_diff.py); the paths in
    `leave_out` (content over MAX_DIFF_BLOB) get no patch."""
    between = ["--no-renames", "--no-color", "--no-ext-diff", baseline, head]
    raw = run_git([*BIG_FILE_THRESHOLD, "diff", "--raw", *between], git_dir=repo).text
    numstat = run_git([*BIG_FILE_THRESHOLD, "diff", "--numstat", *between], git_dir=repo).text
    excluded = [f":(exclude,literal){path}" for path in sorted(leave_out)]
    text = run_git(
        [
            *BIG_FILE_THRESHOLD,
            "diff",
            "-p",
            "--raw",
            *between,
            *(["--", ".", *excluded] if excluded else []),
        ],
        git_dir=repo,
    ).stdout
    patches = parse_log("\x01final\n" + text.decode("utf-8", "replace"))
    return build_final_diff(
        raw, numstat, {path: patch for (_, path), patch in patches.items()}, unquote_path
    )


def load_snapshots(bundle: Path) -> SnapshotData:
    """Diffs and final tree of the bundle's snapshots; `problem` says why when unavailable."""
    try:
        with tempfile.TemporaryDirectory(prefix="promptster-report-") as tmp:
            repo, file = Path(tmp) / "repo.git", Path(tmp) / "snapshots.bundle"
            try:
                with BundleReader(bundle) as reader:
                    copy_member(reader, fmt.SNAPSHOTS, file)
            except PromptsterError as exc:
                return SnapshotData(problem=exc.message)
            run_git(["init", "--quiet", "--bare", str(repo)])
            run_git(
                [
                    *BIG_FILE_THRESHOLD,
                    "fetch",
                    "--quiet",
                    "--no-tags",
                    str(file),
                    f"{fmt.SNAPSHOT_REF}:{fmt.SNAPSHOT_REF}",
                ],
                git_dir=repo,
            )
            head = run_git(["rev-parse", fmt.SNAPSHOT_REF], git_dir=repo).text.strip()
            roots = run_git(["rev-list", "--max-parents=0", head], git_dir=repo).text.split()
            log_range = [head, *(f"^{root}" for root in roots)]
            baseline = run_git(
                ["ls-tree", "-r", "--name-only", roots[0]] if roots else ["version"], git_dir=repo
            ).text
            big = _big_paths(repo, log_range)
            data = SnapshotData(
                diffs=_streamed_log(repo, log_range, big) if len(big) <= MAX_BIG_PATHS else {},
                tree=_tree(repo, head),
                baseline_paths={unquote_path(p) for p in baseline.splitlines()} if roots else set(),
                baseline_commit=roots[0] if roots else None,
                final_commit=head,
                final_diff=(
                    _final_diff(repo, roots[0], head, big)
                    if roots and len(big) <= MAX_BIG_PATHS
                    else None
                ),
            )
            return data
    except PromptsterError as exc:
        return SnapshotData(problem=f"the snapshots could not be read: {exc.message}")
