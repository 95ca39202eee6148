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
fn every_route_of_the_table_is_in_the_document_with_its_method() {
    let doc: serde_json::Value = serde_json::from_str(&tariffd::cli::openapi_json()).unwrap();
    for route in &tariffd::api::routes::ROUTES {
        let method = route.method.as_str().to_ascii_lowercase();
        assert!(
            doc["paths"][route.path][&method].is_object(),
            "{} {} is missing from the OpenAPI document",
            route.method,
            route.path
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

#[test]
fn the_bill_documents_its_tariff_version_and_validation_its_own_problems() {
    let doc: serde_json::Value = serde_json::from_str(&tariffd::cli::openapi_json()).unwrap();
    let schemas = &doc["components"]["schemas"];
    let tariff = &schemas["BillResponse"]["properties"]["tariff"]["$ref"];
    let tariff = tariff.as_str().unwrap().rsplit('/').next().unwrap();
    assert!(
        schemas[tariff]["properties"]["version"].is_object(),
        "{tariff}"
    );
    let validation = &doc["paths"]["/v1/tariffs/validate"]["post"]["responses"]["200"];
    let validation = validation["content"]["application/json"]["schema"]["$ref"]
        .as_str()
        .unwrap();
    let validation = &schemas[validation.rsplit('/').next().unwrap()];
    let problem = validation["properties"]["problems"]["items"]["$ref"]
        .as_str()
        .unwrap();
    let problem = &schemas[problem.rsplit('/').next().unwrap()]["properties"];
    for field in ["file", "key", "message"] {
        assert!(
            problem[field].is_object(),
            "validation problems document `{field}`"
        );
    }
}

#[test]
fn every_problem_response_shows_an_example_of_its_status() {
    let doc: serde_json::Value = serde_json::from_str(&tariffd::cli::openapi_json()).unwrap();
    let mut missing = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for (status, response) in operation["responses"].as_object().unwrap() {
                let problem = &response["content"]["application/problem+json"];
                if problem.is_null() {
                    continue;
                }
                if problem["example"]["status"].as_u64().map(|s| s.to_string())
                    != Some(status.clone())
                {
                    missing.push(format!("{method} {path} {status}"));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "no example of the right status: {missing:?}"
    );
}
