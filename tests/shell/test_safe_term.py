"""The replay filter passes what draws the session and drops every other control sequence,
however the stream is cut into events."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promptster.record.shell.safe_term import MAX_SEQUENCE, TerminalFilter, sanitize

# What draws the session: kept byte for byte.
KEPT = [
    "plain text é✓ 漢字",
    "\r\n\t\b",
    "\x1b[0m\x1b[1;31m\x1b[38;2;10;20;30m\x1b[48:5:200m",  # SGR
    "\x1b[H\x1b[12;40H\x1b[3A\x1b[2B\x1b[C\x1b[D\x1b[5G\x1b[7d\x1b[2;3f",  # cursor movement
    "\x1b[2J\x1b[K\x1b[1K\x1b[?2J\x1b[3X\x1b[2P\x1b[4@\x1b[2L\x1b[3M",  # erase, insert, delete
    "\x1b[?1049h\x1b[?1049l\x1b[?47h\x1b[?1047l",  # the alternate screen
    "\x1b[?25l\x1b[?25h\x1b[?7h",  # cursor visibility, autowrap
    "\x1b[5;20r\x1b[r\x1b[2S",  # scroll region, scroll up
    "\x1b7\x1b8\x1b[s\x1b[u\x1bM\x1bD\x1bE",  # save / restore, index
    "\x1b(0lqk\x1b(B",  # line drawing
    "\x1b[2 q",  # cursor shape
]

# One of each hostile class: dropped whole, nothing of it printed.
DROPPED = {
    "osc52 clipboard": "\x1b]52;c;ZWNobyBwd25lZA==\x07",
    "osc52 clipboard, ST": "\x1b]52;c;ZWNobyBwd25lZA==\x1b\\",
    "osc8 link": "\x1b]8;;javascript:alert(1)\x1b\\",
    "osc0 title": "\x1b]0;pwned\x07",
    "osc2 title": "\x1b]2;pwned\x07",
    "osc1337 file": "\x1b]1337;File=name=eC5zaA==;inline=1:AAAA\x07",
    "osc4 palette": "\x1b]4;1;rgb:ff/00/00\x07",
    "osc133 mark": "\x1b]133;A\x07",
    "8-bit osc": "\x9d0;pwned\x9c",
    "dcs request": "\x1bP$qm\x1b\\",
    "dcs sixel": "\x1bPq#0;2;0;0;0~-\x1b\\",
    "8-bit dcs": "\x90$qm\x9c",
    "apc": "\x1b_Gf=100;AAAA\x1b\\",
    "pm": "\x1b^private\x1b\\",
    "sos": "\x1bXstring\x1b\\",
    "device status": "\x1b[6n",
    "device status 5": "\x1b[5n",
    "device attributes": "\x1b[c",
    "secondary attributes": "\x1b[>c",
    "DECID": "\x1bZ",
    "mode report": "\x1b[?2004$p",
    "window report": "\x1b[18t",
    "window resize": "\x1b[8;100;300t",
    "bracketed paste": "\x1b[?2004h",
    "mouse tracking": "\x1b[?1000h\x1b[?1006h",
    "kitty keyboard query": "\x1b[?u",
    "modifyOtherKeys": "\x1b[>4;2m",
    "xterm graphics query": "\x1b[?1;1;0S",
    "keypad mode": "\x1b=\x1b>",
    "DECALN": "\x1b#8",
    "8-bit csi request": "\x9b6n",
    "bell": "\x07",
    "shift out": "\x0e",
    "over-long csi": "\x1b[" + "1;" * MAX_SEQUENCE + "m",
    "huge parameter": "\x1b[999999999C",
}


@pytest.mark.parametrize("text", KEPT)
def test_what_draws_the_session_passes_unchanged(text: str) -> None:
    assert sanitize(text) == text


@pytest.mark.parametrize("name", sorted(DROPPED))
def test_each_hostile_class_is_dropped_whole(name: str) -> None:
    assert sanitize(f"a{DROPPED[name]}b") == "ab", name


def test_full_reset_becomes_clear_screen() -> None:
    assert sanitize("x\x1bcy") == "x\x1b[0m\x1b[H\x1b[2Jy"


def test_unterminated_string_swallows_to_the_end_but_a_new_sequence_ends_it() -> None:
    assert sanitize("a\x1b]52;c;AAAA") == "a"
    assert sanitize("a\x1b]0;title\x1b[31mred") == "a\x1b[31mred"
    assert sanitize("a\x1b]0;title\x18b") == "ab"  # CAN aborts


def test_a_control_inside_a_sequence_drops_the_sequence_and_keeps_the_control() -> None:
    assert sanitize("a\x1b[3\r\nb") == "a\r\nb"
    assert sanitize("a\x1b[\x1b[31mb") == "a\x1b[31mb"


def test_sequences_split_across_events() -> None:
    terminal = TerminalFilter()
    pieces = ["a\x1b", "]52;c;", "QUFB", "\x1b", "\\b\x1b[", "31", "m", "c\x1b", "[6", "n"]
    out = "".join(terminal.feed(p) for p in pieces) + terminal.flush()
    assert out == "ab\x1b[31mc"


# -- properties ------------------------------------------------------------------------------

ATOMS = [*KEPT, *DROPPED.values(), "\x1b", "\x1b[", "\x1b]", "\x9b", "\x9d", "\x07", "\x1b\\"]
streams = st.lists(st.one_of(st.sampled_from(ATOMS), st.text(max_size=8)), max_size=30).map("".join)
# After filtering, an ESC may only begin one of the sequences the allow-list keeps.
_OUT_ESC = re.compile(r"\x1b(?:\[[0-9;:? ]*[@A-Za-z`]|[78DEM]|[()][0AB])")
_FORBIDDEN = re.compile("[\x00-\x07\x0e-\x1a\x1c-\x1f\x7f-\x9f]|\x1b[\\]P_^X\\\\]")


@settings(max_examples=400, deadline=None)
@given(streams)
def test_output_never_carries_a_forbidden_sequence(text: str) -> None:
    out = sanitize(text)
    assert not _FORBIDDEN.search(out), repr(out)
    assert all(_OUT_ESC.match(out, m.start()) for m in re.finditer("\x1b", out)), repr(out)


@settings(max_examples=300, deadline=None)
@given(streams, st.lists(st.integers(min_value=0, max_value=400), max_size=12))
def test_the_result_does_not_depend_on_where_the_stream_is_cut(text: str, cuts: list[int]) -> None:
    bounds = sorted({min(c, len(text)) for c in cuts} | {0, len(text)})
    terminal = TerminalFilter()
    pieces = [text[a:b] for a, b in itertools.pairwise(bounds)]
    out = "".join(terminal.feed(p) for p in pieces) + terminal.flush()
    assert out == sanitize(text)


@settings(max_examples=300, deadline=None)
@given(streams)
def test_filtering_twice_changes_nothing(text: str) -> None:
    once = sanitize(text)
    assert sanitize(once) == once


@given(st.text(alphabet=st.characters(min_codepoint=0x20, blacklist_categories=("Cc", "Cs"))))
def test_printable_text_passes_unchanged(text: str) -> None:
    assert sanitize(text) == text
