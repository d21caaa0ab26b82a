"""atomic_writer never renames over a device or FIFO."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

from promptster.fsutil import atomic_write_bytes


def test_writing_to_dev_null_keeps_the_device() -> None:
    atomic_write_bytes(Path(os.devnull), b"discarded")
    assert stat.S_ISCHR(Path(os.devnull).stat().st_mode)


def test_writing_to_a_fifo_writes_through_it(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    atomic_write_bytes(fifo, b"through the pipe")
    reader.join()
    assert received == [b"through the pipe"]
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_parent_that_is_a_file_is_an_input_error(tmp_path: Path) -> None:
    import pytest

    from promptster.errors import InputError

    blocker = tmp_path / "file.md"
    blocker.write_text("not a folder")
    with pytest.raises(InputError, match="is a file, not a folder"):
        atomic_write_bytes(blocker / "report.html", b"x")
    with pytest.raises(InputError, match="it is a folder"):
        atomic_write_bytes(tmp_path, b"x")
    assert blocker.read_text() == "not a folder"
