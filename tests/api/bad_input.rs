//! Bad input gets a problem+json naming the field, never a 500 or a crash.

use serde_json::{json, Value};

use crate::helpers::{Reply, TestApp};

fn valid() -> Value {
    json!({
        "period": { "month": "2020-10" },
        "enterprise": { "id": "E-1", "industry": "steel", "catalogue_class": "restricted" },
        "electricity": { "kwh": "1000" }
    })
}

fn with(pointer: &str, value: Value) -> Value {
    let mut body = valid();
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let target = if parent.is_empty() {
        &mut body
    } else {
        body.pointer_mut(parent).unwrap()
    };
    target[key] = value;
    body
}

fn assert_problem(reply: &Reply, status: u16, pointer: Option<&str>, case: &str) {
    assert_eq!(reply.status, status, "{case}: {}", reply.text());
    assert_eq!(
        reply.header("content-type").as_deref(),
        Some("application/problem+json"),
        "{case}"
    );
    let problem = reply.json();
    assert_eq!(problem["status"], status, "{case}");
    assert!(
        problem["type"]
            .as_str()
            .is_some_and(|t| t.starts_with("/problems/")),
        "{case}"
    );
    assert!(
        problem["title"].is_string() && problem["detail"].is_string(),
        "{case}"
    );
    if let Some(pointer) = pointer {
        let pointers: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["pointer"].as_str())
            .collect();
        assert!(
            pointers.contains(&pointer),
            "{case}: expected {pointer} in {pointers:?}"
        );
    }
}

#[actix_web::test]
async fn invalid_fields_are_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "negative kWh",
            with("/electricity/kwh", json!("-1")),
            "/electricity/kwh",
        ),
        (
            "non-numeric kWh",
            with("/electricity/kwh", json!("lots")),
            "/electricity/kwh",
        ),
        (
            "40-digit kWh",
            with(
                "/electricity/kwh",
                json!("1234567890123456789012345678901234567890"),
            ),
            "/electricity/kwh",
        ),
        (
            "40-digit JSON number",
            with("/electricity/kwh", json!(1e39)),
            "/electricity/kwh",
        ),
        (
            "10^18 kWh",
            with("/electricity/kwh", json!("1000000000000000000")),
            "/electricity/kwh",
        ),
        (
            "13 decimals",
            with("/electricity/kwh", json!("0.0000000000001")),
            "/electricity/kwh",
        ),
        (
            "digit separators",
            with("/electricity/kwh", json!("1_000")),
            "/electricity/kwh",
        ),
        (
            "hex",
            with("/electricity/kwh", json!("0x10")),
            "/electricity/kwh",
        ),
        (
            "NaN",
            with("/electricity/kwh", json!("NaN")),
            "/electricity/kwh",
        ),
        (
            "kWh as a boolean",
            with("/electricity/kwh", json!(true)),
            "/electricity/kwh",
        ),
        (
            "kWh missing",
            with("/electricity", json!({})),
            "/electricity/kwh",
        ),
        (
            "unknown industry",
            with("/enterprise/industry", json!("textiles")),
            "/enterprise/industry",
        ),
        (
            "unknown class",
            with("/enterprise/catalogue_class", json!("banned")),
            "/enterprise/catalogue_class",
        ),
        (
            "unknown field",
            with("/enterprise/colour", json!("red")),
            "/enterprise/colour",
        ),
        ("unknown tariff", with("/tariff", json!("cn-xx")), "/tariff"),
        (
            "end before start",
            with(
                "/period",
                json!({ "start": "2020-10-31", "end": "2020-10-01" }),
            ),
            "/period/end",
        ),
        (
            "impossible date",
            with(
                "/period",
                json!({ "start": "2020-02-30", "end": "2020-03-01" }),
            ),
            "/period/start",
        ),
        (
            "month and dates",
            with(
                "/period",
                json!({ "month": "2020-10", "start": "2020-10-01", "end": "2020-10-31" }),
            ),
            "/period",
        ),
        (
            "bad month",
            with("/period", json!({ "month": "2020-13" })),
            "/period/month",
        ),
        (
            "zero limit",
            with(
                "/assessment",
                json!({ "energy_intensity": { "value": "1", "limit": "0" } }),
            ),
            "/assessment/energy_intensity/limit",
        ),
        (
            "zero quota",
            with("/water", json!({ "m3": "1", "quota_m3": "0" })),
            "/water/quota_m3",
        ),
        (
            "negative process intensity",
            with(
                "/assessment",
                json!({ "steel_processes": [{ "process": "coking", "intensity": "-1" }] }),
            ),
            "/assessment/steel_processes/0/intensity",
        ),
        (
            "wrong type for period",
            with("/period", json!("2020-10")),
            "/period",
        ),
        (
            "empty enterprise id",
            with("/enterprise/id", json!(" ")),
            "/enterprise/id",
        ),
        ("a string instead of an object", json!("bill"), "/"),
    ];
    for (case, body, pointer) in cases {
        let reply = app.post_bill(&body).await;
        assert_problem(&reply, 422, Some(pointer), case);
    }
}

