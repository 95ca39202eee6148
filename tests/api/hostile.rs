//! Hostile uploads found by the outside probe of issue 32: each is refused naming the limit
//! it passed, and the process stays up and lean. The files are built here, by the same
//! code that writes `tests/fixtures/hostile/` for `.ci/adversarial` and the fuzz seeds.

use std::sync::Arc;

use arrow_array::builder::StringDictionaryBuilder;
use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, Int32Array, RecordBatch, StructArray};
use arrow_schema::Field;
use serde_json::json;

use crate::helpers::{csv_body, population, TestApp};

const PARQUET: &str = "application/vnd.apache.parquet";
const ARROW: &str = "application/vnd.apache.arrow.file";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A Parquet file with no rows whose schema nests `depth` groups, each holding the next
/// (the footer written by hand in Thrift's compact protocol: no writer makes such a file).
pub fn deep_parquet(depth: usize) -> Vec<u8> {
    fn varint(out: &mut Vec<u8>, mut n: u64) {
        while n >= 0x80 {
            out.push(n as u8 | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
    }
    fn name(out: &mut Vec<u8>, header: u8, name: &str) {
        out.push(header);
        varint(out, name.len() as u64);
        out.extend_from_slice(name.as_bytes());
    }
    let mut footer = vec![0x15, 0x02]; // 1: version = 1
    footer.push(0x19); // 2: schema, a list
    footer.push(0xfc); // of more than 14 structs:
    varint(&mut footer, depth as u64 + 1);
    for level in 0..depth {
        match level {
            0 => name(&mut footer, 0x48, "schema"), // 4: name
            _ => {
                footer.extend_from_slice(&[0x35, 0x00]); // 3: repetition REQUIRED
                name(&mut footer, 0x18, "g");
            }
        }
        footer.extend_from_slice(&[0x15, 0x02, 0x00]); // 5: num_children = 1; stop
    }
    // The leaf: 1: type INT32, 3: repetition REQUIRED, 4: name.
    footer.extend_from_slice(&[0x15, 0x02, 0x25, 0x00]);
    name(&mut footer, 0x18, "enterprise_id");
    footer.push(0x00);
    footer.extend_from_slice(&[0x16, 0x00, 0x19, 0x0c, 0x00]); // 3: num_rows 0, 4: no row groups
    let mut file = b"PAR1".to_vec();
    file.extend_from_slice(&footer);
    file.extend_from_slice(&(footer.len() as u32).to_le_bytes());
    file.extend_from_slice(b"PAR1");
    file
}

/// A small Parquet file whose dictionary holds one 1 MiB value, repeated by `rows` indices.
/// (The writer interns every row's value: 100 000 rows take minutes to write, so the tests
/// read the fixture this writes.)
pub fn dictionary_parquet(rows: usize) -> Vec<u8> {
    use parquet::arrow::ArrowWriter;
    use parquet::basic::{Compression, ZstdLevel};
    use parquet::file::properties::WriterProperties;
    let long = "x".repeat(1 << 20);
    let mut values = StringDictionaryBuilder::<Int32Type>::new();
    for _ in 0..rows {
        values.append_value(&long);
    }
    let batch =
        RecordBatch::try_from_iter([("enterprise_id", Arc::new(values.finish()) as ArrayRef)])
            .unwrap();
    let properties = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(19).unwrap()))
        .set_dictionary_page_size_limit(4 << 20)
        .set_statistics_enabled(parquet::file::properties::EnabledStatistics::None)
        .build();
    let mut file = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut file, batch.schema(), Some(properties)).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    file
}

/// An Arrow IPC file whose one column nests `depth` structs.
fn deep_arrow(depth: usize) -> Vec<u8> {
    let mut column: ArrayRef = Arc::new(Int32Array::from(vec![1]));
    for _ in 0..depth {
        let field = Arc::new(Field::new("g", column.data_type().clone(), false));
        column = Arc::new(StructArray::from(vec![(field, column)]));
    }
    let batch = RecordBatch::try_from_iter([("enterprise_id", column)]).unwrap();
    let mut file = Vec::new();
    let mut writer = arrow_ipc::writer::FileWriter::try_new(&mut file, &batch.schema()).unwrap();
    writer.write(&batch).unwrap();
    writer.finish().unwrap();
    drop(writer);
    file
}

