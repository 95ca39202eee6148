//! `POST /v1/bills/batch`: streamed, ordered, one record out per record in, then a summary.

use std::collections::HashMap;
use std::io::Write;

use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::helpers::{csv_body, ndjson, population, Reply, TestApp};

async fn post_batch(app: &TestApp, path: &str, content_type: &str, body: Vec<u8>) -> Reply {
    app.post_with(path, &[("content-type", content_type)], body)
        .await
}

fn ndjson_records(reply: &Reply) -> Vec<Value> {
    reply
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The rows of a CSV answer, each cell by its column's header.
fn csv_records(reply: &Reply) -> Vec<HashMap<String, String>> {
    csv_rows(&reply.body)
}

fn csv_rows(body: &[u8]) -> Vec<HashMap<String, String>> {
    let mut reader = csv::Reader::from_reader(body);
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let record = r.unwrap();
            assert_eq!(record.len(), headers.len(), "{record:?}");
            headers
                .iter()
                .zip(record.iter())
                .map(|(h, c)| (h.to_string(), c.to_string()))
                .collect()
        })
        .collect()
}

const VALID: &str = r#"{"period":{"month":"2020-10"},"enterprise":{"id":"A","industry":"steel","catalogue_class":"restricted"},"electricity":{"kwh":"1000"}}"#;

#[actix_web::test]
async fn bad_lines_become_error_records_in_place_and_the_batch_goes_on() {
    let app = TestApp::spawn().await;
    let invalid = VALID.replace("\"1000\"", "\"-1\"");
    let body = format!("{VALID}\n\n{{not json\n{invalid}\n{VALID}\n");
    let reply = post_batch(
        &app,
        "/v1/bills/batch",
        "application/x-ndjson",
        body.into_bytes(),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type").as_deref(),
        Some("application/x-ndjson")
    );
    let records = ndjson_records(&reply);
    assert_eq!(records.len(), 6, "five records and the summary");
    for (i, expect) in ["bill", "error", "error", "error", "bill"]
        .iter()
        .enumerate()
    {
        assert_eq!(records[i]["line"], i + 1, "{}", records[i]);
        assert!(
            records[i].get(*expect).is_some(),
            "line {}: expected {expect}: {}",
            i + 1,
            records[i]
        );
    }
    assert_eq!(records[2]["error"]["status"], 400, "malformed JSON");
    assert_eq!(
        records[3]["error"]["errors"][0]["pointer"],
        "/electricity/kwh"
    );
    assert_eq!(
        records[5]["summary"],
        json!({ "lines": 5, "billed": 2, "failed": 3, "surcharge": "200.00", "total": "200.00" })
    );
}

#[actix_web::test]
async fn the_summary_is_the_sum_of_the_records_above_it() {
    let app = TestApp::spawn().await;
    let requests = population(1500);
    let reply = post_batch(
        &app,
        "/v1/bills/batch?detail=totals",
        "application/x-ndjson",
        ndjson(&requests),
    )
    .await;
    let records = ndjson_records(&reply);
    let (bills, summary) = records.split_at(records.len() - 1);
    assert_eq!(bills.len(), 1500);
    let sum = |key: &str| {
        bills
            .iter()
            .map(|r| {
                r["bill"]["totals"][key]
                    .as_str()
                    .unwrap()
                    .parse::<Decimal>()
                    .unwrap()
            })
            .sum::<Decimal>()
    };
    assert_eq!(
        summary[0]["summary"]["surcharge"],
        json!(sum("surcharge").to_string())
    );
    assert_eq!(
        summary[0]["summary"]["total"],
        json!(sum("total").to_string())
    );
    assert_eq!(summary[0]["summary"]["billed"], 1500);
    assert!(
        bills.iter().enumerate().all(|(i, r)| r["line"] == i + 1),
        "input order is kept across chunks"
    );
    assert!(
        bills[0]["bill"].get("line_items").is_none(),
        "detail=totals leaves line items out"
    );
}