#[actix_web::test]
async fn every_invalid_field_is_reported_at_once() {
    let app = TestApp::spawn().await;
    let mut body = with("/electricity/kwh", json!("-5"));
    body["water"] = json!({ "m3": "-1", "quota_m3": "-2" });
    let problem = app.post_bill(&body).await.json();
    assert_eq!(problem["errors"].as_array().unwrap().len(), 3, "{problem}");
}

#[actix_web::test]
async fn malformed_or_empty_bodies_are_400() {
    let app = TestApp::spawn().await;
    for (case, body) in [
        ("empty", ""),
        ("whitespace", "  \n"),
        ("truncated", "{\"period\":"),
        ("not JSON", "kwh=5"),
        ("trailing garbage", "{}}"),
    ] {
        let reply = app.post("/v1/bills", body).await;
        assert_problem(&reply, 400, None, case);
    }
}

#[actix_web::test]
async fn a_batch_or_a_streamed_population_of_nothing_is_400() {
    let app = TestApp::spawn().await;
    for content_type in ["application/x-ndjson", "text/csv"] {
        let reply = app
            .post_with(
                "/v1/bills/batch",
                &[("content-type", content_type)],
                Vec::new(),
            )
            .await;
        assert_problem(&reply, 400, None, content_type);
    }
}

#[actix_web::test]
async fn oversized_bodies_are_413() {
    let app = TestApp::spawn_with(|s| s.server.body_limit_bytes = 1024).await;
    let mut body = valid();
    body["enterprise"]["name"] = json!("x".repeat(2048));
    let reply = app.post_bill(&body).await;
    assert_problem(&reply, 413, None, "2 KiB over a 1 KiB limit");
    assert_eq!(
        app.post_bill(&valid()).await.status,
        200,
        "the server goes on serving"
    );
}

#[actix_web::test]
async fn overflowing_arithmetic_is_an_error_not_a_wrap() {
    let app = TestApp::spawn().await;
    let mut body = valid();
    body["electricity"] =
        json!({ "kwh": "999999999999999999", "base_price": "999999999999999999" });
    let reply = app.post_bill(&body).await;
    assert_problem(
        &reply,
        422,
        Some("/electricity/kwh"),
        "kWh × price beyond what can be written to the fen",
    );
}

#[actix_web::test]
async fn unknown_routes_and_tariffs_are_404_problems() {
    let app = TestApp::spawn().await;
    assert_problem(&app.get("/v2/nothing").await, 404, None, "unknown route");
    assert_problem(
        &app.get("/v1/tariffs/atlantis/parameters").await,
        404,
        None,
        "unknown tariff",
    );
    assert_problem(
        &app.get("/v1/tariffs/cn/parameters?date=yesterday").await,
        422,
        None,
        "bad date",
    );
    let reply = app.get("/v1/surcharges?industry=steel&colour=red").await;
    assert_problem(&reply, 422, None, "unknown query parameter");
    assert_eq!(reply.json()["errors"][0]["parameter"], "colour");
}

#[actix_web::test]
async fn a_known_path_with_another_method_is_405_naming_the_allowed_ones() {
    let app = TestApp::spawn().await;
    let reply = app.get("/v1/bills").await;
    assert_problem(&reply, 405, None, "GET on a POST route");
    assert_eq!(reply.header("allow").as_deref(), Some("POST"));
    let reply = app.post("/v1/tariffs/cn", "{}").await;
    assert_problem(
        &reply,
        405,
        None,
        "POST on a GET route with a path parameter",
    );
    assert_eq!(reply.header("allow").as_deref(), Some("GET, HEAD"));
}
