-- Family: errors. How work broke and how the candidate got it going again. Commands are
-- taken in timeline order; a command fails when its exit code is not 0. The "key" of a
-- command is its type for test, lint, typecheck and build commands, else its first word.
--
-- @signal errorEpisodeCount
-- Number of error episodes: maximal runs of consecutive failing commands (a success ends an
-- episode). Confidence: `high`, or `insufficient_data` when the session has no command with
-- an exit code (the value is then 0). Evidence: the first failing command of each episode.
--
-- @signal recoveryCount
-- Number of error episodes followed, later in the session, by a successful command with the
-- same key as the episode's last failing command (the tests fail, then pass). Confidence as
-- errorEpisodeCount. Evidence: the successful commands that ended an episode.
--
-- @signal errorRecoveryPattern
-- For each failed command, the first action after it (the next prompt, command, file change,
-- note, planning or decision event; test and build reports of the same run are skipped) is
-- classed: `retry` (the same command line again), `pivot` (a different command or a file
-- change), `hypothesis` (a prompt or note that refers to the failure: error vocabulary, a
-- pasted output, or the failing command's first word; planning and decision events always
-- count), or `unrelated` (a prompt or note that does not, or no action at all).
-- Value = (hypothesis + pivot) ÷ failed commands − 0.1 × stuck loops, floored at 0, 0–1.
-- A stuck loop is three or more consecutive prompts, each with word-set Jaccard similarity
-- ≥ 0.6 to the one before and no file change or successful command between them; or three
-- or more consecutive failures of the same command line with no file change between them.
-- Null without failed commands (`insufficient_data`); otherwise `low` (a heuristic).
-- Evidence: the failed commands and the actions that followed them.
WITH
base AS (SELECT session_id FROM sessions JOIN _scope USING (session_id)),
c AS (
    SELECT session_id, event_id, seq, command, exit_code <> 0 AS failed,
           CASE WHEN category IN ('test', 'lint', 'typecheck', 'build') THEN category
                ELSE lower(split_part(trim(command), ' ', 1)) END AS key,
           regexp_replace(lower(trim(command)), '\s+', ' ', 'g') AS norm,
           lag(exit_code <> 0) OVER (PARTITION BY session_id ORDER BY seq) AS prev_failed
    FROM commands WHERE exit_code IS NOT NULL
),
numbered AS (
    SELECT *, sum(CASE WHEN failed AND NOT coalesce(prev_failed, false) THEN 1 ELSE 0 END)
              OVER (PARTITION BY session_id ORDER BY seq ROWS UNBOUNDED PRECEDING) AS ep
    FROM c
),
-- the next successful command with the same key, seen from every command
c_next AS (
    SELECT n.*, ok.event_id AS ok_id
    FROM (
        SELECT *,
               min(CASE WHEN NOT failed THEN seq END) OVER (
                   PARTITION BY session_id, key ORDER BY seq
                   ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS ok_seq
        FROM numbered
    ) n
    LEFT JOIN c ok ON ok.session_id = n.session_id AND ok.seq = n.ok_seq
),
episodes AS (
    SELECT session_id, ep, min(seq) AS first_seq, max(seq) AS last_seq,
           arg_min(event_id, seq) AS first_id
    FROM numbered WHERE failed GROUP BY session_id, ep
),
ep_stats AS (
    SELECT e.session_id, count(*) AS episodes, count(x.ok_seq) AS recoveries,
           list(e.first_id ORDER BY e.first_seq) AS episode_ids,
           list(x.ok_id ORDER BY x.ok_seq) FILTER (WHERE x.ok_seq IS NOT NULL) AS recovery_ids
    FROM episodes e JOIN c_next x ON x.session_id = e.session_id AND x.seq = e.last_seq
    GROUP BY e.session_id
),
has_cmd AS (SELECT session_id, count(*) AS n FROM c GROUP BY session_id),
-- The next action after every action, found on narrow columns; the text of the next action
-- is read from `data` only for the failed commands below. It is found again by its session,
-- seq and id (not DuckDB's rowid, which Parquet files and other engines do not have).
actions AS (
    SELECT session_id, event_id, lead(seq) OVER w AS next_seq, lead(event_id) OVER w AS next_id
    FROM events
    WHERE kind IN ('prompt', 'command', 'file_create', 'file_diff', 'file_delete', 'note',
                   'planning', 'decision_event')
    WINDOW w AS (PARTITION BY session_id ORDER BY seq)
),
next_action AS (
    SELECT f.session_id, f.event_id AS failed_id, f.seq AS failed_seq, f.norm,
           e.event_id AS next_id, e.kind AS next_kind,
           CASE e.kind WHEN 'command'
                THEN regexp_replace(lower(trim(coalesce(e.data->>'command', ''))), '\s+', ' ', 'g')
                ELSE lower(concat_ws(' ', e.data->>'text', e.data->>'title', e.data->>'rationale'))
           END AS next_text,
           coalesce(try_cast(e.data->>'likelyPaste' AS BOOLEAN), false) AS next_pasted
    FROM c f JOIN actions a ON a.session_id = f.session_id AND a.event_id = f.event_id
    LEFT JOIN events e
           ON e.session_id = a.session_id AND e.seq = a.next_seq AND e.event_id = a.next_id
    WHERE f.failed
),
classified AS (
    SELECT *,
           CASE
               WHEN next_id IS NULL THEN 'unrelated'
               WHEN next_kind = 'command' AND next_text = norm THEN 'retry'
               WHEN next_kind IN ('command', 'file_create', 'file_diff', 'file_delete') THEN 'pivot'
               WHEN next_kind IN ('planning', 'decision_event') THEN 'hypothesis'
               WHEN next_pasted
                    OR regexp_matches(next_text,
                        '\b(error|errors|fail|fails|failed|failing|failure|exception|traceback|'
                        || 'bug|why|because|cause|hypothes\w*|suspect|maybe|think|broke|broken|'
                        || 'wrong|expected|instead|crash\w*|stack)\b')
                    OR (length(split_part(norm, ' ', 1)) > 1
                        AND contains(next_text, split_part(norm, ' ', 1)))
                   THEN 'hypothesis'
               ELSE 'unrelated'
           END AS class
    FROM next_action
),
cls AS (
    SELECT session_id, count(*) AS failed_n,
           count(*) FILTER (WHERE class = 'hypothesis') AS hypothesis,
           count(*) FILTER (WHERE class = 'retry') AS retry,
           count(*) FILTER (WHERE class = 'pivot') AS pivots,
           count(*) FILTER (WHERE class = 'unrelated') AS unrelated,
           flatten(list(list_filter([failed_id, next_id], lambda x: x IS NOT NULL)
                        ORDER BY failed_seq)) AS ids,
           list({failedEventId: failed_id, nextEventId: next_id, class: class}
                ORDER BY failed_seq)[1:1000] AS items
    FROM classified GROUP BY session_id
),
-- Progress so far at every prompt and command: file changes and successful commands.
stream AS (
    SELECT session_id, seq, 'prompt' AS what, NULL::VARCHAR AS norm, false AS failed,
           0 AS change, 0 AS ok
    FROM prompts
    UNION ALL
    SELECT session_id, seq, 'command', norm, failed, 0, CASE WHEN failed THEN 0 ELSE 1 END
    FROM c
    UNION ALL
    SELECT session_id, seq, 'change', NULL, false, 1, 0 FROM file_changes
),
progress AS (
    SELECT *,
           sum(change + ok) OVER w AS progress,
           sum(change) OVER w AS changes
    FROM stream
    WINDOW w AS (PARTITION BY session_id ORDER BY seq ROWS UNBOUNDED PRECEDING)
),
neighbours AS (
    SELECT what, session_id, seq, failed, norm, progress, changes,
           lag(seq) OVER w AS prev_seq, lag(failed) OVER w AS prev_failed,
           lag(norm) OVER w AS prev_norm, lag(progress) OVER w AS prev_progress,
           lag(changes) OVER w AS prev_changes
    FROM progress WHERE what IN ('prompt', 'command')
    WINDOW w AS (PARTITION BY session_id, what ORDER BY seq)
),
-- Prompts with no progress since the prompt before: compare their words (Jaccard ≥ 0.6,
-- i.e. shared ≥ 0.6 × (|a| + |b| − shared)).
pairs AS (
    SELECT n.session_id, n.seq, ps_words(p.text) AS words, ps_words(q.text) AS prev_words
    FROM neighbours n
    JOIN prompts p ON p.session_id = n.session_id AND p.seq = n.seq
    JOIN prompts q ON q.session_id = n.session_id AND q.seq = n.prev_seq
    WHERE n.what = 'prompt' AND n.progress = n.prev_progress
),
similar_prompts AS (
    SELECT session_id, seq
    FROM (SELECT *, length(list_intersect(words, prev_words)) AS common FROM pairs)
    WHERE length(words) + length(prev_words) - common > 0
      AND common >= 0.6 * (length(words) + length(prev_words) - common)
),
-- A prompt (command) continues a loop when it is like the one before and nothing moved on.
flags AS (
    SELECT n.what, n.session_id, n.seq,
           CASE WHEN n.what = 'prompt' THEN sp.seq IS NOT NULL
                ELSE n.failed AND coalesce(n.prev_failed, false)
                     AND n.norm = n.prev_norm AND n.changes = n.prev_changes
           END AS is_similar
    FROM neighbours n
    LEFT JOIN similar_prompts sp ON sp.session_id = n.session_id AND sp.seq = n.seq
),
islands AS (
    SELECT *, sum(CASE WHEN is_similar THEN 0 ELSE 1 END)
              OVER (PARTITION BY what, session_id ORDER BY seq ROWS UNBOUNDED PRECEDING) AS grp
    FROM flags
),
loops AS (
    SELECT session_id, count(*) AS n
    FROM (SELECT session_id, what, grp FROM islands WHERE is_similar
          GROUP BY ALL HAVING count(*) >= 2)
    GROUP BY session_id
)
SELECT base.session_id, 'errorEpisodeCount' AS signal, to_json(coalesce(s.episodes, 0)) AS value,
       CASE WHEN h.n IS NULL THEN 'insufficient_data' ELSE 'high' END AS confidence,
       ps_cap(s.episode_ids) AS evidence, coalesce(s.episodes, 0) AS evidence_count,
       NULL::JSON AS detail
FROM base LEFT JOIN ep_stats s USING (session_id) LEFT JOIN has_cmd h USING (session_id)
UNION ALL
SELECT base.session_id, 'recoveryCount', to_json(coalesce(s.recoveries, 0)),
       CASE WHEN h.n IS NULL THEN 'insufficient_data' ELSE 'high' END,
       ps_cap(s.recovery_ids), coalesce(s.recoveries, 0), NULL
FROM base LEFT JOIN ep_stats s USING (session_id) LEFT JOIN has_cmd h USING (session_id)
UNION ALL
SELECT base.session_id, 'errorRecoveryPattern',
       to_json(CASE WHEN cls.failed_n > 0 THEN greatest(0.0,
           ps_div(cls.hypothesis + cls.pivots, cls.failed_n) - 0.1 * coalesce(loops.n, 0)) END),
       CASE WHEN coalesce(cls.failed_n, 0) = 0 THEN 'insufficient_data' ELSE 'low' END,
       ps_cap(cls.ids), coalesce(length(cls.ids), 0),
       to_json({failedCommands: coalesce(cls.failed_n, 0),
                hypothesis: coalesce(cls.hypothesis, 0), retry: coalesce(cls.retry, 0),
                "pivot": coalesce(cls.pivots, 0), unrelated: coalesce(cls.unrelated, 0),
                stuckLoops: coalesce(loops.n, 0), method: 'heuristic',
                actions: coalesce(cls.items, [])})
FROM base LEFT JOIN cls USING (session_id) LEFT JOIN loops USING (session_id)