/// A registry workbook with its header at A1 and one more cell at `far` (`(row, column)`
/// from 0): tiny, yet a dense reader allocates every cell between.
pub fn wide_xlsx(far: (u32, u16)) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "enterprise_id").unwrap();
    sheet.write_string(far.0, far.1, "x").unwrap();
    book.save_to_buffer().unwrap()
}

fn fixtures() -> std::path::PathBuf {
    crate::support::root().join("tests/fixtures/hostile")
}

/// Writes the files `.ci/adversarial` sends and the columnar fuzz target starts from.
#[test]
#[ignore = "writes tests/fixtures/hostile; run by hand after changing a builder"]
fn write_the_hostile_fixtures() {
    let dir = fixtures();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("deep.parquet"), deep_parquet(1500)).unwrap();
    std::fs::write(dir.join("wide.xlsx"), wide_xlsx((1_048_575, 16_383))).unwrap();
}

/// The dictionary bomb, apart: its writer takes minutes.
#[test]
#[ignore = "writes tests/fixtures/hostile/dictionary.parquet in minutes; run by hand"]
fn write_the_dictionary_fixture() {
    let file = dictionary_parquet(100_000);
    std::fs::write(fixtures().join("dictionary.parquet"), file).unwrap();
}

#[test]
fn the_committed_fixtures_are_as_hostile_as_their_builders_make_them() {
    let dir = fixtures();
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    assert_eq!(read("deep.parquet"), deep_parquet(1500));
    let dictionary = read("dictionary.parquet");
    assert!(dictionary.len() < 8 * 1024, "{} bytes", dictionary.len());
    assert!(read("wide.xlsx").len() < 8 * 1024);
}

fn problem_names(reply: &crate::helpers::Reply, what: &str) {
    assert_eq!(reply.status, 422, "{}", reply.text());
    assert_eq!(
        reply.header("content-type").as_deref(),
        Some("application/problem+json")
    );
    assert!(reply.text().contains(what), "{what}: {}", reply.text());
}

#[actix_web::test]
async fn a_parquet_schema_nested_past_the_limit_is_refused_on_every_route_that_reads_one() {
    let app = TestApp::spawn().await;
    let file = deep_parquet(1500);
    for path in ["/v1/bills/batch", "/v1/populations"] {
        let reply = app
            .post_with(path, &[("content-type", PARQUET)], file.clone())
            .await;
        problem_names(&reply, "past the limit of 16");
    }
    let streamed = app
        .post_with(
            "/v1/simulations",
            &[("content-type", "multipart/form-data; boundary=XyZ")],
            crate::simulations::multipart(
                &json!({ "reform": { "name": "r", "parameters": {} } }),
                &file,
                PARQUET,
            ),
        )
        .await;
    problem_names(&streamed, "past the limit of 16");
    // A shallow nesting is still named as what it is.
    let reply = app
        .post_with(
            "/v1/bills/batch",
            &[("content-type", PARQUET)],
            deep_parquet(3),
        )
        .await;
    problem_names(&reply, "of type Struct");
    assert_eq!(app.get("/health/ready").await.status, 200);
}

#[actix_web::test]
async fn an_arrow_schema_nested_past_the_readers_limit_is_refused() {
    let app = TestApp::spawn().await;
    for depth in [3, 200] {
        let reply = app
            .post_with(
                "/v1/bills/batch",
                &[("content-type", ARROW)],
                deep_arrow(depth),
            )
            .await;
        assert_eq!(reply.status, 422, "{depth}: {}", reply.text());
    }
    assert_eq!(app.get("/health/ready").await.status, 200);
}

#[actix_web::test]
async fn a_dictionary_repeating_a_long_value_is_refused_before_it_is_decoded() {
    let app = TestApp::spawn().await;
    let file = std::fs::read(fixtures().join("dictionary.parquet")).unwrap();
    let started = std::time::Instant::now();
    let reply = app
        .post_with("/v1/bills/batch", &[("content-type", PARQUET)], file)
        .await;
    problem_names(&reply, "batch.max_decoded_bytes");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "refused only after {:?}",
        started.elapsed()
    );
    // The same records as their text would carry them are read as before.
    let requests = population(20);
    let csv = csv_body(&requests);
    let parquet =
        tariffd::batch::columnar::convert::from_csv(&csv, tariffd::batch::Columnar::Parquet)
            .unwrap();
    let reply = app
        .post_with("/v1/bills/batch", &[("content-type", PARQUET)], parquet)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
}

