-- Family: activity. The hosted product's other deterministic counts and sizes of a session.
--
-- @signal sessionDurationMs
-- Milliseconds from the first to the last event of the timeline. Null with fewer than two
-- events (`insufficient_data`); otherwise `high`. Evidence: the first and last events.
--
-- @signal commandCount
-- Number of `command` events (human and AI). Confidence: `high`. Evidence: the commands.
--
-- @signal fileDiffCount
-- Number of file-change events (`file_create`, `file_diff`, `file_delete`).
-- Confidence: `high`. Evidence: the changes.
--
-- @signal uniqueFilesTouched
-- Number of distinct paths among the file-change events. Confidence: `high`.
-- Evidence: the first change of each path.
--
-- @signal testRunCount
-- Number of `test_run` events. Confidence: `high`. Evidence: the test runs.
--
-- @signal testResults
-- `{passed, failed, skipped, errors, total, outcome}` of the last `test_run` event (the state
-- the candidate left the tests in); total = passed + failed + skipped + errors. `outcome` is
-- `passed` only when tests ran, none failed or erred and the runner exited 0; otherwise
-- `failed`, `error` (collection or fixture errors, a runner that crashed or exited non-zero
-- with nothing failing), `no_tests` (none collected, e.g. pytest's exit 5 or unittest's
-- "Ran 0 tests", or all skipped), `interrupted` (Ctrl-C: exit 130, or KeyboardInterrupt in
-- the output) or `unknown` (no counts and an exit code of 0 or none). Events recorded before
-- the recorder stored the outcome get it derived from their counts and exit code. Null
-- without test runs (`insufficient_data`); otherwise `high`. When the last run's counts could
-- not be read (all null in the event), every count is null. Evidence: that test run.
--
-- @signal avgPromptLength
-- Mean prompt length in characters (`data.length`, else the length of `data.text`). Null
-- without prompts. Confidence: by the number of prompts (0 `insufficient_data`, 1–4
-- `moderate`, 5 or more `high`). Evidence: the prompts.
--
-- @signal maxPromptLength
-- Length in characters of the longest prompt. Null without prompts (`insufficient_data`);
-- otherwise `high`. Evidence: that prompt.
--
-- @signal humanTerminalCommands
-- Number of `command` events whose actor is `human` (typed by the candidate, not run by the
-- AI). Confidence: `high`. Evidence: those commands.
--
-- @signal toolUsage
-- Object mapping each AI tool name (`tool_use.data.toolName`) to its number of calls.
-- Confidence: `high`. Evidence: the tool calls.
--
-- @signal distinctToolsUsed
-- Sorted list of the distinct AI tool names called. Confidence: `high`.
-- Evidence: the first call of each tool.
--
-- @signal eventCounts
-- Object mapping each event kind (unknown kinds included) to its number of events; a line
-- that could not be read at all (only with `--allow-invalid`) has no kind and is left out.
-- Confidence: `high`. Evidence: every event (capped like all evidence lists).
WITH
base AS (SELECT session_id FROM sessions JOIN _scope USING (session_id)),
ev AS (
    SELECT session_id, count(*) AS n, min(ts) AS first_ts, max(ts) AS last_ts,
           arg_min(event_id, seq) AS first_id, arg_max(event_id, seq) AS last_id,
           list(event_id ORDER BY seq) FILTER (WHERE seq < 1000) AS ids
    FROM events GROUP BY session_id
),
kinds AS (
    SELECT session_id, json_group_object(kind, n) AS counts
    FROM (SELECT session_id, kind, count(*) AS n FROM events WHERE kind IS NOT NULL
          GROUP BY ALL ORDER BY kind)
    GROUP BY session_id
),
cmd AS (
    SELECT session_id, count(*) AS n, list(event_id ORDER BY seq) AS ids,
           count(*) FILTER (WHERE actor = 'human') AS human_n,
           list(event_id ORDER BY seq) FILTER (WHERE actor = 'human') AS human_ids
    FROM commands GROUP BY session_id
),
fc AS (
    SELECT session_id, count(*) AS n, list(event_id ORDER BY seq) AS ids,
           count(DISTINCT path) AS paths
    FROM file_changes GROUP BY session_id
),
firsts AS (
    SELECT session_id, list(first_id ORDER BY first_seq) AS ids
    FROM (SELECT session_id, path, min(seq) AS first_seq, arg_min(event_id, seq) AS first_id
          FROM file_changes GROUP BY ALL)
    GROUP BY session_id
),
tr AS (
    SELECT session_id, count(*) AS n, list(event_id ORDER BY seq) AS ids,
           -- A run whose counts could not be read (all null) keeps them null, not 0.
           arg_max(CASE WHEN coalesce(passed, failed, skipped, errors) IS NULL
                        THEN {passed: NULL::BIGINT, failed: NULL::BIGINT, skipped: NULL::BIGINT,
                              errors: NULL::BIGINT, total: NULL::BIGINT}
                        ELSE {passed: coalesce(passed, 0), failed: coalesce(failed, 0),
                              skipped: coalesce(skipped, 0), errors: coalesce(errors, 0),
                              total: coalesce(passed, 0) + coalesce(failed, 0)
                                     + coalesce(skipped, 0) + coalesce(errors, 0)} END,
                   seq) AS last_result,
           arg_max(ps_test_outcome(passed, failed, skipped, errors, exit_code, tool), seq)
               AS derived_outcome,
           arg_max(event_id, seq) AS last_id
    FROM test_runs WHERE kind = 'test_run' GROUP BY session_id
),
-- The outcome the recorder wrote into the last run's event, where it did.
tr_outcome AS (
    SELECT tr.session_id,
           ps_known_outcome(any_value(e.data->>'outcome'), any_value(tr.derived_outcome))
               AS outcome
    FROM tr LEFT JOIN events e
         ON e.session_id = tr.session_id AND e.event_id = tr.last_id AND e.kind = 'test_run'
    GROUP BY tr.session_id
),
p AS (
    SELECT session_id, count(*) AS n, avg(length) AS avg_len, max(length) AS max_len,
           arg_max(event_id, length) AS max_id, list(event_id ORDER BY seq) AS ids
    FROM prompts GROUP BY session_id
),
tools AS (
    SELECT session_id, json_group_object(tool, n) AS usage, list(tool ORDER BY tool) AS names,
           list(first_id ORDER BY tool) AS first_ids, sum(n) AS calls, flatten(list(ids)) AS ids
    FROM (SELECT session_id, coalesce(data->>'toolName', '?') AS tool, count(*) AS n,
                 arg_min(event_id, seq) AS first_id, list(event_id ORDER BY seq) AS ids
          FROM events WHERE kind = 'tool_use' GROUP BY ALL ORDER BY tool)
    GROUP BY session_id
)
SELECT base.session_id, 'sessionDurationMs' AS signal,
       to_json(CASE WHEN ev.n >= 2 THEN ps_ms(ev.first_ts, ev.last_ts) END) AS value,
       CASE WHEN coalesce(ev.n, 0) >= 2 THEN 'high' ELSE 'insufficient_data' END AS confidence,
       CASE WHEN ev.n >= 2 THEN [ev.first_id, ev.last_id] ELSE []::VARCHAR[] END AS evidence,
       CASE WHEN ev.n >= 2 THEN 2 ELSE 0 END AS evidence_count,
       to_json({firstEventAt: ps_iso(ev.first_ts), lastEventAt: ps_iso(ev.last_ts)}) AS detail
