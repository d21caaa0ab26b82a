"""Analysis: verified bundles into DuckDB, signals in SQL, cohorts and scores.

`load` verifies a bundle (with extra checks its caller passes) and loads its timeline into
DuckDB; `catalog` lists every signal once (family, unit, label, orientation, weight, score
column), read by the modules here, the report and the CLI; `signals` runs the SQL families in
`sql/` (their header comments define each signal, parsed by `definitions`); `cohort` ranks
sessions of one assessment; `score` is the batch path of `promptster score` (`score_run`
is the command as one call, `score_columns` the row, `score_write` its formats);
`queries` answers `sessions`/`events`; `judge` is the optional LLM judge; `docs` writes
docs/signals.md. The reviewer's decision aids (docs/key-moments.md):
`session_events` reads a timeline into light records (`event_columns`: compact columns),
`moments` finds the key moments,
`followups` the interview questions, `fluency` places the ai_fluency_v1 rubric (with
`fluency_judge` a model's placement beside it), `narrative` the summary, `aids` all of them
in one call. Imports `bundle` and `formats` only: it never opens
the reviewer workspace or the recorder."""
