//! Tariff reloads: a good file swaps in, a broken one leaves the old set serving, and no
//! request during a reload is priced by a half-loaded set.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::support;

fn tariff_copy() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "tariffd-reload-{}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    for file in ["cn.toml", "cn-sx-xinzhou.toml"] {
        std::fs::copy(support::fixture_tariffs().join(file), dir.join(file)).unwrap();
    }
    dir
}

/// Sets eliminated steel's 2017 rate in `cn.toml`.
fn set_steel_rate(dir: &Path, rate: &str) {
    let path = dir.join("cn.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let line = text
        .lines()
        .find(|l| {
            l.contains("from = 2017-01-01, value = \"")
                && l.contains("2803号")
                && text.find(l).unwrap() > text.find("steel.eliminated").unwrap()
        })
        .unwrap()
        .to_string();
    let start = line.find("value = \"").unwrap() + 9;
    let end = start + line[start..].find('"').unwrap();
    let edited = format!("{}{rate}{}", &line[..start], &line[end..]);
    std::fs::write(&path, text.replacen(&line, &edited, 1)).unwrap();
}

fn bill() -> Value {
    json!({ "period": { "month": "2020-10" },
            "enterprise": { "id": "A", "industry": "steel", "catalogue_class": "eliminated" },
            "electricity": { "kwh": "1000000" } })
}

async fn surcharge_and_digest(app: &TestApp) -> (String, String) {
    let reply = app.post_bill(&bill()).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let json = reply.json();
    (
        json["totals"]["surcharge"].as_str().unwrap().to_string(),
        json["tariff"]["digest"].as_str().unwrap().to_string(),
    )
}

#[actix_web::test]
async fn a_good_file_swaps_in_and_a_broken_one_leaves_the_old_set_serving() {
    let dir = tariff_copy();
    let app = TestApp::spawn_with(|s| s.tariffs.dir = dir.clone()).await;
    let (before, old_digest) = surcharge_and_digest(&app).await;
    assert_eq!(before, "500000.00");

    set_steel_rate(&dir, "0.60");
    let reply = app.post("/v1/admin/reload", "").await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let (after, new_digest) = surcharge_and_digest(&app).await;
    assert_eq!(after, "600000.00");
    assert_ne!(new_digest, old_digest);
    let listed = reply.json()["tariffs"].to_string();
    assert!(
        listed.contains(&new_digest),
        "the answer names the new digests"
    );

    std::fs::write(dir.join("cn.toml"), "[tariff]\nid = \"cn\"\n").unwrap();
    let reply = app.post("/v1/admin/reload", "").await;
    assert_eq!(reply.status, 409, "{}", reply.text());
    assert!(
        reply.text().contains("cn.toml"),
        "says which file: {}",
        reply.text()
    );
    assert_eq!(
        surcharge_and_digest(&app).await,
        (after, new_digest),
        "the old set keeps serving"
    );
}

#[actix_web::test]
async fn requests_during_reloads_are_priced_by_one_whole_set() {
    let dir = tariff_copy();
    let app = TestApp::spawn_with(|s| {
        s.tariffs.dir = dir.clone();
        s.server.workers = 2;
    })
    .await;
    let (_, digest_a) = surcharge_and_digest(&app).await;
    set_steel_rate(&dir, "0.60");
    let reload = app.post("/v1/admin/reload", "").await;
    assert_eq!(reload.status, 200);
    let (_, digest_b) = surcharge_and_digest(&app).await;

    let mut expected = std::collections::HashMap::new();
    expected.insert(digest_a, "500000.00".to_string());
    expected.insert(digest_b, "600000.00".to_string());
    let traffic = async {
        for _ in 0..200 {
            let (surcharge, digest) = surcharge_and_digest(&app).await;
            assert_eq!(
                expected.get(&digest),
                Some(&surcharge),
                "a bill priced by a mixed set"
            );
        }
    };
    let reloads = async {
        for rate in ["0.50", "0.60", "0.50", "0.60", "0.50", "0.60"] {
            set_steel_rate(&dir, rate);
            assert_eq!(app.post("/v1/admin/reload", "").await.status, 200);
        }
    };
    futures_util::future::join(traffic, reloads).await;
}

async fn priced_by_digest(app: &TestApp, digest: &str, body: Value) -> crate::helpers::Reply {
    let path = format!("/v1/bills?tariff_digest={digest}");
    app.post(&path, serde_json::to_vec(&body).unwrap()).await
}

#[actix_web::test]
async fn a_past_bill_is_priced_again_by_its_digest_after_a_reload_and_a_restart() {
    let dir = tariff_copy();
    let app = TestApp::spawn_with(|s| s.tariffs.dir = dir.clone()).await;
    let (before, old_digest) = surcharge_and_digest(&app).await;
    set_steel_rate(&dir, "0.60");
    assert_eq!(app.post("/v1/admin/reload", "").await.status, 200);
    let reply = priced_by_digest(&app, &old_digest, bill()).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["totals"]["surcharge"], before.as_str());
    assert_eq!(reply.json()["tariff"]["digest"], old_digest.as_str());
    // A new server on the same directory still knows the old set (archived on disk).
    let restarted = TestApp::spawn_with(|s| s.tariffs.dir = dir.clone()).await;
    let reply = priced_by_digest(&restarted, &old_digest, bill()).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(reply.json()["totals"]["surcharge"], before.as_str());
    // An unknown digest names the parameter; a request naming another tariff is refused.
    let unknown = priced_by_digest(&restarted, "sha256:00", bill()).await;
    assert_eq!(unknown.status, 422, "{}", unknown.text());
    assert_eq!(unknown.json()["errors"][0]["parameter"], "tariff_digest");
    let mut other = bill();
    other["tariff"] = json!("cn");
    let wrong = priced_by_digest(&restarted, &old_digest, other).await;
    assert_eq!(wrong.status, 422, "{}", wrong.text());
    assert_eq!(wrong.json()["errors"][0]["pointer"], "/tariff");
}
