"""asciicast v2 writing and reading: valid JSON whatever the bytes, exact timing through the
redactor, resizes in stream order, the size cap, and what submit takes from the casts folder."""

from __future__ import annotations

import json
import random
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from promptster.record.redact.redactor import redact_text
from promptster.record.shell.cast import (
    CastEncoder,
    CastFile,
    CastHeader,
    collect_casts,
    complete_lines,
    new_cast_path,
)
from promptster.record.shell.cast_reader import read_cast

SECRET = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


def encode(chunks: list[tuple[float, bytes]], **options: object) -> list[list[object]]:
    encoder = CastEncoder(**options)  # type: ignore[arg-type]
    lines: list[bytes] = []
    for t, data in chunks:
        lines += encoder.output(t, data)
    lines += encoder.finish()
    return [json.loads(line) for line in lines]


def text_of(events: list[list[object]]) -> str:
    return "".join(str(e[2]) for e in events if e[1] == "o")


def test_utf8_split_across_reads_survives() -> None:
    data = "héllo wörld ✓ 🙂\r\n".encode()
    chunks = [(i * 0.01, data[i : i + 1]) for i in range(len(data))]
    events = encode(chunks, coalesce=0.0)
    assert text_of(events) == data.decode()
    assert "\ufffd" not in text_of(events)


def test_binary_and_invalid_utf8_give_valid_json_with_replacement_characters() -> None:
    blob = bytes(range(256)) * 4 + b"\xc3(\xe2\x28\xa1\xf0\x90\x28\xbc\r\n"
    events = encode([(0.0, blob[:500]), (0.5, blob[500:])])
    assert text_of(events) == blob.decode("utf-8", "replace")
    assert all(isinstance(e[2], str) for e in events)


def test_a_one_megabyte_line_is_one_valid_cast() -> None:
    line = b"x" * (1024 * 1024) + b"\r\n"
    chunks = [(i / 1000, line[i : i + 4096]) for i in range(0, len(line), 4096)]
    events = encode(chunks)
    assert text_of(events) == line.decode()
    times = [float(e[0]) for e in events]  # type: ignore[arg-type]
    assert times == sorted(times)
    assert len(events) > 1  # the redactor cuts long lines; the timing follows the reads


def test_timing_is_kept_through_the_redactor_hold() -> None:
    # the prompt has no line break, so the redactor holds it; it must keep its own time
    events = encode(
        [(0.1, b"user$ "), (0.5, b"l"), (0.6, b"s\r\n"), (0.9, b"a  b\r\n")], coalesce=0.0
    )
    assert [(e[0], e[2]) for e in events] == [
        (0.1, "user$ "),
        (0.5, "l"),
        (0.6, "s\r\n"),
        (0.9, "a  b\r\n"),
    ]


def test_a_secret_split_across_reads_is_redacted_and_timed_where_it_began() -> None:
    chunks = [(1.0, b"export T="), (2.0, SECRET[:9].encode()), (3.0, SECRET[9:].encode())]
    events = encode([*chunks, (4.0, b"\r\ndone\r\n")], coalesce=0.0)
    assert SECRET not in text_of(events)
    assert "[REDACTED:" in text_of(events)
    assert [e[0] for e in events] == [1.0, 2.0, 4.0]
    redacted = next(e for e in events if "[REDACTED:" in str(e[2]))
    assert redacted[0] == 2.0


def test_findings_are_reported_once() -> None:
    encoder = CastEncoder()
    encoder.output(0.0, f"token {SECRET}\r\n".encode())
    found = encoder.take_findings()
    assert [f.kind for f in found] == ["github_token"]
    assert encoder.take_findings() == []


def test_a_resize_while_text_is_held_is_written_after_that_text() -> None:
    encoder = CastEncoder(coalesce=0.0)
    lines = encoder.output(0.1, b"prompt$ ")
    lines += encoder.resize(0.2, 100, 40)
    lines += encoder.output(0.3, b"\r\n")
    lines += encoder.finish()
    events = [json.loads(line) for line in lines]
    assert [(e[0], e[1]) for e in events] == [(0.1, "o"), (0.2, "r"), (0.3, "o")]
    assert events[1][2] == "100x40"


def test_output_within_the_coalescing_window_is_one_event() -> None:
    events = encode([(0.0, b"a\r\n"), (0.001, b"b\r\n"), (0.5, b"c\r\n")], coalesce=0.004)
    assert [(e[0], e[2]) for e in events] == [(0.0, "a\r\nb\r\n"), (0.5, "c\r\n")]


