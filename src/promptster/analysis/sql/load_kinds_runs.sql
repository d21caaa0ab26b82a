-- Fill test_runs and commands from the events of one session, just read into `events`
-- by read_json with an explicit column spec (load.py). The session is
-- `getvariable('ps_session')`, or every session in `events` when it is NULL (a batch of
-- `score`, loaded set-based into a fresh database: batch.py). Every field is read with TRY_CAST so a malformed event
-- (possible with --allow-invalid) yields NULLs instead of stopping the load. Each event's
-- `data` is parsed once: one json_extract_string call with a list of keys gives every
-- field a table needs (the same text as `data->>'key'`, in one pass over the JSON).
-- load_kinds_texts.sql fills the other typed tables; both only read `events`, so a big session
-- fills them on two connections at once (load.py).
-- Test and build runs, with the two fields `commands` needs to link them to their command.
CREATE OR REPLACE TEMP TABLE _load_runs AS
SELECT session_id, event_id, seq, ts, kind,
       CASE WHEN kind = 'test_run' THEN 'test'
            WHEN x[1] IN ('lint', 'typecheck', 'build') THEN x[1]
            ELSE 'build' END AS category,
       x[2] AS tool, x[3] AS command,
       try_cast(x[4] AS BIGINT) AS passed, try_cast(x[5] AS BIGINT) AS failed,
       try_cast(x[6] AS BIGINT) AS skipped, try_cast(x[7] AS BIGINT) AS errors,
       try_cast(x[8] AS BIGINT) AS exit_code, actor, x[9] AS command_event_id
FROM (SELECT session_id, event_id, seq, ts, kind, actor,
             json_extract_string(data, ['category', 'tool', 'command', 'passed', 'failed',
                                        'skipped', 'errors', 'exitCode', 'commandEventId']) AS x
      FROM events
      WHERE ps_loading(session_id) AND kind IN ('test_run', 'build_run'));

INSERT INTO test_runs
SELECT session_id, event_id, seq, ts, kind, category, tool, command, passed, failed, skipped,
       errors, exit_code, actor
FROM _load_runs;

INSERT INTO commands
WITH cmds AS (
    SELECT session_id, event_id, seq, ts, coalesce(x[1], '') AS command,
           try_cast(x[2] AS BIGINT) AS exit_code, try_cast(x[3] AS BIGINT) AS duration_ms, actor
    FROM (SELECT session_id, event_id, seq, ts, actor,
                 json_extract_string(data, ['command', 'exitCode', 'durationMs']) AS x
          FROM events WHERE ps_loading(session_id) AND kind = 'command')
),
-- A run reports a command when it names it by id, or (without an id) repeats its command
-- line within the 3 events after it (joined on the exact seq, 1 to 3 before the run: a join
-- on the command line alone pairs every repeat of a common command with every run of it).
-- Every join is within one session (a batch loads many at once).
linked AS (
    SELECT session_id, event_id, any_value(category) AS category
    FROM (SELECT c.session_id, c.event_id, r.category FROM cmds c
          JOIN _load_runs r ON r.session_id = c.session_id AND r.command_event_id = c.event_id
          UNION ALL
          SELECT c.session_id, c.event_id, r.category
          FROM (SELECT session_id, category, command,
                       unnest([seq - 1, seq - 2, seq - 3]) AS cmd_seq
                FROM _load_runs WHERE command_event_id IS NULL) r
          JOIN cmds c
            ON c.session_id = r.session_id AND c.seq = r.cmd_seq AND c.command = r.command)
    GROUP BY session_id, event_id
)
SELECT c.session_id, c.event_id, c.seq, c.ts, c.command, c.exit_code, c.duration_ms, c.actor,
       coalesce(l.category, ps_command_category(c.command)), l.event_id IS NOT NULL
FROM cmds c LEFT JOIN linked l USING (session_id, event_id);

DROP TABLE _load_runs;
