"""The local model-API recorder (`promptster proxy`): an HTTP server on 127.0.0.1 that forwards
Anthropic Messages and OpenAI Chat Completions / Responses requests to the real provider,
streams each reply back chunk by chunk, unchanged, and records the prompt, the reply, the model
and the token usage as `prompt` / `ai_response` events with `source.channel = "proxy"`.

`control` (stdlib only) starts, finds and stops the session's proxy process; `main` is that
process; `server` the aiohttp application; `apis` reads requests, `replies` reads replies
(streamed or not) for usage; `exchange` turns one request and its reply into events; `sink`
delivers them to the recorder (or its spool) off the event loop; `budget` refuses requests once
the assessment's token budget is spent. See docs/integrations/api-recorder.md.
"""