#[actix_web::test]
async fn csv_and_ndjson_give_the_same_bills_for_the_same_records() {
    let app = TestApp::spawn().await;
    let requests = population(300);
    let from_ndjson = ndjson_records(
        &post_batch(
            &app,
            "/v1/bills/batch",
            "application/x-ndjson",
            ndjson(&requests),
        )
        .await,
    );
    let reply = post_batch(&app, "/v1/bills/batch", "text/csv", csv_body(&requests)).await;
    assert_eq!(
        reply.header("content-type").as_deref(),
        Some("text/csv; charset=utf-8")
    );
    let from_csv = csv_records(&reply);
    assert_eq!(from_csv.len(), requests.len() + 1);
    for (json, csv) in from_ndjson.iter().zip(&from_csv).take(requests.len()) {
        let bill = &json["bill"];
        assert_eq!(csv["status"], "billed", "{csv:?}");
        assert_eq!(
            bill["bill_id"].as_str(),
            Some(csv["bill_id"].as_str()),
            "same request, same bill id"
        );
        assert_eq!(
            bill["totals"]["surcharge"].as_str(),
            Some(csv["surcharge"].as_str())
        );
        assert_eq!(
            bill["totals"]["total"].as_str(),
            Some(csv["total"].as_str())
        );
    }
    let summary = from_csv.last().unwrap();
    assert_eq!(
        (&*summary["line"], &*summary["billed"], &*summary["failed"]),
        ("summary", "300", "0")
    );
    assert_eq!(
        from_ndjson.last().unwrap()["summary"]["total"].as_str(),
        Some(summary["total"].as_str())
    );
}

#[actix_web::test]
async fn csv_errors_name_the_column_and_a_bad_header_is_refused_up_front() {
    let app = TestApp::spawn().await;
    let body = "enterprise_id,industry,period_month,kwh\nA,steel,2020-10,-5\nB,steel,2020-10,10\n";
    let records = csv_records(&post_batch(&app, "/v1/bills/batch", "text/csv", body.into()).await);
    assert_eq!(
        (&*records[0]["line"], &*records[0]["status"]),
        ("2", "failed")
    );
    assert_eq!(
        records[0]["enterprise_id"], "A",
        "a failed row keeps its enterprise"
    );
    assert!(
        records[0]["error"].starts_with("kwh: must not be negative"),
        "{:?}",
        records[0]
    );
    assert_eq!(
        (&*records[1]["line"], &*records[1]["status"]),
        ("3", "billed")
    );
    let reply = post_batch(
        &app,
        "/v1/bills/batch",
        "text/csv",
        "enterprise_id,industri,kw\nA,steel,1\n".into(),
    )
    .await;
    assert_eq!(reply.status, 422);
    let problem = reply.json();
    let columns: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["column"].as_str())
        .collect();
    assert_eq!(
        columns,
        vec!["industri", "kw", "kwh"],
        "the unknown columns and the missing one"
    );
}

#[actix_web::test]
async fn gzip_bodies_are_accepted() {
    let app = TestApp::spawn().await;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&ndjson(&population(200))).unwrap();
    let reply = app
        .post_with(
            "/v1/bills/batch",
            &[
                ("content-type", "application/x-ndjson"),
                ("content-encoding", "gzip"),
            ],
            gz.finish().unwrap(),
        )
        .await;
    let records = ndjson_records(&reply);
    assert_eq!(records.last().unwrap()["summary"]["billed"], 200);
}

#[actix_web::test]
async fn limits_give_error_records_not_dropped_connections() {
    let app = TestApp::spawn_with(|s| {
        s.batch.max_line_bytes = 300;
        s.batch.max_lines = 3;
    })
    .await;
    let long = VALID.replace("\"id\":\"A\"", &format!("\"id\":\"{}\"", "x".repeat(400)));
    let body = format!("{VALID}\n{long}\n{VALID}\n{VALID}\n{VALID}\n");
    let records = ndjson_records(
        &post_batch(
            &app,
            "/v1/bills/batch",
            "application/x-ndjson",
            body.into_bytes(),
        )
        .await,
    );
    assert!(records[0].get("bill").is_some());
    assert!(
        records[1]["error"]["detail"]
            .as_str()
            .unwrap()
            .contains("over the limit"),
        "{}",
        records[1]
    );
    assert!(records[2].get("bill").is_some());
    assert_eq!(records[3]["line"], 4);
    assert!(
        records[3]["error"]["detail"]
            .as_str()
            .unwrap()
            .contains("more than 3 records"),
        "{}",
        records[3]
    );
    assert_eq!(
        records[4]["summary"]["lines"], 4,
        "three records and the notice; line 5 is not read"
    );
}

#[actix_web::test]
async fn other_content_types_are_415() {
    let app = TestApp::spawn().await;
    let reply = post_batch(
        &app,
        "/v1/bills/batch",
        "application/xml",
        b"<bills/>".to_vec(),
    )
    .await;
    assert_eq!(reply.status, 415);
    assert_eq!(
        reply.header("content-type").as_deref(),
        Some("application/problem+json")
    );
}

