"""File capture: the watcher, the shadow git repository and `file_*` events.

`watcher` (watchdog) tells `capture` that something changed; `snapshots` commits the workspace
into the shadow repository (honouring `ignores`); `events` turns each snapshot's diff into
`file_create`/`file_diff`/`file_delete` events."""
