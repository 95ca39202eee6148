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

/// Bill ids are stored (the ledger, idempotent reissues): the same request and tariff must
/// keep its id from one build to the next. A change here changes every stored bill's id.
#[test]
fn a_bill_keeps_its_id_from_build_to_build() {
    let tariffs = fixtures();
    let request = |name: &str| {
        serde_json::json!({
            "enterprise": {"id": "E-1", "name": name, "industry": "steel", "catalogue_class": "restricted"},
            "period": {"start": "2021-03-01", "end": "2021-03-31"},
            "electricity": {"kwh": "1250000.50"},
            "water": {"m3": "1200", "quota_m3": "1000"}
        })
    };
    for (name, id) in [
        ("钢铁一厂", "bill-d8d61c3bae3e350a7b71eb35faf63855"),
        (
            &"长".repeat(300)[..],
            "bill-3f8d330834f9049f01ffd48cfbba552a",
        ),
    ] {
        assert_eq!(
            price_json(&tariffs, &request(name))["bill_id"],
            id,
            "{name}"
        );
    }
}
