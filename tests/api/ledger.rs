//! The bill ledger over HTTP, on SQLite: issuing (one, with an idempotency key, a batch),
//! reading and listing, and rebilling after a retroactive registry change.

use serde_json::{json, Value};
use tariffd::access::Role;

use crate::helpers::{Reply, TestApp};

const REGISTRAR: (&str, &str) = ("authorization", "Bearer commission-key");
const BILLER: (&str, &str) = ("authorization", "Bearer biller-key");
const READER: (&str, &str) = ("authorization", "Bearer reader-key");
const JSON: (&str, &str) = ("content-type", "application/json");

async fn app() -> TestApp {
    TestApp::spawn_with_keys(&[
        ("commission-key", Role::Registrar),
        ("biller-key", Role::Biller),
        ("reader-key", Role::Reader),
        ("analyst-key", Role::Analyst),
    ])
    .await
}

/// The keys of [`app`], and one of an analyst who may also read the ledger.
async fn app_with_a_reading_analyst() -> TestApp {
    use tariffd::access::{hash_key, KeySettings};
    TestApp::spawn_with(|s| {
        s.auth.enabled = true;
        let key = |key: &str, roles: Vec<Role>| KeySettings {
            name: key.trim_end_matches("-key").to_string(),
            sha256: hash_key(key),
            roles,
        };
        s.auth.keys = vec![
            key("commission-key", vec![Role::Registrar]),
            key("biller-key", vec![Role::Biller]),
            key("reader-key", vec![Role::Reader]),
            key("analyst-key", vec![Role::Analyst, Role::Reader]),
        ];
    })
    .await
}

async fn send(app: &TestApp, path: &str, headers: &[(&str, &str)], body: &Value) -> Reply {
    app.post_with(path, headers, body.to_string().into_bytes())
        .await
}

async fn read(app: &TestApp, path: &str) -> Value {
    let reply = app.get_with(path, &[READER]).await;
    assert_eq!(reply.status, 200, "{path}: {}", reply.text());
    reply.json()
}

/// Steel enterprise `id`, restricted from 2020 by "list A".
async fn registered(app: &TestApp, id: &str) {
    let master = app
        .put_with(
            &format!("/v1/enterprises/{id}"),
            &[REGISTRAR, JSON],
            json!({ "name": "某钢铁", "industry": "steel" })
                .to_string()
                .into_bytes(),
        )
        .await;
    assert_eq!(master.status, 200, "{}", master.text());
    classify(app, id, "2020-01-01", "restricted", "list A").await;
}

async fn classify(app: &TestApp, id: &str, from: &str, class: &str, document: &str) {
    let decision = json!({ "from": from, "catalogue_class": class, "document": document });
    let path = format!("/v1/enterprises/{id}/classifications");
    let reply = send(app, &path, &[REGISTRAR, JSON], &decision).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
}

fn by_reference(id: &str, month: &str, kwh: &str) -> Value {
    json!({ "period": { "month": month }, "enterprise": { "id": id }, "electricity": { "kwh": kwh } })
}