FROM base LEFT JOIN ev USING (session_id)
UNION ALL
SELECT base.session_id, 'commandCount', to_json(coalesce(cmd.n, 0)), 'high',
       ps_cap(cmd.ids), coalesce(cmd.n, 0), NULL
FROM base LEFT JOIN cmd USING (session_id)
UNION ALL
SELECT base.session_id, 'fileDiffCount', to_json(coalesce(fc.n, 0)), 'high',
       ps_cap(fc.ids), coalesce(fc.n, 0), NULL
FROM base LEFT JOIN fc USING (session_id)
UNION ALL
SELECT base.session_id, 'uniqueFilesTouched', to_json(coalesce(fc.paths, 0)), 'high',
       ps_cap(firsts.ids), coalesce(fc.paths, 0), NULL
FROM base LEFT JOIN fc USING (session_id) LEFT JOIN firsts USING (session_id)
UNION ALL
SELECT base.session_id, 'testRunCount', to_json(coalesce(tr.n, 0)), 'high',
       ps_cap(tr.ids), coalesce(tr.n, 0), NULL
FROM base LEFT JOIN tr USING (session_id)
UNION ALL
SELECT base.session_id, 'testResults',
       to_json(CASE WHEN tr.n IS NOT NULL
                    THEN struct_insert(tr.last_result, outcome := tr_outcome.outcome) END),
       CASE WHEN tr.n IS NULL THEN 'insufficient_data' ELSE 'high' END,
       CASE WHEN tr.n IS NULL THEN []::VARCHAR[] ELSE [tr.last_id] END,
       CASE WHEN tr.n IS NULL THEN 0 ELSE 1 END, NULL
FROM base LEFT JOIN tr USING (session_id) LEFT JOIN tr_outcome USING (session_id)
UNION ALL
SELECT base.session_id, 'avgPromptLength', to_json(p.avg_len), ps_count_conf(p.n),
       ps_cap(p.ids), coalesce(p.n, 0), NULL
FROM base LEFT JOIN p USING (session_id)
UNION ALL
SELECT base.session_id, 'maxPromptLength', to_json(p.max_len),
       CASE WHEN p.n IS NULL THEN 'insufficient_data' ELSE 'high' END,
       CASE WHEN p.n IS NULL THEN []::VARCHAR[] ELSE [p.max_id] END,
       CASE WHEN p.n IS NULL THEN 0 ELSE 1 END, NULL
FROM base LEFT JOIN p USING (session_id)
UNION ALL
SELECT base.session_id, 'humanTerminalCommands', to_json(coalesce(cmd.human_n, 0)), 'high',
       ps_cap(cmd.human_ids), coalesce(cmd.human_n, 0), NULL
FROM base LEFT JOIN cmd USING (session_id)
UNION ALL
SELECT base.session_id, 'toolUsage', coalesce(tools.usage, '{}'::JSON), 'high',
       ps_cap(tools.ids), coalesce(tools.calls, 0), NULL
FROM base LEFT JOIN tools USING (session_id)
UNION ALL
SELECT base.session_id, 'distinctToolsUsed', to_json(coalesce(tools.names, []::VARCHAR[])),
       'high', ps_cap(tools.first_ids), coalesce(length(tools.first_ids), 0), NULL
FROM base LEFT JOIN tools USING (session_id)
UNION ALL
SELECT base.session_id, 'eventCounts', coalesce(kinds.counts, '{}'::JSON), 'high',
       ps_cap(ev.ids), coalesce(ev.n, 0), NULL
FROM base LEFT JOIN ev USING (session_id) LEFT JOIN kinds USING (session_id)