#[actix_web::test]
async fn a_workbook_reaching_past_the_registry_columns_or_rows_is_refused_unread() {
    let app = TestApp::spawn_with(|s| s.simulation.body_limit_bytes = 1 << 19).await;
    for (far, cell) in [
        ((1999, 16_383), "XFD2000"),
        ((1_048_575, 16_383), "XFD1048576"),
        ((1_048_575, 0), "A1048576"),
    ] {
        let reply = app
            .post_with(
                "/v1/enterprises/import",
                &[("content-type", XLSX)],
                wide_xlsx(far),
            )
            .await;
        problem_names(&reply, cell);
    }
    // Within the columns and rows, a sparse sheet is read as its cells say.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (column, name) in ["enterprise_id", "name", "industry"].iter().enumerate() {
        sheet.write_string(0, column as u16, *name).unwrap();
    }
    for (column, value) in ["E-9", "Nine", "steel"].iter().enumerate() {
        sheet.write_string(4, column as u16, *value).unwrap();
    }
    let reply = app
        .post_with(
            "/v1/enterprises/import",
            &[("content-type", XLSX)],
            book.save_to_buffer().unwrap(),
        )
        .await;
    assert_eq!(reply.status, 422, "{}", reply.text());
    assert!(reply.text().contains("/rows/2"), "{}", reply.text());
}

#[actix_web::test]
async fn json_nested_without_end_in_a_population_is_refused() {
    let app = TestApp::spawn().await;
    let deep = "[".repeat(100_000);
    let body = format!(r#"{{"reform": {{}}, "population": [{{"enterprise": {deep}"#);
    let reply = app
        .post_with(
            "/v1/simulations",
            &[("content-type", "application/json")],
            body.into_bytes(),
        )
        .await;
    assert_eq!(reply.status, 400, "{}", reply.text());
    let kept = format!(r#"{{"enterprise": {deep}"#);
    let reply = app
        .post_with(
            "/v1/populations",
            &[("content-type", "application/x-ndjson")],
            kept.into_bytes(),
        )
        .await;
    assert!(reply.status < 500, "{}", reply.text());
    assert_eq!(app.get("/health/ready").await.status, 200);
}

#[actix_web::test]
async fn a_panic_in_a_handler_is_a_500_problem_naming_the_request_id() {
    use actix_web::middleware::from_fn;
    use actix_web::{test, web, App, HttpResponse};
    let service = test::init_service(
        App::new()
            .route(
                "/boom",
                web::get()
                    .to(|| async {
                        if std::hint::black_box(true) {
                            panic!("forced by the test");
                        }
                        HttpResponse::Ok().finish()
                    })
                    .wrap(from_fn(tariffd::api::problem::panics)),
            )
            .route("/fine", web::get().to(HttpResponse::Ok)),
    )
    .await;
    let request = test::TestRequest::get()
        .uri("/boom")
        .insert_header(("x-request-id", "probe-42"))
        .to_request();
    let response = test::call_service(&service, request).await;
    assert_eq!(response.status(), 500);
    assert_eq!(
        response.headers().get("content-type").unwrap(),
        "application/problem+json"
    );
    let body: serde_json::Value = test::read_body_json(response).await;
    assert_eq!(body["status"], 500);
    assert!(
        body["detail"].as_str().unwrap().contains("probe-42"),
        "{body}"
    );
    let fine =
        test::call_service(&service, test::TestRequest::get().uri("/fine").to_request()).await;
    assert_eq!(fine.status(), 200, "the service goes on after a panic");
}

#[actix_web::test]
async fn a_registry_file_of_many_bad_rows_lists_the_first_problems_and_counts_the_rest() {
    let app = TestApp::spawn_with(|s| s.limits.max_listed_errors = 7).await;
    let mut file = String::from("enterprise_id,name,industry,class_from,class_to\n");
    for i in 0..5000 {
        file.push_str(&format!("E-{i},Works {i},steel,2021-05-01,2020-01-01\n"));
    }
    let reply = app
        .post_with(
            "/v1/enterprises/import",
            &[("content-type", "text/csv")],
            file.into_bytes(),
        )
        .await;
    assert_eq!(reply.status, 422, "{}", reply.text());
    let errors = reply.json()["errors"].as_array().unwrap().clone();
    assert_eq!(errors.len(), 8, "{}", reply.text());
    let count = errors[7]["message"].as_str().unwrap();
    assert!(count.starts_with("5000 problems in all"), "{count}");
    assert!(reply.body.len() < 4096, "{} bytes", reply.body.len());
}

/// Opens an upload and sends a few bytes of it every `every`, on a thread of its own, until
/// the server answers; answers what the server sent.
fn trickle(
    address: &str,
    head: String,
    every: std::time::Duration,
) -> impl std::future::Future<Output = String> + 'static {
    use std::io::{Read, Write};
    let address = address.trim_start_matches("http://").to_string();
    let sender = actix_web::rt::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        stream.write_all(head.as_bytes()).unwrap();
        stream.set_read_timeout(Some(every)).unwrap();
        let mut answer = Vec::new();
        // Trickles until the server answers, then reads the answer for a second more.
        let mut quiet_since = None;
        for _ in 0..400 {
            if answer.is_empty() && stream.write_all(b"5\r\nE-1,s\r\n").is_err() {
                break;
            }
            let mut piece = [0u8; 4096];
            match stream.read(&mut piece) {
                Ok(0) => break,
                Ok(n) => answer.extend_from_slice(&piece[..n]),
                Err(_) if answer.is_empty() => {}
                Err(_) => {
                    let since = *quiet_since.get_or_insert_with(std::time::Instant::now);
                    if since.elapsed() > std::time::Duration::from_secs(1) {
                        break;
                    }
                }
            }
        }
        String::from_utf8_lossy(&answer).into_owned()
    });
    async move { sender.await.unwrap() }
}

