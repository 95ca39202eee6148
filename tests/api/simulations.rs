//! `POST /v1/simulations` and `POST /v1/tariffs/validate`: what a reform would do, checked
//! against hand-computed sums, separate simulations and the batch.

use serde_json::{json, Value};

use crate::helpers::{csv_body, ndjson, population, Reply, TestApp};

fn enterprise(id: &str, industry: &str, class: &str, kwh: &str) -> Value {
    json!({
        "tariff": "cn-sx-xinzhou",
        "period": { "month": "2020-10" },
        "enterprise": { "id": id, "industry": industry, "catalogue_class": class },
        "electricity": { "kwh": kwh, "base_price": "0.45" }
    })
}

/// Steel eliminated and restricted, cement eliminated: October 2020 in Xinzhou.
fn small_population() -> Value {
    json!([
        enterprise("A", "steel", "eliminated", "1000000"),
        enterprise("B", "steel", "restricted", "1000000"),
        enterprise("C", "cement", "eliminated", "500000"),
    ])
}

async fn simulate(app: &TestApp, body: Value) -> Reply {
    app.post("/v1/simulations", serde_json::to_vec(&body).unwrap())
        .await
}

async fn simulate_ok(app: &TestApp, body: Value) -> Value {
    let reply = simulate(app, body).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

fn reform(parameters: Value) -> Value {
    json!({ "reform": { "name": "test", "parameters": parameters }, "population": small_population() })
}

pub fn multipart(simulation: &Value, population: &[u8], content_type: &str) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(b"--XyZ\r\nContent-Disposition: form-data; name=\"simulation\"\r\nContent-Type: application/json\r\n\r\n");
    body.extend_from_slice(simulation.to_string().as_bytes());
    body.extend_from_slice(b"\r\n--XyZ\r\nContent-Disposition: form-data; name=\"population\"; filename=\"population\"\r\nContent-Type: ");
    body.extend_from_slice(content_type.as_bytes());
    body.extend_from_slice(b"\r\n\r\n");
    body.extend_from_slice(population);
    body.extend_from_slice(b"\r\n--XyZ--\r\n");
    body
}

async fn simulate_streamed(
    app: &TestApp,
    simulation: &Value,
    population: &[u8],
    content_type: &str,
) -> Reply {
    app.post_with(
        "/v1/simulations",
        &[("content-type", "multipart/form-data; boundary=XyZ")],
        multipart(simulation, population, content_type),
    )
    .await
}

