-- The enterprise registry: append-only. Every write is a new row with the next version of
-- its enterprise; nothing is updated or deleted, so every past state stays readable.
-- Portable SQL (SQLite and PostgreSQL run the same file): dates and decimals as ISO text,
-- flags and counts as BIGINT.

CREATE TABLE registry_changes (
    enterprise_id TEXT NOT NULL,
    -- 1, 2, 3, … per enterprise, in the order the changes were recorded.
    version BIGINT NOT NULL,
    -- `master`, `classification` or `assessment`.
    kind TEXT NOT NULL,
    -- The year of an assessment; 0 otherwise.
    year BIGINT NOT NULL,
    -- The record as JSON (master data, a dated decision, or a year's assessment).
    body TEXT NOT NULL,
    -- The notice or decision the record rests on (empty for master data without one).
    document TEXT NOT NULL,
    -- RFC 3339, UTC.
    recorded_at TEXT NOT NULL,
    -- The API key's name.
    recorded_by TEXT NOT NULL,
    PRIMARY KEY (enterprise_id, version)
);

CREATE INDEX registry_changes_by_kind ON registry_changes (enterprise_id, kind, year);
