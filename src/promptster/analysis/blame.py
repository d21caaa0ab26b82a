"""`promptster blame`: the final code with each line's author, tool and event (docs/cli.md).

The bundle is verified first (its integrity checks, as `verify` runs them without the
reviewer's pack checks); a bundle that fails is refused (exit 1). The authorship comes from the
verified `authorship.json`, the line texts from the final snapshot. A bundle written before
line authorship existed has no member: the result says authorship is unavailable.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from promptster.bundle import format as fmt
from promptster.bundle.authorship import Authorship, FileAuthorship, decode, split_text
from promptster.bundle.members import copy_member
from promptster.bundle.reader import BundleReader
from promptster.bundle.verify import verify_bundle
from promptster.errors import CheckFailed, InputError
from promptster.gitblobs import BlobReader
from promptster.gitutil import BIG_FILE_THRESHOLD, run_git

JSON_VERSION = 1


@dataclass(frozen=True)
class BlameLine:
    line: int
    author: str
    tool: str | None
    event_id: str | None
    seq: int | None
    text: str

    def to_json_obj(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "author": self.author,
            "tool": self.tool,
            "eventId": self.event_id,
            "seq": self.seq,
            "text": self.text,
        }


@dataclass(frozen=True)
class BlameFile:
    path: str
    binary: bool
    lines: tuple[BlameLine, ...]

    def to_json_obj(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "binary": self.binary,
            "lines": [line.to_json_obj() for line in self.lines],
        }


@dataclass(frozen=True)
class BlameResult:
    available: bool  # False: the bundle has no authorship.json
    files: tuple[BlameFile, ...]

    def to_json_obj(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "version": JSON_VERSION,
            "files": [item.to_json_obj() for item in self.files],
        }
        if not self.available:
            body["available"] = False
        return body


def read_authorship(bundle: Path) -> Authorship | None:
    """The verified bundle's authorship (None when it has none); CheckFailed if the bundle
    fails verification."""
    report = verify_bundle(bundle)
    if report.unreadable:  # not a zip, a newer format: as `verify` and `review`, exit 2
        raise InputError(
            f"{bundle} is not a readable bundle: {report.failures[0].message}",
            f"run `promptster verify {bundle}` for details",
        )
    if not report.ok:
        checks = ", ".join(sorted({finding.check for finding in report.failures}))
        first = report.failures[0]
        raise CheckFailed(
            f"{bundle} failed verification ({checks}): {first.message}",
            f"run `promptster verify {bundle}` for every finding; nothing in it can be trusted",
        )
    data = report.context.authorship
    return decode(data) if data is not None else None


def blame_bundle(bundle: Path, path: str | None = None) -> BlameResult:
    if not bundle.is_file():
        raise InputError(f"{bundle}: no such file", "pass the path of a .pst bundle")
    authorship = read_authorship(bundle)
    if authorship is None:
        return BlameResult(False, ())
    wanted = list(authorship.files)
    if path is not None:
        found = authorship.file(path.replace("\\", "/").removeprefix("./"))
        if found is None:
            names = [item.path for item in authorship.files]
            shown = ", ".join(names[:20]) + (f" … ({len(names)} files)" if len(names) > 20 else "")
            raise InputError(
                f"{path!r} is not a file of the final snapshot",
                f"files in it: {shown}" if names else "the final snapshot has no files",
            )
        wanted = [found]
    with tempfile.TemporaryDirectory(prefix="promptster-blame-") as tmp:
        repo = _unpack(bundle, Path(tmp))
        with BlobReader(repo) as blobs:
            files = tuple(
                _blame_file(item, blobs.read(f"{authorship.snapshot}:{item.path}"))
                for item in wanted
            )
    return BlameResult(True, files)


def _unpack(bundle: Path, tmp: Path) -> Path:
    repo, file = tmp / "repo.git", tmp / "snapshots.bundle"
    with BundleReader(bundle) as reader:
        copy_member(reader, fmt.SNAPSHOTS, file)
    run_git(["init", "--quiet", "--bare", str(repo)])
    run_git(
        [*BIG_FILE_THRESHOLD, "fetch", "--quiet", "--no-tags", str(file),
         f"{fmt.SNAPSHOT_REF}:{fmt.SNAPSHOT_REF}"],
        git_dir=repo,
    )  # fmt: skip
    return repo


def _blame_file(item: FileAuthorship, content: bytes | None) -> BlameFile:
    if item.binary:
        return BlameFile(item.path, True, ())
    texts = split_text(content or b"")
    lines = tuple(
        BlameLine(
            number,
            origin.author,
            origin.tool,
            origin.event_id,
            origin.seq,
            texts[number - 1] if number <= len(texts) else "",
        )
        for number, origin in item.origins()
    )
    return BlameFile(item.path, False, lines)


AUTHOR_LABELS = {
    "ai": "AI",
    "human": "human",
    "ai_then_human": "AI+human",
    "starter": "starter",
    "unknown": "unknown",
}


def format_text(result: BlameResult) -> str:
    """Like `git blame`: author, tool, short event id, line number, text."""
    out: list[str] = []
    for item in result.files:
        if len(result.files) > 1:
            out.append(f"== {item.path}")
        if item.binary:
            out.append(f"(binary file {item.path}: no line authorship)")
            continue
        width = len(str(len(item.lines)))
        for line in item.lines:
            event = (line.event_id or "")[:8] or "-" * 8
            tool = line.tool or "-"
            out.append(
                f"{AUTHOR_LABELS.get(line.author, line.author):<8} {tool:<8} {event} "
                f"{line.line:>{width}}) {line.text}"
            )
    return "\n".join(out) + ("\n" if out else "")
