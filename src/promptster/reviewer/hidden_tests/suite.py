"""The hidden test folder of an assessment: packed, stored in the reviewer workspace, unpacked.

The folder is packed into a deterministic tar (sorted names, fixed times and owners, regular
files and folders only), so its digest names exactly the tests that ran. Limits keep a mistaken
folder (a whole home directory, a `node_modules`) out of the workspace.
"""

from __future__ import annotations

import hashlib
import io
import os
import shlex
import stat
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from promptster.errors import InputError

if TYPE_CHECKING:
    from promptster.reviewer.store import Workspace

MAX_FILES = 2_000
MAX_BYTES = 32 * 1024 * 1024
DEFAULT_TIMEOUT_SECONDS = 300
MAX_TIMEOUT_SECONDS = 3600
_SKIPPED_DIRS = {".git", "__pycache__", "node_modules", ".pytest_cache", ".venv", ".mypy_cache"}


@dataclass(frozen=True)
class HiddenSuite:
    assessment_id: str
    archive: bytes
    digest: str  # sha256:<hex> of the archive
    file_count: int
    command: str
    timeout_seconds: int
    updated_at: datetime

    def paths(self) -> list[str]:
        with tarfile.open(fileobj=io.BytesIO(self.archive), mode="r:") as tar:
            return [m.name for m in tar.getmembers() if m.isfile()]

    def to_json_obj(self) -> dict[str, object]:
        return {
            "digest": self.digest,
            "fileCount": self.file_count,
            "command": self.command,
            "timeoutSeconds": self.timeout_seconds,
        }


def default_command(folder: Path) -> str:
    """The command a folder's tests are run with, chosen by what it holds."""
    names = {p.name for p in folder.rglob("*") if p.is_file()}
    if "package.json" in names:
        return "npm test"
    if "go.mod" in names or any(n.endswith("_test.go") for n in names):
        return "go test -v ./..."
    if "Cargo.toml" in names:
        return "cargo test"
    return "pytest -q"


def _walk(folder: Path) -> list[Path]:
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS)
        for name in sorted(files):
            path = Path(root) / name
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                raise InputError(
                    f"the hidden test folder holds a symbolic link: {path}",
                    "replace links by the files they point to",
                )
            if stat.S_ISREG(mode):
                found.append(path)
        if len(found) > MAX_FILES:
            raise InputError(
                f"the hidden test folder {folder} holds more than {MAX_FILES:,} files",
                "point --hidden-tests at the folder of the tests themselves",
            )
    return found


