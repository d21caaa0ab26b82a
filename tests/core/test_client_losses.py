"""The client loss ledger's fixed-size record: round trip, and garbage reads as no loss."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from promptster.protocol import CLIENT_LOSSES_SIZE, client_losses_record, parse_client_losses

kinds = st.dictionaries(st.text(min_size=1, max_size=64), st.integers(1, 10**6), max_size=32)


@given(st.integers(0, 10**9), kinds)
def test_record_round_trips_or_keeps_the_count(count: int, by_kind: dict[str, int]) -> None:
    record = client_losses_record(count, by_kind)
    assert len(record) == CLIENT_LOSSES_SIZE  # rewritten in place: always the same size
    parsed_count, parsed_kinds = parse_client_losses(record)
    assert parsed_count == count
    assert parsed_kinds in (by_kind, {})  # kinds are dropped only when they do not fit


@given(st.binary(max_size=CLIENT_LOSSES_SIZE))
def test_any_bytes_parse_without_error(raw: bytes) -> None:
    count, by_kind = parse_client_losses(raw)
    assert count >= 0 and all(v > 0 for v in by_kind.values())


def test_an_allocated_but_unwritten_ledger_is_no_loss() -> None:
    assert parse_client_losses(b"\0" * CLIENT_LOSSES_SIZE) == (0, {})
    assert parse_client_losses(b'{"open": -3, "kinds": []}') == (0, {})
