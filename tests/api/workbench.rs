//! The analyst's workbench in a real browser: each page driven as an analyst would, the
//! figures it shows compared with the API's own answers to the same inputs, its exports
//! read back, its console free of errors, and a screenshot kept (`target/browser/`).

use std::path::Path;

use calamine::{Data, Reader, Xlsx};
use serde_json::{json, Value};
use tariffd::access::Role;

use crate::browser::Browser;
use crate::helpers::{generated, ndjson, population, TestApp};

const KEYS: [(&str, Role); 4] = [
    ("reader-key", Role::Reader),
    ("biller-key", Role::Biller),
    ("analyst-key", Role::Analyst),
    ("admin-key", Role::Admin),
];

/// The app and a browser signed in with `key`, or `None` where there is no browser.
async fn signed_in(key: &str) -> Option<(TestApp, Browser)> {
    let app = TestApp::spawn_with_keys(&KEYS).await;
    let browser = Browser::start().await?;
    browser.goto(&format!("{}/", app.address)).await;
    browser.fill("#api-key", key).await;
    browser.click("#sign-in button").await;
    let name = key.trim_end_matches("-key");
    browser
        .wait_text("#signed-in", |t| t.contains(&format!(": {name} (")))
        .await;
    Some((app, browser))
}

async fn api_get(app: &TestApp, path: &str, key: &str) -> Value {
    let bearer = format!("Bearer {key}");
    let reply = app.get_with(path, &[("authorization", &bearer)]).await;
    assert_eq!(reply.status, 200, "{path}: {}", reply.text());
    reply.json()
}

async fn api_post(app: &TestApp, path: &str, key: &str, body: &Value) -> Value {
    let bearer = format!("Bearer {key}");
    let headers = [
        ("authorization", bearer.as_str()),
        ("content-type", "application/json"),
    ];
    let reply = app
        .post_with(path, &headers, serde_json::to_vec(body).unwrap())
        .await;
    assert_eq!(reply.status, 200, "{path}: {}", reply.text());
    reply.json()
}

