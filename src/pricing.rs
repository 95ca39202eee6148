//! Request → tariff → bill: the one way every caller (HTTP, batch, simulation intake, the
//! command line) prices a request and words what can go wrong.

use std::sync::Arc;

use crate::bill::{price, Bill, BillError, BillRequest, Options};
use crate::tariff::{Tariff, TariffSet};
use crate::wire::problem::{unknown_tariff, ApiError};

/// The tariff a bill request names (or the default): unknown is 422 at `/tariff`.
pub fn tariff_for<'t>(
    tariffs: &'t TariffSet,
    request: &BillRequest,
) -> Result<&'t Arc<Tariff>, ApiError> {
    tariffs
        .resolve(request.tariff.as_deref())
        .ok_or_else(|| ApiError::field("/tariff", unknown_tariff(tariffs)))
}

/// Prices a request; an amount too large to compute exactly is the client's field error.
pub fn price_request(
    request: &BillRequest,
    tariff: &Tariff,
    options: Options,
) -> Result<Bill, ApiError> {
    price(tariff, request, options).map_err(|e| match e {
        BillError::Overflow { pointer } => ApiError::field(pointer, e.to_string()),
    })
}
