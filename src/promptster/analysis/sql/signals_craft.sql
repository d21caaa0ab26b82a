-- Family: craft. Whether the code was left better, judged on the changes whoever made them.
-- Without `--judge` this is the heuristic fallback; with `--judge MODEL` an LLM rates each
-- change with a diff on the rubric in rubrics/codeCraft.md and the judged mean replaces it.
--
-- @signal codeCraft
-- Heuristic, 0.0–2.0: 0.5 if any test file changed (a path with `test` or `spec` in a file
-- or folder name) + 0.5 × the share of changes that remove lines (simplification) + 0.5 × the
-- share of changes whose added diff lines show defensive code (try/except, raise, throw,
-- assert, `is None` checks, isinstance, Optional) + 0.5 × the share of changes whose added
-- lines leave no debugging residue (print(, console.log, debugger, breakpoint(), TODO, FIXME).
-- Changes without `diff` text count as neither defensive nor residue. Null without file
-- changes (`insufficient_data`); `low` with the heuristic; with the judge `high` from 3 judged
-- changes, else `moderate`. Evidence: the file changes.
WITH
base AS (SELECT session_id FROM sessions JOIN _scope USING (session_id)),
changes AS (
    SELECT session_id, seq, event_id, path, lines_removed,
           array_to_string(list_filter(string_split(coalesce(diff, ''), chr(10)),
               lambda l: starts_with(l, '+') AND NOT starts_with(l, '+++')), chr(10)) AS added
    FROM file_changes
),
flags AS (
    SELECT session_id, seq, event_id,
           regexp_matches(lower(coalesce(path, '')), '(^|/)(tests?|specs?)(/|_|\.)|(_test|\.test|\.spec|_spec)\.')
               AS is_test,
           lines_removed > 0 AS simplifies,
           regexp_matches(added, '\b(try:|except\b|raise\b|throw\b|assert\b|isinstance\(|Optional\[)'
                                 || '|is None|is not None|=== undefined|!= null|== null')
               AS defensive,
           regexp_matches(added, 'print\(|console\.log|debugger;|breakpoint\(\)|\bTODO\b|\bFIXME\b')
               AS residue
    FROM changes
),
agg AS (
    SELECT session_id, count(*) AS n, list(event_id ORDER BY seq) AS ids,
           bool_or(is_test) AS tests,
           avg(simplifies::INTEGER) AS simplify_share,
           avg(defensive::INTEGER) AS defensive_share,
           avg(residue::INTEGER) AS residue_share
    FROM flags GROUP BY session_id
)
SELECT base.session_id, 'codeCraft' AS signal,
       to_json(CASE WHEN agg.n IS NULL THEN NULL ELSE
           0.5 * agg.tests::INTEGER + 0.5 * agg.simplify_share + 0.5 * agg.defensive_share
           + 0.5 * (1 - agg.residue_share) END) AS value,
       CASE WHEN agg.n IS NULL THEN 'insufficient_data' ELSE 'low' END AS confidence,
       ps_cap(agg.ids) AS evidence, coalesce(agg.n, 0) AS evidence_count,
       to_json({method: 'heuristic', testsChanged: coalesce(agg.tests, false),
                simplifyingShare: agg.simplify_share, defensiveShare: agg.defensive_share,
                residueShare: agg.residue_share}) AS detail
FROM base LEFT JOIN agg USING (session_id)
