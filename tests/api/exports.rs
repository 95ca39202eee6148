//! Tables made into spreadsheets (`POST /v1/exports`), and who the caller is
//! (`GET /v1/caller`): the two calls the workbench makes besides the domain's.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use serde_json::{json, Value};
use tariffd::access::Role;

use crate::helpers::TestApp;

fn export(format: &str) -> Value {
    json!({
        "format": format,
        "file_name": "按行业 by industry",
        "sheets": [{
            "name": "按行业 By industry",
            "columns": [{"title": "行业 Industry"}, {"title": "企业数", "kind": "number"}, {"title": "加价 (元)", "kind": "money"}],
            "rows": [["steel", 2, "600000.00"], ["=1+1", null, "-0.01"]]
        }]
    })
}

async fn post(app: &TestApp, key: &str, body: &Value) -> crate::helpers::Reply {
    let bearer = format!("Bearer {key}");
    let headers = [
        ("authorization", bearer.as_str()),
        ("content-type", "application/json"),
    ];
    app.post_with("/v1/exports", &headers, serde_json::to_vec(body).unwrap())
        .await
}

#[actix_web::test]
async fn a_workbook_holds_the_tables_as_typed_cells_for_any_key() {
    let app =
        TestApp::spawn_with_keys(&[("reader-key", Role::Reader), ("biller-key", Role::Biller)])
            .await;
    for key in ["reader-key", "biller-key"] {
        let reply = post(&app, key, &export("xlsx")).await;
        assert_eq!(reply.status, 200, "{key}: {}", reply.text());
        assert_eq!(
            reply.header("content-disposition").unwrap(),
            "attachment; filename=\"___ by industry.xlsx\"; filename*=UTF-8''%E6%8C%89%E8%A1%8C%E4%B8%9A%20by%20industry.xlsx"
        );
        let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(reply.body)).unwrap();
        let sheet = book.worksheet_range("按行业 By industry").unwrap();
        assert_eq!(sheet.get((0, 2)), Some(&Data::String("加价 (元)".into())));
        assert_eq!(sheet.get((1, 1)), Some(&Data::Float(2.0)));
        assert_eq!(sheet.get((1, 2)), Some(&Data::Float(600000.0)));
        assert_eq!(sheet.get((2, 0)), Some(&Data::String("=1+1".into())));
        assert_eq!(sheet.get((2, 2)), Some(&Data::Float(-0.01)));
    }
    let anonymous = app
        .post("/v1/exports", serde_json::to_vec(&export("xlsx")).unwrap())
        .await;
    assert_eq!(anonymous.status, 401);
}

#[actix_web::test]
async fn csv_has_a_byte_order_mark_and_no_formula() {
    let app = TestApp::spawn().await;
    let reply = app
        .post("/v1/exports", serde_json::to_vec(&export("csv")).unwrap())
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        reply.header("content-type").unwrap(),
        "text/csv; charset=utf-8"
    );
    assert_eq!(
        reply.text(),
        "\u{feff}行业 Industry,企业数,加价 (元)\nsteel,2,600000.00\n'=1+1,,-0.01\n"
    );
}

#[actix_web::test]
async fn every_bad_part_of_an_export_is_named() {
    let app = TestApp::spawn().await;
    let mut body = export("csv");
    body["sheets"][0]["rows"][1][2] = json!("abc");
    body["sheets"][0]["name"] = json!("'x");
    body["sheets"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "b", "columns": [{"title": "t"}], "rows": [[1, 2]]}));
    let reply = app
        .post("/v1/exports", serde_json::to_vec(&body).unwrap())
        .await;
    assert_eq!(reply.status, 422, "{}", reply.text());
    let pointers: Vec<String> = reply.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        pointers,
        [
            "/sheets",
            "/sheets/0/name",
            "/sheets/0/rows/1/2",
            "/sheets/1/rows/0"
        ]
    );
    let unknown = app
        .post("/v1/exports", br#"{"format":"pdf","sheets":[]}"#.to_vec())
        .await;
    assert_eq!(unknown.status, 422);
    assert!(unknown.text().contains("/format"), "{}", unknown.text());
}

#[actix_web::test]
async fn the_caller_learns_its_name_and_roles_and_never_its_key() {
    let app = TestApp::spawn_with_keys(&[("analyst-key", Role::Analyst)]).await;
    let reply = app
        .get_with("/v1/caller", &[("authorization", "Bearer analyst-key")])
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json(),
        json!({"key": "analyst", "roles": ["analyst"], "access_control": true})
    );
    assert!(!reply.text().contains("analyst-key"));
    assert_eq!(app.get("/v1/caller").await.status, 401);
    let open = TestApp::spawn().await;
    let everything = open.get("/v1/caller").await.json();
    assert_eq!(everything["access_control"], false);
    assert_eq!(everything["roles"].as_array().unwrap().len(), 5);
}

#[actix_web::test]
async fn the_workbench_is_served_fenced_and_nothing_else_is() {
    let app = TestApp::spawn_with_keys(&[("reader-key", Role::Reader)]).await;
    let page = app.get("/ui/").await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type").unwrap(),
        "text/html; charset=utf-8"
    );
    let policy = page.header("content-security-policy").unwrap();
    assert!(policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"));
    let script = app.get("/ui/vendor/echarts/echarts.min.js").await;
    assert_eq!(script.status, 200);
    assert!(script.header("cache-control").unwrap().contains("max-age"));
    for path in [
        "/ui/nothing.js",
        "/ui/../Cargo.toml",
        "/ui/%2e%2e/Cargo.toml",
        "/ui/vendor",
    ] {
        let reply = app.get(path).await;
        assert_eq!(reply.status, 404, "{path}");
        assert_eq!(
            reply.header("content-type").unwrap(),
            "application/problem+json"
        );
    }
}
