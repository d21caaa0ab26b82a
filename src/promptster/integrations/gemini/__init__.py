"""Gemini CLI: workspace hooks and MCP server (`.gemini/settings.json`), a hook normaliser onto
Claude Code's event shapes, and token usage from Gemini CLI's session files."""
