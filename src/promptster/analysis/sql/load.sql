-- Fill the typed tables from the events of one session, just read into `events` by read_json
-- with an explicit column spec (load.py). The session is `getvariable('ps_session')`. Every
-- field is read with TRY_CAST so a malformed event (possible with --allow-invalid) yields
-- NULLs instead of stopping the load.
INSERT INTO prompts
SELECT session_id, event_id, seq, ts,
       coalesce(data->>'text', data->>'prompt', ''),
       coalesce(try_cast(data->>'length' AS BIGINT),
                length(coalesce(data->>'text', data->>'prompt', ''))),
       data->>'lane', coalesce(try_cast(data->>'likelyPaste' AS BOOLEAN), false)
FROM events WHERE session_id = getvariable('ps_session') AND kind = 'prompt';

INSERT INTO file_changes
SELECT session_id, event_id, seq, ts, kind, data->>'path',
       coalesce(try_cast(data->>'linesAdded' AS BIGINT), 0),
       coalesce(try_cast(data->>'linesRemoved' AS BIGINT), 0),
       try_cast(data->>'aiLines' AS BIGINT), try_cast(data->>'humanLines' AS BIGINT),
       attribution, actor,
       data->>'diff'
FROM events
WHERE session_id = getvariable('ps_session')
  AND kind IN ('file_create', 'file_diff', 'file_delete');

INSERT INTO test_runs
SELECT session_id, event_id, seq, ts, kind,
       CASE WHEN kind = 'test_run' THEN 'test'
            WHEN data->>'category' IN ('lint', 'typecheck', 'build') THEN data->>'category'
            ELSE 'build' END,
       data->>'tool', data->>'command',
       try_cast(data->>'passed' AS BIGINT), try_cast(data->>'failed' AS BIGINT),
       try_cast(data->>'skipped' AS BIGINT), try_cast(data->>'errors' AS BIGINT),
       try_cast(data->>'exitCode' AS BIGINT), actor
FROM events
WHERE session_id = getvariable('ps_session') AND kind IN ('test_run', 'build_run');

INSERT INTO commands
WITH runs AS (
    SELECT seq, data->>'command' AS command, data->>'commandEventId' AS command_event_id,
           CASE WHEN kind = 'test_run' THEN 'test'
                WHEN data->>'category' IN ('lint', 'typecheck', 'build') THEN data->>'category'
                ELSE 'build' END AS category
    FROM events
    WHERE session_id = getvariable('ps_session') AND kind IN ('test_run', 'build_run')
),
cmds AS (
    SELECT session_id, event_id, seq, ts, coalesce(data->>'command', '') AS command,
           try_cast(data->>'exitCode' AS BIGINT) AS exit_code,
           try_cast(data->>'durationMs' AS BIGINT) AS duration_ms, actor
    FROM events WHERE session_id = getvariable('ps_session') AND kind = 'command'
),
-- A run reports a command when it names it by id, or (without an id) repeats its command
-- line within the 3 events after it.
linked AS (
    SELECT event_id, any_value(category) AS category
    FROM (SELECT c.event_id, r.category FROM cmds c
          JOIN runs r ON r.command_event_id = c.event_id
          UNION ALL
          SELECT c.event_id, r.category FROM cmds c
          JOIN runs r ON r.command = c.command
          WHERE r.command_event_id IS NULL AND r.seq BETWEEN c.seq + 1 AND c.seq + 3)
    GROUP BY event_id
)
SELECT c.session_id, c.event_id, c.seq, c.ts, c.command, c.exit_code, c.duration_ms, c.actor,
       coalesce(l.category, ps_command_category(c.command)), l.event_id IS NOT NULL
FROM cmds c LEFT JOIN linked l USING (event_id);

INSERT INTO decisions
SELECT session_id, event_id, seq, ts,
       data->>'title', data->>'chosenOption', data->>'rationale', data->>'context',
       data->>'tradeoffs', try_cast(data->>'impactScore' AS DOUBLE),
       try_cast(data->'files' AS VARCHAR[]), data->>'capturedVia',
       coalesce(try_cast(data->>'missedDecision' AS BOOLEAN), false)
FROM events WHERE session_id = getvariable('ps_session') AND kind = 'decision_event';