#[actix_web::test]
async fn a_client_that_disconnects_mid_stream_does_not_hurt_the_server() {
    use std::io::Read;
    let app = TestApp::spawn().await;
    let address = app.address.trim_start_matches("http://").to_string();
    let first_bytes = actix_web::rt::task::spawn_blocking(move || {
        let mut socket = std::net::TcpStream::connect(address).unwrap();
        socket.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        let head = "POST /v1/bills/batch HTTP/1.1\r\nhost: test\r\ncontent-type: application/x-ndjson\r\ntransfer-encoding: chunked\r\n\r\n";
        socket.write_all(head.as_bytes()).unwrap();
        let chunk = format!("{VALID}\n").repeat(2000);
        socket.write_all(format!("{:x}\r\n{chunk}\r\n", chunk.len()).as_bytes()).unwrap();
        // Output starts before the upload ends; read some, then hang up mid-upload.
        let mut seen = vec![0u8; 8192];
        let n = socket.read(&mut seen).unwrap();
        drop(socket);
        String::from_utf8_lossy(&seen[..n]).into_owned()
    })
    .await
    .unwrap();
    assert!(first_bytes.starts_with("HTTP/1.1 200"), "{first_bytes}");
    let reply = post_batch(
        &app,
        "/v1/bills/batch",
        "application/x-ndjson",
        format!("{VALID}\n").into_bytes(),
    )
    .await;
    assert_eq!(
        ndjson_records(&reply).last().unwrap()["summary"]["billed"],
        1,
        "the server goes on serving"
    );
    assert_eq!(app.get("/health/live").await.status, 200);
}

#[actix_web::test]
async fn csv_rows_carry_the_measure_amounts_at_every_detail_level() {
    let app = TestApp::spawn().await;
    let body = crate::helpers::csv_body(&crate::helpers::population(200));
    let mut outputs = Vec::new();
    for detail in ["totals", "lines", "full"] {
        let reply = app
            .post_with(
                &format!("/v1/bills/batch?detail={detail}"),
                &[("content-type", "text/csv")],
                body.clone(),
            )
            .await;
        assert_eq!(reply.status, 200);
        outputs.push(reply.text());
    }
    assert_eq!(
        outputs[0], outputs[1],
        "totals and lines give the same rows"
    );
    assert_eq!(outputs[1], outputs[2], "lines and full give the same rows");
    let mut reader = csv::Reader::from_reader(outputs[0].as_bytes());
    let headers = reader.headers().unwrap().clone();
    let differential = headers.iter().position(|h| h == "differential").unwrap();
    let tiered = headers.iter().position(|h| h == "tiered").unwrap();
    let filled = reader
        .records()
        .map(Result::unwrap)
        .filter(|r| !r[differential].is_empty() || !r[tiered].is_empty())
        .count();
    assert!(filled > 0, "some of 200 enterprises pay a measure");
}

/// The numeric columns a CSV bill table sums in its last row.
const SUMMED: [&str; 14] = [
    "kwh",
    "water_m3",
    "differential",
    "tiered",
    "punitive",
    "water_progressive",
    "electricity_surcharge",
    "water_surcharge",
    "surcharge",
    "base",
    "total",
    "lines",
    "billed",
    "failed",
];

fn decimal(cell: &str) -> Decimal {
    if cell.is_empty() {
        Decimal::ZERO
    } else {
        cell.parse().unwrap_or_else(|e| panic!("{cell:?}: {e}"))
    }
}

