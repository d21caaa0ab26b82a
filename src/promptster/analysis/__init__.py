"""Analysis: verified bundles into DuckDB, signals in SQL, cohorts and scores.

`load` verifies a bundle (with extra checks its caller passes) and loads its timeline into
DuckDB; `signals` runs the SQL families in `sql/`; `cohort` ranks sessions of one assessment;
`score` is the batch path of `promptster score`; `queries` answers `sessions`/`events`;
`judge` is the optional LLM judge; `docs` writes docs/signals.md. Imports `bundle` and
`formats` only: it never opens the reviewer workspace or the recorder."""
