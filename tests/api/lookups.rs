//! What is in force, since when, and on whose authority.

use serde_json::json;

use crate::helpers::TestApp;

#[actix_web::test]
async fn the_tariffs_loaded_are_listed_with_versions_ranges_and_digests() {
    let app = TestApp::spawn().await;
    let list = app.get("/v1/tariffs").await.json();
    assert_eq!(list["default"], "cn-sx-xinzhou");
    let tariffs = list["tariffs"].as_array().unwrap();
    let ids: Vec<&str> = tariffs.iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec!["cn", "cn-sx-xinzhou"]);
    let xinzhou = &tariffs[1];
    assert_eq!(xinzhou["inherits"], "cn");
    assert_eq!(xinzhou["effective_from"], "2020-07-16");
    assert!(xinzhou["digest"].as_str().unwrap().starts_with("sha256:"));
    assert_ne!(xinzhou["digest"], tariffs[0]["digest"]);
}

#[actix_web::test]
async fn parameters_in_force_on_a_date_carry_their_source_and_flag() {
    let app = TestApp::spawn().await;
    let listing = app
        .get("/v1/tariffs/cn/parameters?date=2016-12-31")
        .await
        .json();
    let find = |listing: &serde_json::Value, path: &str| {
        listing["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["path"] == path)
            .cloned()
    };
    let steel = find(&listing, "electricity.differential.steel.eliminated").unwrap();
    assert_eq!(
        (
            steel["value"].clone(),
            steel["source"].clone(),
            steel["to"].clone()
        ),
        (
            json!("0.30"),
            json!("发改价格〔2010〕978号"),
            json!("2016-12-31")
        )
    );
    assert!(
        find(&listing, "electricity.tiered.steel.schedule").is_none(),
        "steel tiers start in 2017"
    );
    let later = app
        .get("/v1/tariffs/cn/parameters?date=2017-01-01")
        .await
        .json();
    let steel = find(&later, "electricity.differential.steel.eliminated").unwrap();
    assert_eq!(
        (
            steel["value"].clone(),
            steel["source"].clone(),
            steel["unit"].clone()
        ),
        (
            json!("0.50"),
            json!("发改价格〔2016〕2803号"),
            json!("yuan/kWh")
        )
    );
    let limit = find(&later, "electricity.tiered.steel.limits.blast_furnace").unwrap();
    assert_eq!(limit["provisional"], true);
}

#[actix_web::test]
async fn the_surcharge_lookup_answers_by_class_and_date() {
    let app = TestApp::spawn().await;
    let look = app.get("/v1/surcharges?tariff=cn-sx-xinzhou&industry=steel&catalogue_class=eliminated&date=2020-10-01").await.json();
    let adders = look["adders"].as_array().unwrap();
    assert_eq!(adders[0]["measure"], "differential");
    assert_eq!(adders[0]["rate"], "0.50");
    assert_eq!(adders[1]["measure"], "tiered");
    assert_eq!(
        adders[1]["applies"], false,
        "steel under differential pricing is not tiered"
    );
    assert!(
        adders
            .iter()
            .filter(|a| a["measure"] == "punitive")
            .all(|a| a["applies"] == false),
        "steel is exempt from punitive pricing"
    );
    let water = adders
        .iter()
        .find(|a| a["measure"] == "water_progressive")
        .unwrap();
    assert_eq!(water["applies"], true);
    assert_eq!(water["basis"][0]["path"], "water.progressive.schedule");

    let ferro = app
        .get("/v1/surcharges?industry=ferroalloy&date=2020-10-01")
        .await
        .json();
    let punitive: Vec<_> = ferro["adders"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["measure"] == "punitive")
        .map(|a| a["rate"].clone())
        .collect();
    assert_eq!(punitive, vec![json!("0.10"), json!("0.30")]);
    let overdue = app
        .get("/v1/surcharges?industry=steel&capacity_cut_overdue=true&date=2020-10-01")
        .await
        .json();
    assert_eq!(overdue["priced_as"], "eliminated");
}

#[actix_web::test]
async fn a_parameter_history_lists_every_dated_value_with_its_document() {
    let app = TestApp::spawn().await;
    let reply = app
        .get("/v1/tariffs/cn-sx-xinzhou/parameters/electricity.differential.steel.eliminated")
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let history = reply.json();
    let values = history["values"].as_array().unwrap();
    assert_eq!(values.len(), 2, "{history}");
    assert_eq!(values[0]["from"], "2010-06-01");
    assert_eq!(values[0]["until"], "2016-12-31");
    assert_eq!(values[1]["until"], serde_json::Value::Null);
    assert_eq!(values[1]["display"], "0.50");
    assert_eq!(values[1]["defined_in"], "cn");
    assert_eq!(values[1]["document"]["number"], "发改价格〔2016〕2803号");
    assert_eq!(history["read_on"], "billing_day");
    let aluminium = app
        .get("/v1/tariffs/cn/parameters/electricity.tiered.electrolytic_aluminum.schedule")
        .await
        .json();
    assert_eq!(aluminium["read_on"], "assessment_year");
    let unknown = app
        .get("/v1/tariffs/cn/parameters/electricity.differential.steel.eliminatd")
        .await;
    assert_eq!(unknown.status, 404);
    assert!(
        unknown.json()["detail"]
            .as_str()
            .unwrap()
            .contains("electricity.differential.steel.eliminated"),
        "{}",
        unknown.text()
    );
}

#[actix_web::test]
async fn documents_show_their_issuers_and_evidence_in_the_tariff_and_the_listing() {
    let app = TestApp::spawn().await;
    let tariff = app.get("/v1/tariffs/cn").await.json();
    let document = tariff["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["number"] == "发改价格〔2016〕2803号")
        .unwrap()
        .clone();
    assert_eq!(
        document["issuers"],
        json!(["国家发展改革委", "工业和信息化部"])
    );
    assert_eq!(
        document["evidence"][0]["address"],
        "https://example.org/relay"
    );
    let listing = app
        .get("/v1/tariffs/cn/parameters?date=2017-06-01")
        .await
        .json();
    let cited = listing["documents"].as_array().unwrap();
    assert!(
        cited
            .iter()
            .any(|d| d["number"] == "发改价格〔2016〕2803号" && d["evidence"].is_array()),
        "{listing}"
    );
}
