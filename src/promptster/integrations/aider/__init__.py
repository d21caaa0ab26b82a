"""Aider: no hooks, so its own files are read as it writes them (`.aider.input.history`,
`.aider.chat.history.md`) and its commits are attributed by their marks; the commands it runs
in a terminal are recorded by the shell it is given (`runshell`, installed by `shims`)."""
