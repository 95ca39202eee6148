//! What an attacker holding the weakest key tries: respelt paths, compressed and slow
//! bodies, stray methods, runaway ranges, spreadsheet formulas.

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use tariffd::access::{hash_key, KeySettings};
use tariffd::api::routes::ROUTES;

use crate::helpers::{csv_body, population, read_until_closed, stalled, TestApp};
use crate::probe::{may, status_of, KEYS};

async fn app_with_keys(configure: impl FnOnce(&mut tariffd::configuration::Settings)) -> TestApp {
    TestApp::spawn_with(|s| {
        s.auth.enabled = true;
        s.auth.keys = KEYS
            .iter()
            .filter_map(|(key, role)| {
                role.map(|role| KeySettings {
                    name: key.trim_end_matches("-key").to_string(),
                    sha256: hash_key(key),
                    roles: vec![role],
                })
            })
            .collect();
        configure(s);
    })
    .await
}

/// Ways to spell `path` that a router or a proxy might treat as the same path.
fn respellings(path: &str) -> Vec<String> {
    let mut out = vec![
        path.to_string(),
        path.to_ascii_uppercase(),
        format!("{path}/"),
        format!("/{path}"),
        format!("{path}%2F"),
        format!("{path}?x=1"),
        format!("{path}#x"),
        format!("{path};x"),
    ];
    for (i, c) in path.char_indices() {
        let (before, after) = (&path[..i], &path[i + c.len_utf8()..]);
        if c == '/' {
            out.push(format!("{before}//{after}"));
            out.push(format!("{before}/./{after}"));
            out.push(format!("{before}/x/../{after}"));
            out.push(format!("{before}%2F{after}"));
            out.push(format!("{before}%2f{after}"));
            out.push(format!("{before}\\{after}"));
        } else {
            out.push(format!("{before}%{:02X}{after}", c as u32));
            out.push(format!("{before}%{:02x}{after}", c as u32));
            out.push(format!("{before}%25{:02X}{after}", c as u32));
            out.push(format!("{before}{}{after}", c.to_ascii_uppercase()));
        }
    }
    out
}

#[actix_web::test]
async fn no_spelling_of_a_path_lets_a_key_reach_a_route_its_role_may_not_call() {
    let app = app_with_keys(|_| {}).await;
    let address = app.address.trim_start_matches("http://").to_string();
    let violations = actix_web::rt::task::spawn_blocking(move || {
        let mut violations = Vec::new();
        let mut requests = 0;
        for route in &ROUTES {
            let path = route
                .path
                .replace("{id}", "cn")
                .replace("{path}", "electricity.combination");
            for spelling in respellings(&path) {
                for (key, role) in KEYS {
                    for method in [route.method.as_str(), "HEAD", "get", "PoSt"] {
                        requests += 1;
                        let status = status_of(&address, method, &spelling, key);
                        let refused = matches!(status, 400 | 401 | 403 | 404 | 405);
                        // Another method on the same path is another route, with its own need.
                        let asked = if method == "HEAD" { "GET" } else { method };
                        let need = ROUTES
                            .iter()
                            .find(|r| {
                                r.path == route.path
                                    && r.method.as_str().eq_ignore_ascii_case(asked)
                            })
                            .map_or(route.need, |r| r.need);
                        if !refused && !may(need, role) {
                            violations.push(format!("{method} {spelling} with {key:?}: {status}"));
                        }
                    }
                }
            }
        }
        assert!(requests > 5000, "{requests} requests");
        violations
    })
    .await
    .unwrap();
    assert!(violations.is_empty(), "{violations:#?}");
}

#[actix_web::test]
async fn the_probed_encodings_are_refused_for_a_reader() {
    let app = app_with_keys(|_| {}).await;
    let address = app.address.trim_start_matches("http://").to_string();
    actix_web::rt::task::spawn_blocking(move || {
        for path in [
            "/v1/admin/reloa%64",
            "/v1/bill%73",
            "/v1/%62ills/batch",
            "/v1/simulation%73",
            "/v1/tariffs/validat%65",
        ] {
            assert_eq!(
                status_of(&address, "POST", path, "reader-key"),
                403,
                "{path}"
            );
        }
        assert_eq!(status_of(&address, "GET", "/v1/%74ariffs", ""), 401);
        assert_eq!(
            status_of(&address, "GET", "/v1/%74ariffs", "reader-key"),
            200
        );
    })
    .await
    .unwrap();
}

