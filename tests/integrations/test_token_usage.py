"""Token usage under one set of names, whatever the tool reports (docs/event-kinds.md)."""

from __future__ import annotations

from promptster.integrations.claude import events as ce


def test_anthropic_usage_adds_the_cache_reads_and_writes_to_the_input() -> None:
    usage = {
        "input_tokens": 10,
        "cache_read_input_tokens": 900,
        "cache_creation_input_tokens": 90,
        "output_tokens": 40,
    }
    assert ce.usage_fields(usage) == {
        "inputTokens": 1000,
        "outputTokens": 40,
        "cachedInputTokens": 900,
        "cacheWriteTokens": 90,
    }


def test_openai_style_usage_already_counts_its_cached_tokens() -> None:
    usage = {"input_tokens": 1000, "cached_input_tokens": 900, "output_tokens": 5}
    assert ce.usage_fields(usage) == {
        "inputTokens": 1000,
        "outputTokens": 5,
        "cachedInputTokens": 900,
    }


def test_zero_cache_counts_and_bad_values_are_left_out() -> None:
    usage = {"input_tokens": 7, "cache_read_input_tokens": 0, "output_tokens": -1}
    assert ce.usage_fields(usage) == {"inputTokens": 7}
    assert ce.usage_fields({"input_tokens": True, "output_tokens": "3"}) == {}
    assert ce.usage_fields(None) == {}


def test_a_reply_event_carries_the_normalised_fields() -> None:
    ctx = ce.Context(lane="main", workspace="/w", prompt_id="p", channel="import")
    event = ce.ai_response_event(
        ctx,
        "done",
        model="claude-sonnet-4-5",
        usage={"input_tokens": 3, "cache_read_input_tokens": 5, "output_tokens": 2},
    )
    assert event["data"]["inputTokens"] == 8
    assert event["data"]["cachedInputTokens"] == 5
    assert "cacheWriteTokens" not in event["data"]