#[actix_web::test]
async fn the_bill_table_is_fit_for_excel() {
    let app = TestApp::spawn().await;
    let mut requests = population(300);
    requests[0]["enterprise"]["name"] = json!("=太原钢铁集团");
    requests[1]["electricity"]["kwh"] = json!("-1");
    let reply = post_batch(
        &app,
        "/v1/bills/batch?bom=true",
        "text/csv",
        csv_body(&requests),
    )
    .await;
    assert_eq!(reply.status, 200);
    let body = reply
        .body
        .strip_prefix("\u{feff}".as_bytes())
        .expect("a byte-order mark first");
    let all = csv_rows(body);
    let (summary, rows) = all.split_last().unwrap();
    assert_eq!(rows.len(), 300);
    assert_eq!(
        rows[0]["enterprise_name"], "'=太原钢铁集团",
        "names, made inert"
    );
    assert_eq!(rows[1]["status"], "failed");
    assert_eq!(
        rows[1]["enterprise_id"],
        requests[1]["enterprise"]["id"].as_str().unwrap(),
        "a failed row keeps its enterprise"
    );
    let mut priced_measures = 0;
    for (row, request) in rows
        .iter()
        .zip(&requests)
        .filter(|(r, _)| r["status"] == "billed")
    {
        assert_eq!(
            row["industry"],
            request["enterprise"]["industry"].as_str().unwrap()
        );
        assert_eq!(
            decimal(&row["kwh"]),
            decimal(request["electricity"]["kwh"].as_str().unwrap())
        );
        if let Some(m3) = request["water"]["m3"].as_str() {
            assert_eq!(decimal(&row["water_m3"]), decimal(m3));
        }
        for measure in ["differential", "tiered", "punitive", "water_progressive"] {
            let rate = &row[&format!("{measure}_rate")];
            assert_eq!(
                rate.is_empty(),
                row[measure].is_empty(),
                "{measure}: {row:?}"
            );
            if measure == "differential" && !rate.is_empty() {
                // One rate over every kWh of the month: the amount is that product.
                let product = (decimal(rate) * decimal(&row["kwh"])).round_dp_with_strategy(
                    2,
                    rust_decimal::RoundingStrategy::MidpointAwayFromZero,
                );
                assert_eq!(decimal(&row[measure]), product, "{row:?}");
            }
            priced_measures += usize::from(!rate.is_empty());
        }
    }
    assert!(
        priced_measures > 10,
        "{priced_measures} measures with a rate"
    );
    assert_eq!(summary["line"], "summary");
    for column in SUMMED {
        let sum: Decimal = rows.iter().map(|r| decimal(&r[column])).sum();
        assert_eq!(decimal(&summary[column]), sum, "{column}");
    }
    assert_eq!((&*summary["lines"], &*summary["failed"]), ("300", "1"));
}

#[actix_web::test]
async fn chinese_headers_in_and_out_give_the_same_figures() {
    let app = TestApp::spawn().await;
    let requests = population(50);
    let english = post_batch(&app, "/v1/bills/batch", "text/csv", csv_body(&requests)).await;
    let mut chinese_body = tariffd::wire::csv::row(tariffd::wire::csv::input_header(
        tariffd::wire::csv::Lang::Zh,
    ));
    let english_body = csv_body(&requests);
    let rows_start = english_body.iter().position(|b| *b == b'\n').unwrap() + 1;
    chinese_body.extend_from_slice(&english_body[rows_start..]);
    let chinese = post_batch(&app, "/v1/bills/batch?lang=zh", "text/csv", chinese_body).await;
    assert_eq!(chinese.status, 200, "{}", chinese.text());
    assert!(
        chinese.text().starts_with("行号,状态,企业编号,"),
        "{}",
        chinese.text()
    );
    let (english, chinese) = (csv_records(&english), csv_records(&chinese));
    for (en, zh) in english.iter().zip(&chinese) {
        assert_eq!(en["total"], zh["应缴总额(元)"]);
        assert_eq!(en["bill_id"], zh["账单编号"]);
    }
    assert_eq!(chinese[0]["状态"], "已计费");
    assert_eq!(chinese.last().unwrap()["行号"], "合计");
}

#[actix_web::test]
async fn ndjson_in_csv_out_on_accept_and_ndjson_errors_name_the_enterprise() {
    let app = TestApp::spawn().await;
    let mut requests = population(20);
    requests[3]["electricity"]["kwh"] = json!("-1");
    let as_csv = app
        .post_with(
            "/v1/bills/batch",
            &[
                ("content-type", "application/x-ndjson"),
                ("accept", "text/csv"),
            ],
            ndjson(&requests),
        )
        .await;
    assert_eq!(
        as_csv.header("content-type").as_deref(),
        Some("text/csv; charset=utf-8")
    );
    let from_csv = post_batch(&app, "/v1/bills/batch", "text/csv", csv_body(&requests)).await;
    // The same table, but for the line numbers: CSV counts its header line.
    let without_line = |text: String| -> Vec<String> {
        text.lines()
            .map(|l| l.split_once(',').unwrap().1.to_string())
            .collect()
    };
    assert_eq!(without_line(as_csv.text()), without_line(from_csv.text()));
    let records = ndjson_records(
        &post_batch(
            &app,
            "/v1/bills/batch",
            "application/x-ndjson",
            ndjson(&requests),
        )
        .await,
    );
    assert_eq!(records[3]["enterprise_id"], requests[3]["enterprise"]["id"]);
    assert!(records[3]["error"].is_object());
}
