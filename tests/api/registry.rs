//! The enterprise registry over HTTP, on SQLite: versions, dated decisions and their
//! effects, reads as of a day and as of a version, every change with who made it.

use serde_json::{json, Value};
use tariffd::access::Role;

use crate::helpers::{Reply, TestApp};

async fn app() -> TestApp {
    TestApp::spawn_with_keys(&[
        ("commission-key", Role::Registrar),
        ("reader-key", Role::Reader),
    ])
    .await
}

const WRITER: (&str, &str) = ("authorization", "Bearer commission-key");
const READER: (&str, &str) = ("authorization", "Bearer reader-key");

async fn put(app: &TestApp, path: &str, body: Value) -> Reply {
    app.put_with(
        path,
        &[WRITER, ("content-type", "application/json")],
        body.to_string().into_bytes(),
    )
    .await
}

async fn post(app: &TestApp, path: &str, body: Value) -> Reply {
    app.post_with(
        path,
        &[WRITER, ("content-type", "application/json")],
        body.to_string().into_bytes(),
    )
    .await
}

async fn read(app: &TestApp, path: &str) -> Value {
    let reply = app.get_with(path, &[READER]).await;
    assert_eq!(reply.status, 200, "{path}: {}", reply.text());
    reply.json()
}

fn decision(from: &str, to: Option<&str>, class: &str, document: &str) -> Value {
    json!({ "from": from, "to": to, "catalogue_class": class, "document": document })
}

#[actix_web::test]
async fn an_enterprise_is_recorded_classified_assessed_and_read_as_of_any_day_and_version() {
    let app = app().await;
    let master = put(
        &app,
        "/v1/enterprises/XZ-1",
        json!({ "name": "某钢铁", "industry": "steel" }),
    )
    .await;
    assert_eq!(master.status, 200, "{}", master.text());
    assert_eq!(master.json()["change"]["version"], 1);

    let first = post(
        &app,
        "/v1/enterprises/XZ-1/classifications",
        decision("2020-01-01", None, "restricted", "list 2020"),
    )
    .await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert!(first.json().get("effects").is_none());
    // Eliminated for the summer only: the open-ended restriction is split around it.
    let second = post(
        &app,
        "/v1/enterprises/XZ-1/classifications",
        decision(
            "2020-06-01",
            Some("2020-08-31"),
            "eliminated",
            "list 2020-2",
        ),
    )
    .await;
    assert_eq!(
        second.json()["effects"],
        json!([{ "version": 2, "effect": "splits" }])
    );
    let assessment = put(
        &app,
        "/v1/enterprises/XZ-1/assessments/2019",
        json!({ "steel_processes": [{ "process": "blast_furnace", "intensity": "440" }], "document": "assessed 2019" }),
    )
    .await;
    assert_eq!(assessment.json()["change"]["version"], 4);

    let on = |day: &str| format!("/v1/enterprises/XZ-1?date={day}");
    let spring = read(&app, &on("2020-05-31")).await;
    assert_eq!(
        spring["classification"]["decision"]["catalogue_class"],
        "restricted"
    );
    assert_eq!(spring["classification"]["version"], 2);
    assert_eq!(spring["assessment"]["year"], 2019);
    assert_eq!(spring["assessment"]["version"], 4);
    assert_eq!(spring["master"]["name"], "某钢铁");
    let summer = read(&app, &on("2020-07-01")).await;
    assert_eq!(
        summer["classification"]["decision"]["catalogue_class"],
        "eliminated"
    );
    assert_eq!(
        summer["classification"]["decision"]["document"],
        "list 2020-2"
    );
    let autumn = read(&app, &on("2020-09-01")).await;
    assert_eq!(
        autumn["classification"]["decision"]["catalogue_class"],
        "restricted"
    );
    let before = read(&app, "/v1/enterprises/XZ-1?date=2019-12-31").await;
    assert!(before["classification"].is_null());
    // As the registry stood before the summer decision was recorded.
    let then = read(&app, &format!("{}&known_at=2", on("2020-07-01"))).await;
    assert_eq!(
        then["classification"]["decision"]["catalogue_class"],
        "restricted"
    );
    assert_eq!(then["version"], 2);

    // A correction is a new version; the old one stays in the history.
    let renamed = put(
        &app,
        "/v1/enterprises/XZ-1",
        json!({ "name": "某钢铁集团", "industry": "steel" }),
    )
    .await;
    assert_eq!(renamed.json()["change"]["version"], 5);
    let history = read(&app, "/v1/enterprises/XZ-1/history").await;
    let changes = history["changes"].as_array().unwrap();
    let kinds: Vec<&str> = changes
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "master",
            "classification",
            "classification",
            "assessment",
            "master"
        ]
    );
    assert!(changes.iter().all(|c| c["recorded_by"] == "commission"));
    assert_eq!(changes[0]["master"]["name"], "某钢铁");
    assert_eq!(changes[4]["master"]["name"], "某钢铁集团");
}