#[actix_web::test]
async fn an_issued_bill_is_stored_with_what_it_was_priced_on_and_read_back() {
    let app = app().await;
    registered(&app, "L-1").await;
    let request = by_reference("L-1", "2020-10", "1000000");
    let issued = send(&app, "/v1/ledger/bills", &[BILLER, JSON], &request).await;
    assert_eq!(issued.status, 201, "{}", issued.text());
    let body = issued.json();
    let bill_id = body["bill_id"].as_str().unwrap().to_string();
    assert_eq!(
        issued.header("location").as_deref(),
        Some(format!("/v1/ledger/bills/{bill_id}").as_str())
    );
    // The same bill as the calculator prices, with its request, tariff and registry version.
    let priced = send(&app, "/v1/bills", &[BILLER, JSON], &request)
        .await
        .json();
    assert_eq!(body["bill"]["bill_id"], priced["bill_id"]);
    assert_eq!(body["total"], priced["totals"]["total"]);
    // The ledger keeps the lines with their basis; explanations are rebuilt on demand.
    let mut lines = priced["line_items"].clone();
    for line in lines.as_array_mut().unwrap() {
        line.as_object_mut().unwrap().remove("explanation");
    }
    assert_eq!(body["bill"]["line_items"], lines);
    assert_eq!(body["tariff_digest"], priced["tariff"]["digest"]);
    assert_eq!(body["registry_version"], 2);
    assert_eq!(body["issued_by"], "biller");
    assert_eq!(body["request"], request);

    let stored = read(&app, &format!("/v1/ledger/bills/{bill_id}")).await;
    assert_eq!(stored, body);
    let missing = app
        .get_with(
            "/v1/ledger/bills/bill-00000000000000000000000000000000",
            &[READER],
        )
        .await;
    assert_eq!(missing.status, 404);

    // Issuing the same bill again stores nothing new: the stored one answers.
    let again = send(&app, "/v1/ledger/bills", &[BILLER, JSON], &request).await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json()["bill_id"], bill_id.as_str());
    let listed = read(&app, "/v1/ledger/bills?enterprise_id=L-1").await;
    assert_eq!(listed["bills"].as_array().unwrap().len(), 1);

    // A reader may read, never issue.
    let refused = send(&app, "/v1/ledger/bills", &[READER, JSON], &request).await;
    assert_eq!(refused.status, 403);
}

