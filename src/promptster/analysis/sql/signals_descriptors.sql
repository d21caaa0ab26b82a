-- Family: descriptors. Coarse labels for the shape of a session, computed after the other
-- families from their values (table `_signal_values`) and the loaded events. No label is a
-- judgement; several or none can apply.
--
-- @signal processDescriptors
-- Sorted list of labels. `test-driven`: 3 or more test runs and the first one before the
-- median file change (or no change). `AI-delegating`: 3 or more file changes, aiAttributionPct
-- ≥ 70 and manualEditRatio ≤ 0.2. `iterative`: 5 or more file changes averaging ≤ 30 changed
-- lines each, and verifyIntensity ≥ 0.3. `manual-coder`: 3 or more file changes and
-- manualEditRatio ≥ 0.6. `planner`: a `planning` event before the first change, or 5 or more
-- actions before it with explorationBeforeActionRatio ≥ 0.5. `debugger`: errorEpisodeCount
-- ≥ 3 and recoveryCount ≥ 2. Confidence: `insufficient_data` when the session has no prompt,
-- command or file change (the list is then empty), otherwise `moderate` (thresholds are
-- coarse). Evidence: none of its own; `detail` names the values each label rests on.
WITH
base AS (SELECT session_id FROM sessions JOIN _scope USING (session_id)),
val AS (
    SELECT session_id,
           max(num) FILTER (WHERE signal = 'testRunCount') AS test_runs,
           max(num) FILTER (WHERE signal = 'fileDiffCount') AS changes,
           max(num) FILTER (WHERE signal = 'aiAttributionPct') AS ai_pct,
           max(num) FILTER (WHERE signal = 'manualEditRatio') AS manual,
           max(num) FILTER (WHERE signal = 'verifyIntensity') AS verify,
           max(num) FILTER (WHERE signal = 'explorationBeforeActionRatio') AS explore,
           max(num) FILTER (WHERE signal = 'errorEpisodeCount') AS episodes,
           max(num) FILTER (WHERE signal = 'recoveryCount') AS recoveries,
           max(num) FILTER (WHERE signal = 'promptCount') AS prompts,
           max(num) FILTER (WHERE signal = 'commandCount') AS commands
    FROM _signal_values GROUP BY session_id
),
fc AS (
    SELECT session_id, min(seq) AS first_seq, quantile_disc(seq, 0.5) AS median_seq,
           avg(lines_added + lines_removed) AS avg_size
    FROM file_changes GROUP BY session_id
),
tr AS (SELECT session_id, min(seq) AS first_seq FROM test_runs WHERE kind = 'test_run' GROUP BY ALL),
before AS (
    SELECT e.session_id,
           count(*) FILTER (WHERE e.kind = 'planning') AS planning,
           count(*) FILTER (WHERE e.kind IN ('prompt', 'command', 'tool_use', 'mcp_call')) AS actions
    FROM events e LEFT JOIN fc USING (session_id)
    WHERE e.seq < coalesce(fc.first_seq, 9223372036854775807)
    GROUP BY e.session_id
),
labels AS (
    SELECT base.session_id,
           list_filter([
               CASE WHEN coalesce(val.test_runs, 0) >= 3
                         AND (fc.median_seq IS NULL OR tr.first_seq < fc.median_seq)
                    THEN 'test-driven' END,
               CASE WHEN coalesce(val.changes, 0) >= 3 AND val.ai_pct >= 70 AND val.manual <= 0.2
                    THEN 'AI-delegating' END,
               CASE WHEN coalesce(val.changes, 0) >= 5 AND fc.avg_size <= 30 AND val.verify >= 0.3
                    THEN 'iterative' END,
               CASE WHEN coalesce(val.changes, 0) >= 3 AND val.manual >= 0.6
                    THEN 'manual-coder' END,
               CASE WHEN coalesce(before.planning, 0) > 0
                         OR (coalesce(before.actions, 0) >= 5 AND val.explore >= 0.5)
                    THEN 'planner' END,
               CASE WHEN coalesce(val.episodes, 0) >= 3 AND coalesce(val.recoveries, 0) >= 2
                    THEN 'debugger' END
           ], lambda x: x IS NOT NULL) AS names,
           coalesce(val.prompts, 0) + coalesce(val.commands, 0) + coalesce(val.changes, 0) AS activity,
           {testRunCount: val.test_runs, fileDiffCount: val.changes, aiAttributionPct: val.ai_pct,
            manualEditRatio: val.manual, verifyIntensity: val.verify,
            explorationBeforeActionRatio: val.explore, errorEpisodeCount: val.episodes,
            recoveryCount: val.recoveries, planningBeforeFirstChange: coalesce(before.planning, 0),
            actionsBeforeFirstChange: coalesce(before.actions, 0),
            avgChangeSize: fc.avg_size} AS inputs
    FROM base LEFT JOIN val USING (session_id) LEFT JOIN fc USING (session_id)
         LEFT JOIN tr USING (session_id) LEFT JOIN before USING (session_id)
)
SELECT session_id, 'processDescriptors' AS signal, to_json(list_sort(names)) AS value,
       CASE WHEN activity = 0 THEN 'insufficient_data' ELSE 'moderate' END AS confidence,
       []::VARCHAR[] AS evidence, 0 AS evidence_count, to_json({inputs: inputs}) AS detail
FROM labels
