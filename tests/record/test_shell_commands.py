"""CommandAssembler: marks and output become CommandRecords (no shell needed here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptster.record.shell.commands import CommandAssembler, OutputExcerpt, is_inside
from promptster.record.shell.osc import (
    AltScreen,
    CommandEnd,
    CommandInput,
    CommandStart,
    Item,
    OutputStart,
    ShellInit,
)

WS = "/work/ws"


def start(cmd: str | None = None, *, level: int = 1, cwd: str = WS, t0: int = 1_000_000) -> Item:
    return CommandStart(level, 100 + level, t0, cwd, cmd)


def end(
    cmd: str | None = None,
    exit_code: int = 0,
    *,
    level: int = 1,
    ran: bool = True,
    cwd: str = WS,
    t1: int = 3_500_000,
) -> Item:
    t0 = 1_000_000 if ran else None
    src = "history" if cmd else "none"
    return CommandEnd(level, 100 + level, exit_code, ran, t0, t1, cwd, cmd, src)


def test_a_command_with_output() -> None:
    records = CommandAssembler(WS).feed(
        [start(), b"\x1b[1mhello\x1b[0m\r\nworld\r\n", end("echo hello; echo world")]
    )
    assert len(records) == 1
    record = records[0]
    assert (record.command, record.exit_code, record.duration_ms) == (
        "echo hello; echo world",
        0,
        2500,
    )
    assert (record.output_head, record.output_tail, record.truncated) == ("hello\nworld", "", False)
    assert record.event_data() == {
        "command": "echo hello; echo world",
        "exitCode": 0,
        "durationMs": 2500,
        "cwd": ".",
        "shellLevel": 1,
        "outputHead": "hello\nworld",
    }


def test_empty_comment_and_syntax_error_lines() -> None:
    assembler = CommandAssembler(WS)
    records = assembler.feed(
        [
            end("# a comment", ran=False),
            end("  # indented\n# two lines", ran=False),
            end(None, ran=False),  # an empty line, or Ctrl-C at the prompt
            end("if ; then", 2, ran=False),
        ]
    )
    assert [(r.command, r.exit_code, r.executed, r.duration_ms) for r in records] == [
        ("if ; then", 2, False, None)
    ]
    assert records[0].event_data()["executed"] is False


def test_interrupted_command() -> None:
    (record,) = CommandAssembler(WS).feed([start("sleep 5"), b"^C\r\n", end(None, 130)])
    assert (record.command, record.exit_code, record.interrupted) == ("sleep 5", 130, True)


def test_outside_the_workspace_only_the_location_is_kept() -> None:
    items = [start(cwd="/etc"), b"secret output", end("cat passwd", cwd="/etc")]
    (record,) = CommandAssembler(WS).feed(items)
    assert (record.command, record.output_head, record.outside_workspace) == (None, "", True)
    assert record.event_data() == {
        "command": None,
        "exitCode": 0,
        "durationMs": 2500,
        "cwd": "/etc",
        "shellLevel": 1,
        "outsideWorkspace": True,
    }


def test_full_screen_program_marks_and_output_are_ignored() -> None:
    # e.g. a shell whose output the full-screen program shows: not the recorded shell's
    fake = [ShellInit("bash", "5.2", 2, 102), start("echo x", level=2), end("echo x", level=2)]
    items = [start("vim"), AltScreen(True), b"screen", *fake, b"more", AltScreen(False), end()]
    (record,) = CommandAssembler(WS).feed(items)
    assert (record.command, record.fullscreen, record.output_head) == ("vim", True, "")


def test_a_program_that_never_leaves_the_alternate_screen() -> None:
    assembler = CommandAssembler(WS)
    records = assembler.feed([start("crashy"), AltScreen(True), end(None, 137), start("true")])
    records += assembler.feed([end()])
    assert [(r.command, r.exit_code) for r in records] == [("crashy", 137), ("true", 0)]


def test_nested_shell_and_exec() -> None:
    items: list[Item] = [
        start("bash", level=1),
        ShellInit("bash", "5.2", 2, 102),
        start("echo nested", level=2),
        b"nested\r\n",
        end(level=2),
        start("exit", level=2),
        end(level=1),  # the nested shell exited: `exit` never got its own end
        start("exec zsh", level=1),
        ShellInit("zsh", "5.9", 1, 101),  # same level, same PID: replaced
        start("true"),
        end(),
    ]
    records = CommandAssembler(WS).feed(items)
    assert [(r.command, r.exit_code, r.shell_level) for r in records] == [
        ("echo nested", 0, 2),
        ("exit", None, 2),
        ("bash", 0, 1),
        ("exec zsh", None, 1),
        ("true", 0, 1),
    ]


def test_command_text_from_the_echo_when_the_shell_went_away() -> None:
    items: list[Item] = [CommandInput(), b"e\x08exit\r\n", OutputStart(), start(None), b"exit"]
    assembler = CommandAssembler(WS)
    assert assembler.feed(items) == []
    (record,) = assembler.close()
    assert (record.command, record.command_source, record.exit_code) == ("exit", "echo", None)
    assert record.event_data()["commandSource"] == "echo"


def test_excerpt_keeps_head_and_tail() -> None:
    excerpt = OutputExcerpt(limit=10)
    for i in range(100):
        excerpt.feed(f"\x1b[3{i % 8}m{i:03d}\x1b[0m\n".encode())
    head, tail, truncated = excerpt.result()
    assert head == "000\n001\n00"
    assert tail.endswith("098\n099") and truncated


def test_excerpt_escape_split_across_reads_and_carriage_returns() -> None:
    excerpt = OutputExcerpt()
    for chunk in [b"10%\r20%\r\x1b[", b"32m", b"done\x1b]0;ti", b"tle\x07\r\nok\x08K\r\n"]:
        excerpt.feed(chunk)
    assert excerpt.result() == ("done\noK", "", False)


def test_is_inside(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / "sub").mkdir(parents=True)
    link = tmp_path / "link"
    link.symlink_to(ws)
    assert is_inside(ws, ws) and is_inside(ws / "sub", ws)
    assert is_inside(link / "sub", ws) and is_inside(ws / "sub", link)
    assert not is_inside(tmp_path, ws) and not is_inside(str(ws) + "-other", ws)
    assert not is_inside("relative", ws)


@pytest.mark.parametrize("workspace", [None, WS])
def test_relative_cwd(workspace: str | None) -> None:
    (record,) = CommandAssembler(workspace).feed([start(cwd=WS + "/src"), end("ls")])
    assert record.event_data()["cwd"] == ("src" if workspace else WS + "/src")
