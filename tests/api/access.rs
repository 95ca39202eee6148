//! Access control: keys by role, public health and documentation, 401 and 403.

use tariffd::access::Role;

use crate::helpers::TestApp;

async fn app_with_keys() -> TestApp {
    TestApp::spawn_with_keys(&[
        ("reader-key", Role::Reader),
        ("biller-key", Role::Biller),
        ("analyst-key", Role::Analyst),
        ("admin-key", Role::Admin),
    ])
    .await
}

const BILL: &str = r#"{"period":{"month":"2020-10"},"enterprise":{"id":"A","industry":"steel","catalogue_class":"restricted"},"electricity":{"kwh":"1000"}}"#;
const SIMULATION: &str = r#"{"reform":{"name":"none"},"population":[]}"#;

#[actix_web::test]
async fn each_role_reaches_its_endpoints_and_no_others() {
    let app = app_with_keys().await;
    // (method, path, body, the one role that may, besides admin)
    let routes: [(&str, &str, &str, &str); 6] = [
        ("GET", "/v1/tariffs", "", "reader-key"),
        (
            "GET",
            "/v1/surcharges?industry=steel&catalogue_class=restricted&date=2020-10-01",
            "",
            "reader-key",
        ),
        ("POST", "/v1/bills", BILL, "biller-key"),
        ("POST", "/v1/bills/batch", BILL, "biller-key"),
        ("POST", "/v1/simulations", SIMULATION, "analyst-key"),
        (
            "POST",
            "/v1/tariffs/validate",
            "[tariff]\nid = \"d\"\nname = \"d\"\nversion = \"1\"\ninherits = \"cn\"\n",
            "analyst-key",
        ),
    ];
    for (method, path, body, allowed) in routes {
        for key in ["reader-key", "biller-key", "analyst-key", "admin-key"] {
            let auth = format!("Bearer {key}");
            let content_type = if path.ends_with("batch") {
                "application/x-ndjson"
            } else {
                "application/json"
            };
            let headers = [
                ("authorization", auth.as_str()),
                ("content-type", content_type),
            ];
            let reply = match method {
                "GET" => app.get_with(path, &headers).await,
                _ => app.post_with(path, &headers, body.into()).await,
            };
            let expected = if key == allowed || key == "admin-key" {
                200
            } else {
                403
            };
            assert_eq!(
                reply.status,
                expected,
                "{method} {path} with {key}: {}",
                reply.text()
            );
            if expected == 403 {
                assert_eq!(
                    reply.header("content-type").as_deref(),
                    Some("application/problem+json")
                );
                assert!(
                    reply.text().contains(allowed.trim_end_matches("-key")),
                    "names the role"
                );
            }
        }
    }
    let reload = app
        .post_with(
            "/v1/admin/reload",
            &[("authorization", "Bearer analyst-key")],
            vec![],
        )
        .await;
    assert_eq!(reload.status, 403);
    let reload = app
        .post_with("/v1/admin/reload", &[("x-api-key", "admin-key")], vec![])
        .await;
    assert_eq!(reload.status, 200, "{}", reload.text());
}

#[actix_web::test]
async fn a_missing_or_wrong_key_is_401_and_health_and_docs_stay_public() {
    let app = app_with_keys().await;
    for headers in [
        vec![],
        vec![("authorization", "Bearer nope")],
        vec![("authorization", "Basic cmVhZGVyLWtleQ==")],
    ] {
        let reply = app.get_with("/v1/tariffs", &headers).await;
        assert_eq!(reply.status, 401, "{headers:?}");
        assert_eq!(reply.header("www-authenticate").as_deref(), Some("Bearer"));
        assert_eq!(reply.json()["status"], 401);
    }
    for path in ["/health/live", "/health/ready", "/openapi.json", "/docs/"] {
        assert_eq!(app.get(path).await.status, 200, "{path}");
    }
    assert_eq!(app.get("/metrics").await.status, 401);
    let metrics = app
        .get_with("/metrics", &[("authorization", "Bearer reader-key")])
        .await;
    assert_eq!(metrics.status, 200);
    assert!(
        !metrics.text().contains("reader-key"),
        "keys are never exposed"
    );
}

#[actix_web::test]
async fn a_server_without_keys_says_how_to_add_one_and_the_root_leads_to_the_docs() {
    let app = TestApp::spawn_with(|s| {
        s.auth.enabled = true;
        s.auth.keys.clear();
    })
    .await;
    let reply = app.get("/v1/tariffs").await;
    assert_eq!(reply.status, 401);
    let detail = reply.json()["detail"].as_str().unwrap_or("").to_string();
    assert!(detail.contains("no API keys configured"), "{detail}");
    assert!(
        detail.contains("[[auth.keys]]") && detail.contains("TARIFFD_AUTH__ENABLED=false"),
        "{detail}"
    );
    // `/` redirects (followed here) to the workbench, which links the documentation.
    let home = app.get("/").await;
    assert_eq!(home.status, 200);
    assert!(home.text().contains("href=\"/docs/\""), "{}", home.text());
}
