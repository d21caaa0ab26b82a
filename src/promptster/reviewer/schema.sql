-- The reviewer workspace's own tables as they are now: what a new workspace gets, in one step.
-- The analysis tables beside them (DuckDB schema `analysis`) come from
-- promptster/analysis/sql/schema.sql. An existing workspace reaches the same schema through the
-- migrations (reviewer/migrations.py): a change here needs a new migration that makes it, and
-- tests/reviewer/test_reviewer_migrations.py proves both ways end in the same schema.
-- `schema_migrations` is the migration runner's own table (migrations.MIGRATIONS_TABLE).

CREATE TABLE assessments (
    id VARCHAR PRIMARY KEY,
    title VARCHAR NOT NULL,
    role VARCHAR NOT NULL,
    brief VARCHAR NOT NULL,
    repo_url VARCHAR,
    repo_rev VARCHAR,
    time_limit_minutes INTEGER,
    expires_in_days INTEGER NOT NULL,
    org VARCHAR NOT NULL,
    reviewer_public_key VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    deleted_at TIMESTAMP,
    pack BLOB,
    pack_revision INTEGER NOT NULL DEFAULT 0,
    token_budget_usd DOUBLE,
    allowed_tools VARCHAR[]
);

CREATE TABLE candidate_keys (
    id VARCHAR PRIMARY KEY,
    assessment_id VARCHAR NOT NULL REFERENCES assessments (id),
    key_text VARCHAR NOT NULL UNIQUE,
    salt BLOB NOT NULL,
    scrypt_hash BLOB NOT NULL,
    candidate_email VARCHAR,
    candidate_name VARCHAR,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    redeemed_at TIMESTAMP,
    completed_at TIMESTAMP,
    session_id VARCHAR,
    invite_status VARCHAR,
    invite_detail VARCHAR,
    invited_at TIMESTAMP
);

CREATE INDEX candidate_keys_assessment ON candidate_keys (assessment_id);

-- One row per imported session (`promptster import`). `events` is unused: imported events
-- live in analysis.events (the table stays because migration 3 made it in shipped workspaces).
CREATE TABLE sessions (
    session_id VARCHAR PRIMARY KEY,
    assessment_id VARCHAR,
    key_id VARCHAR,
    bundle_path VARCHAR,
    bundle_sha256 VARCHAR NOT NULL,
    started_at TIMESTAMP,
    ended_at TIMESTAMP,
    imported_at TIMESTAMP NOT NULL,
    verified BOOLEAN NOT NULL,
    manifest JSON
);

CREATE TABLE events (
    session_id VARCHAR NOT NULL,
    seq INTEGER NOT NULL,
    id VARCHAR NOT NULL,
    ts TIMESTAMP NOT NULL,
    kind VARCHAR NOT NULL,
    actor VARCHAR,
    attribution VARCHAR,
    data JSON,
    PRIMARY KEY (session_id, seq)
);

-- The reviewer's hidden tests of an assessment (never in the pack) and their runs (migration 5).
CREATE TABLE hidden_test_suites (
    assessment_id VARCHAR PRIMARY KEY,
    archive BLOB NOT NULL,
    digest VARCHAR NOT NULL,
    file_count INTEGER NOT NULL,
    command VARCHAR NOT NULL,
    timeout_seconds INTEGER NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE hidden_test_runs (
    bundle_sha256 VARCHAR NOT NULL,
    suite_digest VARCHAR NOT NULL,
    snapshot_commit VARCHAR NOT NULL,
    session_id VARCHAR,
    ran_at TIMESTAMP NOT NULL,
    outcome VARCHAR NOT NULL,
    passed INTEGER NOT NULL,
    total INTEGER NOT NULL,
    result JSON NOT NULL,
    PRIMARY KEY (bundle_sha256, suite_digest, snapshot_commit)
);

-- Human scorecards (migration 7): each reviewer's 1-5 score per hosted rubric dimension, and
-- each reviewer's decision and note; the reviewer's ranking orientation per assessment.
CREATE TABLE rubric_scores (
    session_id VARCHAR NOT NULL,
    reviewer VARCHAR NOT NULL,
    dimension VARCHAR NOT NULL,
    score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (session_id, reviewer, dimension)
);

CREATE TABLE reviewer_decisions (
    session_id VARCHAR NOT NULL,
    reviewer VARCHAR NOT NULL,
    decision VARCHAR CHECK (decision IN ('advance', 'hold', 'reject')),
    note VARCHAR,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (session_id, reviewer)
);

CREATE TABLE metric_orientation (
    assessment_id VARCHAR NOT NULL,
    metric VARCHAR NOT NULL,
    orientation VARCHAR NOT NULL
        CHECK (orientation IN ('higher', 'lower', 'neutral')),
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (assessment_id, metric)
);
