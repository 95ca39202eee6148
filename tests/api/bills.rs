//! `POST /v1/bills`: the worked examples of POLICY.md, audit traces and headers.

use serde_json::json;

use crate::helpers::TestApp;
use crate::support;

#[actix_web::test]
async fn the_worked_examples_of_the_policy_price_exactly() {
    // The worked examples describe the policy as shipped.
    let app = TestApp::spawn_with(|s| s.tariffs.dir = support::bundled_tariffs()).await;
    let mut failures = Vec::new();
    let cases = support::cases("policy_examples.json");
    for case in &cases {
        let reply = app.post_bill(&support::request_of(case)).await;
        if reply.status != 200 {
            failures.push(format!(
                "case `{}`: status {}: {}",
                case.name,
                reply.status,
                reply.text()
            ));
        } else if let Err(e) = support::check(case, &reply.json()) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn restricted_steel() -> serde_json::Value {
    json!({
        "tariff": "cn-sx-xinzhou",
        "period": { "start": "2020-10-01", "end": "2020-10-31" },
        "enterprise": { "id": "XZ-0001", "name": "忻州某钢铁", "industry": "steel", "catalogue_class": "restricted" },
        "assessment": { "year": 2019, "steel_processes": [{ "process": "blast_furnace", "intensity": "440" }] },
        "electricity": { "kwh": "1250000", "base_price": "0.4523" }
    })
}

#[actix_web::test]
async fn a_bill_matches_the_contract_example_to_the_fen() {
    let app = TestApp::spawn().await;
    let bill = app.post_bill(&restricted_steel()).await.json();
    assert_eq!(bill["enterprise_id"], "XZ-0001");
    assert_eq!(bill["tariff"]["id"], "cn-sx-xinzhou");
    assert_eq!(
        bill["totals"],
        json!({ "electricity_surcharge": "125000.00", "water_surcharge": "0.00", "surcharge": "125000.00", "base": "565375.00", "total": "690375.00" })
    );
    let line = &bill["line_items"][0];
    assert_eq!(line["rule"], "electricity.differential.steel");
    assert_eq!(line["basis"][0]["document"], "发改价格〔2016〕2803号");
    assert_eq!(
        line["explanation"],
        "steel, restricted class: differential adder 0.10 yuan/kWh under 发改价格〔2016〕2803号"
    );
}

#[actix_web::test]
async fn every_bill_names_the_engine_version_and_tariff_digest() {
    let app = TestApp::spawn().await;
    let reply = app.post_bill(&restricted_steel()).await;
    let bill = reply.json();
    assert_eq!(
        reply.header("x-engine-version").as_deref(),
        Some(tariffd::ENGINE_VERSION)
    );
    assert_eq!(
        reply.header("x-tariff-digest"),
        bill["tariff"]["digest"].as_str().map(str::to_string)
    );
    assert!(bill["tariff"]["digest"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
    assert_eq!(bill["engine_version"], tariffd::ENGINE_VERSION);
    assert!(reply
        .header("x-request-id")
        .is_some_and(|id| !id.is_empty()));
}

#[actix_web::test]
async fn the_same_request_gets_the_same_bill_id_and_a_different_one_does_not() {
    let app = TestApp::spawn().await;
    let first = app.post_bill(&restricted_steel()).await.json()["bill_id"].clone();
    let mut same = restricted_steel();
    same["electricity"]["kwh"] = json!(1250000.000);
    let again = app.post_bill(&same).await.json()["bill_id"].clone();
    let mut other = restricted_steel();
    other["electricity"]["kwh"] = json!("1250001");
    let different = app.post_bill(&other).await.json()["bill_id"].clone();
    assert_eq!(
        first, again,
        "1250000 and 1250000.000 are the same quantity"
    );
    assert_ne!(first, different);
}

#[actix_web::test]
async fn explain_full_lets_an_auditor_rederive_the_bill() {
    let app = TestApp::spawn().await;
    let mut request = restricted_steel();
    request["assessment"]["energy_intensity"] = json!({ "value": "1.5", "limit": "1" });
    let bill = app
        .post(
            "/v1/bills?explain=full",
            serde_json::to_vec(&request).unwrap(),
        )
        .await
        .json();
    let trace = &bill["trace"];
    let rate = trace["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["path"] == "electricity.differential.steel.restricted")
        .expect("rate read");
    assert_eq!(rate["value"], "0.10");
    assert_eq!(rate["source"], "发改价格〔2016〕2803号");
    assert_eq!(rate["from"], "2017-01-01");
    assert_eq!(rate["provisional"], false);
    let exempt = trace["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["path"] == "electricity.punitive.exempt_industries");
    assert!(exempt, "the exemption list was read and must be listed");
    let inputs = trace["inputs"].as_array().unwrap();
    let input = |pointer: &str| {
        inputs
            .iter()
            .find(|i| i["pointer"] == pointer)
            .cloned()
            .unwrap_or_else(|| panic!("{pointer} listed"))
    };
    assert_eq!(input("/electricity/kwh")["value"], "1250000");
    assert_eq!(input("/water/m3")["status"], "missing");
    let findings = trace["findings"].as_array().unwrap();
    let punitive = findings
        .iter()
        .find(|f| f["measure"] == "punitive")
        .unwrap();
    assert_eq!(punitive["outcome"], "not_applicable");
    assert!(punitive["detail"].as_str().unwrap().contains("exempt"));
    let plain = app.post_bill(&restricted_steel()).await.json();
    assert!(plain.get("trace").is_none(), "no trace unless asked for");
}

#[actix_web::test]
async fn provisional_parameters_are_flagged_on_the_bill() {
    let app = TestApp::spawn().await;
    let request = json!({
        "period": { "month": "2020-10" }, "enterprise": { "id": "F", "industry": "ferroalloy" },
        "assessment": { "year": 2019, "energy_intensity": { "value": "1.5", "limit": "1" } },
        "electricity": { "kwh": 800000 }
    });
    let bill = app.post_bill(&request).await.json();
    assert_eq!(
        bill["tariff"]["id"], "cn-sx-xinzhou",
        "the configured default tariff"
    );
    let warning = &bill["warnings"][0];
    assert_eq!(warning["code"], "provisional_parameters");
    assert_eq!(
        warning["parameters"],
        json!(["electricity.punitive.within_double"])
    );
    assert_eq!(bill["line_items"][0]["basis"][0]["provisional"], true);
}

#[actix_web::test]
async fn the_trace_tells_a_stated_class_from_a_defaulted_one() {
    let app = TestApp::spawn().await;
    let status_of = |bill: &serde_json::Value, pointer: &str| {
        bill["trace"]["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["pointer"] == pointer)
            .map(|i| i["status"].as_str().unwrap().to_string())
    };
    let mut request = json!({
        "period": { "month": "2020-10" },
        "enterprise": { "id": "D", "industry": "steel" },
        "electricity": { "kwh": "1000" }
    });
    let defaulted = app
        .post(
            "/v1/bills?explain=full",
            serde_json::to_vec(&request).unwrap(),
        )
        .await
        .json();
    assert_eq!(
        status_of(&defaulted, "/enterprise/catalogue_class").as_deref(),
        Some("defaulted")
    );
    assert_eq!(
        status_of(&defaulted, "/enterprise/capacity_cut_overdue").as_deref(),
        Some("defaulted")
    );
    request["enterprise"]["catalogue_class"] = json!("permitted");
    let given = app
        .post(
            "/v1/bills?explain=full",
            serde_json::to_vec(&request).unwrap(),
        )
        .await
        .json();
    assert_eq!(
        status_of(&given, "/enterprise/catalogue_class").as_deref(),
        Some("given")
    );
    assert_eq!(
        given["totals"], defaulted["totals"],
        "the default prices as the stated class"
    );
}