/// A decimal string as the pages show yuan: `¥1,234.50`, `−¥…` below zero.
fn yuan(decimal: &str) -> String {
    let (sign, digits) = match decimal.strip_prefix('-') {
        Some(rest) => ("−", rest),
        None => ("", decimal),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let fraction = match fraction.is_empty() {
        true => String::new(),
        false => format!(".{fraction}"),
    };
    format!("{sign}¥{grouped}{fraction}")
}

/// XZ-0001 in the registry as `examples/` records it: restricted from 2020, assessed for 2019.
async fn register_the_example_enterprise(app: &TestApp) {
    let headers = [
        ("authorization", "Bearer admin-key"),
        ("content-type", "application/json"),
    ];
    let examples = crate::support::root().join("examples");
    let read = |name: &str| std::fs::read(examples.join(name)).unwrap();
    let writes = [
        ("PUT", "/v1/enterprises/XZ-0001", "enterprise.json"),
        (
            "POST",
            "/v1/enterprises/XZ-0001/classifications",
            "classification.json",
        ),
        (
            "PUT",
            "/v1/enterprises/XZ-0001/assessments/2019",
            "assessment.json",
        ),
    ];
    for (method, path, file) in writes {
        let reply = match method {
            "PUT" => app.put_with(path, &headers, read(file)).await,
            _ => app.post_with(path, &headers, read(file)).await,
        };
        assert!(reply.status < 300, "{path}: {}", reply.text());
    }
}

/// Chooses `file` as the What-if page's population; answers what the page shows of it.
async fn keep_in_the_page(browser: &Browser, file: &Path) -> String {
    let input = browser.find("#population-file").await;
    input.send_keys(file.to_str().unwrap()).await.unwrap();
    browser
        .wait_text("#population", |t| t.starts_with("pop-"))
        .await
}

const STEEL_ELIMINATED: &str = "electricity.differential.steel.eliminated";

/// The What-if page's sweep: the eliminated steel rate from 0.5 to 1.0 by `step`.
async fn sweep_in_the_page(browser: &Browser, step: &str) {
    browser
        .fill_all(&[
            ("#sweep-parameter", STEEL_ELIMINATED),
            ("#sweep-from", "0.5"),
            ("#sweep-to", "1.0"),
            ("#sweep-step", step),
        ])
        .await;
}

/// Presses Run on the What-if page and waits for its figures.
async fn run_in_the_page(browser: &Browser) {
    browser.click("#run").await;
    browser
        .wait_text("[data-figure=delta-surcharge]", |t| t.contains('¥'))
        .await;
}

/// The What-if page's goal: the eliminated steel rate between 0.5 and 1.0 that changes the
/// surcharge by `target` yuan.
async fn goal_in_the_page(browser: &Browser, target: &str) {
    browser
        .fill_all(&[
            ("#goal-parameter", STEEL_ELIMINATED),
            ("#goal-target", target),
            ("#goal-lo", "0.5"),
            ("#goal-hi", "1.0"),
        ])
        .await;
}

/// Presses Price on the Bill page: the bill id shown and the request the page sent.
async fn priced_in_the_page(browser: &Browser) -> (String, Value) {
    browser.click("#price").await;
    let id = browser
        .wait_text("#bill-id", |t| t.starts_with("bill-"))
        .await;
    let sent = browser
        .script("return document.getElementById('f-json').value")
        .await;
    (id, serde_json::from_str(&sent).unwrap())
}

fn sheet(path: &Path, name: &str) -> calamine::Range<Data> {
    let mut book: Xlsx<_> = calamine::open_workbook(path).unwrap();
    book.worksheet_range(name)
        .unwrap_or_else(|e| panic!("{name}: {e}; sheets {:?}", book.sheet_names()))
}

fn number(decimal: &Value) -> Data {
    Data::Float(decimal.as_str().unwrap().parse().unwrap())
}

#[actix_web::test]
async fn a_reader_finds_a_rate_with_its_timeline_and_sources_and_no_what_if() {
    let Some((app, browser)) = signed_in("reader-key").await else {
        return;
    };
    // The key lives in this tab's session storage only: never in the address or kept on disk.
    let (href, local) = {
        let script = "return [location.href, localStorage.length]";
        let answer = browser.client.execute(script, vec![]).await.unwrap();
        (answer[0].to_string(), answer[1].as_u64().unwrap())
    };
    assert!(!href.contains("reader-key") && local == 0, "{href}");
    // Yuan are shown as the tests expect them, negative amounts included.
    let script = "const done = arguments[arguments.length - 1]; import('/ui/lib.js').then(m => done(['-1234.5', '1234567.89', '0.00'].map(m.yuan)))";
    let shown = browser.client.execute_async(script, vec![]).await.unwrap();
    let expected: Vec<String> = ["-1234.5", "1234567.89", "0.00"].map(yuan).to_vec();
    assert_eq!(shown, json!(expected));
    assert_eq!(yuan("-1234.5"), "−¥1,234.5");
    // Only what a reader may call is offered.
    assert_eq!(browser.count("#nav a.hidden[href='#/whatif']").await, 1);
    assert_eq!(browser.count("#nav a.hidden[href='#/bill']").await, 1);
    assert_eq!(browser.count("#nav a.hidden[href='#/tariffs']").await, 0);

    let tariff = browser
        .find("#tariff")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    let date = browser
        .find("#date")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    let answer = api_get(
        &app,
        &format!("/v1/tariffs/{tariff}/parameters?date={date}"),
        "reader-key",
    )
    .await;
    let parameters = answer["parameters"].as_array().unwrap();
    browser
        .wait_text("#parameters p", |t| {
            t.starts_with(&format!("{0} / {0}", parameters.len()))
        })
        .await;
    // Search as the page does (path, Chinese name, description, document, note): what it
    // keeps is what the API's answer holds.
    let matching = |words: &str| -> Vec<&Value> {
        parameters
            .iter()
            .filter(|p| {
                [
                    "path",
                    "name_zh",
                    "description",
                    "source",
                    "source_title",
                    "note",
                ]
                .iter()
                .any(|f| p[f].as_str().unwrap_or("").contains(words))
            })
            .collect()
    };
    for words in ["2803", "钢铁淘汰类"] {
        browser.fill("#search", words).await;
        let kept = matching(words).len();
        assert!(kept > 0, "{words}");
        browser
            .wait_text("#parameters p", |t| {
                t.starts_with(&format!("{kept} / {}", parameters.len()))
            })
            .await;
    }

    // A parameter's timeline: the chart and every dated value with its document.
    let path = STEEL_ELIMINATED;
    let at = matching("钢铁淘汰类")
        .iter()
        .position(|p| p["path"] == path)
        .unwrap();
    let row = browser
        .find(&format!(
            "[data-table^=parameters] tbody tr:nth-child({})",
            at + 1
        ))
        .await;
    assert!(row.text().await.unwrap().starts_with(path));
    row.click().await.unwrap();
    browser
        .wait_text("#timeline-title", |t| t.ends_with(path))
        .await;
    let timeline = api_get(
        &app,
        &format!("/v1/tariffs/{tariff}/parameters/{path}"),
        "reader-key",
    )
    .await;
    let values = timeline["values"].as_array().unwrap();
    assert_eq!(browser.count("#timeline tbody tr").await, values.len());
    assert!(browser.count("#timeline .chart svg path").await > 0);
    let first = browser.text("#timeline tbody tr:first-child").await;
    let number = values[0]["document"]["number"].as_str().unwrap();
    assert!(
        first.contains(values[0]["display"].as_str().unwrap()) && first.contains(number),
        "{first}"
    );
    browser.screenshot("tariffs").await;
    // The Chinese is drawn in the font the server itself sends (no system font needed).
    let script = "return [...document.fonts].filter(f => f.family.includes('Noto Sans SC') && f.status === 'loaded').length";
    let loaded = browser.client.execute(script, vec![]).await.unwrap();
    assert!(loaded.as_u64().unwrap() > 0, "no Noto Sans SC face loaded");

    // The timeline as a workbook: the same values, as numbers.
    browser.click("#timeline [data-export=xlsx]").await;
    let file = browser.downloaded("xlsx").await;
    let name = format!("timeline-{path}");
    let rows = sheet(&file, &name[..31]);
    assert_eq!(rows.height(), values.len() + 1);
    assert_eq!(rows.get((0, 2)), Some(&Data::String("取值 Value".into())));
    for (i, value) in values.iter().enumerate() {
        assert_eq!(
            rows.get((i + 1, 0)),
            Some(&Data::String(value["from"].as_str().unwrap().into()))
        );
        assert_eq!(
            rows.get((i + 1, 2)),
            Some(&Data::String(value["display"].as_str().unwrap().into()))
        );
    }
    // …and as CSV with a byte-order mark, so Excel shows the Chinese headers.
    browser.click("#parameters [data-export=csv]").await;
    let csv = std::fs::read(browser.downloaded("csv").await).unwrap();
    assert!(csv.starts_with("\u{feff}参数 Parameter".as_bytes()));

    // A page the key may not use says so instead of failing on a call.
    browser.goto(&format!("{}/ui/#/whatif", app.address)).await;
    browser
        .wait_text("#main", |t| t.contains("may not use"))
        .await;
    browser.close_without_console_errors().await;
}

#[actix_web::test]
async fn a_bill_priced_in_the_page_is_the_bill_the_api_answers_and_its_link_reproduces_it() {
    let Some((app, browser)) = signed_in("biller-key").await else {
        return;
    };
    browser.goto(&format!("{}/ui/#/bill", app.address)).await;
    let (id, request) = priced_in_the_page(&browser).await;
    let bill = api_post(&app, "/v1/bills", "biller-key", &request).await;
    assert_eq!(id, bill["bill_id"].as_str().unwrap());
    assert_eq!(
        browser.text("[data-figure=total]").await,
        yuan(bill["totals"]["total"].as_str().unwrap())
    );
    assert_eq!(
        browser.text("[data-figure=surcharge]").await,
        yuan(bill["totals"]["surcharge"].as_str().unwrap())
    );
    let lines = bill["line_items"].as_array().unwrap();
    assert_eq!(browser.count("#bill-result tbody tr").await, lines.len());
    let first = browser.text("#bill-result tbody tr:first-child").await;
    assert!(
        first.contains(&yuan(lines[0]["amount"].as_str().unwrap())),
        "{first}"
    );
    assert_eq!(
        browser.text("#bill-digest").await,
        bill["tariff"]["digest"].as_str().unwrap()
    );
    browser.screenshot("bill").await;

    // The link prices the same request on the same tariff, again.
    let link = browser.find("#reproduce").await.attr("href").await.unwrap();
    browser.execute_clear("#bill-result").await;
    browser
        .goto(&format!("{}/ui/{}", app.address, link.unwrap()))
        .await;
    assert_eq!(
        browser
            .wait_text("#bill-id", |t| t.starts_with("bill-"))
            .await,
        id
    );
    browser.close_without_console_errors().await;
}

#[actix_web::test]
async fn a_what_if_in_the_page_shows_the_simulation_the_api_answers_with_its_curve_and_workbook() {
    let Some((app, browser)) = signed_in("analyst-key").await else {
        return;
    };
    let file = browser.downloads.with_file_name("population.ndjson");
    std::fs::write(&file, ndjson(&population(400))).unwrap();
    browser.goto(&format!("{}/ui/#/whatif", app.address)).await;
    keep_in_the_page(&browser, &file).await;
    let parameter = STEEL_ELIMINATED;
    sweep_in_the_page(&browser, "0.1").await;
    run_in_the_page(&browser).await;

    // The same inputs, straight to the API: every figure shown is the API's.
    // A closed <details> hides its text from WebDriver: read it from the DOM.
    let sent = browser
        .script("return document.querySelector('#whatif-trace pre').textContent")
        .await;
    let body: Value = serde_json::from_str(&sent).unwrap();
    assert_eq!(body["sweep"]["parameter"], parameter);
    let report = api_post(&app, "/v1/simulations", "analyst-key", &body).await;
    let delta = report["delta"]["surcharge"].as_str().unwrap();
    assert!(!delta.starts_with('-') && delta != "0.00", "{delta}");
    assert_eq!(
        browser.text("[data-figure=delta-surcharge]").await,
        format!("+{}", yuan(delta))
    );
    assert_eq!(
        browser.text("[data-figure=baseline-surcharge]").await,
        yuan(report["baseline"]["surcharge"].as_str().unwrap())
    );
    let changes = &report["changes"];
    assert_eq!(
        browser.text("[data-figure=changes]").await,
        format!(
            "{} / {} / {}",
            changes["more"], changes["less"], changes["same"]
        )
    );
    // Charts drawn: the three breakdowns, the histogram and the sweep's curve.
    for chart in [
        "by_industry",
        "by_catalogue_class",
        "by_measure",
        "histogram",
        "sweep",
    ] {
        let drawn = browser
            .count(&format!("[data-chart={chart}] svg path"))
            .await;
        assert!(drawn > 0, "{chart} has no chart");
    }
    browser.screenshot("whatif").await;

    // A goal on the curve: the value the API finds is marked and named.
    let points = report["sweep"]["points"].as_array().unwrap();
    let target = points[2]["delta_surcharge"].as_str().unwrap();
    goal_in_the_page(&browser, target).await;
    browser.click("#run").await;
    let goal = browser.wait_text("#goal", |t| t.contains("=")).await;
    let mut with_goal = body.clone();
    with_goal["goal"] = json!({"parameter": parameter, "target": target, "lo": "0.5", "hi": "1.0"});
    let sought = api_post(&app, "/v1/simulations", "analyst-key", &with_goal).await;
    let value = sought["goal"]["value"].as_str().unwrap();
    assert!(goal.contains(&format!("= {value}")), "{goal} vs {value}");
    browser.screenshot("whatif-goal").await;

    // The workbook: a sheet per breakdown, the figures as numbers.
    browser
        .click("#whatif-result > .exports [data-export=xlsx]")
        .await;
    let book = browser.downloaded("xlsx").await;
    let summary = sheet(&book, "概要 Summary");
    assert_eq!(
        summary.get((1, 1)),
        Some(&number(&sought["baseline"]["surcharge"]))
    );
    assert_eq!(
        summary.get((1, 3)),
        Some(&number(&sought["delta"]["surcharge"]))
    );
    let industries = sheet(&book, "按行业 By industry");
    let steel = (1..industries.height())
        .find(|r| industries.get((*r, 0)) == Some(&Data::String("钢铁 steel".into())))
        .expect("a steel row");
    assert_eq!(
        industries.get((steel, 3)),
        Some(&number(
            &sought["reform"]["by_industry"]["steel"]["surcharge"]
        ))
    );
    let curve = sheet(&book, "扫描 Sweep");
    assert_eq!(curve.height(), points.len() + 1);
    browser.close_without_console_errors().await;
}

#[actix_web::test]
async fn a_batch_uploaded_in_the_page_shows_the_summary_the_api_answers() {
    let Some((app, browser)) = signed_in("biller-key").await else {
        return;
    };
    let file = crate::support::root().join("examples/batch.ndjson");
    browser.goto(&format!("{}/ui/#/batch", app.address)).await;
    browser
        .find("#batch-file")
        .await
        .send_keys(file.to_str().unwrap())
        .await
        .unwrap();
    browser.click("#start-batch").await;
    browser
        .wait_text("[data-figure=billed]", |t| !t.is_empty())
        .await;
    let bearer = "Bearer biller-key";
    let reply = app
        .post_with(
            "/v1/bills/batch",
            &[
                ("authorization", bearer),
                ("content-type", "application/x-ndjson"),
            ],
            std::fs::read(&file).unwrap(),
        )
        .await;
    let answer = reply.text();
    let answered = browser.text("#answered").await;
    assert_eq!(
        answered,
        format!("已返回 answered: {} 行 lines", answer.lines().count())
    );
    let last = answer.lines().last().unwrap().to_string();
    let summary: Value = serde_json::from_str(&last).unwrap();
    let summary = &summary["summary"];
    assert_eq!(
        browser.text("[data-figure=billed]").await,
        summary["billed"].to_string()
    );
    assert_eq!(
        browser.text("[data-figure=total]").await,
        yuan(summary["total"].as_str().unwrap())
    );
    assert_eq!(
        browser.count("[data-table=batch-failures] tbody tr").await,
        summary["failed"].as_u64().unwrap() as usize
    );
    let link = browser.find("#download-bills").await;
    assert!(link
        .attr("href")
        .await
        .unwrap()
        .unwrap()
        .starts_with("blob:"));
    browser.screenshot("batch").await;
    browser.close_without_console_errors().await;
}

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("set {name}"))
}

