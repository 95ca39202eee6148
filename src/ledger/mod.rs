//! The bill ledger: the bills the service issued, each stored with the request it answered,
//! the bill as issued, the tariff digest and the registry version it was priced on. Issued
//! bills are never changed: a retroactive registry change is answered by a correction bill
//! naming the one it corrects (see [`rebill`]).

pub mod held;
pub mod rebill;
pub mod store;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use crate::bill::{Bill, BillRequest};
use crate::tariff::Tariff;
use crate::wire::view::{BillResponse, Detail};

/// One issued bill, as the ledger stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub bill_id: String,
    pub enterprise_id: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub surcharge: Decimal,
    pub total: Decimal,
    pub tariff_id: String,
    pub tariff_digest: String,
    /// The enterprise's registry version it was filled from (`None`: given in full).
    pub registry_version: Option<i64>,
    /// The request as the client sent it (JSON text): re-read on a rebill, so a bill
    /// that left its enterprise to the registry is filled again from the registry of then.
    pub request: String,
    /// The bill as issued (JSON text: line items with their basis and decisions, totals,
    /// warnings; the explanations are rebuilt by pricing the request again).
    pub bill: String,
    pub issued_at: DateTime<Utc>,
    pub issued_by: String,
    pub idempotency_key: Option<String>,
    /// With a key: `sha256:` of the request text, so that the key sent again with another
    /// request is refused (empty without a key).
    pub request_digest: String,
    /// For a correction: the bill it corrects, and why.
    pub corrects: Option<String>,
    pub cause: Option<String>,
}

/// Who issues a bill, and when.
#[derive(Debug, Clone)]
pub struct Issuer {
    pub name: String,
    pub at: DateTime<Utc>,
}

impl Issuer {
    pub fn now(name: impl Into<String>) -> Issuer {
        Issuer {
            name: name.into(),
            at: crate::database::now(),
        }
    }
}

impl Entry {
    /// The entry for `bill`, priced from `request` (sent as `request_text`) by `tariff`.
    pub fn new(
        request_text: &[u8],
        request: &BillRequest,
        bill: &Bill,
        tariff: &Tariff,
        issuer: &Issuer,
    ) -> Entry {
        let view = BillResponse::with_detail(request, bill, tariff, Detail::Lines);
        let mut json = Vec::with_capacity(1536);
        view.write_json(&mut json);
        Entry::from_json(request_text, request, issuer, &view, &json)
    }

    /// As [`Entry::new`], from the bill's view and its JSON at `Detail::Lines`, written.
    pub fn from_json(
        request_text: &[u8],
        request: &BillRequest,
        issuer: &Issuer,
        view: &BillResponse<'_>,
        bill_json: &[u8],
    ) -> Entry {
        Entry {
            bill_id: view.bill_id.to_string(),
            enterprise_id: request.enterprise.id.clone(),
            period_start: request.period.start(),
            period_end: request.period.end(),
            surcharge: view.totals.surcharge,
            total: view.totals.total,
            tariff_id: view.tariff.id.to_string(),
            tariff_digest: view.tariff.digest.to_string(),
            registry_version: request.registry_version,
            request: String::from_utf8_lossy(request_text).into_owned(),
            bill: String::from_utf8_lossy(bill_json).into_owned(),
            issued_at: issuer.at,
            issued_by: issuer.name.clone(),
            idempotency_key: None,
            request_digest: String::new(),
            corrects: None,
            cause: None,
        }
    }
}

impl Entry {
    /// Issued under a client's `Idempotency-Key` for `request_text`.
    pub fn keyed(mut self, key: String, request_text: &[u8]) -> Entry {
        use std::fmt::Write;
        let mut digest = String::from("sha256:");
        for byte in Sha256::digest(request_text) {
            let _ = write!(digest, "{byte:02x}");
        }
        self.idempotency_key = Some(key);
        self.request_digest = digest;
        self
    }
}
