//! The committed OpenAPI document is the one the code generates, and it lists every route.

use crate::support;

#[test]
fn the_committed_openapi_document_is_fresh() {
    let committed =
        std::fs::read_to_string(support::root().join("openapi/openapi.json")).unwrap_or_default();
    let generated = tariffd::cli::openapi_json();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale: run `cargo run -- openapi --output openapi/openapi.json` and commit it"
    );
}

#[test]
fn every_route_is_in_the_document() {
    let doc: serde_json::Value = serde_json::from_str(&tariffd::cli::openapi_json()).unwrap();
    for path in [
        "/v1/bills",
        "/v1/bills/batch",
        "/v1/tariffs",
        "/v1/tariffs/{id}",
        "/v1/tariffs/{id}/parameters",
        "/v1/surcharges",
        "/health/live",
        "/health/ready",
        "/metrics",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} is missing from the OpenAPI document"
        );
    }
    for status in ["400", "413", "422"] {
        let response = &doc["paths"]["/v1/bills"]["post"]["responses"][status];
        assert!(
            response["content"]["application/problem+json"].is_object(),
            "{status} documents its problem body"
        );
    }
}