def test_idle_writes_the_coalesced_event_once_its_window_passed() -> None:
    encoder = CastEncoder(coalesce=0.004)
    assert encoder.output(1.0, b"hello\r\n") == []
    assert encoder.idle(1.001) == []
    assert [json.loads(x) for x in encoder.idle(1.01)] == [[1.0, "o", "hello\r\n"]]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.binary(max_size=300), max_size=30),
    st.integers(min_value=0, max_value=2**32),
)
def test_any_bytes_in_any_reads_make_a_valid_cast(parts: list[bytes], seed: int) -> None:
    rng = random.Random(seed)
    t = 0.0
    chunks = []
    for part in parts:
        t += rng.choice([0.0, 0.001, 0.5])
        chunks.append((t, part))
    events = encode(chunks, redact=False)
    assert text_of(events) == b"".join(parts).decode("utf-8", "replace")
    times = [float(e[0]) for e in events]  # type: ignore[arg-type]
    assert times == sorted(times)


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=2**32))
def test_redacted_stream_equals_redact_text_of_the_whole(seed: int) -> None:
    rng = random.Random(seed)
    words = ["ls -la\r\n", "password=hunter2hunter2\n", SECRET, " ", "é", "\x1b[31m", "ok\r\n"]
    stream = "".join(rng.choice(words) for _ in range(40)).encode()
    cuts = sorted(rng.sample(range(1, len(stream)), min(12, len(stream) - 1)))
    bounds = zip([0, *cuts], [*cuts, None], strict=True)
    chunks = [(i * 0.01, stream[a:b]) for i, (a, b) in enumerate(bounds)]
    events = encode(chunks)
    assert text_of(events) == redact_text(stream.decode("utf-8", "replace")).text


def header() -> CastHeader:
    return CastHeader(120, 40, 1_700_000_000.25, env={"SHELL": "/bin/bash"}, session_id="s-1")


def test_cast_file_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "0.cast"
    cast = CastFile(path, header())
    cast.write(CastEncoder().output(0.5, b"hello\r\n") + CastEncoder().resize(0.6, 90, 30))
    cast.close(1.0)
    recording = read_cast(path.read_bytes())
    assert (recording.width, recording.height) == (120, 40)
    assert recording.header["promptster"] == {"startedAt": 1_700_000_000.25, "sessionId": "s-1"}
    assert recording.header["timestamp"] == 1_700_000_000
    assert recording.events == [(0.6, "r", "90x30")]  # the hello is still coalescing: fine


def test_cast_file_stops_at_its_size_cap_with_a_marker(tmp_path: Path) -> None:
    path = tmp_path / "0.cast"
    cast = CastFile(path, header(), max_bytes=2000)
    encoder = CastEncoder(redact=False, coalesce=0.0)
    for i in range(100):
        cast.write(encoder.output(i * 0.1, b"0123456789" * 5 + b"\r\n"))
    cast.close(11.0)
    assert path.stat().st_size < 2300
    recording = read_cast(path.read_bytes())
    assert recording.events[-1][1] == "m"
    assert "size limit" in recording.events[-1][2]
    assert cast.dropped > 0


def test_read_cast_accepts_v3_intervals_and_skips_broken_lines() -> None:
    data = b'{"version": 3, "term": {"cols": 100, "rows": 30}}\n'
    data += b'[0.5, "o", "a"]\n# a comment\nnot json\n[0.25, "o", "b"]\n[1, "x", "0"]\n'
    recording = read_cast(data)
    assert (recording.width, recording.height) == (100, 30)
    assert recording.events == [(0.5, "o", "a"), (0.75, "o", "b"), (1.75, "x", "0")]
    assert recording.skipped == 1


def test_read_cast_refuses_what_is_not_a_cast() -> None:
    for data in (b"", b"PK\x03\x04", b'{"version": 1}\n', b"[1, 2]\n"):
        try:
            read_cast(data)
        except Exception as exc:
            assert "asciicast" in str(exc)
        else:
            raise AssertionError(data)


def test_complete_lines_cuts_a_torn_tail_and_later_events() -> None:
    data = b'{"version": 2}\n[0.100000, "o", "a"]\n[5.000000, "o", "b"]\n[9.0, "o", "c'
    assert complete_lines(data) == data[: data.rfind(b"\n") + 1]
    assert complete_lines(data, until=1.0) == b'{"version": 2}\n[0.100000, "o", "a"]\n'


def test_collect_casts_in_number_order_cut_at_the_session_end(tmp_path: Path) -> None:
    numbers = [new_cast_path(tmp_path)[0] for _ in range(3)]
    assert numbers == [0, 1, 2]
    casts = tmp_path / "casts"
    for n, start in ((0, 1000.0), (1, 1010.0), (2, 2000.0)):
        cast = CastFile(casts / f"{n}.cast", CastHeader(80, 24, start))
        cast.write([b'[1.000000, "o", "early"]\n', b'[50.000000, "o", "late"]\n'])
        cast.close(60.0)
    (casts / "10.cast").write_bytes(b"garbage\n")  # not a cast: left out
    collected = collect_casts(tmp_path, ended_epoch=1030.0)
    assert len(collected) == 2  # cast 2 began after the end
    assert b"early" in collected[0] and b"late" not in collected[0]
    assert b"early" in collected[1] and b"late" not in collected[1]
    assert collect_casts(tmp_path)[2].count(b"\n") == 3  # without an end: header, two events
