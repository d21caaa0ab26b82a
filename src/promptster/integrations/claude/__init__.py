"""Claude Code: hook payloads → events, the hook command, per-workspace settings, transcripts.

`hook` runs in Claude Code's process on every prompt and tool call: it and the normaliser
(`events`, `tool_events`, `values`) import only the standard library, `promptster.protocol`,
`promptster.formats` and (lazily) `promptster.runs`."""
