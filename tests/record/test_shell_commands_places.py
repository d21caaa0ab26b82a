"""`CommandAssembler` keeps where each cwd is (inside the workspace, and the relative path)
as far as the paths alone tell; what needs the file system (symlinks) is looked up each time."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from promptster.record.shell.commands import CommandAssembler, CommandRecord, is_inside
from promptster.record.shell.osc import CommandEnd, CommandStart

T0 = 10**15


def command(assembler: CommandAssembler, cwd: str, line: str = "ls") -> CommandRecord:
    start = CommandStart(level=1, pid=9, started_us=T0, cwd=cwd, command=line)
    end = CommandEnd(
        level=1,
        pid=9,
        exit_code=0,
        executed=True,
        started_us=T0,
        ended_us=T0 + 1000,
        cwd=cwd,
        command=None,
        source="none",
    )
    [record] = assembler.feed([start, end])
    return record


@pytest.mark.parametrize(
    ("cwd", "inside", "relative"),
    [
        ("/work/space", True, "."),
        ("/work/space/", True, "."),
        ("/work/space/src/pkg", True, "src/pkg"),
        ("/work/space/./src/../docs", True, "docs"),
        ("//work/space/src", True, "src"),
        ("/work//space/a", True, "a"),
        ("/work/space/..", False, None),
        ("/work/spaceship", False, None),
        ("/work", False, None),
        ("/", False, None),
        ("relative/path", False, None),
    ],
)
def test_locations_are_the_same_every_time(cwd: str, inside: bool, relative: str | None) -> None:
    assembler = CommandAssembler("/work/space")
    for _ in range(3):  # the first computes, the next ones are kept
        record = command(assembler, cwd)
        assert (not record.outside_workspace, record.relative_cwd) == (inside, relative)
        assert record.outside_workspace is not is_inside(cwd, "/work/space")
        assert record.command == ("ls" if inside else None)


def test_a_symlinked_cwd_is_looked_up_again(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    (workspace / "src").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    link = tmp_path / "link"
    link.symlink_to(workspace / "src")
    assembler = CommandAssembler(workspace)
    record = command(assembler, str(link))
    assert not record.outside_workspace and record.relative_cwd == "src"
    link.unlink()
    link.symlink_to(elsewhere)  # the same cwd string now leads out of the workspace
    record = command(assembler, str(link))
    assert record.outside_workspace and record.command is None
    assert os.path.realpath(link) == str(elsewhere.resolve())


def test_many_places_are_not_all_kept() -> None:
    assembler = CommandAssembler("/work/space")
    for i in range(3000):
        record = command(assembler, f"/work/space/d{i}")
        assert record.relative_cwd == f"d{i}"
    assert len(assembler._inside_at) <= 1024 and len(assembler._relative_at) <= 1024
