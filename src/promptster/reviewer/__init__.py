"""The reviewer workspace: one DuckDB file with assessments, keys and imported sessions.

`store` opens it and applies `migrations`; `assessments` creates assessments and keys and signs
their pack; `invites` sends them; `operations` is each `assessment`/`keys` command as one call;
`checks` are the reviewer-side checks `verify` runs on a bundle's pack and key; `imports`
verifies bundles into the workspace. May import `analysis`, `bundle`, `issue` and `formats`;
never `record`, `integrations`, `report` or `cli`."""
