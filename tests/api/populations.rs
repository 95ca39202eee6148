//! `/v1/populations`: populations kept on the server and simulated by id, against the same
//! population streamed; the memory budget and its evictions.

use serde_json::{json, Value};
use tariffd::access::Role;

use crate::helpers::{csv_body, ndjson, population, Reply, TestApp};

const ANALYST: (&str, &str) = ("authorization", "Bearer analyst-key");
const NDJSON: (&str, &str) = ("content-type", "application/x-ndjson");
const JSON: (&str, &str) = ("content-type", "application/json");

async fn app_with_budget(bytes: usize) -> TestApp {
    TestApp::spawn_with(|s| {
        s.simulation.kept_populations_bytes = bytes;
    })
    .await
}

async fn keep(app: &TestApp, headers: &[(&str, &str)], body: Vec<u8>) -> Reply {
    app.post_with("/v1/populations", headers, body).await
}

/// Keeps `records` as NDJSON, answering its view (201 expected).
async fn kept(app: &TestApp, records: &[Value]) -> Value {
    let reply = keep(app, &[NDJSON], ndjson(records)).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    reply.json()
}

fn reform() -> Value {
    json!({ "name": "eliminated at 0.80", "parameters": { "electricity.differential.steel.eliminated": "0.80" } })
}

fn sweep() -> Value {
    json!({ "parameter": "electricity.differential.steel.restricted", "from": "0.10", "to": "0.30", "step": "0.05" })
}

async fn simulate(app: &TestApp, body: &Value) -> Reply {
    app.post_with("/v1/simulations", &[JSON], body.to_string().into_bytes())
        .await
}

/// The same records with other enterprise ids (so another population).
fn renamed(records: &[Value], prefix: &str) -> Vec<Value> {
    records
        .iter()
        .map(|r| {
            let mut r = r.clone();
            let id = r["enterprise"]["id"].as_str().unwrap().to_string();
            r["enterprise"]["id"] = json!(format!("{prefix}{id}"));
            r
        })
        .collect()
}

#[actix_web::test]
async fn a_kept_population_simulates_as_the_same_population_streamed() {
    let app = TestApp::spawn().await;
    let records = population(1300); // more than two chunks of the streamed read
    let mut body = ndjson(&records);
    body.extend_from_slice(b"{\"not\": \"a bill\"}\n");
    let reply = keep(&app, &[NDJSON], body.clone()).await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    let view = reply.json();
    let id = view["population_id"].as_str().unwrap().to_string();
    assert_eq!(
        reply.header("location"),
        Some(format!("/v1/populations/{id}"))
    );
    assert_eq!(view["records"], 1300);
    assert_eq!(view["excluded"], 1);
    assert_eq!(view["excluded_examples"][0]["record"], 1301);
    assert!(
        view["digest"].as_str().unwrap().starts_with("xxh3:"),
        "{view}"
    );
    assert!(view["bytes"].as_u64().unwrap() > 1300 * 100, "{view}");

    // Sent again: the same population, kept once.
    let again = keep(&app, &[NDJSON], body.clone()).await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json()["population_id"], id.as_str());

    // Simulated by id, it answers what the streamed population answers, every time (the
    // second run reuses what the first kept): with a sweep (the streamed population is
    // kept for it), and without (the streamed population is compared as it is read).
    let with_sweep = json!({ "reform": reform(), "sweep": sweep(), "top": 5 });
    let simulation = json!({ "reform": reform(), "top": 5 });
    for simulation in [&with_sweep, &simulation] {
        let streamed = app
            .post_with(
                "/v1/simulations",
                &[("content-type", "multipart/form-data; boundary=XyZ")],
                crate::simulations::multipart(simulation, &body, "application/x-ndjson"),
            )
            .await;
        assert_eq!(streamed.status, 200, "{}", streamed.text());
        let mut by_id = simulation.clone();
        by_id["population_id"] = json!(id);
        for _ in 0..2 {
            let reply = simulate(&app, &by_id).await;
            assert_eq!(reply.status, 200, "{}", reply.text());
            assert_eq!(reply.json(), streamed.json());
        }
    }

    // Reforming another tariff than the default prices its baseline then, and keeps it.
    let mut national = simulation.clone();
    national["tariff"] = json!("cn");
    let streamed = app
        .post_with(
            "/v1/simulations",
            &[("content-type", "multipart/form-data; boundary=XyZ")],
            crate::simulations::multipart(&national, &body, "application/x-ndjson"),
        )
        .await;
    assert_eq!(streamed.status, 200, "{}", streamed.text());
    national["population_id"] = json!(id);
    for _ in 0..2 {
        let reply = simulate(&app, &national).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(reply.json(), streamed.json());
    }

    // The same records as CSV: the same enterprises, another file.
    let csv = keep(&app, &[("content-type", "text/csv")], csv_body(&records)).await;
    assert_eq!(csv.status, 201, "{}", csv.text());
    assert_eq!(csv.json()["records"], 1300);
    assert_ne!(csv.json()["population_id"], id.as_str());

    let list = app.get("/v1/populations").await.json();
    assert_eq!(list["populations"].as_array().unwrap().len(), 2, "{list}");
    assert_eq!(
        list["populations"][0]["population_id"],
        csv.json()["population_id"]
    );
}

