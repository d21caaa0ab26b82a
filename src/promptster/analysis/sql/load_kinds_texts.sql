-- Fill prompts, file_changes and decisions from the events of one session, just read into `events`
-- by read_json with an explicit column spec (load.py). The session is
-- `getvariable('ps_session')`, or every session in `events` when it is NULL (a batch of
-- `score`, loaded set-based into a fresh database: batch.py). Every field is read with TRY_CAST so a malformed event
-- (possible with --allow-invalid) yields NULLs instead of stopping the load. Each event's
-- `data` is parsed once: one json_extract_string call with a list of keys gives every
-- field a table needs (the same text as `data->>'key'`, in one pass over the JSON).
-- load_kinds_runs.sql fills the other typed tables; both only read `events`, so a big session
-- fills them on two connections at once (load.py).
INSERT INTO prompts
SELECT session_id, event_id, seq, ts, coalesce(x[1], x[2], ''),
       coalesce(try_cast(x[3] AS BIGINT), length(coalesce(x[1], x[2], ''))),
       x[4], coalesce(try_cast(x[5] AS BOOLEAN), false)
FROM (SELECT session_id, event_id, seq, ts,
             json_extract_string(data, ['text', 'prompt', 'length', 'lane', 'likelyPaste']) AS x
      FROM events e
      WHERE ps_loading(session_id) AND kind = 'prompt'
        -- A prompt the model-API recorder saw counts only when no hook or transcript of the
        -- same tool (its `client`) captured prompts in the session
        -- (docs/integrations/api-recorder.md): else it is the same prompt twice.
        AND (channel IS DISTINCT FROM 'proxy'
             OR NOT EXISTS (SELECT 1 FROM events o
                            WHERE o.session_id = e.session_id AND o.kind = 'prompt'
                              AND o.channel IS DISTINCT FROM 'proxy'
                              AND o.integration = (e.data->>'client'))));

INSERT INTO file_changes
SELECT session_id, event_id, seq, ts, kind, x[1],
       coalesce(try_cast(x[2] AS BIGINT), 0), coalesce(try_cast(x[3] AS BIGINT), 0),
       try_cast(x[4] AS BIGINT), try_cast(x[5] AS BIGINT), attribution, actor, x[6]
FROM (SELECT session_id, event_id, seq, ts, kind, attribution, actor,
             json_extract_string(data, ['path', 'linesAdded', 'linesRemoved', 'aiLines',
                                        'humanLines', 'diff']) AS x
      FROM events
      WHERE ps_loading(session_id)
        AND kind IN ('file_create', 'file_diff', 'file_delete'));

INSERT INTO decisions
SELECT session_id, event_id, seq, ts, x[1], x[2], x[3], x[4], x[5],
       try_cast(x[6] AS DOUBLE), try_cast(files AS VARCHAR[]), x[7],
       coalesce(try_cast(x[8] AS BOOLEAN), false)
FROM (SELECT session_id, event_id, seq, ts, data->'files' AS files,
             json_extract_string(data, ['title', 'chosenOption', 'rationale', 'context',
                                        'tradeoffs', 'impactScore', 'capturedVia',
                                        'missedDecision']) AS x
      FROM events WHERE ps_loading(session_id) AND kind = 'decision_event');
