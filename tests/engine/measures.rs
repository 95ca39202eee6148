//! Every measure at and around its boundaries, as data (`tests/cases/measures.json`).

use std::sync::Arc;

use serde_json::Value;
use tariffd::bill::{price, Options};
use tariffd::tariff::{load_dir, Tariff, TariffSet};
use tariffd::wire::request::BillRequestBody;
use tariffd::wire::view::BillResponse;

use crate::support;

/// The policy as shipped: the data cases describe it.
pub fn bundled() -> TariffSet {
    tariff_set(&support::bundled_tariffs())
}

/// The tests' own tariffs: properties hold whatever the policy's values.
pub fn fixtures() -> TariffSet {
    tariff_set(&support::fixture_tariffs())
}

fn tariff_set(dir: &std::path::Path) -> TariffSet {
    TariffSet::new(load_dir(dir).expect("tariffs load"), "cn-sx-xinzhou").unwrap()
}

pub fn price_json(tariffs: &TariffSet, request: &Value) -> Value {
    let body: BillRequestBody =
        serde_json::from_value(request.clone()).unwrap_or_else(|e| panic!("{e}: {request}"));
    let request = body.into_domain("").unwrap_or_else(|e| panic!("{e:?}"));
    let tariff: &Arc<Tariff> = tariffs
        .resolve(request.tariff.as_deref())
        .expect("known tariff");
    let bill = price(tariff, &request, Options::default()).expect("prices");
    serde_json::to_value(BillResponse::new(&request, &bill, tariff)).unwrap()
}

#[test]
fn every_measure_prices_its_boundary_cases_as_the_policy_says() {
    let tariffs = bundled();
    support::run_all(&support::cases("measures.json"), |request| {
        price_json(&tariffs, request)
    });
}

#[test]
fn the_worked_examples_also_hold_without_http() {
    let tariffs = bundled();
    support::run_all(&support::cases("policy_examples.json"), |request| {
        price_json(&tariffs, request)
    });
}