#[actix_web::test]
async fn trickling_uploads_are_ended_at_the_least_rate_and_free_the_heavy_places() {
    let app = TestApp::spawn_with(|s| {
        s.limits.body_idle_timeout_seconds = 5;
        s.limits.body_min_bytes = 1024;
        s.limits.body_rate_window_seconds = 1;
        s.limits.max_concurrent_heavy = 2;
    })
    .await;
    let started = std::time::Instant::now();
    let batch = "POST /v1/bills/batch HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n11\r\nenterprise_id,kwh\r\n";
    let population = "POST /v1/populations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n11\r\nenterprise_id,kwh\r\n";
    let every = std::time::Duration::from_millis(300);
    let uploads = [
        actix_web::rt::spawn(trickle(&app.address, batch.to_string(), every)),
        actix_web::rt::spawn(trickle(&app.address, population.to_string(), every)),
    ];
    actix_web::rt::time::sleep(std::time::Duration::from_millis(300)).await;
    let busy = app
        .post_with(
            "/v1/bills/batch",
            &[("content-type", "text/csv")],
            csv_body(&[]),
        )
        .await;
    assert_eq!(busy.status, 429, "the trickles hold both places");
    let mut answers = Vec::new();
    for upload in uploads {
        answers.push(upload.await.unwrap());
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(4),
        "ended after {:?}, before the idle timeout",
        started.elapsed()
    );
    // Neither sent a whole line: both are answered 408, saying why.
    for answer in answers {
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("limits.body_min_bytes"), "{answer}");
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
async fn an_upload_past_its_time_limit_is_ended_however_fast_it_comes() {
    let app = TestApp::spawn_with(|s| {
        s.limits.body_min_bytes = 1;
        s.limits.upload_timeout_seconds = 1;
    })
    .await;
    let population = "POST /v1/populations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n11\r\nenterprise_id,kwh\r\n";
    let started = std::time::Instant::now();
    let answer = trickle(
        &app.address,
        population.to_string(),
        std::time::Duration::from_millis(50),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("limits.upload_timeout_seconds"), "{answer}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

#[actix_web::test]
async fn a_compressed_arrow_file_is_refused_naming_its_codec() {
    use arrow_ipc::writer::{FileWriter, IpcWriteOptions, StreamWriter};
    use arrow_ipc::CompressionType;
    let app = TestApp::spawn().await;
    let csv = csv_body(&population(5));
    let batch = {
        let file =
            tariffd::batch::columnar::convert::from_csv(&csv, tariffd::batch::Columnar::Arrow)
                .unwrap();
        let mut reader =
            arrow_ipc::reader::FileReader::try_new(std::io::Cursor::new(file), None).unwrap();
        reader.next().unwrap().unwrap()
    };
    let options = IpcWriteOptions::default()
        .try_with_compression(Some(CompressionType::ZSTD))
        .unwrap();
    let mut file = Vec::new();
    let mut writer =
        FileWriter::try_new_with_options(&mut file, &batch.schema(), options.clone()).unwrap();
    writer.write(&batch).unwrap();
    writer.finish().unwrap();
    drop(writer);
    let mut stream = Vec::new();
    let mut writer =
        StreamWriter::try_new_with_options(&mut stream, &batch.schema(), options).unwrap();
    writer.write(&batch).unwrap();
    writer.finish().unwrap();
    drop(writer);
    for (content_type, body) in [
        (ARROW, file),
        ("application/vnd.apache.arrow.stream", stream),
    ] {
        let reply = app
            .post_with("/v1/bills/batch", &[("content-type", content_type)], body)
            .await;
        problem_names(&reply, "ZSTD");
    }
}

#[actix_web::test]
async fn identifiers_and_texts_stored_keep_the_registry_rules_everywhere() {
    let app = TestApp::spawn().await;
    let bill = |enterprise: serde_json::Value| {
        let mut bill = crate::support::defaults();
        bill["enterprise"] = enterprise;
        bill.to_string().into_bytes()
    };
    let long_id = bill(json!({ "id": "E".repeat(900_000), "industry": "steel" }));
    let control = bill(json!({ "id": "E-1", "industry": "steel", "name": "a\u{0}b" }));
    let json = "application/json";
    let cases = [
        ("/v1/bills", json, long_id.clone(), "/enterprise/id"),
        ("/v1/ledger/bills", json, long_id, "/enterprise/id"),
        ("/v1/ledger/bills", json, control, "/enterprise/name"),
        (
            "/v1/ledger/rebills",
            json,
            json!({ "enterprise_ids": ["E-1", "E".repeat(70)] })
                .to_string()
                .into_bytes(),
            "/enterprise_ids/1",
        ),
        (
            "/v1/enterprises/import",
            "text/csv",
            format!("enterprise_id,name,industry\n{},A,steel\n", "E".repeat(65)).into_bytes(),
            "64 characters",
        ),
    ];
    for (path, content_type, body, names) in cases {
        let reply = app
            .post_with(path, &[("content-type", content_type)], body)
            .await;
        assert!(
            reply.body.len() < 2048,
            "{path}: {} bytes",
            reply.body.len()
        );
        problem_names(&reply, names);
    }
    let name = json!({ "name": "x".repeat(501), "industry": "steel" });
    let reply = app
        .put_with(
            "/v1/enterprises/E-2",
            &[("content-type", json)],
            name.to_string().into_bytes(),
        )
        .await;
    problem_names(&reply, "500 characters");
}

#[actix_web::test]
async fn a_kept_population_belongs_to_the_key_that_kept_it() {
    use tariffd::access::{hash_key, KeySettings, Role};
    let key = |name: &str, roles: Vec<Role>| KeySettings {
        name: name.into(),
        sha256: hash_key(&format!("{name}-key")),
        roles,
    };
    let app = TestApp::spawn_with(|s| {
        s.auth.enabled = true;
        s.auth.keys = vec![
            key("a", vec![Role::Analyst]),
            key("b", vec![Role::Analyst]),
            key("ab", vec![Role::Analyst, Role::Reader]),
            key("root", vec![Role::Admin]),
        ];
    })
    .await;
    let bearer = |name: &str| ("authorization", format!("Bearer {name}-key"));
    let csv = csv_body(&population(30));
    let keep = |who: &'static str| {
        let (csv, app) = (csv.clone(), &app);
        async move {
            let (name, value) = bearer(who);
            let reply = app
                .post_with(
                    "/v1/populations",
                    &[(name, &value), ("content-type", "text/csv")],
                    csv,
                )
                .await;
            assert_eq!(reply.status, 201, "{who}: {}", reply.text());
            reply.json()["population_id"].as_str().unwrap().to_string()
        }
    };
    let mine = keep("a").await;
    let theirs = keep("b").await;
    assert_ne!(mine, theirs, "the same file kept by two keys: two ids");
    assert_eq!(mine.len(), "pop-".len() + 32);
    let get = |who: &'static str, path: String| {
        let app = &app;
        async move {
            let (name, value) = bearer(who);
            app.get_with(&path, &[(name, &value)]).await
        }
    };
    assert_eq!(
        get("b", format!("/v1/populations/{mine}")).await.status,
        404
    );
    assert_eq!(
        get("a", format!("/v1/populations/{mine}")).await.status,
        200
    );
    assert_eq!(
        get("root", format!("/v1/populations/{mine}")).await.status,
        200
    );
    let listed = get("b", "/v1/populations".into()).await.json();
    assert_eq!(
        listed["populations"].as_array().unwrap().len(),
        1,
        "{listed}"
    );
    assert_eq!(listed["populations"][0]["population_id"], theirs);
    let all = get("root", "/v1/populations".into()).await.json();
    assert_eq!(all["populations"].as_array().unwrap().len(), 2, "{all}");
    let (name, value) = bearer("b");
    let simulation = json!({
        "reform": { "name": "r", "parameters": { "electricity.differential.steel.eliminated": "0.80" } },
        "population_id": mine,
    });
    let used = app
        .post_with(
            "/v1/simulations",
            &[(name, &value), ("content-type", "application/json")],
            simulation.to_string().into_bytes(),
        )
        .await;
    assert_eq!(used.status, 404, "{}", used.text());
    let deleted = app
        .delete_with(&format!("/v1/populations/{mine}"), &[(name, &value)])
        .await;
    assert_eq!(deleted.status, 404);
    assert_eq!(
        get("a", format!("/v1/populations/{mine}")).await.status,
        200
    );

    // The ledger's bills by enterprise only for a key that may read them.
    let over_ledger = json!({
        "reform": { "name": "r", "parameters": {} },
        "ledger": { "month": "2020-10" },
    });
    for (who, refused) in [("a", true), ("ab", false)] {
        let (name, value) = bearer(who);
        let reply = app
            .post_with(
                "/v1/simulations",
                &[(name, &value), ("content-type", "application/json")],
                over_ledger.to_string().into_bytes(),
            )
            .await;
        assert_eq!(reply.status == 403, refused, "{who}: {}", reply.text());
    }
}

#[actix_web::test]
async fn one_key_cannot_take_every_heavy_place_and_exports_have_their_own() {
    use tariffd::access::Role;
    let app = TestApp::spawn_with_keys(&[
        ("a-key", Role::Biller),
        ("b-key", Role::Biller),
        ("r-key", Role::Reader),
    ])
    .await;
    let stalled_batch = |key: &str| {
        crate::helpers::stalled(
            &app.address,
            &format!("POST /v1/bills/batch HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n"),
            b"5\r\nenter\r\n",
        )
    };
    // The default: four places, two a key.
    let _held = [stalled_batch("a-key"), stalled_batch("a-key")];
    actix_web::rt::time::sleep(std::time::Duration::from_millis(300)).await;
    let batch = |key: &'static str| {
        let app = &app;
        async move {
            let bearer = format!("Bearer {key}");
            app.post_with(
                "/v1/bills/batch",
                &[("authorization", &bearer), ("content-type", "text/csv")],
                csv_body(&population(3)),
            )
            .await
        }
    };
    let third = batch("a-key").await;
    assert_eq!(third.status, 429, "{}", third.text());
    assert!(third.text().contains("this key"), "{}", third.text());
    assert_eq!(
        batch("b-key").await.status,
        200,
        "another key still gets a place"
    );
    // Two more held by `b`: every heavy place is taken, and a workbook is still written.
    let _more = [stalled_batch("b-key"), stalled_batch("b-key")];
    actix_web::rt::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(batch("b-key").await.status, 429);
    let workbook = json!({
        "format": "xlsx",
        "file_name": "t",
        "sheets": [{ "name": "t", "columns": [{ "title": "t" }], "rows": [["x"]] }],
    });
    let export = app
        .post_with(
            "/v1/exports",
            &[
                ("authorization", "Bearer r-key"),
                ("content-type", "application/json"),
            ],
            workbook.to_string().into_bytes(),
        )
        .await;
    assert_eq!(export.status, 200, "{}", export.text());
}

#[actix_web::test]
async fn registry_imports_take_a_heavy_place() {
    let app = TestApp::spawn_with(|s| s.limits.max_concurrent_heavy = 1).await;
    let _held = crate::helpers::stalled(
        &app.address,
        "POST /v1/bills/batch HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"5\r\nenter\r\n",
    );
    actix_web::rt::time::sleep(std::time::Duration::from_millis(300)).await;
    let reply = app
        .post_with(
            "/v1/enterprises/import",
            &[("content-type", "text/csv")],
            b"enterprise_id,name,industry\nE-1,A,steel\n".to_vec(),
        )
        .await;
    assert_eq!(reply.status, 429, "{}", reply.text());
}
