//! Rebilling after a retroactive registry change: each issued bill filled from the registry
//! is priced again from its stored request, on the registry as it stands now and the tariff
//! that priced it, and listed when its total moves. A correction bill repeats the original
//! request, names the bill it corrects and says why.

use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::{Entry, Issuer};
use crate::bill::Options;
use crate::pricing::{price_request, tariff_for};
use crate::registry::{fill, Snapshot};
use crate::tariff::TariffStore;
use crate::wire::problem::ApiError;
use crate::wire::request::BillRequestBody;

/// An issued bill whose amount the registry of now changes.
#[derive(Debug, Serialize, ToSchema)]
pub struct Rebill {
    pub bill_id: String,
    pub enterprise_id: String,
    #[schema(value_type = String, format = Date)]
    pub period_start: chrono::NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub period_end: chrono::NaiveDate,
    #[schema(value_type = String)]
    pub old_total: Decimal,
    #[schema(value_type = String)]
    pub new_total: Decimal,
    /// New minus old.
    #[schema(value_type = String)]
    pub delta: Decimal,
    /// What changed since the bill was issued.
    pub cause: String,
    /// The correction bill, when issued (`?issue=true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correction_bill_id: Option<String>,
    /// The correction as a ledger entry, to be stored.
    #[serde(skip)]
    pub correction: Option<Entry>,
}

/// `entry` priced again on `registry` (by the tariff that priced it, or the one in service
/// when that is gone); `None` when its total stands. A bill whose enterprise has not
/// changed in the registry since it was issued is not priced again.
pub fn check(
    entry: &Entry,
    registry: &Snapshot,
    tariffs: &TariffStore,
    issuer: &Issuer,
) -> Result<Option<Rebill>, ApiError> {
    let Some(issued_on) = entry.registry_version else {
        return Ok(None);
    };
    let now = registry
        .history(&entry.enterprise_id)
        .map_or(0, |h| h.latest_version());
    if now == issued_on {
        return Ok(None);
    }
    let body = BillRequestBody::from_json(entry.request.as_bytes())?;
    let request = fill::request(body, Some(registry)).map_err(ApiError::Invalid)?;
    let tariff = match tariffs.by_digest(&entry.tariff_digest) {
        Some(tariff) => tariff,
        None => tariff_for(&tariffs.current(), &request)?.clone(),
    };
    let bill = price_request(&request, &tariff, Options { trace: false })?;
    if bill.totals.total == entry.total {
        return Ok(None);
    }
    let mut cause = format!(
        "the registry records of {} changed after the bill was issued (version {issued_on} then, {now} now)",
        entry.enterprise_id
    );
    if tariff.digest != entry.tariff_digest {
        cause.push_str(&format!(
            "; the tariff {} is no longer available, priced by {}",
            entry.tariff_digest, tariff.digest
        ));
    }
    let mut correction = Entry::new(entry.request.as_bytes(), &request, &bill, &tariff, issuer);
    correction.corrects = Some(entry.bill_id.clone());
    correction.cause = Some(cause.clone());
    Ok(Some(Rebill {
        bill_id: entry.bill_id.clone(),
        enterprise_id: entry.enterprise_id.clone(),
        period_start: entry.period_start,
        period_end: entry.period_end,
        old_total: entry.total,
        new_total: bill.totals.total,
        delta: bill.totals.total - entry.total,
        cause,
        correction_bill_id: None,
        correction: Some(correction),
    }))
}
