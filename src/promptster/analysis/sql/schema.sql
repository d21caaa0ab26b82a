-- Tables the analysis works on. One row per loaded bundle in `sessions`; every other table
-- holds rows of all loaded sessions, keyed by session_id. `events` keeps every timeline line
-- (unknown kinds included); the other tables are typed projections of one kind each.
CREATE TABLE IF NOT EXISTS sessions (
    session_id      VARCHAR PRIMARY KEY,
    assessment_id   VARCHAR,
    candidate_key   VARCHAR,
    candidate_name  VARCHAR,
    bundle_path     VARCHAR,
    bundle_sha256   VARCHAR,
    verified        BOOLEAN NOT NULL,
    problems        VARCHAR[],
    format_version  INTEGER,
    tool_version    VARCHAR,
    started_at      TIMESTAMP,
    ended_at        TIMESTAMP,
    event_count     BIGINT,
    source_service  VARCHAR[],
    loaded_at       TIMESTAMP
);

CREATE TABLE IF NOT EXISTS events (
    session_id      VARCHAR NOT NULL,
    seq             BIGINT,
    event_id        VARCHAR,
    ts              TIMESTAMP,
    kind            VARCHAR,
    channel         VARCHAR,
    integration     VARCHAR,
    actor           VARCHAR,
    attribution     VARCHAR,
    attr_confidence DOUBLE,
    data            JSON
);

CREATE TABLE IF NOT EXISTS prompts (
    session_id   VARCHAR NOT NULL,
    event_id     VARCHAR,
    seq          BIGINT,
    ts           TIMESTAMP,
    text         VARCHAR,
    length       BIGINT,
    lane         VARCHAR,
    likely_paste BOOLEAN
);

CREATE TABLE IF NOT EXISTS file_changes (
    session_id    VARCHAR NOT NULL,
    event_id      VARCHAR,
    seq           BIGINT,
    ts            TIMESTAMP,
    kind          VARCHAR,
    path          VARCHAR,
    lines_added   BIGINT,
    lines_removed BIGINT,
    ai_lines      BIGINT,
    human_lines   BIGINT,
    attribution   VARCHAR,
    actor         VARCHAR,
    diff          VARCHAR
);

CREATE TABLE IF NOT EXISTS commands (
    session_id   VARCHAR NOT NULL,
    event_id     VARCHAR,
    seq          BIGINT,
    ts           TIMESTAMP,
    command      VARCHAR,
    exit_code    BIGINT,
    duration_ms  BIGINT,
    actor        VARCHAR,
    category     VARCHAR,  -- test, lint, typecheck, build, read, other
    covered      BOOLEAN   -- a test_run/build_run event reports this same run
);

CREATE TABLE IF NOT EXISTS test_runs (
    session_id       VARCHAR NOT NULL,
    event_id         VARCHAR,
    seq              BIGINT,
    ts               TIMESTAMP,
    kind             VARCHAR,  -- test_run or build_run
    category         VARCHAR,  -- test, lint, typecheck, build
    tool             VARCHAR,
    command          VARCHAR,
    passed           BIGINT,
    failed           BIGINT,
    skipped          BIGINT,
    errors           BIGINT,
    exit_code        BIGINT,
    actor            VARCHAR
);

CREATE TABLE IF NOT EXISTS decisions (
    session_id    VARCHAR NOT NULL,
    event_id      VARCHAR,
    seq           BIGINT,
    ts            TIMESTAMP,
    title         VARCHAR,
    chosen_option VARCHAR,
    rationale     VARCHAR,
    context       VARCHAR,
    tradeoffs     VARCHAR,
    impact_score  DOUBLE,
    files         VARCHAR[],
    captured_via  VARCHAR,
    missed        BOOLEAN
);

-- Line authorship of the final snapshot (the bundle's authorship.json), one row per range of
-- lines that share an author, tool and event. Bundles without the member have no rows.
CREATE TABLE IF NOT EXISTS authorship (
    session_id  VARCHAR NOT NULL,
    path        VARCHAR,
    start_line  BIGINT,
    end_line    BIGINT,
    author      VARCHAR,
    tool        VARCHAR,
    event_id    VARCHAR,
    seq         BIGINT
);