/// A browser signed in to a running server: `WORKBENCH_ADDRESS` with `WORKBENCH_KEY`.
async fn signed_in_elsewhere() -> (String, Browser) {
    let address = var("WORKBENCH_ADDRESS");
    let browser = Browser::start().await.expect("a browser");
    browser.goto(&format!("{address}/")).await;
    browser.fill("#api-key", &var("WORKBENCH_KEY")).await;
    browser.click("#sign-in button").await;
    browser.wait_text("#signed-in", |t| !t.is_empty()).await;
    (address, browser)
}

/// Not a test but the measure behind the README's figure (`benches/workbench.sh`): against
/// a running server (`WORKBENCH_ADDRESS`, `WORKBENCH_KEY` of role analyst), the time from
/// choosing the file `WORKBENCH_POPULATION` to the population shown, then from pressing Run
/// to the figures and charts drawn, `WORKBENCH_RUNS` times.
#[actix_web::test]
#[ignore = "a measurement, run by benches/workbench.sh"]
async fn what_if_in_the_page_over_a_large_population() {
    let (address, browser) = signed_in_elsewhere().await;
    let file = var("WORKBENCH_POPULATION");
    let runs: usize = var("WORKBENCH_RUNS").parse().unwrap();
    browser.goto(&format!("{address}/ui/#/whatif")).await;
    browser.find("#population-file").await;
    let started = std::time::Instant::now();
    let shown = keep_in_the_page(&browser, Path::new(&file)).await;
    println!("kept: {:.3} s ({shown})", started.elapsed().as_secs_f64());
    for _ in 0..runs {
        browser.execute_clear("#whatif-result").await;
        let started = std::time::Instant::now();
        run_in_the_page(&browser).await;
        browser.find("[data-chart=histogram] svg path").await;
        println!("run: {:.3} s", started.elapsed().as_secs_f64());
    }
    browser.close_without_console_errors().await;
}