#[actix_web::test]
async fn bad_decisions_and_unknown_enterprises_are_refused_with_the_field_named() {
    let app = app().await;
    let unknown = post(
        &app,
        "/v1/enterprises/NOPE/classifications",
        decision("2020-01-01", None, "restricted", "x"),
    )
    .await;
    assert_eq!(unknown.status, 404, "{}", unknown.text());
    assert_eq!(
        app.get_with("/v1/enterprises/NOPE", &[READER]).await.status,
        404
    );
    put(
        &app,
        "/v1/enterprises/E",
        json!({ "name": "E", "industry": "cement" }),
    )
    .await;
    let backwards = post(
        &app,
        "/v1/enterprises/E/classifications",
        decision("2020-02-01", Some("2020-01-01"), "restricted", "x"),
    )
    .await;
    assert_eq!(backwards.status, 422);
    assert_eq!(backwards.json()["errors"][0]["pointer"], "/to");
    let undocumented = post(
        &app,
        "/v1/enterprises/E/classifications",
        decision("2020-01-01", None, "restricted", " "),
    )
    .await;
    assert_eq!(undocumented.json()["errors"][0]["pointer"], "/document");
    let typo = put(
        &app,
        "/v1/enterprises/E",
        json!({ "name": "E", "industry": "cement", "regoin": "x" }),
    )
    .await;
    assert_eq!(typo.status, 422, "an unknown field is refused, not dropped");
    let bad_assessment = put(
        &app,
        "/v1/enterprises/E/assessments/2019",
        json!({ "cement": { "plant": "moon" }, "document": "d" }),
    )
    .await;
    assert_eq!(bad_assessment.status, 422, "{}", bad_assessment.text());
    let not_a_year = put(
        &app,
        "/v1/enterprises/E/assessments/twenty",
        json!({ "document": "d" }),
    )
    .await;
    assert_eq!(not_a_year.status, 404);
    // Writing needs the registrar role; reading the reader's.
    let as_reader = app
        .put_with(
            "/v1/enterprises/E",
            &[READER, ("content-type", "application/json")],
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(as_reader.status, 403);
}

#[actix_web::test]
async fn concurrent_writes_to_one_enterprise_each_get_their_own_version() {
    let app = app().await;
    put(
        &app,
        "/v1/enterprises/C",
        json!({ "name": "C", "industry": "steel" }),
    )
    .await;
    let writes = (0..12).map(|i| {
        let app = &app;
        async move {
            let from = format!("2020-{:02}-01", i % 12 + 1);
            post(
                app,
                "/v1/enterprises/C/classifications",
                decision(&from, None, "restricted", "d"),
            )
            .await
        }
    });
    let replies = futures_util::future::join_all(writes).await;
    let mut versions: Vec<i64> = replies
        .iter()
        .map(|r| {
            assert_eq!(r.status, 200, "{}", r.text());
            r.json()["change"]["version"].as_i64().unwrap()
        })
        .collect();
    versions.sort();
    assert_eq!(versions, (2..=13).collect::<Vec<_>>());
}

const BILLER: (&str, &str) = ("authorization", "Bearer biller-key");

async fn billing_app() -> TestApp {
    TestApp::spawn_with_keys(&[
        ("commission-key", Role::Registrar),
        ("biller-key", Role::Biller),
    ])
    .await
}

async fn bill(app: &TestApp, path: &str, body: Value) -> Reply {
    app.post_with(
        path,
        &[BILLER, ("content-type", "application/json")],
        body.to_string().into_bytes(),
    )
    .await
}

fn differential_lines(bill: &Value) -> Vec<&Value> {
    bill["line_items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["kind"] == "differential" && l["status"] == "applied")
        .collect()
}

#[actix_web::test]
async fn a_bill_naming_only_the_enterprise_takes_each_days_class_from_the_registry() {
    let app = billing_app().await;
    put(
        &app,
        "/v1/enterprises/S-1",
        json!({ "name": "某钢铁", "industry": "steel" }),
    )
    .await;
    post(
        &app,
        "/v1/enterprises/S-1/classifications",
        decision("2020-01-01", None, "restricted", "list A"),
    )
    .await;
    post(
        &app,
        "/v1/enterprises/S-1/classifications",
        decision("2020-10-16", None, "eliminated", "list B"),
    )
    .await;
    let by_reference = json!({
        "period": { "month": "2020-10" },
        "enterprise": { "id": "S-1" },
        "electricity": { "kwh": "3100000" }
    });
    let reply = bill(&app, "/v1/bills?explain=full", by_reference.clone()).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let priced = reply.json();
    let lines = differential_lines(&priced);
    assert_eq!(lines.len(), 2, "split where the class changes: {lines:#?}");
    assert_eq!(
        (&lines[0]["from"], &lines[0]["to"]),
        (&json!("2020-10-01"), &json!("2020-10-15"))
    );
    assert_eq!(
        (&lines[1]["from"], &lines[1]["to"]),
        (&json!("2020-10-16"), &json!("2020-10-31"))
    );
    // Each line names the registry decision it rests on.
    assert_eq!(
        lines[0]["decision"],
        json!({ "version": 2, "document": "list A" })
    );
    assert_eq!(
        lines[1]["decision"],
        json!({ "version": 3, "document": "list B" })
    );
    // Each part at the rate of its class, as a bill giving that class inline is priced.
    for (line, class) in lines.iter().zip(["restricted", "eliminated"]) {
        let inline = bill(
            &app,
            "/v1/bills",
            json!({ "period": { "month": "2020-10" }, "enterprise": { "id": "S-1", "industry": "steel", "catalogue_class": class }, "electricity": { "kwh": "3100000" } }),
        )
        .await
        .json();
        assert_eq!(
            line["rate"],
            differential_lines(&inline)[0]["rate"],
            "{class}"
        );
    }
    let inputs = priced["trace"]["inputs"].as_array().unwrap();
    let status = |pointer: &str| {
        inputs
            .iter()
            .find(|i| i["pointer"] == pointer)
            .map(|i| i["status"].clone())
    };
    assert_eq!(status("/enterprise/industry"), Some(json!("registry")));
    assert_eq!(
        status("/enterprise/catalogue_class"),
        Some(json!("registry"))
    );
    assert_eq!(status("/enterprise/reclassified"), Some(json!("registry")));
    assert_eq!(
        status("/electricity/kwh").unwrap_or(json!("given")),
        json!("given")
    );

    // What the request gives wins over the registry, and the trace says so.
    let overridden = bill(
        &app,
        "/v1/bills?explain=full",
        json!({ "period": { "month": "2020-10" }, "enterprise": { "id": "S-1", "catalogue_class": "permitted" }, "electricity": { "kwh": "3100000" } }),
    )
    .await
    .json();
    assert!(differential_lines(&overridden).is_empty());
    let inputs = overridden["trace"]["inputs"].as_array().unwrap();
    let class = inputs
        .iter()
        .find(|i| i["pointer"] == "/enterprise/catalogue_class")
        .unwrap();
    assert_eq!(class["status"], "given");

    let unknown = bill(
        &app,
        "/v1/bills",
        json!({ "period": { "month": "2020-10" }, "enterprise": { "id": "NOBODY" }, "electricity": { "kwh": "1" } }),
    )
    .await;
    assert_eq!(unknown.status, 422);
    assert_eq!(unknown.json()["errors"][0]["pointer"], "/enterprise/id");
}

#[actix_web::test]
async fn a_registry_file_is_recorded_whole_or_not_at_all() {
    let app = app().await;
    let import = |body: &str| {
        app.post_with(
            "/v1/enterprises/import",
            &[WRITER, ("content-type", "text/csv")],
            body.as_bytes().to_vec(),
        )
    };
    let bad = "enterprise_id,name,industry,class_from,catalogue_class,class_document\n\
               F-1,甲,steel,2020-01-01,restricted,list\n\
               F-2,乙,textiles,2020-01-01,restricted,list\n\
               F-3,丙,steel,someday,restricted,list\n";
    let refused = import(bad).await;
    assert_eq!(refused.status, 422, "{}", refused.text());
    let places: Vec<(Value, Value)> = refused.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["pointer"].clone(), e["column"].clone()))
        .collect();
    assert_eq!(
        places,
        [
            (json!("/rows/3"), json!("industry")),
            (json!("/rows/4"), json!("class_from"))
        ]
    );
    assert_eq!(
        app.get_with("/v1/enterprises/F-1", &[READER]).await.status,
        404,
        "nothing of a refused file is recorded"
    );

    let good =
        std::fs::read_to_string(crate::support::root().join("examples/registry.csv")).unwrap();
    let recorded = import(&good).await;
    assert_eq!(recorded.status, 200, "{}", recorded.text());
    assert_eq!(recorded.json(), json!({ "enterprises": 2, "changes": 4 }));
    let steel = read(&app, "/v1/enterprises/XZ-0101?date=2020-10-01").await;
    assert_eq!(
        steel["classification"]["decision"]["catalogue_class"],
        "restricted"
    );
    assert_eq!(steel["assessment"]["assessment"]["water_quota_m3"], "1000");
    let unknown = import(
        "enterprise_id,class_from,catalogue_class,class_document\nNEW,2020-01-01,restricted,d\n",
    )
    .await;
    assert_eq!(
        unknown.status, 422,
        "a decision for an enterprise nobody recorded"
    );
}

