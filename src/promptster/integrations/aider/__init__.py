"""Aider: no hooks, so its own files are read as it writes them (`.aider.input.history`,
`.aider.chat.history.md`) and its commits are attributed by their marks."""