#[actix_web::test]
async fn an_enterprise_picked_from_the_registry_is_billed_on_what_the_registry_holds() {
    let Some((app, browser)) = signed_in("admin-key").await else {
        return;
    };
    register_the_example_enterprise(&app).await;
    browser.goto(&format!("{}/ui/#/bill", app.address)).await;
    browser.click("#look-up").await;
    let record = browser
        .wait_text("#registry-record", |t| t.contains("忻发改价格"))
        .await;
    assert!(record.contains("限制类 restricted"), "{record}");
    let (id, request) = priced_in_the_page(&browser).await;
    // The request the page sent leaves the classification to the registry.
    assert!(request["enterprise"].get("industry").is_none(), "{request}");
    let bill = api_post(&app, "/v1/bills", "admin-key", &request).await;
    assert_eq!(id, bill["bill_id"].as_str().unwrap());
    assert_eq!(
        browser.text("[data-figure=surcharge]").await,
        yuan(bill["totals"]["surcharge"].as_str().unwrap())
    );
    browser.close_without_console_errors().await;
}

#[actix_web::test]
async fn a_what_if_over_a_months_ledger_on_the_registry_is_the_apis() {
    let Some((app, browser)) = signed_in("admin-key").await else {
        return;
    };
    register_the_example_enterprise(&app).await;
    let request = json!({"period": {"month": "2020-10"}, "enterprise": {"id": "XZ-0001"}, "electricity": {"kwh": "1000000"}});
    let bearer = "Bearer admin-key";
    let headers = [
        ("authorization", bearer),
        ("content-type", "application/json"),
    ];
    let issued = app
        .post_with(
            "/v1/ledger/bills",
            &headers,
            serde_json::to_vec(&request).unwrap(),
        )
        .await;
    assert_eq!(issued.status, 201, "{}", issued.text());

    browser.goto(&format!("{}/ui/#/whatif", app.address)).await;
    // A month field takes its value as the browser shows it; set it as a script would.
    browser.find("#ledger-month").await;
    browser
        .script("document.getElementById('ledger-month').value = '2020-10'")
        .await;
    browser.click("#keep-ledger").await;
    let shown = browser
        .wait_text("#population", |t| t.starts_with("pop-"))
        .await;
    assert!(shown.contains(" · 1 户 records"), "{shown}");
    // XZ-0001 is restricted: raise the restricted steel rate.
    browser
        .fill(".r-path", "electricity.differential.steel.restricted")
        .await;
    browser.fill(".r-value", "0.20").await;
    run_in_the_page(&browser).await;
    let body: Value = serde_json::from_str(
        &browser
            .script("return document.querySelector('#whatif-trace pre').textContent")
            .await,
    )
    .unwrap();
    let report = api_post(&app, "/v1/simulations", "admin-key", &body).await;
    assert_eq!(report["population"]["priced"], 1);
    assert_eq!(report["delta"]["surcharge"], "100000.00");
    assert_eq!(
        browser.text("[data-figure=delta-surcharge]").await,
        format!("+{}", yuan(report["delta"]["surcharge"].as_str().unwrap()))
    );
    browser.close_without_console_errors().await;
}

