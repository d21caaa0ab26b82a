"""`classify_command` skips shlex for lines that cannot name a tool: the shortcut must agree
with the full classification on every line."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_run_commands import CHECK_COMMANDS, NOT_RUNS, TEST_COMMANDS

from promptster.runs import commands as run_commands
from promptster.runs.commands import _WRAPPERS, classify_command
from promptster.runs.tools import TOOLS


def full(line: str) -> object:
    return run_commands._classify_script(line, 0)


LINES = [
    *(c for c, _ in TEST_COMMANDS),
    *(c for c, _, _ in CHECK_COMMANDS),
    *NOT_RUNS,
    "true",
    "ls -la",
    "cd src",
    "git status",
    "git push",
    "x;pytest",
    "a|b/PyTest.EXE -q",
    "cat log&&GMAKE",
    "(cd api)&&py.test",
    "echo hi>out;mvnw verify",
    "./gradlew test",
    "make\ttest",
    "timeout 60 cargo test",
]


@pytest.mark.parametrize("line", LINES)
def test_the_shortcut_agrees_with_the_full_classification(line: str) -> None:
    assert classify_command(line) == full(line)


def test_the_shortcut_skips_shlex_for_plain_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_shlex(line: str) -> list[str]:
        raise AssertionError(f"shlex for {line!r}")

    monkeypatch.setattr(run_commands, "_tokens", no_shlex)
    for line in ("true", "ls -la", "cd src && ls", "git status | less", "vim notes.txt"):
        assert classify_command(line) is None


_WORDS = sorted(TOOLS) + sorted(_WRAPPERS) + ["py.test", "gradlew", "mvnw", "gmake", "python3.12"]
_WORDS += ["env", "FOO=1", "sudo", "time", "timeout", "60", "run", "exec", "test", "-m", "-c"]
_WORDS += ["check", "build", "pytest", "ls", "cd", "x", "bin/", ".exe", "manage.py", "#", "<<"]
_PIECES = st.sampled_from(_WORDS) | st.text(alphabet="abcdePYT/.-=_+ ", max_size=6)
_GLUE = st.sampled_from([" ", "  ", "\t", ";", "|", "||", "&&", "&", "(", ")", ">", "<", "\n", ""])


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.tuples(_PIECES, _GLUE), max_size=8))
def test_the_shortcut_agrees_on_generated_lines(parts: list[tuple[str, str]]) -> None:
    line = "".join(piece + glue for piece, glue in parts)
    assert classify_command(line) == full(line)


@settings(max_examples=1000, deadline=None)
@given(st.text(max_size=40))
def test_the_shortcut_agrees_on_any_text(line: str) -> None:
    assert classify_command(line) == full(line)
