-- Family: decisions. Whether important decisions were written down. Decisions are optional:
-- a session without any significant change has no value here, never a low one.
--
-- @signal decisionVisibility
-- Captured high-significance decisions ÷ (captured + missed), 0–1. Captured: `decision_event`s
-- not flagged `missedDecision` with `impactScore` ≥ 3 (or no score). Missed: decisions
-- flagged `missedDecision`, plus each significant file (dependency manifests and lock files,
-- Dockerfiles, CI workflows, SQL and migrations) that was changed while no captured decision
-- names it (in `files`, or its file name in the title, option, context, trade-offs or
-- rationale). Null when there is nothing significant (`insufficient_data`); otherwise `low`
-- (significance is guessed from paths). Evidence: the captured decisions and the changes of
-- the missed files.
WITH
base AS (SELECT session_id FROM sessions JOIN _scope USING (session_id)),
captured AS (
    SELECT *, lower(concat_ws(' ', title, chosen_option, context, tradeoffs, rationale,
                              array_to_string(coalesce(files, []::VARCHAR[]), ' '))) AS words
    FROM decisions WHERE NOT missed AND coalesce(impact_score, 3) >= 3
),
significant AS (
    SELECT session_id, path, min(seq) AS first_seq, arg_min(event_id, seq) AS first_id
    FROM file_changes
    WHERE regexp_matches(path,
        '(^|/)(package\.json|package-lock\.json|pnpm-lock\.yaml|yarn\.lock|pyproject\.toml'
        || '|setup\.py|setup\.cfg|requirements[^/]*\.txt|poetry\.lock|uv\.lock|Pipfile(\.lock)?'
        || '|go\.mod|go\.sum|Cargo\.toml|Cargo\.lock|Gemfile(\.lock)?|pom\.xml|build\.gradle(\.kts)?'
        || '|Dockerfile[^/]*|docker-compose[^/]*\.ya?ml|\.github/workflows/[^/]+|[^/]+\.sql)$'
        || '|(^|/)migrations?/')
    GROUP BY ALL
),
missed_files AS (
    SELECT s.* FROM significant s
    WHERE NOT EXISTS (
        SELECT 1 FROM captured c
        WHERE c.session_id = s.session_id
          AND (list_contains(coalesce(c.files, []::VARCHAR[]), s.path)
               OR contains(c.words, lower(regexp_extract(s.path, '[^/]+$'))))
    )
),
-- Each list is grouped once per session and joined (one plan, not a correlated subquery per
-- figure): a session without rows gets a count of 0 and a null list, as a subquery would.
cap AS (
    SELECT session_id, count(*) AS n, list(event_id ORDER BY seq) AS ids
    FROM captured GROUP BY session_id
),
rec AS (
    SELECT session_id, count(*) AS n, list(event_id ORDER BY seq) AS ids
    FROM decisions WHERE missed GROUP BY session_id
),
det AS (
    SELECT session_id, count(*) AS n, list(path ORDER BY path) AS paths,
           list(first_id ORDER BY first_seq) AS ids
    FROM missed_files GROUP BY session_id
),
agg AS (
    SELECT base.session_id,
           coalesce(cap.n, 0) AS captured_n, cap.ids AS captured_ids,
           coalesce(rec.n, 0) AS missed_recorded, rec.ids AS missed_recorded_ids,
           coalesce(det.n, 0) AS missed_detected, det.paths AS missed_paths,
           det.ids AS missed_ids
    FROM base LEFT JOIN cap USING (session_id) LEFT JOIN rec USING (session_id)
         LEFT JOIN det USING (session_id)
)
SELECT session_id, 'decisionVisibility' AS signal,
       to_json(ps_div(captured_n, captured_n + missed_recorded + missed_detected)) AS value,
       CASE WHEN captured_n + missed_recorded + missed_detected = 0 THEN 'insufficient_data'
            ELSE 'low' END AS confidence,
       ps_cap(list_concat(coalesce(captured_ids, []::VARCHAR[]),
                          coalesce(missed_recorded_ids, []::VARCHAR[]),
                          coalesce(missed_ids, []::VARCHAR[]))) AS evidence,
       captured_n + missed_recorded + missed_detected AS evidence_count,
       to_json({captured: captured_n, missedRecorded: missed_recorded,
                missedDetected: missed_detected,
                missedPaths: coalesce(missed_paths, []::VARCHAR[]), method: 'heuristic'})
           AS detail
FROM agg
