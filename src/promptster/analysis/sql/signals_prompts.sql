-- Family: prompts. How well the candidate instructs the AI. Without `--judge` this is the
-- heuristic fallback; with `--judge MODEL` an LLM rates each prompt on the rubric in
-- rubrics/promptDepth.md and the judged mean replaces the value (see docs/signals.md).
--
-- @signal promptDepth
-- Mean per-prompt depth score, 0.0–2.0. Heuristic score of a prompt: length (0 below 40
-- characters, 0.5 from 40, 1.0 from 200) + 0.5 if it names a file path (a `dir/name` or a
-- file name with a source extension) + 0.5 if it uses constraint language (must, should,
-- don't, never, only, without, ensure, at least/most, keep, avoid, edge case, make sure...),
-- capped at 2.0. Null without prompts (`insufficient_data`); `low` with the heuristic; with
-- the judge `high` from 3 judged prompts, else `moderate`. `detail.prompts` lists each
-- prompt's score. Evidence: the prompts.
WITH
base AS (SELECT session_id FROM sessions JOIN _scope USING (session_id)),
scored AS (
    SELECT session_id, seq, event_id,
           least(2.0,
               CASE WHEN length >= 200 THEN 1.0 WHEN length >= 40 THEN 0.5 ELSE 0.0 END
               + CASE WHEN regexp_matches(text,
                       '[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+|\b[A-Za-z0-9_-]+\.(py|pyi|js|jsx|ts|tsx'
                       || '|go|rs|java|kt|rb|php|c|h|cc|cpp|hpp|cs|swift|md|json|ya?ml|toml'
                       || '|sql|sh|html|css|scss|vue|svelte|ini|cfg|txt)\b')
                      THEN 0.5 ELSE 0.0 END
               + CASE WHEN regexp_matches(lower(text),
                       '\b(must|should|shouldn''?t|don''?t|do not|never|only|without|ensure'
                       || '|at least|at most|keep|avoid|no more than|edge cases?|make sure'
                       || '|required?|constraints?|limit|under \d+)\b')
                      THEN 0.5 ELSE 0.0 END) AS score
    FROM prompts
),
agg AS (
    SELECT session_id, count(*) AS n, avg(score) AS mean, list(event_id ORDER BY seq) AS ids,
           list({eventId: event_id, score: score} ORDER BY seq)[1:1000] AS items
    FROM scored GROUP BY session_id
)
SELECT base.session_id, 'promptDepth' AS signal, to_json(agg.mean) AS value,
       CASE WHEN agg.n IS NULL THEN 'insufficient_data' ELSE 'low' END AS confidence,
       ps_cap(agg.ids) AS evidence, coalesce(agg.n, 0) AS evidence_count,
       to_json({method: 'heuristic', prompts: coalesce(agg.items, [])}) AS detail
FROM base LEFT JOIN agg USING (session_id)