def pack_folder(folder: Path) -> tuple[bytes, int]:
    """(tar bytes, file count) of `folder`; InputError for a folder that cannot be used."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"--hidden-tests {folder}: not a folder")
    try:
        files = _walk(folder)
    except OSError as exc:
        raise InputError(f"cannot read the hidden test folder {folder}: {exc.strerror}") from exc
    if not files:
        raise InputError(f"the hidden test folder {folder} holds no files")
    buffer = io.BytesIO()
    total = 0
    with tarfile.open(fileobj=buffer, mode="w:", format=tarfile.PAX_FORMAT) as tar:
        for path in files:
            relative = path.relative_to(folder).as_posix()
            data = path.read_bytes()
            total += len(data)
            if total > MAX_BYTES:
                raise InputError(
                    f"the hidden test folder {folder} is larger than {MAX_BYTES // 2**20} MB",
                    "leave data sets and dependencies out; keep the tests",
                )
            info = tarfile.TarInfo(relative)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue(), len(files)


def check_command(command: str) -> str:
    command = command.strip()
    try:
        words = shlex.split(command)
    except ValueError as exc:
        raise InputError(f"--hidden-test-command {command!r} cannot be parsed: {exc}") from exc
    if not words:
        raise InputError("--hidden-test-command is empty")
    return command


def check_timeout(seconds: int) -> int:
    if not 1 <= seconds <= MAX_TIMEOUT_SECONDS:
        raise InputError(f"--hidden-test-timeout must be 1 to {MAX_TIMEOUT_SECONDS} seconds")
    return seconds


def attach_suite(
    workspace: Workspace,
    assessment_id: str,
    folder: Path | None,
    *,
    command: str | None,
    timeout_seconds: int | None,
    now: datetime | None = None,
) -> HiddenSuite:
    """Store (or change) the hidden tests of an assessment. Without `folder`, the stored tests
    keep their files and only the command or time limit changes."""
    existing = load_suite(workspace, assessment_id)
    if folder is None and existing is None:
        raise InputError(
            "this assessment has no hidden tests yet",
            "give the folder with --hidden-tests DIR",
        )
    if folder is not None:
        archive, count = pack_folder(folder)
        chosen = command or default_command(Path(folder))
    else:
        assert existing is not None
        archive, count = existing.archive, existing.file_count
        chosen = command or existing.command
    if timeout_seconds is not None:
        timeout = timeout_seconds
    else:
        timeout = existing.timeout_seconds if existing else DEFAULT_TIMEOUT_SECONDS
    suite = HiddenSuite(
        assessment_id=assessment_id,
        archive=archive,
        digest="sha256:" + hashlib.sha256(archive).hexdigest(),
        file_count=count,
        command=check_command(chosen),
        timeout_seconds=check_timeout(timeout),
        updated_at=(now or datetime.now(UTC)).astimezone(UTC),
    )
    with workspace.transaction():
        workspace.connection.execute(
            "DELETE FROM main.hidden_test_suites WHERE assessment_id = ?", [assessment_id]
        )
        workspace.connection.execute(
            "INSERT INTO main.hidden_test_suites (assessment_id, archive, digest, file_count, "
            "command, timeout_seconds, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                suite.assessment_id, suite.archive, suite.digest, suite.file_count,
                suite.command, suite.timeout_seconds, suite.updated_at.replace(tzinfo=None),
            ],
        )  # fmt: skip
    return suite


def remove_suite(workspace: Workspace, assessment_id: str) -> None:
    with workspace.transaction():
        workspace.connection.execute(
            "DELETE FROM main.hidden_test_suites WHERE assessment_id = ?", [assessment_id]
        )


def load_suite(workspace: Workspace, assessment_id: str) -> HiddenSuite | None:
    row = workspace.connection.execute(
        "SELECT assessment_id, archive, digest, file_count, command, timeout_seconds, updated_at "
        "FROM main.hidden_test_suites WHERE assessment_id = ?",
        [assessment_id],
    ).fetchone()
    if row is None:
        return None
    return HiddenSuite(
        assessment_id=row[0],
        archive=bytes(row[1]),
        digest=row[2],
        file_count=int(row[3]),
        command=row[4],
        timeout_seconds=int(row[5]),
        updated_at=row[6].replace(tzinfo=UTC),
    )


def _real_dir(tree: Path, parts: tuple[str, ...]) -> Path:
    """The folder tree/parts, made of real folders: a submitted link or file on the way is
    replaced, so that no hidden file is written through a link to outside the tree."""
    current = tree
    for part in parts:
        current = current / part
        if current.is_symlink() or (current.exists() and not current.is_dir()):
            current.unlink()
        current.mkdir(exist_ok=True)
    return current


def unpack_over(suite: HiddenSuite, tree: Path) -> list[str]:
    """Write the suite's files into `tree` (the hidden copy wins); return the paths that
    replaced a file of the submission."""
    import shutil

    overlapped: list[str] = []
    with tarfile.open(fileobj=io.BytesIO(suite.archive), mode="r:") as tar:
        for member in tar.getmembers():
            pure = PurePosixPath(member.name)
            if not member.isfile() or pure.is_absolute() or ".." in pure.parts:
                continue  # the archive was made by pack_folder; refuse anything else anyway
            target = _real_dir(tree, pure.parts[:-1]) / pure.parts[-1]
            if target.is_symlink() or target.exists():
                overlapped.append(member.name)
                if target.is_dir() and not target.is_symlink():
                    shutil.rmtree(target)
                else:
                    target.unlink()
            extracted = tar.extractfile(member)
            assert extracted is not None
            target.write_bytes(extracted.read())
    return overlapped
