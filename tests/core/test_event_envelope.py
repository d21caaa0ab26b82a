"""The event envelope, its timestamps, and the timeline's line and chain rules."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from promptster.errors import FormatError
from promptster.formats.events import KNOWN_KINDS, Event, Kind, format_ts, make_event, parse_ts
from promptster.formats.timeline import chain_head, genesis_hash, iter_chain, line_hash, split_lines


def sample() -> Event:
    return make_event(
        Kind.PROMPT,
        {"text": "hi", "length": 2, "lane": "l1"},
        channel="hook",
        integration="claude-code",
        emitter="promptster-hook",
        actor="human",
        attribution="likely_human",
        confidence=1.0,
        observability="high",
        ts="2026-03-02T10:00:00.000Z",
    )


class TestEnvelope:
    def test_line_is_canonical_with_every_envelope_field(self) -> None:
        event = sample()
        event.seq, event.prev = 3, "sha256:" + "a" * 64
        body = json.loads(event.to_line())
        assert list(body) == sorted(body)
        assert set(body) == {
            "v", "id", "seq", "ts", "kind", "source", "actor", "provenance", "data", "prev"
        }  # fmt: skip
        assert body["source"] == {
            "channel": "hook",
            "integration": "claude-code",
            "emitter": "promptster-hook",
        }
        assert body["provenance"]["attribution"] == "likely_human"
        assert b" " not in event.to_line().replace(b'"text":"hi"', b"")

    def test_round_trip_keeps_unknown_kinds_and_fields(self) -> None:
        body = json.loads(sample().to_line())
        body.update(kind="hologram_call", futureField={"x": [1, 2]}, v=2)
        body["data"]["newThing"] = True
        event = Event.from_dict(body)
        assert not event.is_known_kind
        assert event.extra == {"futureField": {"x": [1, 2]}}
        assert json.loads(event.to_line()) == body

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"seq": True}, "'seq' has the wrong type"),
            ({"seq": "1"}, "'seq' has the wrong type"),
            ({"data": []}, "'data' has the wrong type"),
            ({"v": 1.0}, "'v' has the wrong type"),
            ({"source": "cli"}, "'source' has the wrong type"),
        ],
    )
    def test_from_dict_names_the_bad_field(self, change: dict[str, object], message: str) -> None:
        body = json.loads(sample().to_line()) | change
        with pytest.raises(FormatError, match=message):
            Event.from_dict(body)

    def test_from_dict_lists_missing_fields(self) -> None:
        with pytest.raises(FormatError, match="event lacks id, seq"):
            Event.from_dict({"v": 1, "ts": "x", "kind": "note", "data": {}})
        with pytest.raises(FormatError, match="not a JSON object"):
            Event.from_dict([])

    def test_kinds_are_the_hosted_products_set_plus_note_and_warning(self) -> None:
        assert len(KNOWN_KINDS) == 19
        assert {"session_start", "file_diff", "decision_event", "note", "warning"} <= KNOWN_KINDS


class TestTimestamps:
    def test_format(self) -> None:
        moment = datetime(2026, 3, 2, 11, 0, 0, 123987, tzinfo=timezone(timedelta(hours=1)))
        assert format_ts(moment) == "2026-03-02T10:00:00.123Z"

    def test_parse_accepts_offsets_and_z(self) -> None:
        assert parse_ts("2026-03-02T11:00:00+01:00") == datetime(2026, 3, 2, 10, tzinfo=UTC)
        assert parse_ts("2026-03-02T10:00:00.5Z").microsecond == 500_000

    @pytest.mark.parametrize("text", ["yesterday", "2026-03-02T10:00:00", "", "2026-13-01T00:00Z"])
    def test_parse_rejects(self, text: str) -> None:
        with pytest.raises(FormatError):
            parse_ts(text)

    @given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9999, 1, 1)))
    def test_format_is_fixed_width_and_ordered_like_time(self, naive: datetime) -> None:
        text = format_ts(naive.replace(tzinfo=UTC))
        assert len(text) == 24
        assert parse_ts(text) == naive.replace(
            tzinfo=UTC, microsecond=naive.microsecond // 1000 * 1000
        )


class TestChain:
    def test_genesis_is_the_hash_of_the_session_id(self) -> None:
        assert genesis_hash("abc") == "sha256:" + hashlib.sha256(b"abc").hexdigest()

    def test_line_hash_excludes_the_newline(self) -> None:
        assert line_hash(b"{}") == "sha256:" + hashlib.sha256(b"{}").hexdigest()

    def test_split_lines_separates_a_torn_tail(self) -> None:
        split = split_lines(b'{"a":1}\n{"b":2}\n{"c":')
        assert split.lines == [b'{"a":1}', b'{"b":2}']
        assert split.torn_tail == b'{"c":'
        assert split.complete_bytes == 16

    @pytest.mark.parametrize("data", [b"", b"\n", b"partial"])
    def test_split_lines_edge_cases(self, data: bytes) -> None:
        split = split_lines(data)
        assert b"\n".join(split.lines) + (b"\n" if split.lines else b"") + split.torn_tail == data

    def test_iter_chain_and_head(self) -> None:
        lines = [b"one", b"two", b"three"]
        expected = [prev for _, _, prev in iter_chain(lines, "s")]
        assert expected == [genesis_hash("s"), line_hash(b"one"), line_hash(b"two")]
        assert chain_head(lines, "s") == line_hash(b"three")
        assert chain_head([], "s") == genesis_hash("s")
