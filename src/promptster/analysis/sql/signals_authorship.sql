-- Family: authorship. Who wrote the final code, line by line (the bundle's authorship.json,
-- computed at submit; docs/attribution.md). The final code's lines are the lines of every text
-- file of the final snapshot that are not `starter` lines (lines handed out with the
-- assessment). Bundles written before line authorship have no authorship: these signals are
-- then null with confidence `insufficient_data`, as they are when the final code has no line
-- beyond the starter.
--
-- @signal aiFinalLinesPct
-- Lines of the final code written by the AI and kept as it wrote them (author `ai`) ÷ the final
-- code's lines × 100, 0–100. Unlike `aiAttributionPct` (every line added during the session,
-- including lines later deleted or rewritten), it describes the code that was submitted: an AI
-- file the candidate rewrote entirely by hand counts 0 here. Confidence: `high`, `moderate`
-- when more than a tenth of the lines are `unknown`. Evidence: the file events that wrote the
-- AI lines. `detail` counts the lines per author.
--
-- @signal aiRevisedLinesPct
-- Lines of the final code the AI wrote and the candidate then edited (author
-- `ai_then_human`) ÷ the final code's lines × 100, 0–100. Such a line counts here only: not in
-- `aiFinalLinesPct`, not as the candidate's own line. Confidence and detail as
-- `aiFinalLinesPct`. Evidence: the candidate's file events that revised them.
--
-- @signal pastedLinesPct
-- Lines of the final code from changes flagged as a likely paste (a large block that no AI
-- event explains and no typing in the recorded shell preceded; their author is `unknown`) ÷
-- the final code's lines × 100, 0–100. Confidence as `aiFinalLinesPct`. Evidence: the
-- flagged file events.
WITH
base AS (SELECT session_id FROM sessions JOIN _scope USING (session_id)),
lines AS (
    SELECT session_id, author, event_id, seq, end_line - start_line + 1 AS n
    FROM authorship WHERE author <> 'starter'
),
agg AS (
    SELECT session_id,
           sum(n) AS total,
           coalesce(sum(n) FILTER (WHERE author = 'ai'), 0) AS ai,
           coalesce(sum(n) FILTER (WHERE author = 'ai_then_human'), 0) AS revised,
           coalesce(sum(n) FILTER (WHERE author = 'human'), 0) AS human,
           coalesce(sum(n) FILTER (WHERE author = 'unknown'), 0) AS unknown,
           coalesce(sum(n) FILTER (WHERE author = 'unknown' AND event_id IS NOT NULL), 0)
               AS pasted,
           list(DISTINCT event_id) FILTER (WHERE author = 'ai' AND event_id IS NOT NULL)
               AS ai_ids,
           list(DISTINCT event_id)
               FILTER (WHERE author = 'ai_then_human' AND event_id IS NOT NULL) AS revised_ids,
           list(DISTINCT event_id)
               FILTER (WHERE author = 'unknown' AND event_id IS NOT NULL) AS pasted_ids
    FROM lines GROUP BY session_id
),
rows AS (
    SELECT base.session_id, agg.*,
           CASE WHEN coalesce(agg.total, 0) = 0 THEN 'insufficient_data'
                WHEN agg.unknown * 10 > agg.total THEN 'moderate'
                ELSE 'high' END AS conf,
           to_json({finalLines: coalesce(agg.total, 0), ai: coalesce(agg.ai, 0),
                    aiThenHuman: coalesce(agg.revised, 0), human: coalesce(agg.human, 0),
                    unknown: coalesce(agg.unknown, 0), pasted: coalesce(agg.pasted, 0)})
               AS detail
    FROM base LEFT JOIN agg USING (session_id)
)
SELECT session_id, 'aiFinalLinesPct', to_json(100 * ps_div(ai, total)), conf,
       ps_cap(list_sort(ai_ids)), coalesce(length(ai_ids), 0), detail
FROM rows
UNION ALL
SELECT session_id, 'aiRevisedLinesPct', to_json(100 * ps_div(revised, total)), conf,
       ps_cap(list_sort(revised_ids)), coalesce(length(revised_ids), 0), detail
FROM rows
UNION ALL
SELECT session_id, 'pastedLinesPct', to_json(100 * ps_div(pasted, total)), conf,
       ps_cap(list_sort(pasted_ids)), coalesce(length(pasted_ids), 0), detail
FROM rows
