-- Family: headline. The six headline signals. Numbers are never NaN:
-- a ratio whose denominator is zero is null with confidence `insufficient_data`.
--
-- @signal promptCount
-- Number of `prompt` events. A prompt the model-API recorder saw (`source.channel` proxy)
-- counts only when no hook or transcript of the same tool captured prompts in the session, so
-- that no prompt counts twice (docs/integrations/api-recorder.md). Unit: count. Confidence:
-- `high` (a count is exact).
-- Evidence: the prompt events. `detail.byTool` maps each AI tool that sent prompts or replies
-- (the events' `source.integration`, e.g. `claude-code`, `codex`) to `prompts` and the
-- `inputTokens` / `outputTokens` its replies (`ai_response`) report, null when none did.
--
-- @signal verifyIntensity
-- Verification runs ÷ file-change events (`file_create`, `file_diff`, `file_delete`); a raw
-- ratio that can exceed 1. A verification run is a `test_run` or `build_run` event (test,
-- lint, typecheck or build; human or AI), or a command recognised as one of those that no such
-- event reports (same `commandEventId`, or the same command text within 3 events after it).
-- `detail` gives the runs by type (`test`, `lint`, `typecheck`, `build`).
-- Null without file changes. Confidence: by the number of file changes (0 `insufficient_data`,
-- 1–4 `moderate`, 5 or more `high`). Evidence: the verification runs.
--
-- @signal commandFailRate
-- Commands with a non-zero exit code ÷ commands with an exit code, 0–1. `detail.human` and
-- `detail.ai` give the same rate for commands run by the candidate and by the AI.
-- Null without commands. Confidence: by the number of commands (0 `insufficient_data`, 1–4
-- `moderate`, 5 or more `high`). Evidence: the failed commands.
--
-- @signal manualEditRatio
-- Human-attributed file-change events ÷ all file-change events, 0–1: a `likely_human` change
-- counts 1, an `ai_revised_by_human` change ½ (the AI wrote it, the candidate reworked it: it
-- is counted once, split evenly, as `aiAttributionPct` splits it). Null without file changes. Confidence: by the number of file
-- changes, and at most `moderate` when more than half of them are attributed `unknown` or
-- `mixed`. Evidence: the human-attributed changes.
--
-- @signal firstChangeLatencyMs
-- Milliseconds from the `session_start` event (the manifest's `startedAt` when there is none)
-- to the first file-change event. Null when no file changed (`insufficient_data`); otherwise
-- `high`. Evidence: the session start and the first change.
--
-- @signal aiAttributionPct
-- AI-attributed added lines ÷ all added lines × 100, 0–100, over every line added during the
-- session (the hosted meaning; `aiFinalLinesPct` describes the submitted code instead). The AI
-- lines of a change are its `aiLines` when the recorder gave them (a revised change is then
-- split line by line); otherwise all its added lines when attributed `likely_ai`, half of them
-- when `ai_revised_by_human` or `mixed`, none otherwise.
-- Null when no line was added. Confidence: by the number of changes that add lines, and
-- `moderate` at most when any of them is `mixed` or `unknown` without `aiLines`.
-- Evidence: the changes that add lines.
WITH
base AS (
    SELECT s.session_id, s.started_at FROM sessions s JOIN _scope USING (session_id)
),
p AS (
    SELECT session_id, count(*) AS n, list(event_id ORDER BY seq) AS ids
    FROM prompts GROUP BY session_id
),
fc AS (
    SELECT session_id,
           count(*) AS n,
           count(*) FILTER (WHERE attribution IN ('likely_human', 'ai_revised_by_human')) AS human_n,
           count(*) FILTER (WHERE attribution = 'likely_human')
               + 0.5 * count(*) FILTER (WHERE attribution = 'ai_revised_by_human') AS human_w,
           count(*) FILTER (WHERE attribution IN ('unknown', 'mixed')) AS unsure_n,
           list(event_id ORDER BY seq)
               FILTER (WHERE attribution IN ('likely_human', 'ai_revised_by_human')) AS human_ids,
           min(ts) AS first_ts,
           arg_min(event_id, seq) AS first_id,
           sum(lines_added) AS added,
           sum(CASE WHEN ai_lines IS NOT NULL THEN greatest(0, least(ai_lines, lines_added))
                    WHEN attribution = 'likely_ai' THEN lines_added
                    WHEN attribution IN ('mixed', 'ai_revised_by_human') THEN lines_added / 2.0
                    ELSE 0 END) AS ai_added,
           count(*) FILTER (WHERE lines_added > 0) AS adding_n,
           count(*) FILTER (WHERE lines_added > 0 AND ai_lines IS NULL
                                  AND attribution IN ('mixed', 'unknown', 'ai_revised_by_human'))
               AS guessed_n,
           list(event_id ORDER BY seq) FILTER (WHERE lines_added > 0) AS adding_ids
    FROM file_changes GROUP BY session_id
),
cmd AS (
    SELECT session_id,
           count(exit_code) AS n,
           count(*) FILTER (WHERE exit_code <> 0) AS failed,
           count(exit_code) FILTER (WHERE actor = 'human') AS human_n,
           count(*) FILTER (WHERE exit_code <> 0 AND actor = 'human') AS human_failed,
           count(exit_code) FILTER (WHERE actor = 'ai') AS ai_n,
           count(*) FILTER (WHERE exit_code <> 0 AND actor = 'ai') AS ai_failed,
           list(event_id ORDER BY seq) FILTER (WHERE exit_code <> 0) AS failed_ids
    FROM commands GROUP BY session_id
),
runs AS (
    SELECT session_id, category, event_id, seq FROM test_runs
    UNION ALL
    SELECT session_id, category, event_id, seq FROM commands
    WHERE category IN ('test', 'lint', 'typecheck', 'build') AND NOT covered
),
v AS (
    SELECT session_id, count(*) AS n, list(event_id ORDER BY seq) AS ids,
           count(*) FILTER (WHERE category = 'test') AS test,
           count(*) FILTER (WHERE category = 'lint') AS lint,
           count(*) FILTER (WHERE category = 'typecheck') AS typecheck,
           count(*) FILTER (WHERE category = 'build') AS build
    FROM runs GROUP BY session_id
),
st AS (
    SELECT session_id, min(ts) AS ts, arg_min(event_id, seq) AS id
    FROM events WHERE kind = 'session_start' GROUP BY session_id
),
pt AS (
    SELECT session_id,
           json_group_object(tool, {prompts: prompts, inputTokens: input_tokens,
                                    outputTokens: output_tokens}) AS by_tool
    FROM (SELECT session_id, coalesce(integration, '?') AS tool,
                 count(*) FILTER (WHERE kind = 'prompt') AS prompts,
                 sum(TRY_CAST(x[1] AS BIGINT)) FILTER (WHERE kind = 'ai_response') AS input_tokens,
                 sum(TRY_CAST(x[2] AS BIGINT)) FILTER (WHERE kind = 'ai_response') AS output_tokens
          -- the replies' `data` parsed once for both counts (the prompts' not at all)
          FROM (SELECT session_id, integration, kind,
                       CASE WHEN kind = 'ai_response'
                            THEN json_extract_string(data, ['inputTokens', 'outputTokens'])
                       END AS x
                FROM events WHERE kind IN ('prompt', 'ai_response'))
          GROUP BY ALL ORDER BY tool)
    GROUP BY session_id
)
SELECT base.session_id, 'promptCount' AS signal, to_json(coalesce(p.n, 0)) AS value,
       'high' AS confidence, ps_cap(p.ids) AS evidence, coalesce(p.n, 0) AS evidence_count,
       CASE WHEN pt.by_tool IS NOT NULL THEN to_json({byTool: pt.by_tool}) END AS detail
FROM base LEFT JOIN p USING (session_id) LEFT JOIN pt USING (session_id)
UNION ALL
SELECT base.session_id, 'verifyIntensity', to_json(ps_div(coalesce(v.n, 0), fc.n)),
       ps_count_conf(fc.n), ps_cap(v.ids), coalesce(v.n, 0),
       to_json({runs: coalesce(v.n, 0), fileChanges: coalesce(fc.n, 0),
                breakdown: {test: coalesce(v.test, 0), lint: coalesce(v.lint, 0),
                            typecheck: coalesce(v.typecheck, 0), build: coalesce(v.build, 0)}})
FROM base LEFT JOIN v USING (session_id) LEFT JOIN fc USING (session_id)
UNION ALL
SELECT base.session_id, 'commandFailRate', to_json(ps_div(cmd.failed, cmd.n)),
       ps_count_conf(cmd.n), ps_cap(cmd.failed_ids), coalesce(cmd.failed, 0),
       to_json({commands: coalesce(cmd.n, 0), failed: coalesce(cmd.failed, 0),
                human: ps_div(cmd.human_failed, cmd.human_n), humanCommands: coalesce(cmd.human_n, 0),
                ai: ps_div(cmd.ai_failed, cmd.ai_n), aiCommands: coalesce(cmd.ai_n, 0)})
FROM base LEFT JOIN cmd USING (session_id)
UNION ALL
SELECT base.session_id, 'manualEditRatio', to_json(ps_div(fc.human_w, fc.n)),
       CASE WHEN coalesce(fc.n, 0) >= 5 AND fc.unsure_n * 2 > fc.n THEN 'moderate'
            ELSE ps_count_conf(fc.n) END,
       ps_cap(fc.human_ids), coalesce(fc.human_n, 0),
       to_json({humanChanges: coalesce(fc.human_n, 0), fileChanges: coalesce(fc.n, 0),
                unattributed: coalesce(fc.unsure_n, 0)})
FROM base LEFT JOIN fc USING (session_id)
UNION ALL
SELECT base.session_id, 'firstChangeLatencyMs',
       to_json(CASE WHEN fc.first_ts IS NOT NULL
                    THEN greatest(0, ps_ms(coalesce(st.ts, base.started_at), fc.first_ts)) END),
       CASE WHEN fc.first_ts IS NULL THEN 'insufficient_data' ELSE 'high' END,
       CASE WHEN fc.first_ts IS NULL THEN []::VARCHAR[]
            ELSE list_filter([st.id, fc.first_id], lambda x: x IS NOT NULL) END,
       CASE WHEN fc.first_ts IS NULL THEN 0
            ELSE length(list_filter([st.id, fc.first_id], lambda x: x IS NOT NULL)) END,
       to_json({startedAt: ps_iso(coalesce(st.ts, base.started_at)),
                firstChangeAt: ps_iso(fc.first_ts)})
FROM base LEFT JOIN st USING (session_id) LEFT JOIN fc USING (session_id)
UNION ALL
SELECT base.session_id, 'aiAttributionPct', to_json(100 * ps_div(fc.ai_added, fc.added)),
       CASE WHEN coalesce(fc.added, 0) = 0 THEN 'insufficient_data'
            WHEN fc.guessed_n > 0 THEN 'moderate'
            ELSE ps_count_conf(fc.adding_n) END,
       ps_cap(fc.adding_ids), coalesce(fc.adding_n, 0),
       to_json({aiLines: coalesce(fc.ai_added, 0), addedLines: coalesce(fc.added, 0)})
FROM base LEFT JOIN fc USING (session_id)
