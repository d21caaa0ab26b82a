"""The model-API recorder against a scripted upstream: what passes, what is recorded, and each
fault of issue 14 (client gone mid-stream, upstream error, upstream silent, huge body, budget)."""

from __future__ import annotations

import hashlib
import json
import socket
from collections.abc import Iterator

import pytest
from proxy_support import STREAM, RunningProxy, Upstream, messages_body, post, wait_for


@pytest.fixture
def upstream(request: pytest.FixtureRequest) -> Iterator[Upstream]:
    server = Upstream(getattr(request, "param", "stream"))
    yield server
    server.close()


@pytest.fixture
def proxy(upstream: Upstream) -> Iterator[RunningProxy]:
    running = RunningProxy({"anthropic": upstream.url, "openai": upstream.url})
    yield running
    running.close()


def test_a_stream_passes_unchanged_and_is_recorded(upstream: Upstream, proxy: RunningProxy) -> None:
    status, body = post(proxy.port, "/v1/messages", messages_body("add a mul helper"))
    assert status == 200
    assert body == STREAM  # byte for byte what the provider sent
    wait_for(lambda: proxy.of("ai_response"))
    [prompt] = proxy.of("prompt")
    [reply] = proxy.of("ai_response")
    assert prompt["source"] == {
        "channel": "proxy",
        "integration": "proxy",
        "emitter": "promptster-proxy",
    }
    assert prompt["data"]["text"] == "add a mul helper"
    data = reply["data"]
    assert data["text"] == "Hello world"
    assert data["model"] == "claude-sonnet-4-5"
    assert (data["inputTokens"], data["outputTokens"]) == (1600, 200)  # cache included
    assert (data["cachedInputTokens"], data["cacheWriteTokens"]) == (500, 100)
    assert data["costUsd"] > 0 and data["endReason"] == "complete"
    assert "partial" not in data and data["stopReason"] == "end_turn"


def test_a_tool_result_turn_is_no_new_prompt(upstream: Upstream, proxy: RunningProxy) -> None:
    body = {
        "model": "claude-sonnet-4-5",
        "stream": True,
        "messages": [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "Bash"}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t"}]},
        ],
    }
    post(proxy.port, "/v1/messages", json.dumps(body).encode())
    wait_for(lambda: proxy.of("ai_response"))
    assert proxy.of("prompt") == []


@pytest.mark.parametrize("upstream", ["half"], indirect=True)
def test_client_gone_mid_stream_closes_upstream_and_records_partial(
    upstream: Upstream, proxy: RunningProxy
) -> None:
    conn = socket.create_connection(("127.0.0.1", proxy.port))
    body = messages_body()
    conn.sendall(
        b"POST /v1/messages HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n"
        + f"content-length: {len(body)}\r\n\r\n".encode()
        + body
    )
    received = b""
    while b"Hello" not in received:
        received += conn.recv(65536)
    conn.close()  # the tool gives up half way
    assert upstream.gone.wait(60), "the upstream request was not closed"
    [reply] = wait_for(lambda: proxy.of("ai_response"))
    data = reply["data"]
    assert data["partial"] is True and data["endReason"] == "client_disconnected"
    assert data["text"] == "Hello " and data["inputTokens"] == 1600


@pytest.mark.parametrize("upstream", ["error"], indirect=True)
def test_upstream_error_passes_unchanged_and_is_recorded(
    upstream: Upstream, proxy: RunningProxy
) -> None:
    status, body = post(proxy.port, "/v1/messages", messages_body())
    assert status == 529
    assert body == b'{"type":"error","error":{"type":"overloaded_error","message":"busy"}}'
    [reply] = wait_for(lambda: proxy.of("ai_response"))
    assert reply["data"]["httpStatus"] == 529
    assert reply["data"]["endReason"] == "upstream_error"
    assert "overloaded_error" in reply["data"]["error"]


