-- Family: cost. Model tokens and what they cost, and the AI tools the assessment allowed.
-- Token counts are the `ai_response` events' usage fields, written under the same names by
-- every adapter and the model-API recorder (docs/event-kinds.md, "Token usage"): `inputTokens`
-- (every prompt token, cached or not), `cachedInputTokens` and `cacheWriteTokens` (its parts
-- read from and written to the prompt cache), `outputTokens`, and `costUsd` when the recorder
-- computed one. Prices come from the temporary table `_prices` (analysis/prices.py fills it
-- from the built-in price table or the reviewer's `--prices FILE`): a model takes the entry
-- whose name is its longest prefix, case-insensitive. A reply "reports usage" when it has
-- `inputTokens`, `outputTokens` or `costUsd`; counts that are not non-negative integers are
-- ignored. A reply the model-API recorder saw (`source.channel` proxy) counts only when no
-- hook or transcript of the same tool (the reply's `client`) reported usage in the session, so
-- that no reply is counted twice (docs/integrations/api-recorder.md).
--
-- @signal totalTokens
-- Sum of `inputTokens` + `outputTokens` over the replies that report usage (cache reads and
-- writes are already inside `inputTokens`). Null when no reply reports usage
-- (`insufficient_data`). Confidence: `high` when every `ai_response` reports usage and none is
-- approximate; `moderate` when some reply reports none or a count is rounded (Aider's
-- `tokensApproximate`). `detail` gives `inputTokens`, `outputTokens`, `cachedInputTokens`,
-- `cacheWriteTokens`, `replies` and `repliesWithoutUsage`. Evidence: the replies that report
-- usage.
--
-- @signal totalCostUsd
-- US dollars the replies that report usage cost: per reply, (`inputTokens` − cache reads −
-- cache writes) × the input price + cache reads × the cache-read price + cache writes × the
-- cache-write price + `outputTokens` × the output price, per million tokens (an entry without
-- cache prices charges them at its input price). A model the price table does not name costs
-- the reply's own `costUsd` when it has one, else it is unpriced and adds nothing (see
-- `unpricedModelCalls`); the reviewer's table is never overridden by a figure from the
-- candidate's machine. Null when no reply could be priced (`insufficient_data`). Confidence:
-- `high` when every reply that reports usage is priced and none is approximate; `moderate`
-- otherwise. `detail.byModel` lists each model (`(none)` when a reply names none) with its
-- `calls`, token counts, `costUsd` (null when none of its calls was priced), `unpricedCalls`
-- and the table entry it matched (`priceEntry`), most expensive first, at most 100 of them
-- (`detail.models` counts them all; a model name is cut at 200 characters); `detail` also gives
-- `pricedCalls`, `unpricedCalls`, the table's `priceTableAsOf` and `priceTableSource`
-- (`built-in` or the file), and the assessment's `tokenBudgetUsd` (from `session_start`; null
-- without one) with `overBudget` (the cost is above it). Evidence: the priced replies.
--
-- @signal unpricedModelCalls
-- Number of replies that report usage but could not be priced: their model is missing or not
-- in the price table, and they carry no `costUsd`. 0 when every reply was priced; null when no
-- reply reports usage (`insufficient_data`); otherwise `high`. `detail.models` lists the
-- unpriced model names (at most 100). Evidence: those replies.
--
-- @signal toolsNotAllowed
-- Sorted list of the AI tools used in the session that the assessment's `allowedTools` (in
-- `session_start`) does not list: a tool is used when an event's `source.integration` is its
-- catalog name (`claude-code`, `codex`, …) or, for the model-API recorder's events, when their
-- `data.client` is, or when the recorder wrote a `warning` with code
-- `tool_not_allowed` for it. An empty list when every tool used was allowed; null when the
-- assessment set no `allowedTools` (`insufficient_data`); otherwise `high`. `detail` gives
-- the `allowedTools` and, per tool, its number of events. Evidence: the first event of each
-- such tool and the recorder's warnings.
WITH
base AS (SELECT session_id FROM sessions JOIN _scope USING (session_id)),
replies AS (
    -- `data` is parsed twice per reply (one call with a list of keys for the JSON values, one
    -- for their text), not once per field: the same values as `data->'key'` / `data->>'key'`.
    SELECT session_id, seq, event_id,
           left(nullif(trim(s[1]), ''), 200) AS model,
           ps_token_count(j[1]) AS input_tokens,
           ps_token_count(j[2]) AS output_tokens,
           ps_token_count(j[3]) AS cached,
           ps_token_count(j[4]) AS cache_write,
           CASE WHEN json_type(j[5]) IN ('DOUBLE', 'UBIGINT', 'BIGINT')
                     AND s[2]::DOUBLE >= 0
                THEN s[2]::DOUBLE END AS given_cost,
           coalesce(json_type(j[6]) = 'BOOLEAN' AND s[3]::BOOLEAN, false) AS approx
    FROM (SELECT e.session_id, e.seq, e.event_id,
                 json_extract(e.data, ['inputTokens', 'outputTokens', 'cachedInputTokens',
                                       'cacheWriteTokens', 'costUsd', 'tokensApproximate']) AS j,
                 json_extract_string(e.data, ['model', 'costUsd', 'tokensApproximate']) AS s
          FROM events e JOIN base USING (session_id)
          WHERE e.kind = 'ai_response'
            -- A reply the model-API recorder saw counts only when no hook or transcript of the
            -- same tool (its `client`) reported usage in the session: else it is the same reply
            -- twice.
            AND (e.channel IS DISTINCT FROM 'proxy'
                 OR NOT EXISTS (SELECT 1 FROM events o
                                WHERE o.session_id = e.session_id AND o.kind = 'ai_response'
                                  AND o.channel IS DISTINCT FROM 'proxy'
                                  AND o.integration = (e.data->>'client')
                                  AND ((o.data->'inputTokens') IS NOT NULL
                                       OR (o.data->'outputTokens') IS NOT NULL))))
),
reply_n AS (SELECT session_id, count(*) AS n FROM replies GROUP BY session_id),
usage AS (
    SELECT * FROM replies
    WHERE input_tokens IS NOT NULL OR output_tokens IS NOT NULL OR given_cost IS NOT NULL
),
-- Each distinct model is matched to its price entry (the longest prefix) once, not each reply.
model_price AS (
    SELECT m.model, p.prefix, p.input AS p_in, p.output AS p_out,
           coalesce(p.cache_read, p.input) AS p_read, coalesce(p.cache_write, p.input) AS p_write
    FROM (SELECT DISTINCT model FROM usage WHERE model IS NOT NULL) m
    JOIN _prices p ON starts_with(lower(m.model), p.prefix)
    QUALIFY row_number() OVER (PARTITION BY m.model ORDER BY length(p.prefix) DESC) = 1
),
matched AS (
    SELECT u.*, mp.prefix, mp.p_in, mp.p_out, mp.p_read, mp.p_write
    FROM usage u LEFT JOIN model_price mp ON mp.model = u.model
    QUALIFY row_number() OVER (PARTITION BY u.session_id, u.seq
                               ORDER BY length(mp.prefix) DESC NULLS LAST) = 1
),
costed AS (
    SELECT *,
           CASE WHEN prefix IS NOT NULL THEN
                    (greatest(coalesce(input_tokens, 0) - coalesce(cached, 0)
                              - coalesce(cache_write, 0), 0) * p_in
                     + coalesce(cached, 0) * p_read + coalesce(cache_write, 0) * p_write
                     + coalesce(output_tokens, 0) * p_out) / 1e6
                ELSE given_cost END AS cost
    FROM matched
),
totals AS (
    SELECT session_id, count(*) AS n,
           sum(coalesce(input_tokens, 0)) AS input_tokens,
           sum(coalesce(output_tokens, 0)) AS output_tokens,
           sum(coalesce(cached, 0)) AS cached, sum(coalesce(cache_write, 0)) AS cache_write,
           bool_or(approx) AS approx,
           count(*) FILTER (WHERE input_tokens IS NOT NULL OR output_tokens IS NOT NULL)
               AS counted,
           list(event_id ORDER BY seq) FILTER (
               WHERE input_tokens IS NOT NULL OR output_tokens IS NOT NULL) AS counted_ids,
           count(cost) AS priced, sum(cost) AS cost,
           list(event_id ORDER BY seq) FILTER (WHERE cost IS NOT NULL) AS priced_ids,
           count(*) FILTER (WHERE cost IS NULL) AS unpriced,
           list(event_id ORDER BY seq) FILTER (WHERE cost IS NULL) AS unpriced_ids,
           list(DISTINCT coalesce(model, '(none)') ORDER BY coalesce(model, '(none)'))
               FILTER (WHERE cost IS NULL) AS unpriced_models
    FROM costed GROUP BY session_id
),
models AS (
    SELECT session_id,
           list({model: model, calls: calls, inputTokens: input_tokens,
                 outputTokens: output_tokens, cachedInputTokens: cached,
                 cacheWriteTokens: cache_write, costUsd: cost, unpricedCalls: unpriced,
                 priceEntry: entry}
                ORDER BY cost DESC NULLS LAST, model) AS by_model, count(*) AS n
    FROM (SELECT session_id, coalesce(model, '(none)') AS model, count(*) AS calls,
                 sum(coalesce(input_tokens, 0)) AS input_tokens,
                 sum(coalesce(output_tokens, 0)) AS output_tokens,
                 sum(coalesce(cached, 0)) AS cached, sum(coalesce(cache_write, 0)) AS cache_write,
                 sum(cost) AS cost, count(*) FILTER (WHERE cost IS NULL) AS unpriced,
                 any_value(prefix) AS entry
          FROM costed GROUP BY ALL)
    GROUP BY session_id
),
start AS (
    SELECT session_id,
           arg_min(CASE WHEN json_type(data->'tokenBudgetUsd') IN ('DOUBLE', 'UBIGINT', 'BIGINT')
                        THEN (data->>'tokenBudgetUsd')::DOUBLE END, seq) AS budget,
           arg_min(CASE WHEN json_type(data->'allowedTools') = 'ARRAY'
                        THEN (data->'allowedTools')::VARCHAR[] END, seq) AS allowed
    FROM events JOIN base USING (session_id)
    WHERE kind = 'session_start' GROUP BY session_id
),
tool_events AS (
    -- The model-API recorder's events name their tool in `data.client` (from its User-Agent).
    SELECT e.session_id, e.event_id, e.seq,
           CASE WHEN e.integration = 'proxy' THEN e.data->>'client' ELSE e.integration END AS tool
    FROM events e JOIN start s USING (session_id)
    WHERE s.allowed IS NOT NULL
),
used AS (
    SELECT e.session_id, e.tool, count(*) AS n,
           arg_min(e.event_id, e.seq) AS first_id, min(e.seq) AS first_seq
    FROM tool_events e JOIN start s USING (session_id)
    WHERE list_contains(getvariable('ps_ai_tools'), e.tool)
          AND NOT list_contains(s.allowed, e.tool)
    GROUP BY ALL
),
warned AS (
    SELECT e.session_id, e.data->>'integration' AS tool, e.event_id, e.seq
    FROM events e JOIN base USING (session_id)
    WHERE e.kind = 'warning' AND e.data->>'code' = 'tool_not_allowed'
          AND e.data->>'integration' IS NOT NULL
),
offending AS (
    SELECT session_id, tool, sum(n) AS n, list(id ORDER BY seq) AS ids
    FROM (SELECT session_id, tool, n, first_id AS id, first_seq AS seq FROM used
          UNION ALL
          SELECT session_id, tool, 0, event_id, seq FROM warned)
    GROUP BY ALL
),
off AS (
    SELECT session_id, list(tool ORDER BY tool) AS tools,
           json_group_object(tool, n) AS counts,
           flatten(list(ids ORDER BY tool)) AS ids
    FROM offending GROUP BY session_id
)
SELECT base.session_id, 'totalTokens' AS signal,
       to_json(CASE WHEN t.counted > 0 THEN t.input_tokens + t.output_tokens END) AS value,
       CASE WHEN coalesce(t.counted, 0) = 0 THEN 'insufficient_data'
            WHEN t.approx OR t.counted < r.n THEN 'moderate'
            ELSE 'high' END AS confidence,
       ps_cap(t.counted_ids) AS evidence, coalesce(t.counted, 0) AS evidence_count,
       to_json({inputTokens: coalesce(t.input_tokens, 0), outputTokens: coalesce(t.output_tokens, 0),
                cachedInputTokens: coalesce(t.cached, 0), cacheWriteTokens: coalesce(t.cache_write, 0),
                replies: coalesce(r.n, 0),
                repliesWithoutUsage: coalesce(r.n, 0) - coalesce(t.counted, 0)}) AS detail
