"""AI tools: one subpackage per tool (`claude/`, …), the catalog of them, the MCP server.

`catalog` lists the tools `start --tools` can wire into a workspace and how (adapter modules,
imported only when used). Hooks run inside the AI tool's process on every prompt and tool
call, so this package imports only `protocol`, `formats`, `runs` and the standard library at
module level (heavy imports stay inside the functions that need them)."""