/// Not a test but the README's pictures (`docs/screenshots/take.sh`): each page against a
/// running server on the bundled policy (`WORKBENCH_ADDRESS`, an admin `WORKBENCH_KEY`),
/// saved as `target/browser/readme-<page>.png`.
#[actix_web::test]
#[ignore = "pictures for the README, taken by docs/screenshots/take.sh"]
async fn screenshots_of_the_bundled_policy() {
    let (address, browser) = signed_in_elsewhere().await;

    browser.fill("#search", "钢铁淘汰类").await;
    browser.click("[data-table^=parameters] tbody tr").await;
    browser.find("#timeline .chart svg path").await;
    browser.screenshot("readme-tariffs").await;

    browser.goto(&format!("{address}/ui/#/bill")).await;
    browser.click("#price").await;
    browser.find("#bill-id").await;
    browser.screenshot("readme-bill").await;

    browser.goto(&format!("{address}/ui/#/whatif")).await;
    let population = crate::support::root().join("examples/batch.ndjson");
    let file = browser.downloads.with_file_name("population.ndjson");
    let mut lines = std::fs::read(&population).unwrap();
    let bundled = crate::support::bundled_tariffs();
    lines.extend(ndjson(&generated(&bundled, 2000, 7)));
    std::fs::write(&file, lines).unwrap();
    keep_in_the_page(&browser, &file).await;
    sweep_in_the_page(&browser, "0.05").await;
    browser.click("#run").await;
    // The goal: the change of surcharge the sweep shows at 0.75 (its sixth point).
    let cell = "[data-table='扫描 Sweep'] tbody tr:nth-child(6) td:nth-child(4)";
    let shown = browser.wait_text(cell, |t| t.contains('¥')).await;
    let target: String = shown
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    goal_in_the_page(&browser, &target).await;
    browser.click("#run").await;
    browser.wait_text("#goal", |t| t.contains('=')).await;
    browser.screenshot("readme-whatif").await;

    browser.goto(&format!("{address}/ui/#/batch")).await;
    let input = browser.find("#batch-file").await;
    input.send_keys(population.to_str().unwrap()).await.unwrap();
    browser.click("#start-batch").await;
    browser.find("[data-figure=billed]").await;
    browser.screenshot("readme-batch").await;
    browser.close().await;
}
