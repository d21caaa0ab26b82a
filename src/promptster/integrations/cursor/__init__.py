"""Cursor: workspace agent hooks (`.cursor/hooks.json`) and MCP server (`.cursor/mcp.json`),
with a hook normaliser onto Claude Code's event shapes."""
