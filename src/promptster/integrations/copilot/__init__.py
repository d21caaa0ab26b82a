"""Copilot CLI: repository hooks (`.github/hooks/promptster.json`) and MCP server
(`.github/mcp.json`), a hook normaliser onto Claude Code's event shapes, and replies with token
usage from Copilot CLI's session event log."""
