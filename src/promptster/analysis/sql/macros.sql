-- Helpers shared by the load step and every signal family. Temporary macros: they live in the
-- connection only and are never written into a reviewer's workspace database.

-- Division that yields NULL (never NaN or infinity) when either side is NULL or b is 0.
CREATE OR REPLACE TEMP MACRO ps_div(a, b) AS
    CASE WHEN a IS NULL OR b IS NULL OR b = 0 THEN NULL ELSE a::DOUBLE / b::DOUBLE END;

-- Evidence lists are capped at 1,000 event ids (the count is reported separately).
CREATE OR REPLACE TEMP MACRO ps_cap(ids) AS coalesce(ids, []::VARCHAR[])[1:1000];

-- Confidence of a measurement resting on n observations.
CREATE OR REPLACE TEMP MACRO ps_count_conf(n) AS
    CASE WHEN coalesce(n, 0) = 0 THEN 'insufficient_data'
         WHEN n < 5 THEN 'moderate'
         ELSE 'high' END;

-- The sessions a load fills the typed tables of: the one in variable ps_session, or every
-- session when it is NULL (a batch of `score` in a fresh database). The optimizer folds the
-- variable, so a one-session load still filters on plain equality.
CREATE OR REPLACE TEMP MACRO ps_loading(s) AS
    getvariable('ps_session') IS NULL OR s = getvariable('ps_session');

-- Milliseconds from a to b.
CREATE OR REPLACE TEMP MACRO ps_ms(a, b) AS date_diff('millisecond', a, b);

-- What a shell command line does: test, typecheck, lint, build, read (looks without changing
-- anything) or other. Matches the test runners, linters and builders the recorder counts.
CREATE OR REPLACE TEMP MACRO ps_command_category(cmd) AS
    CASE
        WHEN cmd IS NULL THEN 'other'
        WHEN regexp_matches(lower(cmd),
            '\b(pytest|py\.test|tox|nox|jest|vitest|mocha|rspec|phpunit|ctest|nextest)\b'
            || '|-m\s+(pytest|unittest)\b|\b(npm|pnpm|yarn|bun)\s+(run\s+)?test\b'
            || '|\bgo\s+test\b|\bcargo\s+test\b|\b(mvn|gradle|gradlew)\b.*\btest\b'
            || '|\bdotnet\s+test\b|\bmake\s+(test|check)\b') THEN 'test'
        WHEN regexp_matches(lower(cmd),
            '\b(mypy|pyright|pytype|tsc)\b|\bgo\s+vet\b|\bcargo\s+check\b'
            || '|\b(npm|pnpm|yarn|bun)\s+(run\s+)?(typecheck|type-check)\b') THEN 'typecheck'
        WHEN regexp_matches(lower(cmd),
            '\b(ruff|flake8|pylint|eslint|biome|golangci-lint|rubocop|shellcheck|stylelint)\b'
            || '|\bcargo\s+clippy\b|\bblack\s+--check\b|\bprettier\s+--check\b'
            || '|\b(npm|pnpm|yarn|bun)\s+(run\s+)?lint\b') THEN 'lint'
        WHEN regexp_matches(lower(cmd),
            '\b(npm|pnpm|yarn|bun)\s+(run\s+)?build\b|\b(cargo|go|dotnet)\s+build\b'
            || '|^\s*make\b|\b(mvn|gradle|gradlew|cmake)\b|\bdocker\s+build\b'
            || '|\bpython3?\s+-m\s+build\b') THEN 'build'
        WHEN regexp_matches(lower(cmd),
            '^\s*(cat|less|more|head|tail|bat|ls|tree|find|fd|grep|rg|ag|ack|wc|file|stat|pwd)\b'
            || '|^\s*git\s+(log|show|diff|status|blame|grep)\b') THEN 'read'
        ELSE 'other'
    END;

