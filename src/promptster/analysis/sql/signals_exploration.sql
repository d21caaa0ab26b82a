-- Family: exploration. What happened before the candidate started changing files. "Before
-- the first change" means events with a lower `seq` than the first file-change event; when
-- nothing changed, the whole session. Reads are AI tool calls that only look (Read, Grep,
-- Glob, LS, WebFetch, ...) and commands that only look (cat, less, head, tail, ls, find, grep,
-- rg, tree, git log/show/diff/status/blame, ...).
--
-- @signal readBeforeWriteRatio
-- Of the files that were modified (`file_diff`, so files that already existed), the share
-- that were read before their first modification, 0–1. A read matches a file when the tool's
-- `file_path`/`path` equals the path or ends with `/path`, or the command line contains the
-- path. Null when no existing file was modified. Confidence: by the number of such files
-- (0 `insufficient_data`, 1–4 `moderate`, 5 or more `high`). Evidence: the matching reads.
--
-- @signal explorationBeforeActionRatio
-- Exploring actions ÷ all actions before the first change, 0–1. Actions are prompts,
-- commands, AI tool calls and MCP calls; exploring ones are reads and question-like prompts
-- (a `?`, or starting with what/how/why/where/which/explain/show/describe/find/list/read/look).
-- Null with no action before the first change. Confidence: by the number of those actions.
-- Evidence: the exploring actions.
--
-- @signal planningBeforeActing
-- Share of strategic or tactical prompts (not reactive ones) among the prompts before the
-- first change, with `planning` events (TodoWrite, Task, ...) before it counted as strategic,
-- 0–1. Prompts are classed by keywords: reactive (a pasted output, shorter than 20
-- characters, or error vocabulary such as error/fail/traceback/"fix it"), strategic
-- (plan/approach/design/explain/understand/options/how does...), otherwise tactical.
-- 0 when the session has prompts but none before the first change. Null when the session
-- has no prompt and no planning event (`insufficient_data`); otherwise `low` (a heuristic).
-- Interpret low values with care in short or simple tasks. Evidence: the prompts and planning
-- events before the first change.
WITH
base AS (SELECT session_id FROM sessions JOIN _scope USING (session_id)),
first_change AS (
    SELECT base.session_id, coalesce(min(f.seq), 9223372036854775807) AS seq
    FROM base LEFT JOIN file_changes f USING (session_id) GROUP BY base.session_id
),
reads AS (
    -- each tool call's `data` parsed once for its name and the three path fields
    SELECT session_id, seq, event_id, coalesce(x[2], x[3], x[4]) AS path,
           NULL::VARCHAR AS command
    FROM (SELECT session_id, seq, event_id,
                 json_extract_string(data, ['$.toolName', '$.input.file_path', '$.input.path',
                                            '$.input.notebook_path']) AS x
          FROM events WHERE kind = 'tool_use')
    WHERE ps_is_read_tool(x[1])
    UNION ALL
    SELECT session_id, seq, event_id, NULL, command FROM commands WHERE category = 'read'
),
modified AS (
    SELECT session_id, path, min(seq) AS first_seq
    FROM file_changes WHERE kind = 'file_diff' AND path IS NOT NULL GROUP BY ALL
),
matched AS (
    SELECT m.session_id, m.path, arg_min(r.event_id, r.seq) AS read_id, min(r.seq) AS read_seq,
           count(r.seq) > 0 AS was_read
    FROM modified m
    LEFT JOIN reads r ON r.session_id = m.session_id AND r.seq < m.first_seq
        AND (r.path = m.path OR ends_with(r.path, '/' || m.path)
             OR (r.command IS NOT NULL AND contains(r.command, m.path)))
    GROUP BY ALL
),
rbw AS (
    SELECT session_id, count(*) AS files, count(*) FILTER (WHERE was_read) AS read_first,
           list(read_id ORDER BY read_seq, read_id) FILTER (WHERE was_read) AS ids
    FROM matched GROUP BY session_id
),
actions AS (
    SELECT e.session_id, e.seq, e.event_id,
           CASE WHEN e.kind = 'tool_use' THEN ps_is_read_tool(e.data->>'toolName')
                WHEN e.kind = 'command' THEN ps_command_category(e.data->>'command') = 'read'
                WHEN e.kind = 'prompt' THEN ps_is_exploring_prompt(e.data->>'text')
                ELSE false END AS exploring
    FROM events e JOIN first_change f ON f.session_id = e.session_id AND e.seq < f.seq
    WHERE e.kind IN ('prompt', 'command', 'tool_use', 'mcp_call')
),
ebar AS (
    SELECT session_id, count(*) AS n, count(*) FILTER (WHERE exploring) AS exploring,
           list(event_id ORDER BY seq) FILTER (WHERE exploring) AS ids
    FROM actions GROUP BY session_id
),
items AS (
    SELECT p.session_id, p.seq, p.event_id, ps_prompt_class(p.text, p.likely_paste) AS class
    FROM prompts p JOIN first_change f ON f.session_id = p.session_id AND p.seq < f.seq
    UNION ALL
    SELECT e.session_id, e.seq, e.event_id, 'planning'
    FROM events e JOIN first_change f ON f.session_id = e.session_id AND e.seq < f.seq
    WHERE e.kind = 'planning'
),
pba AS (
    SELECT session_id, count(*) AS n,
           count(*) FILTER (WHERE class IN ('strategic', 'planning')) AS strategic,
           count(*) FILTER (WHERE class = 'tactical') AS tactical,
           count(*) FILTER (WHERE class = 'reactive') AS reactive,
           count(*) FILTER (WHERE class = 'planning') AS planning,
           list(event_id ORDER BY seq) AS ids
    FROM items GROUP BY session_id
),
anything AS (
    SELECT session_id, count(*) AS n FROM events
    WHERE kind IN ('prompt', 'planning') GROUP BY session_id
)
SELECT base.session_id, 'readBeforeWriteRatio' AS signal,
       to_json(ps_div(rbw.read_first, rbw.files)) AS value, ps_count_conf(rbw.files) AS confidence,
       ps_cap(rbw.ids) AS evidence, coalesce(rbw.read_first, 0) AS evidence_count,
       to_json({modifiedFiles: coalesce(rbw.files, 0), readFirst: coalesce(rbw.read_first, 0)})
           AS detail
