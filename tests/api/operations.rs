//! Health, metrics and documentation, served without internet access.

use crate::helpers::TestApp;

#[actix_web::test]
async fn health_endpoints_answer() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get("/health/live").await.status, 200);
    let ready = app.get("/health/ready").await;
    assert_eq!(ready.status, 200);
    assert_eq!(
        ready.json()["tariffs"],
        serde_json::json!(["cn", "cn-sx-xinzhou"])
    );
}

#[actix_web::test]
async fn metrics_count_requests_and_bills_with_latency_histograms() {
    let app = TestApp::spawn().await;
    let body = serde_json::json!({ "period": { "month": "2020-10" }, "enterprise": { "id": "M", "industry": "other" }, "electricity": { "kwh": 1 } });
    assert_eq!(app.post_bill(&body).await.status, 200);
    let metrics = app.get("/metrics").await;
    assert_eq!(metrics.status, 200);
    let text = metrics.text();
    assert!(
        text.contains("tariffd_bills_priced_total{tariff=\"cn-sx-xinzhou\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("tariffd_http_requests_duration_seconds_bucket"),
        "{text}"
    );
    assert!(text.contains("route=\"/v1/bills\""), "{text}");
}

#[actix_web::test]
async fn the_docs_page_and_openapi_document_are_served_locally() {
    let app = TestApp::spawn().await;
    let doc = app.get("/openapi.json").await;
    assert_eq!(doc.status, 200);
    assert!(doc.json()["paths"]["/v1/bills"].is_object());
    let followed = app.get("/docs").await;
    assert_eq!(followed.status, 200, "/docs redirects to the page");
    assert!(followed.text().contains("swagger"));
    let page = app.get("/docs/").await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("swagger"), "{}", page.text());
    let script = app.get("/docs/swagger-ui-bundle.js").await;
    assert_eq!(
        script.status, 200,
        "the UI's assets are embedded, not fetched from the internet"
    );
    assert!(script.body.len() > 100_000);
}

#[actix_web::test]
async fn a_plain_client_request_id_is_kept_and_anything_else_replaced() {
    let app = TestApp::spawn().await;
    let kept = app
        .get_with("/health/live", &[("x-request-id", "clerk-42.a_b")])
        .await;
    assert_eq!(kept.header("x-request-id").as_deref(), Some("clerk-42.a_b"));
    let long = "x".repeat(65);
    for forged in ["two words", "a=b", long.as_str()] {
        let reply = app
            .get_with("/health/live", &[("x-request-id", forged)])
            .await;
        let id = reply.header("x-request-id").unwrap_or_default();
        assert!(!id.is_empty() && id != forged, "{forged:?} → {id:?}");
    }
    let refused = app.get("/v1/nowhere/at/all").await;
    assert!(
        refused.header("x-request-id").is_some(),
        "refusals carry an id too"
    );
}

#[actix_web::test]
async fn metrics_count_batch_bills_simulations_reloads_and_heavy_runs() {
    let app = TestApp::spawn().await;
    let batch = std::fs::read(crate::support::root().join("examples/batch.ndjson")).unwrap();
    let reply = app
        .post_with(
            "/v1/bills/batch",
            &[("content-type", "application/x-ndjson")],
            batch,
        )
        .await;
    assert_eq!(reply.status, 200);
    let simulation =
        std::fs::read(crate::support::root().join("examples/simulation.json")).unwrap();
    assert_eq!(app.post("/v1/simulations", simulation).await.status, 200);
    // Streamed populations are counted too, compared as they are read or refused first.
    let record = r#"{"period":{"month":"2020-10"},"enterprise":{"id":"M","industry":"other"},"electricity":{"kwh":1}}"#;
    let population = format!("{record}\n{record}\n");
    for (reform, status) in [
        (serde_json::json!({ "name": "none" }), 200),
        (
            serde_json::json!({ "name": "bad", "parameters": { "no.such.rate": "1" } }),
            422,
        ),
    ] {
        let simulation = serde_json::json!({ "reform": reform });
        let body = crate::simulations::multipart(
            &simulation,
            population.as_bytes(),
            "application/x-ndjson",
        );
        let multipart = [("content-type", "multipart/form-data; boundary=XyZ")];
        let reply = app.post_with("/v1/simulations", &multipart, body).await;
        assert_eq!(reply.status, status, "{}", reply.text());
    }
    assert_eq!(app.post("/v1/admin/reload", "").await.status, 200);
    let text = app.get("/metrics").await.text();
    for expected in [
        "tariffd_bills_priced_total{tariff=\"cn-sx-xinzhou\"} 2",
        "tariffd_batch_records_total{outcome=\"failed\"} 1",
        "tariffd_simulations_total{outcome=\"completed\"} 2",
        "tariffd_simulations_total{outcome=\"invalid\"} 1",
        "tariffd_simulated_enterprises_total 5",
        "tariffd_tariff_reloads_total{outcome=\"ok\"} 1",
        "tariffd_heavy_in_flight 0",
    ] {
        assert!(text.contains(expected), "{expected} in\n{text}");
    }
}
