"""Test and build runs: which commands run a test runner, linter or builder, and their results.

A pure library (standard library only) shared by every capture channel: the recorded shell and
the AI tools' adapters both turn a finished command into `test_run`/`build_run` data with it.
`commands` classifies a command line (`tools` is the catalog of runners), `parsers` and
`parsers_native` read the counts from the output, `events` builds the event data."""
