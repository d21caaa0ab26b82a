"""The candidate's side: the recorder process, the journal and the capture channels.

`lifecycle` starts a session, `recorder` is the process serving `protocol` clients over a unix
socket (`server`; its time in `recorder_time`, its sources in `recorder_sources`), `pipeline`
redacts and orders events into the hash-chained `journal`, `submit` writes the bundle,
`control`/`session`/`timer`/`doctor` manage it. Capture channels:
`files/` (watcher, shadow git, `file_*` events), `shell/` (the recorded pty shell), AI tools
through `promptster.integrations`, `attribution/` (AI or human), `redact/` (secrets), and
`synth/` (synthetic sessions through the same journal and writer). May import `integrations`,
`runs`, `issue`, `bundle`, `formats`, `protocol`; never the reviewer side."""
