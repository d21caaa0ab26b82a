"""MarkParser: our private marks are cut out of the pty stream, everything else passes
through byte for byte, whatever the read boundaries."""

from __future__ import annotations

import re

from hypothesis import assume, given
from hypothesis import strategies as st

from promptster.record.shell.osc import (
    AltScreen,
    CommandEnd,
    CommandFinished,
    CommandInput,
    CommandStart,
    Item,
    MarkParser,
    OutputStart,
    PromptStart,
    ShellInit,
    UnknownMark,
)

TOKEN = "0123abcd"


def encode(value: str) -> str:
    """What the rc files do: percent-encode '%', ';' and control characters."""
    return re.sub(r"[%;\x00-\x1f\x7f]", lambda m: f"%{ord(m.group()):02X}", value)


def private(kind: str, token: str = TOKEN, end: bytes = b"\x07", **fields: str) -> bytes:
    body = ";".join([token, kind, *(f"{k}={encode(v)}" for k, v in fields.items())])
    return b"\x1b]6973;" + body.encode() + end


def normalized(items: list[Item]) -> list[Item]:
    out: list[Item] = []
    for item in items:
        if isinstance(item, bytes):
            if not item:
                continue
            if out and isinstance(out[-1], bytes):
                out[-1] = out[-1] + item
                continue
        out.append(item)
    return out


def parse_in_chunks(data: bytes, cuts: list[int], **kwargs: int) -> list[Item]:
    parser = MarkParser(TOKEN, **kwargs)
    items: list[Item] = []
    prev = 0
    for cut in [*sorted({c % (len(data) + 1) for c in cuts}), len(data)]:
        items += parser.parse(data[prev:cut])
        prev = cut
    return normalized(items + parser.flush())


def test_private_marks_are_removed_and_decoded() -> None:
    start = private("start", lvl="2", pid="77", t0="1700000000123456", cwd="/w;s", cmd="a\nb%")
    data = b"before" + start + b"after"
    passthrough, marks = MarkParser(TOKEN).feed(data)
    assert passthrough == b"beforeafter"
    assert marks == [CommandStart(2, 77, 1700000000123456, "/w;s", "a\nb%")]


def test_end_and_init_marks() -> None:
    end = private(
        "end", lvl="1", pid="9", exit="130", ran="1", pipe="0 130", t0="5", t1="2005",
        src="history", cwd="/w", cmd="sleep 5",
    )  # fmt: skip
    init = private("init", end=b"\x1b\\", lvl="1", pid="9", shell="bash", ver="5.2.15(1)")
    _, marks = MarkParser(TOKEN).feed(end + init)
    assert marks == [
        CommandEnd(1, 9, 130, True, 5, 2005, "/w", "sleep 5", "history", (0, 130)),
        ShellInit("bash", "5.2.15(1)", 1, 9),
    ]


def test_times_as_bash_prints_epochrealtime() -> None:
    """bash's marks carry EPOCHREALTIME as it is: the locale's decimal point is dropped."""
    marks = []
    for t0, t1 in (("1700000000.123456", "1700000001,000007"), ("1700000000\xb7000001", "9")):
        data = private("end", lvl="1", pid="9", exit="0", ran="1", t0=t0, t1=t1)
        marks += MarkParser(TOKEN).feed(data)[1]
        marks += MarkParser(TOKEN).feed(private("start", lvl="1", pid="9", t0=t0))[1]
    assert [m.ended_us for m in marks if isinstance(m, CommandEnd)] == [1700000001000007, 9]
    assert [m.started_us for m in marks if isinstance(m, CommandStart)] == [
        1700000000123456,
        1700000000000001,
    ]
    bad = private("end", lvl="1", pid="9", ran="1", t0="17.5", t1="x.123456")
    end = MarkParser(TOKEN).feed(bad)[1][0]
    assert isinstance(end, CommandEnd) and end.started_us is None and end.ended_us is None


def test_osc_133_passes_through_and_is_reported() -> None:
    data = b"\x1b]133;A\x07$ \x1b]133;B\x07ls\r\n\x1b]133;C\x07x\x1b]133;D;2\x07\x1b]133;D\x1b\\"
    passthrough, marks = MarkParser(TOKEN).feed(data)
    assert passthrough == data
    assert marks == [
        PromptStart(),
        CommandInput(),
        OutputStart(),
        CommandFinished(2),
        CommandFinished(None),
    ]


def test_marks_with_another_token_are_not_ours() -> None:
    data = private("start", token="ffffffff", lvl="1", cwd="/")
    assert MarkParser(TOKEN).feed(data) == (data, [])
    assert MarkParser(None).feed(data)[0] == b""  # None accepts any token


def test_unknown_kind_is_kept() -> None:
    _, marks = MarkParser(TOKEN).feed(private("future", x="1;2"))
    assert marks == [UnknownMark("future", (("x", "1;2"),))]