FROM base LEFT JOIN rbw USING (session_id)
UNION ALL
SELECT base.session_id, 'explorationBeforeActionRatio', to_json(ps_div(ebar.exploring, ebar.n)),
       ps_count_conf(ebar.n), ps_cap(ebar.ids), coalesce(ebar.exploring, 0),
       to_json({actionsBeforeFirstChange: coalesce(ebar.n, 0),
                exploring: coalesce(ebar.exploring, 0)})
FROM base LEFT JOIN ebar USING (session_id)
UNION ALL
SELECT base.session_id, 'planningBeforeActing',
       to_json(CASE WHEN anything.n IS NULL THEN NULL
                    ELSE coalesce(ps_div(pba.strategic + pba.tactical, pba.n), 0.0) END),
       CASE WHEN anything.n IS NULL THEN 'insufficient_data' ELSE 'low' END,
       ps_cap(pba.ids), coalesce(pba.n, 0),
       to_json({itemsBeforeFirstChange: coalesce(pba.n, 0),
                strategic: coalesce(pba.strategic, 0) - coalesce(pba.planning, 0),
                tactical: coalesce(pba.tactical, 0), reactive: coalesce(pba.reactive, 0),
                planningEvents: coalesce(pba.planning, 0), method: 'heuristic'})
FROM base LEFT JOIN pba USING (session_id) LEFT JOIN anything USING (session_id)