/// `count` bytes of zeros, gzipped.
fn gzip_zeros(count: usize) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let block = vec![b'0'; 1024 * 1024];
    for _ in 0..count / block.len() {
        encoder.write_all(&block).unwrap();
    }
    encoder.finish().unwrap()
}

#[actix_web::test]
async fn a_gzip_bomb_is_refused_at_the_limit_wherever_it_is_sent() {
    let app = TestApp::spawn_with(|s| s.simulation.body_limit_bytes = 2 * 1024 * 1024).await;
    let bomb = gzip_zeros(256 * 1024 * 1024);
    assert!(bomb.len() < 300 * 1024);
    for (path, content_type) in [
        ("/v1/bills", "application/json"),
        ("/v1/tariffs/validate", "application/toml"),
        ("/v1/simulations", "application/json"),
    ] {
        let started = Instant::now();
        let reply = app
            .post_with(
                path,
                &[("content-type", content_type), ("content-encoding", "gzip")],
                bomb.clone(),
            )
            .await;
        assert_eq!(reply.status, 413, "{path}: {}", reply.text());
        assert!(started.elapsed() < Duration::from_secs(20), "{path}");
    }
    // A batch reads a bomb as one over-long line: an error record, not a heap of it.
    let reply = app
        .post_with(
            "/v1/bills/batch",
            &[
                ("content-type", "application/x-ndjson"),
                ("content-encoding", "gzip"),
            ],
            bomb,
        )
        .await;
    assert_eq!(reply.status, 200);
    let text = reply.text();
    assert!(text.contains("over the limit of the batch"), "{text}");
    assert!(text.contains("\"failed\":1"), "{text}");
}

#[actix_web::test]
async fn gzip_blank_lines_fold_into_few_error_records() {
    let app = TestApp::spawn().await;
    let lines = 1_000_000;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&vec![b'\n'; lines]).unwrap();
    let body = encoder.finish().unwrap();
    let reply = app
        .post_with(
            "/v1/bills/batch",
            &[
                ("content-type", "application/x-ndjson"),
                ("content-encoding", "gzip"),
            ],
            body,
        )
        .await;
    assert_eq!(reply.status, 200);
    let text = reply.text();
    assert!(
        text.ends_with(&format!(
            "{{\"summary\":{{\"lines\":{lines},\"billed\":0,\"failed\":{lines},\"surcharge\":\"0.00\",\"total\":\"0.00\"}}}}\n"
        )),
        "{}",
        &text[text.len().saturating_sub(300)..]
    );
    assert!(text.len() < 1024 * 1024, "{} bytes of errors", text.len());
    let first = text.lines().next().unwrap();
    assert!(
        first.starts_with("{\"line\":1,\"through\":512,\"error\":{"),
        "{first}"
    );
}

#[actix_web::test]
async fn a_run_of_alike_errors_is_one_record_and_different_ones_stay_apart() {
    let app = TestApp::spawn().await;
    let good = crate::helpers::ndjson(&population(1));
    let mut body = b"x\nx\nx\n\n".to_vec();
    body.extend_from_slice(&good);
    body.extend_from_slice(b"x\n");
    let reply = app
        .post_with(
            "/v1/bills/batch",
            &[("content-type", "application/x-ndjson")],
            body,
        )
        .await;
    let records: Vec<serde_json::Value> = reply
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records[0]["line"], 1);
    assert_eq!(records[0]["through"], 3);
    assert_eq!(records[1]["line"], 4);
    assert!(records[1].get("through").is_none());
    assert_eq!(records[2]["line"], 5);
    assert!(records[2].get("bill").is_some());
    assert_eq!(records[3]["line"], 6);
    assert_eq!(records[4]["summary"]["lines"], 6);
    assert_eq!(records[4]["summary"]["failed"], 5);
}

