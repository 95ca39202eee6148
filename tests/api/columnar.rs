//! Parquet and Arrow IPC uploads: the same records as CSV give the same answers, byte for
//! byte, through the batch, kept populations and streamed simulations; a file that cannot
//! be read within its limits is refused up front, naming why.

use serde_json::{json, Value};
use tariffd::batch::columnar::convert::from_csv;
use tariffd::batch::Columnar;

use crate::helpers::{csv_body, population, TestApp};

const PARQUET: &str = "application/vnd.apache.parquet";
const ARROW: &str = "application/vnd.apache.arrow.file";

fn files(requests: &[Value]) -> [(&'static str, Vec<u8>); 2] {
    let csv = csv_body(requests);
    [
        (PARQUET, from_csv(&csv, Columnar::Parquet).unwrap()),
        (ARROW, from_csv(&csv, Columnar::Arrow).unwrap()),
    ]
}

#[actix_web::test]
async fn a_columnar_batch_answers_as_the_same_rows_sent_as_csv() {
    let app = TestApp::spawn().await;
    let mut requests = population(400);
    requests[7]["electricity"]["kwh"] = json!("lots");
    let csv = app
        .post_with(
            "/v1/bills/batch",
            &[("content-type", "text/csv")],
            csv_body(&requests),
        )
        .await;
    assert_eq!(csv.status, 200);
    assert!(csv.text().contains("kwh"), "the bad row names its field");
    for (content_type, file) in files(&requests) {
        let reply = app
            .post_with("/v1/bills/batch", &[("content-type", content_type)], file)
            .await;
        assert_eq!(reply.status, 200, "{content_type}: {}", reply.text());
        assert_eq!(
            reply.header("content-type").as_deref(),
            Some("text/csv; charset=utf-8"),
            "a columnar upload is answered as CSV unless Accept says otherwise"
        );
        assert_eq!(reply.text(), csv.text(), "{content_type}");
    }
    let ndjson = app
        .post_with(
            "/v1/bills/batch?detail=totals",
            &[
                ("content-type", PARQUET),
                ("accept", "application/x-ndjson"),
            ],
            files(&requests)[0].1.clone(),
        )
        .await;
    assert_eq!(ndjson.text().lines().count(), 401);
}

#[actix_web::test]
async fn a_columnar_file_that_cannot_be_read_within_its_limits_is_refused_up_front() {
    let app = TestApp::spawn_with(|s| s.batch.max_file_bytes = 50_000).await;
    let requests = population(50);
    let [(_, parquet), (_, arrow)] = files(&requests);

    let mut damaged = parquet.clone();
    let middle = damaged.len() / 2;
    damaged.truncate(middle);
    let mut garbage = arrow.clone();
    let end = garbage.len() - 10;
    garbage[end - 64..end].fill(0xee);
    for (content_type, body) in [(PARQUET, damaged), (ARROW, garbage)] {
        let reply = app
            .post_with("/v1/bills/batch", &[("content-type", content_type)], body)
            .await;
        assert_eq!(reply.status, 422, "{content_type}: {}", reply.text());
        assert_eq!(
            reply.header("content-type").as_deref(),
            Some("application/problem+json")
        );
        assert!(reply.text().contains("cannot be read"), "{}", reply.text());
    }

    let big = files(&population(3000))[0].1.clone();
    assert!(big.len() > 50_000, "{}", big.len());
    let reply = app
        .post_with("/v1/bills/batch", &[("content-type", PARQUET)], big)
        .await;
    assert_eq!(reply.status, 413, "{}", reply.text());

    let unknown = from_csv(b"enterprise_id,colour\nE1,red\n", Columnar::Parquet).unwrap();
    let reply = app
        .post_with("/v1/bills/batch", &[("content-type", PARQUET)], unknown)
        .await;
    assert_eq!(reply.status, 422);
    assert!(reply.text().contains("colour"), "{}", reply.text());
    let empty = app
        .post_with("/v1/bills/batch", &[("content-type", PARQUET)], Vec::new())
        .await;
    assert_eq!(empty.status, 400);
}

#[actix_web::test]
async fn a_population_kept_or_streamed_from_parquet_simulates_as_from_csv() {
    let app = TestApp::spawn().await;
    let requests = population(300);
    let simulation = |population: Value| {
        json!({
            "reform": { "name": "eliminated at 0.80", "parameters": { "electricity.differential.steel.eliminated": "0.80" } },
            "population_id": population,
        })
    };
    let mut results = Vec::new();
    let csv = ("text/csv", csv_body(&requests));
    let [parquet, arrow] = files(&requests);
    for (content_type, body) in [csv.clone(), parquet.clone(), arrow] {
        let kept = app
            .post_with("/v1/populations", &[("content-type", content_type)], body)
            .await;
        assert_eq!(kept.status, 201, "{content_type}: {}", kept.text());
        assert_eq!(kept.json()["records"], 300);
        let id = kept.json()["population_id"].clone();
        let reply = app
            .post_with(
                "/v1/simulations",
                &[("content-type", "application/json")],
                simulation(id).to_string().into_bytes(),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        results.push(figures(reply.json()));
    }
    let streamed = app
        .post_with(
            "/v1/simulations",
            &[("content-type", "multipart/form-data; boundary=XyZ")],
            crate::simulations::multipart(
                &json!({ "reform": simulation(Value::Null)["reform"] }),
                &parquet.1,
                PARQUET,
            ),
        )
        .await;
    assert_eq!(streamed.status, 200, "{}", streamed.text());
    results.push(figures(streamed.json()));
    assert!(results[0]["delta"].is_object(), "{}", results[0]);
    assert!(results.iter().all(|r| r == &results[0]), "{results:#?}");
}

/// A simulation's figures, without what names the population it ran on.
fn figures(report: Value) -> Value {
    let keys = [
        "baseline",
        "reform",
        "delta",
        "changes",
        "histogram",
        "enterprises",
    ];
    keys.iter()
        .map(|k| (k.to_string(), report[k].clone()))
        .collect()
}