#[actix_web::test]
async fn a_simulation_names_its_population_one_way_and_an_unknown_id_is_a_404() {
    let app = TestApp::spawn().await;
    let records = population(3);
    let id = kept(&app, &records).await["population_id"].clone();
    let both = json!({ "reform": reform(), "population_id": id, "population": records });
    let reply = simulate(&app, &both).await;
    assert_eq!(reply.status, 422, "{}", reply.text());
    assert_eq!(reply.json()["errors"][0]["pointer"], "/population");

    let unknown = json!({ "reform": reform(), "population_id": "pop-nothing" });
    let reply = simulate(&app, &unknown).await;
    assert_eq!(reply.status, 404, "{}", reply.text());
    assert!(
        reply.text().contains("POST /v1/populations"),
        "{}",
        reply.text()
    );

    let bad = keep(&app, &[("content-type", "text/plain")], b"x".to_vec()).await;
    assert_eq!(bad.status, 415, "{}", bad.text());
    let empty = keep(&app, &[NDJSON], Vec::new()).await;
    assert_eq!(empty.status, 400, "{}", empty.text());
    let array = keep(&app, &[JSON], b"[]".to_vec()).await;
    assert_eq!(array.status, 422, "{}", array.text());
}

#[actix_web::test]
async fn kept_populations_share_a_budget_and_the_least_recently_used_go_first() {
    let records = population(100);
    let sizes = {
        let app = TestApp::spawn().await;
        let mut sizes = Vec::new();
        for prefix in ["a-", "b-", "c-"] {
            sizes.push(
                kept(&app, &renamed(&records, prefix)).await["bytes"]
                    .as_u64()
                    .unwrap(),
            );
        }
        sizes
    };
    let largest = *sizes.iter().max().unwrap() as usize;
    let app = app_with_budget(largest * 5 / 2).await;
    let a = kept(&app, &renamed(&records, "a-")).await["population_id"].clone();
    let b = kept(&app, &renamed(&records, "b-")).await["population_id"].clone();
    let a_path = format!("/v1/populations/{}", a.as_str().unwrap());
    let b_path = format!("/v1/populations/{}", b.as_str().unwrap());
    // Reading `a` makes `b` the least recently used: keeping `c` lets `b` go.
    assert_eq!(app.get(&a_path).await.status, 200);
    let c = kept(&app, &renamed(&records, "c-")).await["population_id"].clone();
    let gone = app.get(&b_path).await;
    assert_eq!(gone.status, 404, "{}", gone.text());
    assert!(
        gone.text().contains("let go to make room"),
        "{}",
        gone.text()
    );
    let by_b = simulate(&app, &json!({ "reform": reform(), "population_id": b })).await;
    assert_eq!(by_b.status, 404, "{}", by_b.text());
    assert!(
        by_b.text().contains("let go to make room"),
        "{}",
        by_b.text()
    );
    let by_c = simulate(&app, &json!({ "reform": reform(), "population_id": c })).await;
    assert_eq!(by_c.status, 200, "{}", by_c.text());

    let list = app.get("/v1/populations").await.json();
    assert_eq!(list["populations"].as_array().unwrap().len(), 2, "{list}");
    assert!(
        list["bytes"].as_u64() <= list["budget_bytes"].as_u64(),
        "{list}"
    );
    let metrics = app.get("/metrics").await.text();
    assert!(
        metrics.contains("tariffd_populations_evicted_total 1"),
        "{metrics}"
    );

    // Deleted, it is gone (and deleting it again finds nothing).
    assert_eq!(app.delete(&a_path).await.status, 204);
    assert_eq!(app.get(&a_path).await.status, 404);
    assert_eq!(app.delete(&a_path).await.status, 404);

    // One larger than the whole budget is refused, naming it.
    let large = keep(&app, &[NDJSON], ndjson(&population(400))).await;
    assert_eq!(large.status, 422, "{}", large.text());
    assert!(large.text().contains("more than"), "{}", large.text());
}

#[actix_web::test]
async fn only_an_analyst_keeps_and_reads_populations() {
    let app =
        TestApp::spawn_with_keys(&[("analyst-key", Role::Analyst), ("reader-key", Role::Reader)])
            .await;
    let records = ndjson(&population(2));
    let reader = ("authorization", "Bearer reader-key");
    let refused = keep(&app, &[reader, NDJSON], records.clone()).await;
    assert_eq!(refused.status, 403, "{}", refused.text());
    let kept = keep(&app, &[ANALYST, NDJSON], records).await;
    assert_eq!(kept.status, 201, "{}", kept.text());
    assert_eq!(kept.json()["created_by"], "analyst");
    let path = format!(
        "/v1/populations/{}",
        kept.json()["population_id"].as_str().unwrap()
    );
    assert_eq!(app.get_with(&path, &[reader]).await.status, 403);
    assert_eq!(app.get_with(&path, &[ANALYST]).await.status, 200);
}