#[actix_web::test]
async fn idle_uploads_are_ended_and_free_the_heavy_places() {
    let app = TestApp::spawn_with(|s| {
        s.limits.body_idle_timeout_seconds = 1;
        s.limits.max_concurrent_heavy = 3;
    })
    .await;
    let csv_header = String::from_utf8(csv_body(&[])).unwrap();
    let boundary = "XyZ";
    let uploads = [
        stalled(
            &app.address,
            "POST /v1/bills/batch HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n",
            format!("{:x}\r\n{csv_header}\r\n", csv_header.len()).as_bytes(),
        ),
        stalled(
            &app.address,
            "POST /v1/simulations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n",
            b"{\"reform\":",
        ),
        stalled(
            &app.address,
            &format!("POST /v1/simulations HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: 100000\r\n\r\n"),
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"simulation\"\r\n\r\n{{\"reform\":").as_bytes(),
        ),
    ];
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    let busy = app
        .post_with(
            "/v1/bills/batch",
            &[("content-type", "text/csv")],
            csv_body(&[]),
        )
        .await;
    assert_eq!(busy.status, 429, "the three uploads hold every place");
    let mut answers = Vec::new();
    for upload in uploads {
        answers.push(read_until_closed(upload, 5).await);
    }
    // The batch's answer started before its body ended, so it ends with an error record
    // saying why, not a summary; the simulations had not answered, so they answer 408.
    assert!(answers[0].starts_with("HTTP/1.1 200"), "{}", answers[0]);
    assert!(!answers[0].contains("summary"), "{}", answers[0]);
    assert!(
        answers[0].contains("sent nothing for 1 s"),
        "{}",
        answers[0]
    );
    for answer in &answers[1..] {
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("application/problem+json"), "{answer}");
    }
    let next = app
        .post_with(
            "/v1/bills/batch",
            &[("content-type", "text/csv")],
            csv_body(&[]),
        )
        .await;
    assert_eq!(next.status, 200, "the places came back: {}", next.text());
}

#[actix_web::test]
async fn half_sent_bills_are_answered_408_and_health_answers_meanwhile() {
    let app = TestApp::spawn_with(|s| {
        s.limits.body_idle_timeout_seconds = 60;
        s.limits.body_read_timeout_seconds = 2;
    })
    .await;
    assert_eq!(app.get("/health/live").await.status, 200);
    let started = Instant::now();
    let address = app.address.clone();
    let mut held = actix_web::rt::task::spawn_blocking(move || {
        (0..200)
            .map(|_| {
                stalled(
                    &address,
                    "POST /v1/bills HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n",
                    b"{\"period\"",
                )
            })
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    // A trickle: a byte at a time keeps the idle timer from firing, not the read timer.
    let mut trickle = stalled(
        &app.address,
        "POST /v1/bills HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n",
        b"{",
    );
    for _ in 0..5 {
        assert_eq!(app.get("/health/live").await.status, 200);
        let _ = trickle.write_all(b" ");
        actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    }
    held.push(trickle);
    for stream in held {
        let answer = read_until_closed(stream, 10).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("did not arrive within 2 s"), "{answer}");
    }
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(app.get("/health/live").await.status, 200);
}

#[actix_web::test]
async fn stray_method_tokens_share_one_metric_label() {
    let app = TestApp::spawn().await;
    let address = app.address.trim_start_matches("http://").to_string();
    actix_web::rt::task::spawn_blocking(move || {
        for i in 0..50 {
            status_of(&address, &format!("M{i}X"), "/health/live", "");
            status_of(&address, &format!("N{i}"), &format!("/nowhere/{i}"), "");
        }
    })
    .await
    .unwrap();
    let metrics = app.get("/metrics").await.text();
    assert!(
        !metrics.contains("M1X") && !metrics.contains("nowhere"),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            r#"tariffd_http_requests_total{method="other",route="/health/live",status="405"} 50"#
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            r#"tariffd_http_requests_total{method="other",route="unmatched",status="404"} 50"#
        ),
        "{metrics}"
    );
}

