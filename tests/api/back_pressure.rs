//! Saturation answers 429 with `Retry-After`; shutdown cuts a batch off visibly.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::helpers::{read_until_closed, stalled, TestApp};

const RECORD: &str = "{\"period\":{\"month\":\"2020-10\"},\"enterprise\":{\"id\":\"A\",\"industry\":\"steel\",\"catalogue_class\":\"restricted\"},\"electricity\":{\"kwh\":\"1000\"}}\n";

/// A batch upload left open: the head and `records` records sent as one chunk, no end.
fn open_batch(app: &TestApp, records: usize) -> TcpStream {
    let body = RECORD.repeat(records);
    stalled(
        &app.address,
        "POST /v1/bills/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n",
        format!("{:x}\r\n{body}\r\n", body.len()).as_bytes(),
    )
}

#[actix_web::test]
async fn batches_beyond_the_concurrency_cap_get_429_with_retry_after() {
    let app = TestApp::spawn_with(|s| {
        s.limits.max_concurrent_heavy = 1;
        s.limits.retry_after_seconds = 3;
    })
    .await;
    let mut first = open_batch(&app, 1);
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;

    let second = app
        .post_with(
            "/v1/bills/batch",
            &[("content-type", "application/x-ndjson")],
            RECORD.into(),
        )
        .await;
    assert_eq!(second.status, 429, "{}", second.text());
    assert_eq!(second.header("retry-after").as_deref(), Some("3"));
    assert_eq!(
        second.header("content-type").as_deref(),
        Some("application/problem+json")
    );
    let simulation = app
        .post(
            "/v1/simulations",
            r#"{"reform":{"name":"x"},"population":[]}"#,
        )
        .await;
    assert_eq!(simulation.status, 429, "simulations share the cap");
    assert_eq!(
        app.post("/v1/bills", RECORD.trim()).await.status,
        200,
        "single bills go on"
    );

    first.write_all(b"0\r\n\r\n").unwrap(); // the upload ends; the batch completes
    let mut answer = Vec::new();
    first
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    while !String::from_utf8_lossy(&answer).contains("summary") {
        let mut buffer = [0u8; 4096];
        let n = first.read(&mut buffer).unwrap();
        assert!(n > 0, "the first batch completes");
        answer.extend_from_slice(&buffer[..n]);
    }
    actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    let again = app
        .post_with(
            "/v1/bills/batch",
            &[("content-type", "application/x-ndjson")],
            RECORD.into(),
        )
        .await;
    assert_eq!(again.status, 200, "the permit came back");
}

#[actix_web::test]
async fn a_batch_cut_off_by_shutdown_ends_without_its_summary() {
    let app = TestApp::spawn_with(|s| s.limits.shutdown_grace_seconds = 1).await;
    let batch = open_batch(&app, 3000);
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    let stopping = actix_web::rt::spawn(app.handle.stop(true));
    // The upload never ends; after the grace period the server lets the connection go.
    let answer = read_until_closed(batch, 10).await;
    stopping.await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("\"line\":512"),
        "the chunk priced before the cut-off arrived: {answer}"
    );
    assert!(
        !answer.contains("\"summary\""),
        "a cut-off batch has no summary"
    );
}

#[actix_web::test]
async fn an_upload_that_goes_quiet_is_ended_and_frees_its_place() {
    let app = TestApp::spawn_with(|s| {
        s.limits.body_idle_timeout_seconds = 1;
        s.limits.max_concurrent_heavy = 1;
    })
    .await;
    let batch = open_batch(&app, 3000);
    let answer = read_until_closed(batch, 4).await;
    assert!(answer.contains("\"line\":512"), "{answer}");
    assert!(
        !answer.contains("\"summary\""),
        "an abandoned batch has no summary"
    );
    let next = app
        .post_with(
            "/v1/bills/batch",
            &[("content-type", "application/x-ndjson")],
            RECORD.into(),
        )
        .await;
    assert_eq!(next.status, 200, "the quiet batch let its permit go");
}
