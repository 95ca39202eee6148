-- The bill ledger: every bill the service issued, with what it was priced on. Append-only:
-- a correction is a new bill naming the one it corrects. Portable SQL, as 0001.

CREATE TABLE ledger_bills (
    -- The engine's deterministic id: the same request on the same data and tariff is the
    -- same bill, so a bill is never stored twice.
    bill_id TEXT PRIMARY KEY,
    enterprise_id TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    -- Yuan, exact decimal text.
    surcharge TEXT NOT NULL,
    total TEXT NOT NULL,
    tariff_id TEXT NOT NULL,
    tariff_digest TEXT NOT NULL,
    -- The enterprise's latest registry version the bill was filled from; NULL when the
    -- request carried its own classification.
    registry_version BIGINT,
    -- The request as the client sent it (JSON), and the bill as issued (JSON).
    request TEXT NOT NULL,
    bill TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    -- The API key's name.
    issued_by TEXT NOT NULL,
    -- A client's `Idempotency-Key`, with the digest of the request it came with.
    idempotency_key TEXT,
    request_digest TEXT NOT NULL,
    -- A correction: the bill it corrects and why.
    corrects TEXT,
    cause TEXT,
    UNIQUE (issued_by, idempotency_key)
);

CREATE INDEX ledger_bills_by_enterprise ON ledger_bills (enterprise_id, period_start, bill_id);
CREATE INDEX ledger_bills_by_correction ON ledger_bills (corrects);