#[actix_web::test]
async fn a_sweep_or_goal_with_too_many_steps_is_422_at_its_step() {
    let app = TestApp::spawn().await;
    let population = serde_json::to_string(&population(2)).unwrap();
    let parameter = "electricity.differential.steel.eliminated";
    for (search, pointer) in [
        (
            format!(
                r#""sweep":{{"parameter":"{parameter}","from":"-999999999999999999","to":"999999999999999999","step":"0.000000000001"}}"#
            ),
            "/sweep/step",
        ),
        (
            format!(
                r#""goal":{{"parameter":"{parameter}","target":"1","lo":"-999999999999999999","hi":"999999999999999999","step":"0.000000000001"}}"#
            ),
            "/goal/step",
        ),
    ] {
        let body = format!(r#"{{"reform":{{"name":"x"}},"population":{population},{search}}}"#);
        let reply = app.post("/v1/simulations", body).await;
        assert_eq!(reply.status, 422, "{}", reply.text());
        assert_eq!(reply.json()["errors"][0]["pointer"], pointer);
    }
}

#[actix_web::test]
async fn csv_output_cells_cannot_run_as_formulas() {
    let app = TestApp::spawn().await;
    let mut requests = population(3);
    requests[0]["enterprise"]["id"] = "=cmd|' /C calc'!A0".into();
    requests[1]["enterprise"]["id"] = "@SUM(1+1)".into();
    requests[2]["enterprise"]["id"] = "+1+1".into();
    let reply = app
        .post_with(
            "/v1/bills/batch",
            &[("content-type", "text/csv")],
            csv_body(&requests),
        )
        .await;
    let text = reply.text();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let ids: Vec<String> = reader
        .records()
        .map(|r| r.unwrap()[2].to_string())
        .collect();
    assert_eq!(
        ids[..3],
        ["'=cmd|' /C calc'!A0", "'@SUM(1+1)", "'+1+1"],
        "{text}"
    );
}

#[actix_web::test]
async fn unknown_content_encodings_are_415() {
    let app = TestApp::spawn().await;
    for coding in ["br", "zstd", "foo"] {
        for path in ["/v1/bills", "/v1/bills/batch", "/v1/simulations"] {
            let reply = app
                .post_with(
                    path,
                    &[
                        ("content-type", "application/json"),
                        ("content-encoding", coding),
                    ],
                    b"{}".to_vec(),
                )
                .await;
            assert_eq!(reply.status, 415, "{path} {coding}: {}", reply.text());
        }
    }
}

#[actix_web::test]
async fn head_answers_like_get_without_a_body_and_every_error_is_problem_json() {
    let app = TestApp::spawn().await;
    let address = app.address.trim_start_matches("http://").to_string();
    assert_eq!(app.get("/health/live").await.status, 200);
    let mut stream = TcpStream::connect(&address).unwrap();
    write!(
        stream,
        "HEAD /v1/tariffs HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let head = read_until_closed(stream, 5).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.ends_with("\r\n\r\n"), "no body: {head}");
    for path in ["/docs/nothing.js", "/nowhere"] {
        let reply = app.get(path).await;
        assert_eq!(reply.status, 404, "{path}");
        assert_eq!(
            reply.header("content-type").as_deref(),
            Some("application/problem+json"),
            "{path}"
        );
        assert_eq!(reply.json()["status"], 404);
    }
}

#[actix_web::test]
async fn a_broken_csv_row_is_called_csv() {
    let app = TestApp::spawn().await;
    let mut body = csv_body(&population(1));
    body.extend_from_slice(b"\"unterminated,\n");
    let reply = app
        .post_with("/v1/bills/batch", &[("content-type", "text/csv")], body)
        .await;
    let text = reply.text();
    assert!(!text.contains("JSON"), "{text}");
}

#[actix_web::test]
async fn a_simulation_whose_client_left_stops_and_frees_its_place() {
    let app = TestApp::spawn_with(|s| {
        s.limits.max_concurrent_heavy = 1;
        s.server.workers = 1;
    })
    .await;
    let records = crate::helpers::ndjson(&population(1)).repeat(200_000);
    let parameter = "electricity.differential.steel.eliminated";
    let simulation = format!(
        r#"{{"reform":{{"name":"x"}},"sweep":{{"parameter":"{parameter}","from":"0","to":"0.99","step":"0.01"}}}}"#
    );
    let boundary = "QqQ";
    let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"simulation\"\r\nContent-Type: application/json\r\n\r\n{simulation}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"population\"; filename=\"p.ndjson\"\r\n\r\n").into_bytes();
    body.extend_from_slice(&records);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let head = format!("POST /v1/simulations HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n", body.len());
    assert_eq!(app.get("/health/live").await.status, 200);
    let address = app.address.clone();
    actix_web::rt::task::spawn_blocking(move || {
        let client = stalled(&address, &head, &body);
        // Long enough for the population to be read and the pricing to start.
        std::thread::sleep(Duration::from_secs(3));
        drop(client);
    })
    .await
    .unwrap();
    let started = Instant::now();
    loop {
        let metrics = app.get("/metrics").await.text();
        if metrics.contains("tariffd_simulations_cancelled_total 1") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the simulation was not cancelled"
        );
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    let next = app
        .post(
            "/v1/simulations",
            r#"{"reform":{"name":"x"},"population":[]}"#,
        )
        .await;
    assert_eq!(next.status, 200, "{}", next.text());
}