def test_private_fields_decode_alike_escaped_or_not() -> None:
    """A mark without "%" is decoded in one go, one with it field by field: same result."""
    parser = MarkParser(TOKEN)
    mark = f"\x1b]6973;{TOKEN};future".encode()
    assert parser.parse(mark + b"\x07") == [UnknownMark("future", ())]
    assert parser.parse(mark + b";\x07") == [UnknownMark("future", (("", ""),))]
    bad = b";k=\xff\xc3;n=1;e"  # invalid UTF-8 next to the separators
    plain = parser.parse(mark + bad + b"\x07")
    escaped = parser.parse(mark + bad + b";z=%25\x07")
    assert plain == [UnknownMark("future", (("e", ""), ("k", "\ufffd\ufffd"), ("n", "1")))]
    assert isinstance(escaped[0], UnknownMark)
    assert escaped[0].fields == (*plain[0].fields, ("z", "%"))


def test_split_at_every_byte() -> None:
    data = b"x\x1b]133;A\x07" + private("start", lvl="1", cmd="echo hi") + b"\x1b[?1049hy"
    whole = normalized(MarkParser(TOKEN).parse(data))
    assert parse_in_chunks(data, list(range(len(data)))) == whole
    assert whole == [b"x\x1b]133;A\x07", PromptStart(), CommandStart(1, 0, None, "", "echo hi"),
                     b"\x1b[?1049h", AltScreen(True), b"y"]  # fmt: skip


def test_alternate_screen_modes() -> None:
    data = b"\x1b[?1049h\x1b[?1049l\x1b[?47h\x1b[?1;1047l\x1b[?25h\x1bc\x1b[31m"
    passthrough, marks = MarkParser(TOKEN).feed(data)
    assert passthrough == data
    assert marks == [AltScreen(True), AltScreen(False), AltScreen(True), AltScreen(False),
                     AltScreen(False)]  # fmt: skip


def test_unterminated_osc_is_bounded_and_flushed_as_data() -> None:
    parser = MarkParser(TOKEN, max_sequence=100)
    head = b"\x1b]6973;" + TOKEN.encode() + b";start;cmd="
    out = parser.parse(head)
    assert out == [] and parser.pending == len(head)
    out += parser.parse(b"a" * 200)
    assert parser.pending == 0
    assert b"".join(i for i in out if isinstance(i, bytes)) == head + b"a" * 200


def test_escape_aborts_an_osc() -> None:
    data = b"\x1b]6973;" + TOKEN.encode() + b";start\x1b[31mred"
    assert MarkParser(TOKEN).feed(data) == (data, [])


def test_flush_releases_a_lone_escape() -> None:
    parser = MarkParser(TOKEN)
    assert parser.parse(b"abc\x1b") == [b"abc"]
    assert parser.pending == 1
    assert parser.flush() == [b"\x1b"]


def test_titles_and_other_sequences_pass_through() -> None:
    data = b"\x1b]0;title\x07\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\\x1bP+q\x1b\\\x1b]69730;x\x07"
    assert MarkParser(TOKEN).feed(data) == (data, [])


# ---- properties ---------------------------------------------------------------------------

_fragments = st.one_of(
    st.binary(max_size=40),
    st.sampled_from([b"\x1b", b"\x1b]", b"\x1b[", b"\x1b[?", b"\x07", b"\x1b\\", b";", b"6973"]),
    st.sampled_from([b"\x1b[?1049h", b"\x1b[?1049l", b"\x1b]133;A\x07", b"\x1b]133;D;1\x1b\\"]),
    st.builds(lambda c, d: private("start", lvl="1", cmd=c, cwd=d), st.text(), st.text()),
    st.builds(lambda c: private("end", exit="0", ran="1", cmd=c), st.text(max_size=30)),
    st.builds(lambda c: private("start", token="zzzz", cmd=c), st.text(max_size=10)),
    # unterminated marks around the max_sequence bound used below
    st.builds(lambda n: private("start", cmd="a" * n)[:-1], st.integers(30, 90)),
    st.builds(lambda n: b"\x1b]133;" + b"b" * n, st.integers(50, 70)),
)


@given(st.lists(_fragments, max_size=12), st.data())
def test_any_split_gives_the_same_bytes_and_marks(
    fragments: list[bytes], data: st.DataObject
) -> None:
    stream = b"".join(fragments)
    parser = MarkParser(TOKEN, max_sequence=64)  # small, so the overflow path is exercised
    whole = normalized(parser.parse(stream) + parser.flush())
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=12))
    assert parse_in_chunks(stream, cuts, max_sequence=64) == whole
    # one byte at a time puts a read boundary inside every sequence
    assert parse_in_chunks(stream, list(range(len(stream))), max_sequence=64) == whole


@given(st.binary(), st.lists(st.integers(min_value=0), max_size=8))
def test_streams_without_our_marks_pass_through_unchanged(data: bytes, cuts: list[int]) -> None:
    assume(b"6973;" + TOKEN.encode() not in data)
    items = parse_in_chunks(data, cuts)
    assert b"".join(i for i in items if isinstance(i, bytes)) == data


@given(st.text(), st.text())
def test_command_text_round_trips(command: str, cwd: str) -> None:
    _, marks = MarkParser(TOKEN).feed(private("start", lvl="3", pid="1", cmd=command, cwd=cwd))
    assert marks == [CommandStart(3, 1, None, cwd, command or None)]
