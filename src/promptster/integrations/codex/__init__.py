"""Codex CLI: rollout records → events, the rollout watcher, the launcher's overrides, the hook.

`events` normalises rollout records through the Claude Code normaliser (same event kinds);
`rollout` finds this workspace's rollout files, tails them for the recorder and backfills them
at the end; `setup` builds the `promptster codex` launcher's `-c` overrides (MCP server, hooks)
and the doctor checks; `hook` is `promptster hook codex`."""