fn problem_pointers(reply: &Reply) -> Vec<String> {
    assert_eq!(reply.status, 422, "{}", reply.text());
    assert_eq!(
        reply.header("content-type").as_deref(),
        Some("application/problem+json")
    );
    reply.json()["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap().to_string())
        .collect()
}

#[actix_web::test]
async fn a_reform_that_changes_nothing_gives_zero_deltas() {
    let app = TestApp::spawn().await;
    let same_value = json!({ "electricity.differential.steel.eliminated": { "value": "0.50", "from": "2017-01-01" } });
    for parameters in [json!({}), same_value] {
        let report = simulate_ok(&app, reform(parameters)).await;
        assert_eq!(report["delta"]["surcharge"], "0.00");
        assert_eq!(report["delta"]["total"], "0.00");
        assert_eq!(report["changes"]["same"], 3);
        assert_eq!(report["enterprises"], json!([]));
        assert_eq!(report["baseline"], report["reform"]);
        for (measure, amount) in report["delta"]["by_measure"].as_object().unwrap() {
            assert_eq!(amount, "0.00", "{measure}");
        }
    }
}

#[actix_web::test]
async fn a_known_reform_gives_the_hand_computed_deltas() {
    let app = TestApp::spawn().await;
    let report = simulate_ok(
        &app,
        reform(json!({ "electricity.differential.steel.eliminated": "0.80" })),
    )
    .await;
    // A: 1 000 000 kWh × 0.50 → × 0.80; B: 1 000 000 × 0.10; C: 500 000 × 0.40.
    assert_eq!(report["baseline"]["surcharge"], "800000.00");
    assert_eq!(report["reform"]["surcharge"], "1100000.00");
    assert_eq!(report["delta"]["surcharge"], "300000.00");
    // Base 2 500 000 kWh × 0.45 = 1 125 000 on both sides.
    assert_eq!(report["baseline"]["total"], "1925000.00");
    assert_eq!(report["delta"]["total"], "300000.00");
    assert_eq!(
        report["delta"]["by_industry"]["steel"]["surcharge"],
        "300000.00"
    );
    assert_eq!(
        report["delta"]["by_industry"]["cement"]["surcharge"],
        "0.00"
    );
    assert_eq!(
        report["delta"]["by_catalogue_class"]["eliminated"]["total"],
        "300000.00"
    );
    assert_eq!(report["delta"]["by_measure"]["differential"], "300000.00");
    assert_eq!(report["changes"]["more"], 1);
    assert_eq!(report["changes"]["same"], 2);
    let top = &report["enterprises"][0];
    assert_eq!(top["enterprise_id"], "A");
    assert_eq!(top["delta"], "300000.00");
    assert_eq!(top["reform"]["surcharge"], "800000.00");
    assert_eq!(report["scenario"]["name"], "test");
    assert_ne!(
        report["scenario"]["tariff"]["digest"],
        report["tariff"]["digest"]
    );
    let histogram = report["histogram"].as_array().unwrap();
    let counted: u64 = histogram.iter().map(|b| b["count"].as_u64().unwrap()).sum();
    assert_eq!(counted, 3);
    let rise = histogram.iter().find(|b| b["from"] == "100000.00").unwrap();
    assert_eq!(
        rise["count"], 1,
        "300 000 yuan falls in (100 000, 1 000 000]"
    );
}

#[actix_web::test]
async fn a_dated_reform_prices_the_month_in_two_parts() {
    let app = TestApp::spawn().await;
    let parameters = json!({ "electricity.differential.steel.eliminated": { "value": "0.80", "from": "2020-10-16" } });
    let report = simulate_ok(&app, reform(parameters)).await;
    // A: 1 000 000 kWh over 31 days: 483 871 kWh at 0.50 (15 days), 516 129 at 0.80.
    // 241 935.50 + 412 903.20 = 654 838.70, against 500 000.00.
    assert_eq!(report["delta"]["surcharge"], "154838.70");
}

#[actix_web::test]
async fn a_schedule_number_and_a_water_multiple_can_be_reformed() {
    let app = TestApp::spawn().await;
    let mut population = small_population();
    population.as_array_mut().unwrap().push(json!({
        "tariff": "cn-sx-xinzhou", "period": { "month": "2020-10" },
        "enterprise": { "id": "W", "industry": "other", "catalogue_class": "permitted" },
        "electricity": { "kwh": "0" },
        "water": { "m3": "13000", "quota_m3": "10000", "base_price": "4.00", "meets_standard": false }
    }));
    let body = json!({
        "reform": { "name": "water", "parameters": { "water.progressive.schedule.brackets[1].rate": "2.0" } },
        "population": population
    });
    let report = simulate_ok(&app, body).await;
    let water = &report["delta"]["by_measure"]["water_progressive"];
    // 3 000 m³ over quota is 30%: 2 000 m³ in the band up to 20% (× 0.5, unchanged) and
    // 1 000 m³ above it, whose multiple goes from 1.0 to 2.0: + 1 000 × 4.00.
    assert_eq!(water, "4000.00", "{report}");
    assert_eq!(report["changes"]["more"], 1);
}

#[actix_web::test]
async fn sweep_points_equal_separate_simulations() {
    let app = TestApp::spawn().await;
    let key = "electricity.differential.steel.eliminated";
    let mut body = reform(json!({ "electricity.differential.general.restricted": "0.15" }));
    body["sweep"] = json!({ "parameter": key, "from": "0.4", "to": "0.8", "step": "0.2" });
    let report = simulate_ok(&app, body).await;
    let points = report["sweep"]["points"].as_array().unwrap();
    assert_eq!(points.len(), 3);
    for point in points {
        let value = point["value"].as_str().unwrap();
        let separate = simulate_ok(
            &app,
            reform(json!({ "electricity.differential.general.restricted": "0.15", key: value })),
        )
        .await;
        assert_eq!(
            point["surcharge"], separate["reform"]["surcharge"],
            "{value}"
        );
        assert_eq!(point["total"], separate["reform"]["total"], "{value}");
        assert_eq!(
            point["delta_surcharge"], separate["delta"]["surcharge"],
            "{value}"
        );
        assert_eq!(point["more"], separate["changes"]["more"], "{value}");
    }
}

#[actix_web::test]
async fn goal_seek_finds_the_value_that_raises_the_target() {
    let app = TestApp::spawn().await;
    let key = "electricity.differential.steel.eliminated";
    let mut body = reform(json!({}));
    body["goal"] =
        json!({ "parameter": key, "target": "300000", "lo": "0", "hi": "2", "step": "0.01" });
    let goal = simulate_ok(&app, body.clone()).await["goal"].clone();
    assert_eq!(goal["value"], "0.80");
    assert_eq!(goal["achieved"], "300000.00");
    assert_eq!(goal["exact"], true);

    // Between grid values the closer one wins: 0.5 + 123 456.78 / 1 000 000 ≈ 0.6235.
    body["goal"] = json!({ "parameter": key, "target": "123456.78", "lo": "0", "hi": "2" });
    let goal = simulate_ok(&app, body.clone()).await["goal"].clone();
    assert_eq!(goal["value"], "0.6235");
    assert_eq!(goal["achieved"], "123500.00");
    assert_eq!(goal["exact"], false);
    assert_eq!(goal["neighbour"]["value"], "0.6234");

    body["goal"] = json!({ "parameter": key, "target": "99000000", "lo": "0", "hi": "2" });
    let reply = simulate(&app, body).await;
    assert_eq!(problem_pointers(&reply), vec!["/goal/target"]);
    assert!(reply.text().contains("not reachable"), "{}", reply.text());
}

#[actix_web::test]
async fn the_baseline_equals_the_batch_totals_for_the_same_population() {
    let app = TestApp::spawn().await;
    let requests = population(600);
    let batch = app
        .post_with(
            "/v1/bills/batch?detail=totals",
            &[("content-type", "application/x-ndjson")],
            ndjson(&requests),
        )
        .await;
    let last = batch.text().lines().last().unwrap().to_string();
    let summary: Value = serde_json::from_str(&last).unwrap();
    let simulation = json!({ "reform": { "name": "steel up", "parameters": { "electricity.differential.steel.eliminated": "0.60" } } });
    for (body, content_type) in [
        (ndjson(&requests), "application/x-ndjson"),
        (csv_body(&requests), "text/csv"),
    ] {
        let reply = simulate_streamed(&app, &simulation, &body, content_type).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        let report = reply.json();
        assert_eq!(report["population"]["priced"], summary["summary"]["billed"]);
        assert_eq!(
            report["baseline"]["surcharge"],
            summary["summary"]["surcharge"]
        );
        assert_eq!(report["baseline"]["total"], summary["summary"]["total"]);
    }
}

#[actix_web::test]
async fn a_bad_record_in_a_streamed_population_is_left_out_and_reported() {
    let app = TestApp::spawn().await;
    let good = enterprise("A", "steel", "eliminated", "1000").to_string();
    let body = format!("{good}\n{{oops\n{good}\n");
    let simulation = json!({ "reform": { "name": "none" } });
    let reply = simulate_streamed(&app, &simulation, body.as_bytes(), "application/x-ndjson").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let population = &reply.json()["population"];
    assert_eq!(population["records"], 3);
    assert_eq!(population["priced"], 2);
    assert_eq!(population["excluded"], 1);
    assert_eq!(population["examples"][0]["record"], 2);
}

#[actix_web::test]
async fn reforms_that_break_the_rules_are_422_naming_the_path() {
    let app = TestApp::spawn().await;
    let cases = [
        (
            json!({ "electricity.differential.steel.eliminatd": "0.8" }),
            "/reform/parameters/electricity.differential.steel.eliminatd",
            "electricity.differential.steel.eliminated",
        ),
        (
            json!({ "electricity.differential.steel.eliminated": "80%" }),
            "/reform/parameters/electricity.differential.steel.eliminated",
            "not a number",
        ),
        (
            json!({ "electricity.differential.steel.eliminated": "2021-01-01" }),
            "/reform/parameters/electricity.differential.steel.eliminated",
            "not a number",
        ),
        (
            json!({ "electricity.tiered.cement.schedule.brackets[2].above": "0.9" }),
            "/reform/parameters/electricity.tiered.cement.schedule.brackets[2].above",
            "sorted",
        ),
        (
            json!({ "electricity.tiered.cement.limits.clinker.existing": "-5" }),
            "/reform/parameters/electricity.tiered.cement.limits.clinker.existing",
            "greater than 0",
        ),
        (
            json!({ "electricity.punitive.within_double": { "value": "0.2", "from": "someday" } }),
            "/reform/parameters/electricity.punitive.within_double/from",
            "not a date",
        ),
    ];
    for (parameters, pointer, says) in cases {
        let reply = simulate(&app, reform(parameters.clone())).await;
        assert_eq!(problem_pointers(&reply), vec![pointer], "{parameters}");
        assert!(
            reply.text().contains(says),
            "{parameters}: {}",
            reply.text()
        );
    }
}

#[actix_web::test]
async fn a_draft_tariff_file_can_be_the_reform() {
    let app = TestApp::spawn().await;
    let draft = r#"
[tariff]
id = "cn-sx-xinzhou"
name = "Xinzhou draft"
version = "draft"
inherits = "cn"

[documents."draft-1"]
title = "draft notice"

[parameters."electricity.differential.steel.eliminated"]
values = [{ from = 2020-01-01, value = "0.70", source = "draft-1" }]
"#;
    let body = json!({ "reform": { "name": "draft", "tariff_file": draft }, "population": small_population() });
    let report = simulate_ok(&app, body).await;
    // The draft keeps only what it sets over cn: A at 0.70 (+ 200 000); cn's own cement
    // and restricted rates; Xinzhou's own local measures are gone, which these
    // enterprises do not meet.
    assert_eq!(
        report["delta"]["by_industry"]["steel"]["surcharge"],
        "200000.00"
    );

    let broken = draft.replace("2020-01-01", "2020-13-01");
    let body = json!({ "reform": { "name": "draft", "tariff_file": broken }, "population": small_population() });
    let reply = simulate(&app, body).await;
    assert_eq!(problem_pointers(&reply), vec!["/reform/tariff_file"]);
}

#[actix_web::test]
async fn the_request_itself_is_checked() {
    let app = TestApp::spawn().await;
    let reply = simulate(&app, json!({ "reform": { "name": "x" } })).await;
    assert_eq!(problem_pointers(&reply), vec!["/population"]);
    // A bad record inline is left out and reported, as in a streamed population.
    let mut bad_record = reform(json!({}));
    bad_record["population"][1]["electricity"]["kwh"] = json!("-1");
    bad_record["population"][2]["tariff"] = json!("nowhere");
    let reply = simulate(&app, bad_record).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let population = &reply.json()["population"];
    assert_eq!(population["excluded"], 2);
    // Counted from 1, as the lines of the same population sent as NDJSON.
    assert_eq!(population["examples"][0]["record"], 2);
    let message = population["examples"][0]["message"].as_str().unwrap();
    assert!(message.starts_with("/electricity/kwh: "), "{message}");
    assert_eq!(population["examples"][1]["record"], 3);
    let message = population["examples"][1]["message"].as_str().unwrap();
    assert!(message.starts_with("/tariff: unknown tariff"), "{message}");
    let mut sweep = reform(json!({}));
    sweep["sweep"] = json!({ "parameter": "electricity.punitive.within_double", "from": "0", "to": "1", "step": "0" });
    let reply = simulate(&app, sweep).await;
    assert_eq!(problem_pointers(&reply), vec!["/sweep/step"]);
    let reply = app
        .post_with(
            "/v1/simulations",
            &[("content-type", "text/plain")],
            b"x".to_vec(),
        )
        .await;
    assert_eq!(reply.status, 415);
}

#[actix_web::test]
async fn a_draft_tariff_is_validated_with_every_problem_located() {
    let app = TestApp::spawn().await;
    let valid = "[tariff]\nid = \"draft\"\nname = \"d\"\nversion = \"1\"\ninherits = \"cn\"\n";
    let reply = app
        .post_with(
            "/v1/tariffs/validate",
            &[("content-type", "application/toml")],
            valid.into(),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let answer = reply.json();
    assert_eq!(answer["valid"], true);
    assert!(answer["tariff"]["digest"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));

    let broken = format!(
        "{valid}[documents.\"d-1\"]\ntitle = \"t\"\n\
         [parameters.\"electricity.punitive.over_dubble\"]\nvalues = [{{ from = 2021-01-01, value = \"0.3\", source = \"d-1\" }}]\n\
         [parameters.\"electricity.tiered.cement.schedule\"]\nvalues = [{{ from = 2021-01-01, source = \"d-1\", brackets = [{{ rate = \"0\" }}, {{ above = \"2\", rate = \"0.1\" }}, {{ above = \"1\", rate = \"0.2\" }}] }}]\n"
    );
    let reply = app
        .post_with(
            "/v1/tariffs/validate",
            &[("content-type", "application/toml")],
            broken.into(),
        )
        .await;
    assert_eq!(reply.status, 200);
    let answer = reply.json();
    assert_eq!(answer["valid"], false);
    let problems = answer["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 2, "{answer}");
    assert!(problems[0]["message"]
        .as_str()
        .unwrap()
        .contains("over_double"));
    assert!(problems[1]["key"]
        .as_str()
        .unwrap()
        .contains("brackets[2].above"));
}

#[actix_web::test]
async fn the_class_breakdown_says_who_was_priced_under_another_class() {
    let app = TestApp::spawn().await;
    let mut overdue = enterprise("O", "steel", "permitted", "1000000");
    overdue["enterprise"]["capacity_cut_overdue"] = json!(true);
    let body = json!({
        "reform": { "name": "none" },
        "population": [overdue, enterprise("P", "steel", "permitted", "1000000")]
    });
    let report = simulate_ok(&app, body).await;
    let permitted = &report["baseline"]["by_catalogue_class"]["permitted"];
    assert_eq!(permitted["enterprises"], 2, "{report}");
    assert_eq!(permitted["priced_as_another_class"], 1, "{report}");
    let steel = &report["baseline"]["by_industry"]["steel"];
    assert_eq!(steel["priced_as_another_class"], 1);
}

#[actix_web::test]
async fn a_streamed_population_over_the_limit_is_refused_whole() {
    let app = TestApp::spawn_with(|s| s.simulation.max_population = 3).await;
    let simulation = json!({ "reform": { "name": "none" } });
    let with_sweep = json!({ "reform": { "name": "none" }, "sweep": { "parameter": "electricity.differential.steel.restricted", "from": "0.10", "to": "0.20", "step": "0.10" } });
    // Compared as it is read, or kept for the sweep: refused either way, never answered in part.
    for simulation in [simulation, with_sweep] {
        let body = ndjson(&population(5));
        let reply = simulate_streamed(&app, &simulation, &body, "application/x-ndjson").await;
        assert_eq!(reply.status, 422, "{}", reply.text());
        assert!(
            reply.text().contains("more than 3 records"),
            "{}",
            reply.text()
        );
        let fits = ndjson(&population(3));
        let reply = simulate_streamed(&app, &simulation, &fits, "application/x-ndjson").await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_eq!(reply.json()["population"]["records"], 3);
    }
}

#[actix_web::test]
async fn a_bill_the_reform_cannot_price_is_left_out_naming_the_reform() {
    let app = TestApp::spawn().await;
    // 10^17 kWh at 10^17 yuan/kWh is beyond exact decimal arithmetic; at today's rate it is not.
    let huge = "100000000000000000";
    let mut body = reform(json!({ "electricity.differential.steel.eliminated": huge }));
    body["population"][0]["electricity"]["kwh"] = json!(huge);
    let inline = simulate_ok(&app, body.clone()).await;
    let ndjson: Vec<u8> = body["population"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|record| format!("{record}\n").into_bytes())
        .collect();
    let simulation = json!({ "reform": body["reform"] });
    let streamed = simulate_streamed(&app, &simulation, &ndjson, "application/x-ndjson").await;
    assert_eq!(streamed.status, 200, "{}", streamed.text());
    for report in [inline, streamed.json()] {
        let population = &report["population"];
        assert_eq!(population["excluded"], 1, "{report}");
        assert_eq!(population["examples"][0]["record"], 1);
        let message = population["examples"][0]["message"].as_str().unwrap();
        assert!(message.starts_with("reform: "), "{message}");
    }
}
