//! Test cases as data: `tests/cases/*.json`, one harness that names the failing case.
#![allow(dead_code)]

use std::path::PathBuf;

use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Deserialize)]
pub struct Case {
    pub name: String,
    /// Merged over [`defaults`].
    pub request: Value,
    /// Expected `totals.surcharge`.
    pub surcharge: String,
    /// Every line item as `kind status rate amount`, optionally followed by
    /// `from..to quantity`.
    pub lines: Vec<String>,
    /// Expected warning codes, in order (unchecked when absent).
    pub warnings: Option<Vec<String>>,
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The tests' own tariffs (`tests/fixtures/tariffs`): what every test but the data cases
/// prices against, so that correcting the bundled policy breaks only the cases about it.
pub fn fixture_tariffs() -> PathBuf {
    root().join("tests/fixtures/tariffs")
}

/// The policy as shipped (`tariffs/`), for the data cases that describe it.
pub fn bundled_tariffs() -> PathBuf {
    root().join("tariffs")
}

pub fn cases(file: &str) -> Vec<Case> {
    let path = root().join("tests/cases").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What a case leaves out: Xinzhou, October 2020, one million kWh.
pub fn defaults() -> Value {
    json!({
        "tariff": "cn-sx-xinzhou",
        "period": { "month": "2020-10" },
        "enterprise": { "id": "T-1" },
        "electricity": { "kwh": "1000000" }
    })
}

pub fn request_of(case: &Case) -> Value {
    let mut request = defaults();
    merge(&mut request, &case.request);
    request
}

fn merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(existing) if existing.is_object() && v.is_object() && k != "period" => {
                        merge(existing, v)
                    }
                    _ => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

/// Compares a bill response with the case, describing every difference.
pub fn check(case: &Case, bill: &Value) -> Result<(), String> {
    let mut problems = Vec::new();
    let surcharge = &bill["totals"]["surcharge"];
    if surcharge != &json!(case.surcharge) {
        problems.push(format!(
            "surcharge: expected {}, got {surcharge}",
            case.surcharge
        ));
    }
    let lines: Vec<String> = bill["line_items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .zip(case.lines.iter().map(Some).chain(std::iter::repeat(None)))
                .map(|(item, spec)| {
                    describe(item, spec.is_some_and(|s| s.split_whitespace().count() > 4))
                })
                .collect()
        })
        .unwrap_or_default();
    if lines != case.lines {
        problems.push(format!(
            "lines:\n    expected {:?}\n    got      {:?}",
            case.lines, lines
        ));
    }
    if let Some(expected) = &case.warnings {
        let got: Vec<String> = bill["warnings"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|w| w["code"].as_str().unwrap_or("?").to_string())
            .collect();
        if &got != expected {
            problems.push(format!("warnings: expected {expected:?}, got {got:?}"));
        }
    }
    check_invariants(bill, &mut problems);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "case `{}`:\n  {}",
            case.name,
            problems.join("\n  ")
        ))
    }
}

fn describe(item: &Value, with_period: bool) -> String {
    let s = |k: &str| item[k].as_str().unwrap_or("?").to_string();
    let mut text = format!(
        "{} {} {} {}",
        s("kind"),
        s("status"),
        s("rate"),
        s("amount")
    );
    if with_period {
        text.push_str(&format!(" {}..{} {}", s("from"), s("to"), s("quantity")));
    }
    text
}

/// What holds for every bill: money has two decimals, applied surcharge lines cite a
/// document, and totals are the sums of the applied lines.
pub fn check_invariants(bill: &Value, problems: &mut Vec<String>) {
    use rust_decimal::Decimal;
    let dec = |v: &Value| v.as_str().and_then(|s| s.parse::<Decimal>().ok());
    let mut surcharge = Decimal::ZERO;
    let mut base = Decimal::ZERO;
    for item in bill["line_items"].as_array().into_iter().flatten() {
        let amount = item["amount"].as_str().unwrap_or_default();
        if amount.split('.').nth(1).map(str::len) != Some(2) {
            problems.push(format!(
                "amount {amount} does not have exactly two decimals"
            ));
        }
        if item["status"] != "applied" {
            continue;
        }
        let kind = item["kind"].as_str().unwrap_or_default();
        let value = dec(&item["amount"]).unwrap_or_default();
        if kind.starts_with("base_") {
            base += value;
        } else {
            surcharge += value;
            if item["basis"].as_array().is_none_or(|b| b.is_empty()) {
                problems.push(format!("applied {kind} line cites no document"));
            }
        }
    }
    let totals = &bill["totals"];
    if dec(&totals["surcharge"]) != Some(surcharge) {
        problems.push(format!(
            "totals.surcharge {} is not the sum of applied lines {surcharge}",
            totals["surcharge"]
        ));
    }
    if dec(&totals["base"]) != Some(base) {
        problems.push(format!(
            "totals.base {} is not the sum of base lines {base}",
            totals["base"]
        ));
    }
    if dec(&totals["total"]) != Some(surcharge + base) {
        problems.push(format!(
            "totals.total {} is not surcharge + base",
            totals["total"]
        ));
    }
}

/// Runs every case through `price`, reporting all failures together.
pub fn run_all(cases: &[Case], mut price: impl FnMut(&Value) -> Value) {
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| check(c, &price(&request_of(c))).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
