"""bash's command lines from its history records (record/shell/history.py), with records
written as bash's prompt hook writes them ("\\0<n> <history 1>"); the live shells of
test_shell_integration.py and test_shell_hooks_fast_path.py cover the hook itself."""

from __future__ import annotations

from pathlib import Path

from promptster.record.shell.history import HistoryRecords
from promptster.record.shell.osc import CommandEnd, ShellInit

NAME = "history.9.1796669530400049"


def init(name: str = NAME, pid: int = 9) -> ShellInit:
    return ShellInit("bash", "5.2", 1, pid, name)


def end(n: int, *, ran: bool, h0: int | None = None, hc: int = 0, pid: int = 9) -> CommandEnd:
    t0 = 1_000 if ran else None
    return CommandEnd(1, pid, 0, ran, t0, 2_000, "/w", None, "records", (0,), n, h0, hc)


def record(n: int, number: int | None, line: str = "") -> bytes:
    body = f"{number:5d}  {line}\n" if number is not None else ""
    return b"\0" + f"{n} {body}".encode()


def test_the_rules_bash_applied_in_the_shell(tmp_path: Path) -> None:
    path = tmp_path / NAME
    history = HistoryRecords(tmp_path)
    history.started(init())
    path.write_bytes(record(1, 4, "old"))
    assert history.resolve(end(1, ran=False, hc=5)) is None  # the first prompt: where we are
    with path.open("ab") as out:
        out.write(record(2, 5, "make\nall"))  # a command that ran: its entry is h0 - 1
        out.write(record(3, 5, "make\nall"))  # an empty line: nothing new
        out.write(record(4, 6, "# a comment"))  # accepted, never run: a new entry
        out.write(record(5, 6, "# a comment"))  # history off: no entry for what ran
        out.write(record(6, 7, " secret"))  # ran, then deleted by the user's rules (hc = 7)
        out.write(record(7, 7, "if ; then"))  # never ran: the deleted number comes again
    ran = history.resolve(end(2, ran=True, h0=6, hc=6))
    assert ran is not None and (ran.command, ran.source) == ("make\nall", "history")
    assert ran.executed
    assert ran.started_us == 1_000
    assert history.resolve(end(2, ran=True, h0=6, hc=6)) is None  # the prompt shown again
    assert history.resolve(end(3, ran=False, hc=6)) is None
    comment = history.resolve(end(4, ran=False, hc=7))
    assert comment is not None and (comment.command, comment.executed) == ("# a comment", False)
    assert comment.started_us is None
    unknown = history.resolve(end(5, ran=True, h0=1, hc=1))
    assert unknown is not None and (unknown.command, unknown.source) == (None, "none")
    secret = history.resolve(end(6, ran=True, h0=8, hc=7))
    assert secret is not None and secret.command == " secret"
    error = history.resolve(end(7, ran=False, hc=8))
    assert error is not None and (error.command, error.executed) == ("if ; then", False)
    history.close()


def test_marks_whose_records_are_missing_or_later(tmp_path: Path) -> None:
    path = tmp_path / NAME
    history = HistoryRecords(tmp_path)
    history.started(init())
    path.write_bytes(record(1, None) + record(3, 1, "ls") + record(4, 2, "pwd"))
    assert history.resolve(end(1, ran=False, hc=1)) is None  # empty history
    # prompt 2's mark never came (PS1 rewritten after our hook): its record is skipped
    missing = history.resolve(end(2, ran=True, h0=2, hc=2))
    assert missing is not None and missing.command is None  # the echo is the fallback
    later = history.resolve(end(4, ran=True, h0=3, hc=3))
    assert later is not None and later.command == "pwd"


def test_no_folder_a_bad_name_and_marks_of_other_shells(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").write_bytes(record(2, 1, "cat /etc/passwd"))
    for folder, name in ((None, NAME), (tmp_path, "../elsewhere"), (tmp_path, "elsewhere")):
        history = HistoryRecords(folder)
        history.started(init(name))
        assert history.resolve(end(1, ran=False, hc=1)) is None
        got = history.resolve(end(2, ran=True, h0=2, hc=2))
        assert got is not None and got.command is None
    # marks that carry their line (zsh's) are untouched, but for repeats of a prompt
    old = CommandEnd(1, 9, 0, True, 1, 2, "/w", None, "preexec")
    history = HistoryRecords(tmp_path)
    assert history.resolve(old) is old
    zsh = CommandEnd(1, 7, 0, True, 1, 2, "/w", None, "preexec", (), 1)
    assert history.resolve(zsh) is zsh
    assert history.resolve(zsh) is None


def test_exec_bash_starts_again_with_its_own_file(tmp_path: Path) -> None:
    second = "history.9.1796669530900000"
    (tmp_path / NAME).write_bytes(record(1, 1, "a") + record(2, 2, "exec bash"))
    (tmp_path / second).write_bytes(record(1, 2, "exec bash") + record(2, 3, "echo b"))
    history = HistoryRecords(tmp_path)
    history.started(init())
    assert history.resolve(end(1, ran=False, hc=2)) is None
    history.started(init(second))  # same PID: `exec bash`
    assert history.resolve(end(1, ran=False, hc=3)) is None
    got = history.resolve(end(2, ran=True, h0=4, hc=4))
    assert got is not None and got.command == "echo b"


def test_a_record_ends_at_the_next_or_at_the_end_of_the_file(tmp_path: Path) -> None:
    """The last record has no end but the file's; a later one may be half written (the
    shell is ahead of the recorder), and a record may hold NUL-free newlines of any kind."""
    path = tmp_path / NAME
    history = HistoryRecords(tmp_path)
    history.started(init())
    path.write_bytes(record(1, 4, "ls"))
    assert history.resolve(end(1, ran=False, hc=5)) is None
    path.write_bytes(record(1, 4, "ls") + record(2, 5, "echo 'a\n 6  b'") + b"\x003 ")
    got = history.resolve(end(2, ran=True, h0=6, hc=6))
    assert got is not None and got.command == "echo 'a\n 6  b'"
    with path.open("ab") as tail:
        tail.write(b"    6  make\n")
    got = history.resolve(end(3, ran=True, h0=7, hc=7))
    assert got is not None and got.command == "make"
    history.close()