#[actix_web::test]
async fn a_retry_with_the_same_key_returns_the_stored_bill_even_after_the_registry_changed() {
    let app = app().await;
    registered(&app, "K-1").await;
    let request = by_reference("K-1", "2020-10", "1000000");
    let key = ("idempotency-key", "invoice-2020-10-K-1");
    let first = send(&app, "/v1/ledger/bills", &[BILLER, JSON, key], &request).await;
    assert_eq!(first.status, 201, "{}", first.text());
    classify(&app, "K-1", "2020-01-01", "eliminated", "list B").await;
    // Concurrent retries: every one answers the first bill, none stores another.
    let headers = [BILLER, JSON, key];
    let retries = futures_util::future::join_all(
        (0..8).map(|_| send(&app, "/v1/ledger/bills", &headers, &request)),
    )
    .await;
    for retry in retries {
        assert_eq!(retry.status, 200, "{}", retry.text());
        assert_eq!(retry.header("idempotent-replayed").as_deref(), Some("true"));
        assert_eq!(retry.json()["bill_id"], first.json()["bill_id"]);
    }
    let other = by_reference("K-1", "2020-11", "1000000");
    let reused = send(&app, "/v1/ledger/bills", &[BILLER, JSON, key], &other).await;
    assert_eq!(reused.status, 422, "{}", reused.text());
    let bad_key = ("idempotency-key", "");
    let empty = send(&app, "/v1/ledger/bills", &[BILLER, JSON, bad_key], &other).await;
    assert_eq!(empty.status, 422, "{}", empty.text());
    assert_eq!(empty.json()["errors"][0]["parameter"], "Idempotency-Key");
    let listed = read(&app, "/v1/ledger/bills?enterprise_id=K-1").await;
    assert_eq!(listed["bills"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn a_batch_is_issued_record_by_record_and_never_stored_twice() {
    let app = app().await;
    for id in ["B-1", "B-2", "B-3"] {
        registered(&app, id).await;
    }
    let records = [
        by_reference("B-1", "2020-10", "1000"),
        by_reference("B-2", "2020-10", "2000"),
        by_reference("NOBODY", "2020-10", "3000"),
        json!({ "period": { "month": "2020-10" }, "enterprise": { "id": "B-3", "industry": "steel", "catalogue_class": "eliminated" }, "electricity": { "kwh": "4000" } }),
    ];
    let body: Vec<u8> = records
        .iter()
        .flat_map(|r| format!("{r}\n").into_bytes())
        .collect();
    let headers = [BILLER, ("content-type", "application/x-ndjson")];
    for _ in 0..2 {
        let reply = app
            .post_with("/v1/ledger/bills/batch", &headers, body.clone())
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        let lines: Vec<Value> = reply
            .text()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[2]["error"]["errors"][0]["pointer"], "/enterprise/id");
        assert_eq!(lines[4]["summary"]["billed"], 3);
        for line in [&lines[0], &lines[1], &lines[3]] {
            let id = line["bill"]["bill_id"].as_str().unwrap();
            let stored = read(&app, &format!("/v1/ledger/bills/{id}")).await;
            assert_eq!(stored["total"], line["bill"]["totals"]["total"]);
        }
    }
    let all = read(&app, "/v1/ledger/bills?limit=2").await;
    assert_eq!(all["bills"].as_array().unwrap().len(), 2);
    let next = all["next"].as_str().unwrap();
    let rest = read(&app, &format!("/v1/ledger/bills?limit=2&after={next}")).await;
    assert_eq!(rest["bills"].as_array().unwrap().len(), 1, "{rest}");
    assert!(rest.get("next").is_none());
    // Only the third bill came from a request giving its own class.
    assert!(rest["bills"][0].get("registry_version").is_none());

    // CSV rows by reference too.
    let csv = "enterprise_id,period_month,kwh\nB-1,2020-11,1000\n";
    let reply = app
        .post_with(
            "/v1/ledger/bills/batch",
            &[BILLER, ("content-type", "text/csv")],
            csv.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let november = read(&app, "/v1/ledger/bills?enterprise_id=B-1&from=2020-11-01").await;
    let bills = november["bills"].as_array().unwrap();
    assert_eq!(bills.len(), 1, "{november}");
    let stored = read(
        &app,
        &format!("/v1/ledger/bills/{}", bills[0]["bill_id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(stored["request"]["enterprise"]["id"], "B-1");
}

#[actix_web::test]
async fn a_batch_larger_than_one_commit_is_stored_whole_and_answered_in_order() {
    // Bills are stored 8 192 to a commit (`ledger::held`): this batch takes two.
    let app = app().await;
    let records = 8192 + 300;
    let body: String = (0..records)
        .map(|i| {
            let request = json!({ "period": { "month": "2020-10" }, "enterprise": { "id": format!("G-{i:05}"), "industry": "steel", "catalogue_class": "eliminated" }, "electricity": { "kwh": format!("{}", 1000 + i) } });
            format!("{request}\n")
        })
        .collect();
    let headers = [BILLER, ("content-type", "application/x-ndjson")];
    let reply = app
        .post_with("/v1/ledger/bills/batch", &headers, body.into_bytes())
        .await;
    let head: String = reply.text().chars().take(300).collect();
    assert_eq!(reply.status, 200, "{head}");
    let lines: Vec<Value> = reply
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), records + 1);
    assert_eq!(lines[records]["summary"]["billed"], records);
    for (i, line) in lines[..records].iter().enumerate() {
        assert_eq!(line["line"], i + 1, "output in input order");
    }
    // Either side of the commit boundary, and the last, are in the ledger as answered.
    for i in [0, 8191, 8192, records - 1] {
        let bill = &lines[i]["bill"];
        let stored = read(
            &app,
            &format!("/v1/ledger/bills/{}", bill["bill_id"].as_str().unwrap()),
        )
        .await;
        assert_eq!(stored["enterprise_id"], format!("G-{i:05}"));
        assert_eq!(stored["total"], bill["totals"]["total"]);
    }
}

#[actix_web::test]
async fn a_retroactive_decision_lists_and_issues_corrections_and_keeps_the_originals() {
    let app = app().await;
    registered(&app, "R-1").await;
    registered(&app, "R-2").await;
    let mut originals = Vec::new();
    for (id, month) in [("R-1", "2020-09"), ("R-1", "2020-10"), ("R-2", "2020-10")] {
        let request = by_reference(id, month, "1000000");
        let issued = send(&app, "/v1/ledger/bills", &[BILLER, JSON], &request).await;
        assert_eq!(issued.status, 201, "{}", issued.text());
        originals.push(issued.json());
    }
    let nothing = send(&app, "/v1/ledger/rebills", &[BILLER, JSON], &json!({})).await;
    assert_eq!(nothing.status, 200, "{}", nothing.text());
    assert_eq!(nothing.json()["checked"], 3);
    assert_eq!(nothing.json()["changed"], json!([]));

    // The commission finds R-1 was eliminated from 1 October, and says so in November.
    classify(&app, "R-1", "2020-10-01", "eliminated", "list C").await;
    let listed = send(
        &app,
        "/v1/ledger/rebills",
        &[BILLER, JSON],
        &json!({ "since": "2020-09-01" }),
    )
    .await
    .json();
    let changed = listed["changed"].as_array().unwrap();
    assert_eq!(changed.len(), 1, "only R-1's October bill moves: {listed}");
    assert_eq!(changed[0]["bill_id"], originals[1]["bill_id"]);
    assert_eq!(changed[0]["old_total"], originals[1]["total"]);
    let (old, new): (f64, f64) = (
        changed[0]["old_total"].as_str().unwrap().parse().unwrap(),
        changed[0]["new_total"].as_str().unwrap().parse().unwrap(),
    );
    assert!(new > old, "eliminated pays more: {old} → {new}");
    assert!(changed[0]["cause"].as_str().unwrap().contains("registry"));
    assert_eq!(listed["issued"], 0);

    let issued = send(
        &app,
        "/v1/ledger/rebills?issue=true",
        &[BILLER, JSON],
        &json!({ "enterprise_ids": ["R-1"] }),
    )
    .await
    .json();
    assert_eq!(issued["issued"], 1, "{issued}");
    let correction_id = issued["changed"][0]["correction_bill_id"].as_str().unwrap();
    let correction = read(&app, &format!("/v1/ledger/bills/{correction_id}")).await;
    assert_eq!(correction["corrects"], originals[1]["bill_id"]);
    assert_eq!(correction["total"], issued["changed"][0]["new_total"]);
    let lines = correction["bill"]["line_items"].as_array().unwrap();
    assert!(lines.iter().any(|l| l["decision"]["document"] == "list C"));
    // The original stands, and a corrected bill is not corrected twice.
    let original = read(
        &app,
        &format!(
            "/v1/ledger/bills/{}",
            originals[1]["bill_id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(original["total"], originals[1]["total"]);
    let again = send(
        &app,
        "/v1/ledger/rebills?issue=true",
        &[BILLER, JSON],
        &json!({}),
    )
    .await;
    assert_eq!(again.json()["changed"], json!([]), "{}", again.text());

    let bad = send(
        &app,
        "/v1/ledger/rebills",
        &[BILLER, JSON],
        &json!({ "since": "soon" }),
    )
    .await;
    assert_eq!(bad.status, 422, "{}", bad.text());
    // serde would read the struct from an array of its fields: only an object is a body.
    let array = send(
        &app,
        "/v1/ledger/rebills",
        &[BILLER, JSON],
        &json!([null, null]),
    )
    .await;
    assert_eq!(array.status, 422, "{}", array.text());
    let decision = json!(["2020-01-01", null, "restricted", false, "none", "list"]);
    let path = "/v1/enterprises/R-1/classifications";
    let array = send(&app, path, &[REGISTRAR, JSON], &decision).await;
    assert_eq!(array.status, 422, "{}", array.text());
}

#[actix_web::test]
async fn a_simulation_runs_over_a_months_ledger_on_the_registry_as_of_a_day() {
    let app = app_with_a_reading_analyst().await;
    for (id, region) in [("P-1", Some("north")), ("P-2", None)] {
        registered(&app, id).await;
        if let Some(region) = region {
            let master = json!({ "name": id, "industry": "steel", "region": region });
            let path = format!("/v1/enterprises/{id}");
            let reply = app
                .put_with(&path, &[REGISTRAR, JSON], master.to_string().into_bytes())
                .await;
            assert_eq!(reply.status, 200, "{}", reply.text());
        }
        for month in ["2020-09", "2020-10"] {
            let request = by_reference(id, month, "1000000");
            let issued = send(&app, "/v1/ledger/bills", &[BILLER, JSON], &request).await;
            assert_eq!(issued.status, 201, "{}", issued.text());
        }
    }
    let app = &app;
    let simulate = |ledger: Value| async move {
        let body = json!({
            "reform": { "name": "restricted at 0.20", "parameters": { "electricity.differential.steel.restricted": "0.20" } },
            "ledger": ledger,
        });
        let analyst = ("authorization", "Bearer analyst-key");
        let reply = send(app, "/v1/simulations", &[analyst, JSON], &body).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        reply.json()
    };
    let everyone = simulate(json!({ "month": "2020-10" })).await;
    assert_eq!(everyone["population"]["records"], 2, "{everyone}");
    assert_eq!(everyone["population"]["priced"], 2);
    // Both restricted on 1 000 000 kWh: 0.10 more per kWh each.
    assert_eq!(everyone["delta"]["surcharge"], "200000.00");
    let north = simulate(json!({ "month": "2020-10", "region": "north" })).await;
    assert_eq!(north["population"]["records"], 1, "{north}");
    // Before anyone was recorded, the registry knew none of them.
    let before = simulate(json!({ "month": "2020-10", "as_of": "2020-01-01" })).await;
    assert_eq!(before["population"]["excluded"], 2, "{before}");

    // The same month kept as a population simulates as the ledger does.
    let analyst = ("authorization", "Bearer analyst-key");
    let source = json!({ "ledger": { "month": "2020-10", "region": "north" } });
    let kept = send(app, "/v1/populations", &[analyst, JSON], &source).await;
    assert_eq!(kept.status, 201, "{}", kept.text());
    assert_eq!(kept.json()["records"], 1);
    let id = kept.json()["population_id"].clone();
    let body = json!({
        "reform": { "name": "restricted at 0.20", "parameters": { "electricity.differential.steel.restricted": "0.20" } },
        "population_id": id,
    });
    let from_kept = send(app, "/v1/simulations", &[analyst, JSON], &body).await;
    assert_eq!(from_kept.status, 200, "{}", from_kept.text());
    assert_eq!(from_kept.json(), north);
}

#[actix_web::test]
async fn a_key_first_used_on_a_bill_stored_before_is_bound_to_that_request() {
    let app = app().await;
    registered(&app, "B-1").await;
    let request = by_reference("B-1", "2020-10", "1000000");
    let first = send(&app, "/v1/ledger/bills", &[BILLER, JSON], &request).await;
    assert_eq!(first.status, 201, "{}", first.text());
    // The key's first use answers the bill stored before, without a key…
    let key = ("idempotency-key", "invoice-B-1");
    let replayed = send(&app, "/v1/ledger/bills", &[BILLER, JSON, key], &request).await;
    assert_eq!(replayed.status, 200, "{}", replayed.text());
    assert_eq!(replayed.json()["bill_id"], first.json()["bill_id"]);
    // …and binds it: another request with the key is refused, the same one replayed.
    let other = by_reference("B-1", "2020-11", "1000000");
    let reused = send(&app, "/v1/ledger/bills", &[BILLER, JSON, key], &other).await;
    assert_eq!(reused.status, 422, "{}", reused.text());
    let again = send(&app, "/v1/ledger/bills", &[BILLER, JSON, key], &request).await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json()["bill_id"], first.json()["bill_id"]);
    let listed = read(&app, "/v1/ledger/bills?enterprise_id=B-1").await;
    assert_eq!(listed["bills"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn an_enterprise_named_twice_in_a_rebill_is_looked_at_once() {
    let app = app().await;
    registered(&app, "D-1").await;
    let request = by_reference("D-1", "2020-10", "1000000");
    let issued = send(&app, "/v1/ledger/bills", &[BILLER, JSON], &request).await;
    assert_eq!(issued.status, 201, "{}", issued.text());
    classify(&app, "D-1", "2020-10-01", "eliminated", "list D").await;
    let body = json!({ "enterprise_ids": ["D-1", "D-1", "D-1"] });
    let listed = send(&app, "/v1/ledger/rebills", &[BILLER, JSON], &body).await;
    assert_eq!(listed.status, 200, "{}", listed.text());
    assert_eq!(listed.json()["checked"], 1, "{}", listed.text());
    assert_eq!(listed.json()["changed"].as_array().unwrap().len(), 1);
}
