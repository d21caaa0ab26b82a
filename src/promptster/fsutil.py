"""Small file-system helpers: atomic writes so nothing is ever half-written."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from promptster.errors import EnvironmentProblem, InputError


@contextlib.contextmanager
def atomic_writer(path: Path, mode: int = 0o644) -> Iterator[IO[bytes]]:
    """Write to a temporary file beside `path`, fsync it, then rename it into place.

    On any exception the temporary file is removed and `path` is untouched. A `path` that
    exists and is not a regular file (/dev/stdout, /dev/null, a FIFO) is written in place:
    renaming over a device would replace it.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"cannot write {path}: it is a folder", "give the path of a file")
    if path.exists() and not path.is_file():
        with path.open("wb") as special:
            yield special
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except (FileExistsError, NotADirectoryError) as exc:
        raise InputError(
            f"cannot write {path}: a part of its folder path is a file, not a folder",
            "choose another output path",
        ) from exc
    except PermissionError as exc:
        raise InputError(
            f"cannot write {path}: permission denied", "choose another folder"
        ) from exc
    except OSError as exc:
        raise EnvironmentProblem(f"cannot write {path}: {exc.strerror}") from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o644) -> None:
    with atomic_writer(path, mode) as handle:
        handle.write(data)


def atomic_write_text(path: Path, text: str, mode: int = 0o644) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), mode)


def _fsync_dir(directory: Path) -> None:
    # The rename is only durable once the directory entry is flushed.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