FROM base LEFT JOIN totals t USING (session_id) LEFT JOIN reply_n r USING (session_id)
UNION ALL
SELECT base.session_id, 'totalCostUsd',
       to_json(CASE WHEN t.priced > 0 THEN round(t.cost, 6) END),
       CASE WHEN coalesce(t.priced, 0) = 0 THEN 'insufficient_data'
            WHEN t.unpriced > 0 OR t.approx THEN 'moderate'
            ELSE 'high' END,
       ps_cap(t.priced_ids), coalesce(t.priced, 0),
       to_json({byModel: coalesce(m.by_model[1:100], []), models: coalesce(m.n, 0),
                pricedCalls: coalesce(t.priced, 0),
                unpricedCalls: coalesce(t.unpriced, 0),
                priceTableAsOf: getvariable('ps_prices_as_of'),
                priceTableSource: getvariable('ps_prices_source'),
                tokenBudgetUsd: s.budget,
                overBudget: CASE WHEN s.budget IS NOT NULL AND t.priced > 0
                                 THEN t.cost > s.budget END})
FROM base LEFT JOIN totals t USING (session_id) LEFT JOIN models m USING (session_id)
     LEFT JOIN start s USING (session_id)
UNION ALL
SELECT base.session_id, 'unpricedModelCalls',
       to_json(CASE WHEN coalesce(t.n, 0) > 0 THEN t.unpriced END),
       CASE WHEN coalesce(t.n, 0) = 0 THEN 'insufficient_data' ELSE 'high' END,
       ps_cap(t.unpriced_ids), coalesce(t.unpriced, 0),
       to_json({models: coalesce(t.unpriced_models[1:100], [])})
FROM base LEFT JOIN totals t USING (session_id)
UNION ALL
SELECT base.session_id, 'toolsNotAllowed',
       to_json(CASE WHEN s.allowed IS NOT NULL OR o.tools IS NOT NULL
                    THEN coalesce(o.tools, []::VARCHAR[]) END),
       CASE WHEN s.allowed IS NULL AND o.tools IS NULL THEN 'insufficient_data' ELSE 'high' END,
       ps_cap(o.ids), coalesce(len(o.ids), 0),
       to_json({allowedTools: s.allowed, events: o.counts})
FROM base LEFT JOIN start s USING (session_id) LEFT JOIN off o USING (session_id)