#[actix_web::test]
async fn a_population_billed_by_reference_costs_what_it_costs_given_in_full() {
    let app = TestApp::spawn_with_keys(&[
        ("commission-key", Role::Registrar),
        ("biller-key", Role::Biller),
    ])
    .await;
    let inline = crate::helpers::population(400);
    let decided = chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    let mut file = tariffd::wire::csv::row(tariffd::registry::import::header());
    let mut by_reference = Vec::new();
    for request in &inline {
        let cells = tariffd::registry::import::row_of_request(request, decided, "synthetic");
        file.extend(tariffd::wire::csv::row(cells));
        let mut reference = request.clone();
        tariffd::registry::import::by_reference(&mut reference);
        by_reference.push(reference);
    }
    let imported = app
        .post_with(
            "/v1/enterprises/import",
            &[WRITER, ("content-type", "text/csv")],
            file,
        )
        .await;
    assert_eq!(imported.status, 200, "{}", imported.text());
    let batch = |requests: &[Value]| {
        app.post_with(
            "/v1/bills/batch",
            &[BILLER, ("content-type", "application/x-ndjson")],
            crate::helpers::ndjson(requests),
        )
    };
    let (given, referenced) = (batch(&inline).await, batch(&by_reference).await);
    let records = |reply: &Reply| -> Vec<Value> {
        reply
            .text()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let (given, referenced) = (records(&given), records(&referenced));
    assert_eq!(given.last().unwrap()["summary"]["billed"], 400);
    assert_eq!(given.last(), referenced.last(), "the same sums");
    let amounts = |bill: &Value| -> Vec<(Value, Value)> {
        bill["line_items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| (l["rule"].clone(), l["amount"].clone()))
            .collect()
    };
    for (a, b) in given.iter().zip(&referenced).take(400) {
        assert_eq!(a["bill"]["totals"], b["bill"]["totals"], "{a}\n{b}");
        assert_eq!(amounts(&a["bill"]), amounts(&b["bill"]));
    }
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A good row of the workbook test: classified from a date cell, assessed with numbers.
const GOOD_ROW: [&str; 10] = [
    "X-1",
    "甲",
    "steel",
    "date:2020-01-01",
    "restricted",
    "list",
    "2019",
    "blast_furnace:440",
    "1000",
    "audit",
];

/// A workbook of one sheet: a header row, then `rows` (numbers as numbers, `date:` cells as
/// Excel dates, the rest as text).
fn workbook(header: &[&str], rows: &[&[&str]]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    for (c, name) in header.iter().enumerate() {
        sheet.write_string(0, c as u16, *name).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            if let Some(day) = cell.strip_prefix("date:") {
                let day = rust_xlsxwriter::ExcelDateTime::parse_from_str(day).unwrap();
                sheet.write_datetime_with_format(r, c, &day, &date).unwrap();
            } else if let Ok(n) = cell.parse::<f64>() {
                sheet.write_number(r, c, n).unwrap();
            } else if !cell.is_empty() {
                sheet.write_string(r, c, *cell).unwrap();
            }
        }
    }
    book.save_to_buffer().unwrap()
}

#[actix_web::test]
async fn an_excel_registry_file_is_read_like_its_csv_and_a_bomb_is_refused() {
    let app = TestApp::spawn_with(|s| {
        s.auth.enabled = false;
        s.simulation.body_limit_bytes = 1 << 20;
    })
    .await;
    let header = [
        "enterprise_id",
        "name",
        "industry",
        "class_from",
        "catalogue_class",
        "class_document",
        "assessment_year",
        "steel_processes",
        "water_quota_m3",
        "assessment_document",
    ];
    let import =
        |body: Vec<u8>| app.post_with("/v1/enterprises/import", &[("content-type", XLSX)], body);
    let bad = workbook(
        &header,
        &[
            &GOOD_ROW,
            &[
                "X-2",
                "乙",
                "steel",
                "someday",
                "restricted",
                "list",
                "",
                "",
                "",
                "",
            ],
        ],
    );
    let refused = import(bad).await;
    assert_eq!(refused.status, 422, "{}", refused.text());
    assert_eq!(refused.json()["errors"][0]["pointer"], "/rows/3");
    assert_eq!(refused.json()["errors"][0]["column"], "class_from");

    let good = workbook(&header, &[&GOOD_ROW]);
    let imported = import(good).await;
    assert_eq!(imported.status, 200, "{}", imported.text());
    assert_eq!(imported.json(), json!({ "enterprises": 1, "changes": 3 }));
    let enterprise = app.get("/v1/enterprises/X-1?date=2020-10-01").await.json();
    assert_eq!(
        enterprise["classification"]["decision"]["from"],
        "2020-01-01"
    );
    assert_eq!(
        enterprise["assessment"]["assessment"]["water_quota_m3"],
        "1000"
    );
    assert_eq!(
        enterprise["assessment"]["assessment"]["steel_processes"][0]["intensity"],
        "440"
    );

    // Two megabytes of zeros packed into a few kilobytes: over the 1 MiB limit unpacked.
    let mut bomb = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    bomb.start_file(
        "xl/worksheets/sheet1.xml",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap();
    std::io::Write::write_all(&mut bomb, &vec![b'0'; 2 << 20]).unwrap();
    let bomb = bomb.finish().unwrap().into_inner();
    assert!(bomb.len() < 64 << 10);
    let refused = import(bomb).await;
    assert_eq!(refused.status, 422, "{}", refused.text());
    assert!(
        refused.text().contains("unpacks to more than"),
        "{}",
        refused.text()
    );
    let not_a_book = import(b"PK not really".to_vec()).await;
    assert_eq!(not_a_book.status, 422, "{}", not_a_book.text());
}

#[actix_web::test]
async fn a_registrar_write_brings_the_cached_registry_up_to_date_without_reading_it_whole() {
    let app = TestApp::spawn().await;
    let mut file = String::from("enterprise_id,name,industry\n");
    for i in 0..2000 {
        file.push_str(&format!("C-{i},Works {i},steel\n"));
    }
    let imported = app
        .post_with(
            "/v1/enterprises/import",
            &[("content-type", "text/csv")],
            file.into_bytes(),
        )
        .await;
    assert_eq!(imported.status, 200, "{}", imported.text());
    let whole_reads = |metrics: String| {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix("tariffd_registry_whole_reads "))
            .unwrap()
            .trim()
            .parse::<u64>()
            .unwrap()
    };
    let app = &app;
    let surcharge = |id: &'static str| async move {
        let mut request = crate::support::defaults();
        request["enterprise"] = serde_json::json!({ "id": id });
        let body = crate::helpers::ndjson(&[request]);
        let reply = app
            .post_with(
                "/v1/bills/batch?detail=totals",
                &[("content-type", "application/x-ndjson")],
                body,
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        let first: serde_json::Value =
            serde_json::from_str(reply.text().lines().next().unwrap()).unwrap();
        first["bill"]["totals"]["surcharge"].clone()
    };
    let before = surcharge("C-7").await;
    let reads = whole_reads(app.get("/metrics").await.text());
    for (day, class) in [("2020-01-01", "restricted"), ("2020-02-01", "eliminated")] {
        let decision =
            serde_json::json!({ "from": day, "catalogue_class": class, "document": "list" });
        let reply = app
            .post_with(
                "/v1/enterprises/C-7/classifications",
                &[("content-type", "application/json")],
                decision.to_string().into_bytes(),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        let after = surcharge("C-7").await;
        assert_ne!(after, before, "the batch sees the write ({class})");
    }
    assert_eq!(
        whole_reads(app.get("/metrics").await.text()),
        reads,
        "the writes were read one by one"
    );
}
