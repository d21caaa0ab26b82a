"""Output excerpts are rendered as a terminal shows the lines; lines whose only carriage
returns end them (output lines end in CR LF) take a shortcut that must give the same text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promptster.record.shell.commands import _render


def reference(data: bytes) -> str:
    """Every line cell by cell (the rendering before the shortcut)."""
    lines: list[str] = []
    for raw in data.decode("utf-8", "replace").split("\n"):
        cells: list[str] = []
        col = 0
        for ch in raw:
            if ch == "\r":
                col = 0
            elif ch == "\b":
                col = max(col - 1, 0)
            else:
                if col < len(cells):
                    cells[col] = ch
                else:
                    cells.append(ch)
                col += 1
        lines.append("".join(cells).rstrip())
    return "\n".join(lines).strip("\n")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\r\n",
        b"ok\r\n",
        b"one\r\ntwo  \r\r\n\r\nthree",
        b"50%\r100%\r\n",
        b"abc\r  \r\n",
        b"abc\r \tx\n",
        b"ab\bc\r\n",
        b"\r\rtrail",
        b"caf\xc3\xa9 \xff\r\n",
    ],
)
def test_rendering_matches_the_terminal(data: bytes) -> None:
    assert _render(data) == reference(data)


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", " ", "\t", "\r", "\n", "\b", "é", "\x0b"]), max_size=30))
def test_rendering_matches_on_generated_text(chars: list[str]) -> None:
    data = "".join(chars).encode()
    assert _render(data) == reference(data)
