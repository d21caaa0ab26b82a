-- Family: verification. The hosted product's older, command-based view of verification (its
-- `verification_intensity`; named here for what it counts).
--
-- @signal commandsPerChange
-- Command events ÷ file-change events, a raw ratio, with every command classed by its command
-- line in `detail.breakdown`: `test` (test runners), `lint` (linters and type checkers),
-- `build` (builders), `other` (everything else, including reads). Unlike verifyIntensity it
-- counts every command, so the breakdown shows how much of the activity verified the work.
-- Null without file changes. Confidence: by the number of file changes (0
-- `insufficient_data`, 1–4 `moderate`, 5 or more `high`). Evidence: the commands.
WITH
base AS (SELECT session_id FROM sessions JOIN _scope USING (session_id)),
cmd AS (
    SELECT session_id, count(*) AS n, list(event_id ORDER BY seq) AS ids,
           count(*) FILTER (WHERE category = 'test') AS test,
           count(*) FILTER (WHERE category IN ('lint', 'typecheck')) AS lint,
           count(*) FILTER (WHERE category = 'build') AS build,
           count(*) FILTER (WHERE category NOT IN ('test', 'lint', 'typecheck', 'build'))
               AS other
    FROM commands GROUP BY session_id
),
fc AS (SELECT session_id, count(*) AS n FROM file_changes GROUP BY session_id)
SELECT base.session_id, 'commandsPerChange' AS signal,
       to_json(ps_div(coalesce(cmd.n, 0), fc.n)) AS value, ps_count_conf(fc.n) AS confidence,
       ps_cap(cmd.ids) AS evidence, coalesce(cmd.n, 0) AS evidence_count,
       to_json({commands: coalesce(cmd.n, 0), fileChanges: coalesce(fc.n, 0),
                breakdown: {test: coalesce(cmd.test, 0), lint: coalesce(cmd.lint, 0),
                            build: coalesce(cmd.build, 0), other: coalesce(cmd.other, 0)}})
           AS detail
FROM base LEFT JOIN cmd USING (session_id) LEFT JOIN fc USING (session_id)
