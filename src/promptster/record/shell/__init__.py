"""The recorded shell: a pty like asciinema's, OSC 133 marks parsed from the stream, casts.

`session` runs the shell under a pty (`pty_shell`); `pipe` is the worker process that parses
the byte stream (`osc`, `commands`) into `command`/`test_run` events (`events`) and the cast
(`cast`, `recording`); `integration` installs the bash/zsh rc snippets in `rc/`; `replay` plays
a bundle's casts back in a terminal."""
