"""The pty loop's MarkStripper hides exactly what MarkParser strips, however the stream is cut."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from promptster.record.shell.osc import MarkParser
from promptster.record.shell.osc_strip import MarkStripper

TOKEN = "abc123"
PIECES = [
    b"hello ",
    b"\x1b]6973;abc123;start;lvl=1;cmd=ls%20-la\x07",
    b"\x1b]6973;abc123;end;exit=0\x1b\\",
    b"\x1b]133;C\x07",
    b"\x1b]133;D;0\x07",
    b"\x1b[?1049h",
    b"out\r\n",
    b"\x1b]6973;someone-else;start\x07",
    b"\x1b]6973;abc123;aborted\x1b[31m",
    b"\x1b",
    b"\x1b]6973;abc12",
    b"\x1b]6973;abc123;",
    "é✓".encode(),
]


def split(stream: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(stream) + 1) for c in cuts} | {0, len(stream)})
    return [stream[a:b] for a, b in itertools.pairwise(points)]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(PIECES), max_size=14),
    st.lists(st.integers(min_value=0, max_value=10_000), max_size=10),
)
def test_stripper_agrees_with_the_parser(pieces: list[bytes], cuts: list[int]) -> None:
    stream = b"".join(pieces)
    parser, stripper = MarkParser(TOKEN), MarkStripper(TOKEN)
    expected: list[bytes] = []
    got: list[bytes] = []
    for chunk in split(stream, cuts):
        expected += [i for i in parser.parse(chunk) if isinstance(i, bytes)]
        got.append(stripper.strip(chunk))
    expected += [i for i in parser.flush() if isinstance(i, bytes)]
    got.append(stripper.flush())
    assert b"".join(got) == b"".join(expected)


def test_an_unterminated_mark_is_data_past_the_limit() -> None:
    stripper = MarkStripper(TOKEN, max_sequence=64)
    start = b"\x1b]6973;abc123;start;"
    assert stripper.strip(start) == b""
    assert stripper.pending == len(start)
    out = stripper.strip(b"x" * 100)
    assert out == start + b"x" * 100 and stripper.pending == 0


def test_the_common_case_returns_the_read_itself() -> None:
    data = b"plain output\r\n\x1b[31mred\x1b[0m\r\n"
    assert MarkStripper(TOKEN).strip(data) is data