@pytest.mark.parametrize("upstream", ["silent"], indirect=True)
def test_a_silent_upstream_hangs_nothing(upstream: Upstream, proxy: RunningProxy) -> None:
    with pytest.raises(TimeoutError):  # the tool's own timeout applies
        post(proxy.port, "/v1/messages", messages_body(), timeout=1.0)
    assert upstream.gone.wait(60), "the proxy kept waiting for an upstream nobody waits for"
    [reply] = wait_for(lambda: proxy.of("ai_response"))
    assert reply["data"]["endReason"] == "client_disconnected"
    assert reply["data"]["partial"] is True
    upstream.mode = "stream"  # and the recorder still serves
    assert post(proxy.port, "/v1/messages", messages_body())[1] == STREAM


def test_upstream_down_gives_a_provider_shaped_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    running = RunningProxy({"anthropic": dead, "openai": dead})
    try:
        status, body = post(running.port, "/v1/messages", messages_body())
        assert status == 502
        error = json.loads(body)
        assert error["type"] == "error" and "could not reach" in error["error"]["message"]
        [reply] = wait_for(lambda: running.of("ai_response"))
        assert reply["data"]["endReason"] == "upstream_unreachable"
    finally:
        running.close()


@pytest.mark.parametrize("size_mb", [10, 20])
def test_a_body_of_many_megabytes_is_streamed_and_bounded(
    upstream: Upstream, proxy: RunningProxy, size_mb: int
) -> None:
    body = messages_body("x" * (size_mb * 1024 * 1024))
    status, reply_body = post(proxy.port, "/v1/messages", body)
    assert status == 200 and reply_body == STREAM
    assert upstream.bodies == [(len(body), hashlib.sha256(body).hexdigest())]
    [reply] = wait_for(lambda: proxy.of("ai_response"))
    assert reply["data"]["requestBytes"] == len(body)
    prompts = proxy.of("prompt")
    if size_mb == 10:  # read, and the prompt's text bounded in the event
        assert prompts[0]["data"]["truncated"] is True
        assert prompts[0]["data"]["length"] == size_mb * 1024 * 1024
        assert len(prompts[0]["data"]["text"]) == 64 * 1024
    else:  # past what the recorder reads: passed on, not read
        assert prompts == [] and reply["data"]["requestUnread"] is True
    assert all(len(json.dumps(e)) < 200_000 for e in proxy.events)


def test_credentials_pass_through_and_are_never_in_an_event(
    upstream: Upstream, proxy: RunningProxy
) -> None:
    secret = "sk-ant-api03-PASSTHROUGHsecret0123456789"
    headers = {"x-api-key": secret, "authorization": f"Bearer {secret}"}
    post(proxy.port, "/v1/messages", messages_body(), headers)
    sent = {name.lower(): value for name, value in upstream.headers[0].items()}
    assert sent["x-api-key"] == secret and sent["authorization"] == f"Bearer {secret}"
    wait_for(lambda: proxy.of("ai_response"))
    assert secret not in json.dumps(proxy.events)


def test_past_the_budget_requests_are_refused_in_the_providers_shape(upstream: Upstream) -> None:
    running = RunningProxy({"anthropic": upstream.url, "openai": upstream.url}, budget_usd=0.001)
    try:
        assert post(running.port, "/v1/messages", messages_body())[0] == 200
        wait_for(lambda: running.of("ai_response"))
        assert running.of("ai_response")[0]["data"]["costUsd"] >= 0.001
        status, body = post(running.port, "/v1/messages", messages_body())
        assert status == 402
        error = json.loads(body)
        assert error["type"] == "error" and "token budget of $0.00" in error["error"]["message"]
        status, body = post(running.port, "/v1/chat/completions", b'{"model": "gpt-4o"}')
        assert status == 402 and json.loads(body)["error"]["code"] == "budget_exceeded"
        assert len(upstream.bodies) == 1  # refused requests never reach the provider
        warnings = running.of("warning")
        assert [w["data"]["code"] for w in warnings] == ["token_budget_exceeded"] * 2
    finally:
        running.close()