-- AI tool calls that only look (read, search, list, fetch documentation).
CREATE OR REPLACE TEMP MACRO ps_is_read_tool(name) AS
    lower(coalesce(name, '')) IN (
        'read', 'grep', 'glob', 'ls', 'notebookread', 'webfetch', 'websearch', 'view',
        'read_file', 'list_dir', 'grep_search', 'codebase_search', 'file_search', 'search'
    );

-- Words of a text, lower-cased, for similarity between prompts.
CREATE OR REPLACE TEMP MACRO ps_words(t) AS
    list_distinct(list_filter(regexp_split_to_array(lower(coalesce(t, '')), '[^a-z0-9_./]+'),
                              lambda w: length(w) > 0));

-- RFC 3339 UTC text with milliseconds, as in the timeline.
CREATE OR REPLACE TEMP MACRO ps_iso(t) AS strftime(t, '%Y-%m-%dT%H:%M:%S.%gZ');

-- Prompt classes (heuristic): reactive (reacts to a failure, or is too short to carry
-- intent), strategic (plans, asks to understand, weighs options), tactical (a concrete
-- instruction). Order matters: reactive wins over strategic.
CREATE OR REPLACE TEMP MACRO ps_prompt_class(t, pasted) AS
    CASE
        WHEN pasted OR length(trim(coalesce(t, ''))) < 20
             OR regexp_matches(lower(coalesce(t, '')),
                '\b(error|exception|traceback|fails?|failed|failing|broken|crash\w*|still)\b'
                || '|doesn''?t work|not working|fix (it|this|that)\b') THEN 'reactive'
        WHEN regexp_matches(lower(t),
                '\b(plan|approach|design|architect\w*|strateg\w*|steps?|first|before|explain'
                || '|understand|overview|trade-?offs?|options?|alternatives?|structure'
                || '|investigate|explore|how does|what does|where is|walk me through)\b')
             THEN 'strategic'
        ELSE 'tactical'
    END;

-- A question-like prompt that explores rather than instructs.
CREATE OR REPLACE TEMP MACRO ps_is_exploring_prompt(t) AS
    contains(coalesce(t, ''), '?')
    OR regexp_matches(lower(trim(coalesce(t, ''))),
        '^(what|how|why|where|which|explain|show|describe|find|list|read|look)\b');

-- The outcome of a test run from its counts and exit code, for `test_run` events written
-- before the recorder stored `data.outcome` (the same rules as the recorder's, which also
-- reads the output for Ctrl-C): passed, failed, error, no_tests, interrupted or unknown.
CREATE OR REPLACE TEMP MACRO ps_test_outcome(passed, failed, skipped, errors, exit_code, tool) AS
    CASE
        WHEN exit_code IN (130, -2) THEN 'interrupted'
        WHEN coalesce(passed, failed, skipped, errors) IS NULL THEN
            CASE WHEN coalesce(exit_code, 0) = 0 THEN 'unknown'
                 WHEN tool = 'pytest' AND exit_code = 1 THEN 'failed'
                 WHEN tool = 'pytest' AND exit_code = 5 THEN 'no_tests'
                 ELSE 'error' END
        WHEN coalesce(failed, 0) > 0 THEN 'failed'
        WHEN coalesce(errors, 0) > 0 THEN 'error'
        WHEN coalesce(passed, 0) = 0 THEN 'no_tests'
        WHEN coalesce(exit_code, 0) <> 0 THEN 'error'
        ELSE 'passed'
    END;

-- A recorded outcome when it is one of the known ones, else the one derived from the counts.
CREATE OR REPLACE TEMP MACRO ps_known_outcome(recorded, derived) AS
    CASE WHEN recorded IN ('passed', 'failed', 'error', 'no_tests', 'interrupted', 'unknown')
         THEN recorded ELSE derived END;

-- A token count from an event's JSON field: a non-negative integer, else NULL.
CREATE OR REPLACE TEMP MACRO ps_token_count(j) AS
    CASE WHEN json_type(j) IN ('UBIGINT', 'BIGINT') AND TRY_CAST(j::VARCHAR AS BIGINT) >= 0
         THEN TRY_CAST(j::VARCHAR AS BIGINT) END;
