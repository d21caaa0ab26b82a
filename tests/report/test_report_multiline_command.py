"""A command typed over several lines (a heredoc, a `\\` continuation) keeps its lines in the
report's timeline: the data carries the newlines and the page does not collapse them."""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

from promptster.formats.payloads import CommandData
from promptster.report.timeline_data import _command

HEREDOC = "cat > notes.txt <<EOF\nfirst line\nsecond line\nEOF"


def test_the_timeline_data_keeps_the_lines_of_a_heredoc() -> None:
    data: CommandData = {"command": HEREDOC, "exitCode": 0, "durationMs": 5, "cwd": "."}
    body = _command(None, data, None)  # type: ignore[arg-type]  # neither is read here
    assert body["cmd"] == HEREDOC


def test_the_page_shows_a_commands_newlines() -> None:
    css = resources.files("promptster.report").joinpath("static", "report.css").read_text()
    rule: Any = re.search(r"^\.cmd \{([^}]*)\}", css, re.M)
    assert rule is not None and "white-space: pre-wrap" in rule.group(1)
