-- Idempotency keys whose first use answered a bill stored before (without that key): the
-- key is bound to the digest of the request it first came with, like a key stored on its
-- bill's row, so that it is never taken for another request. Portable SQL, as 0001.

CREATE TABLE ledger_keys (
    issued_by TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_digest TEXT NOT NULL,
    bill_id TEXT NOT NULL,
    PRIMARY KEY (issued_by, idempotency_key)
);
