"""The snapshot history for the report: each file change's diff and the final tree.

The bundle's `snapshots.bundle` is unpacked into a temporary bare repository (always removed),
exactly as `verify` does, then read with two git commands: one `git log -p` over every commit
after the baseline, and `ls-tree` + `cat-file --batch` for the final files. Paths are read in
git's quoted form (no -z), so no path or content can forge a commit or file boundary: a line
that starts with \\x01 can only be the commit marker (diff content lines start with ' ', '+',
'-' or '\\'), and a path with a newline is C-quoted.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from promptster.bundle import format as fmt
from promptster.bundle.reader import BundleReader
from promptster.errors import PromptsterError
from promptster.gitutil import run_git
from promptster.report.final_diff import FinalDiff, build_final_diff

MAX_DIFF_LINES = 400
MAX_DIFF_CHARS = 32 * 1024
MAX_FILE_CHARS = 200 * 1024
TREE_CONTENT_BUDGET = 4 * 1024 * 1024
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
    diffs: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)
    # (commit, path) -> (patch hunks, lines left out)
    tree: list[TreeFile] = field(default_factory=list)
    baseline_paths: set[str] = field(default_factory=set)
    baseline_commit: str | None = None  # the first snapshot: the starter as handed out
    final_commit: str | None = None
    final_diff: FinalDiff | None = None  # the final tree against the baseline
    problem: str | None = None


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


def _bound_patch(lines: list[str]) -> tuple[str, int]:
    """The hunks of one file's patch (headers dropped), at most MAX_DIFF_LINES / _CHARS,
    and how many lines were left out."""
    start = next(
        (i for i, line in enumerate(lines) if line.startswith(("@@", "Binary files"))),
        len(lines),
    )
    body = lines[start:]
    while body and body[-1] == "":
        body.pop()
    kept: list[str] = []
    size = 0
    for line in body:
        if len(kept) >= MAX_DIFF_LINES or size + len(line) > MAX_DIFF_CHARS:
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept), len(body) - len(kept)


def parse_log(text: str) -> dict[tuple[str, str], tuple[str, int]]:
    """Parse `git log -p --raw --no-renames --format=%x01%H` into (commit, path) -> patch."""
    diffs: dict[tuple[str, str], tuple[str, int]] = {}
    commit = ""
    paths: list[str] = []
    patch: list[str] | None = None

    def flush() -> None:
        if patch is not None and paths:
            diffs[(commit, paths.pop(0))] = _bound_patch(patch)

    for line in text.split("\n"):
        if line.startswith("\x01"):
            flush()
            commit, paths, patch = line[1:].strip(), [], None
        elif patch is None and line.startswith(":"):
            match = _RAW.fullmatch(line)
            if match:
                paths.append(unquote_path(match.group(1)))
        elif line.startswith("diff --git "):
            flush()
            patch = []
        elif patch is not None:
            patch.append(line)
    flush()
    return diffs


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


def _final_diff(repo: Path, baseline: str, head: str) -> FinalDiff:
    """The final snapshot against the baseline, as one diff (see final_diff.py)."""
    between = ["--no-renames", "--no-color", "--no-ext-diff", baseline, head]
    raw = run_git(["diff", "--raw", *between], git_dir=repo).text
    numstat = run_git(["diff", "--numstat", *between], git_dir=repo).text
    text = run_git(["diff", "-p", "--raw", *between], git_dir=repo).stdout
    patches = parse_log("\x01final\n" + text.decode("utf-8", "replace"))
    return build_final_diff(
        raw, numstat, {path: patch for (_, path), patch in patches.items()}, unquote_path
    )


def load_snapshots(bundle: Path) -> SnapshotData:
    """Diffs and final tree of the bundle's snapshots; `problem` says why when unavailable."""
    try:
        with BundleReader(bundle) as reader:
            raw = reader.read(fmt.SNAPSHOTS)
    except PromptsterError as exc:
        return SnapshotData(problem=exc.message)
    try:
        with tempfile.TemporaryDirectory(prefix="promptster-report-") as tmp:
            repo, file = Path(tmp) / "repo.git", Path(tmp) / "snapshots.bundle"
            file.write_bytes(raw)
            run_git(["init", "--quiet", "--bare", str(repo)])
            run_git(
                [
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
            log = run_git(
                ["log", "-p", "--raw", "--no-renames", "--no-color", "--format=%x01%H", *log_range],
                git_dir=repo,
            )
            baseline = run_git(
                ["ls-tree", "-r", "--name-only", roots[0]] if roots else ["version"], git_dir=repo
            ).text
            data = SnapshotData(
                diffs=parse_log(log.stdout.decode("utf-8", "replace")),
                tree=_tree(repo, head),
                baseline_paths={unquote_path(p) for p in baseline.splitlines()} if roots else set(),
                baseline_commit=roots[0] if roots else None,
                final_commit=head,
                final_diff=_final_diff(repo, roots[0], head) if roots else None,
            )
            return data
    except PromptsterError as exc:
        return SnapshotData(problem=f"the snapshots could not be read: {exc.message}")
