//! The fleet check: three `tariffd` instances sharing one PostgreSQL behind a load balancer,
//! started by `deploy/fleet/run`, which then runs these tests with the addresses in the
//! environment. Without a fleet (`cargo test`) they are skipped: `#[ignore]`d, since they
//! need the real parts the script starts.
//!
//!   FLEET_INSTANCES=http://127.0.0.1:18801,… FLEET_BALANCER=http://127.0.0.1:18800 \
//!   FLEET_KEY=… cargo test --test fleet -- --ignored

use std::collections::HashSet;
use std::time::Duration;

use serde_json::{json, Value};

struct Fleet {
    instances: Vec<String>,
    balancer: String,
    key: String,
    client: awc::Client,
}

struct Reply {
    status: u16,
    replayed: bool,
    body: Vec<u8>,
}

impl Reply {
    /// Fails the test unless the status is `status`, showing the body.
    fn expect(&self, status: u16, context: &str) {
        let body = String::from_utf8_lossy(&self.body);
        assert_eq!(self.status, status, "{context}: {body}");
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
}

impl Fleet {
    fn from_env() -> Fleet {
        let var = |name: &str| {
            std::env::var(name)
                .unwrap_or_else(|_| panic!("{name}: run me through deploy/fleet/run"))
        };
        Fleet {
            instances: var("FLEET_INSTANCES")
                .split(',')
                .map(str::to_string)
                .collect(),
            balancer: var("FLEET_BALANCER"),
            key: var("FLEET_KEY"),
            client: awc::Client::builder()
                .timeout(Duration::from_secs(120))
                .finish(),
        }
    }

    async fn send(
        &self,
        method: awc::http::Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Reply {
        let mut request = self
            .client
            .request(method, url)
            .insert_header(("authorization", format!("Bearer {}", self.key)));
        for header in headers {
            request = request.insert_header(*header);
        }
        let mut response = request.send_body(body).await.expect("the fleet answers");
        let body = response.body().limit(1 << 30).await.expect("a body");
        Reply {
            status: response.status().as_u16(),
            replayed: response.headers().contains_key("idempotent-replayed"),
            body: body.to_vec(),
        }
    }

    async fn post_json(&self, url: &str, headers: &[(&str, &str)], body: &Value) -> Reply {
        let mut all = vec![("content-type", "application/json")];
        all.extend_from_slice(headers);
        self.send(
            awc::http::Method::POST,
            url,
            &all,
            body.to_string().into_bytes(),
        )
        .await
    }

    async fn get(&self, url: &str) -> Value {
        let reply = self
            .send(awc::http::Method::GET, url, &[], Vec::new())
            .await;
        reply.expect(200, url);
        reply.json()
    }

    /// Every bill the ledger holds, page by page, through the balancer.
    async fn ledger(&self) -> Vec<String> {
        let mut ids = Vec::new();
        let mut after = String::new();
        loop {
            let page = self
                .get(&format!(
                    "{}/v1/ledger/bills?limit=1000{after}",
                    self.balancer
                ))
                .await;
            for bill in page["bills"].as_array().unwrap() {
                ids.push(bill["bill_id"].as_str().unwrap().to_string());
            }
            match page["next"].as_str() {
                Some(next) => after = format!("&after={next}"),
                None => return ids,
            }
        }
    }

    /// Records enterprise `id` (steel, restricted from 2020) through the balancer.
    async fn register(&self, id: &str) {
        let url = format!("{}/v1/enterprises/{id}", self.balancer);
        let master = json!({ "name": id, "industry": "steel" });
        let reply = self
            .send(
                awc::http::Method::PUT,
                &url,
                &[("content-type", "application/json")],
                master.to_string().into_bytes(),
            )
            .await;
        reply.expect(200, &url);
        let decision = json!({ "from": "2020-01-01", "catalogue_class": "restricted", "document": "fleet list" });
        let reply = self
            .post_json(&format!("{url}/classifications"), &[], &decision)
            .await;
        reply.expect(200, &url);
    }
}

fn by_reference(id: &str, kwh: u64) -> Value {
    json!({ "period": { "month": "2020-10" }, "enterprise": { "id": id }, "electricity": { "kwh": kwh.to_string() } })
}

#[actix_rt::test]
#[ignore = "needs the fleet deploy/fleet/run starts"]
async fn every_instance_prices_the_same_bill() {
    let fleet = Fleet::from_env();
    fleet.register("FLEET-SAME").await;
    for request in [
        json!({ "period": { "month": "2020-10" }, "enterprise": { "id": "F", "industry": "steel", "catalogue_class": "eliminated" }, "electricity": { "kwh": "1250000" } }),
        by_reference("FLEET-SAME", 1_250_000),
    ] {
        let mut bills = Vec::new();
        for instance in &fleet.instances {
            let reply = fleet
                .post_json(&format!("{instance}/v1/bills"), &[], &request)
                .await;
            reply.expect(200, instance);
            bills.push(reply.json());
        }
        assert!(bills.windows(2).all(|w| w[0] == w[1]), "{bills:#?}");
    }
}

#[actix_rt::test]
#[ignore = "needs the fleet deploy/fleet/run starts"]
async fn concurrent_retries_to_every_instance_issue_one_bill() {
    let fleet = Fleet::from_env();
    fleet.register("FLEET-KEY").await;
    let request = by_reference("FLEET-KEY", 777_000);
    let key = [("idempotency-key", "fleet-retry-1")];
    let urls: Vec<String> = (0..30)
        .map(|i| {
            format!(
                "{}/v1/ledger/bills",
                fleet.instances[i % fleet.instances.len()]
            )
        })
        .collect();
    let replies =
        futures_util::future::join_all(urls.iter().map(|url| fleet.post_json(url, &key, &request)))
            .await;
    let created = replies.iter().filter(|r| r.status == 201).count();
    assert_eq!(created, 1, "exactly one instance stores the bill");
    let ids: HashSet<String> = replies
        .iter()
        .map(|r| {
            assert!(
                r.status == 201 || (r.status == 200 && r.replayed),
                "{}",
                String::from_utf8_lossy(&r.body)
            );
            r.json()["bill_id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1, "every retry answers the same bill");
    let listed = fleet
        .get(&format!(
            "{}/v1/ledger/bills?enterprise_id=FLEET-KEY",
            fleet.balancer
        ))
        .await;
    assert_eq!(listed["bills"].as_array().unwrap().len(), 1);
}

#[actix_rt::test]
#[ignore = "needs the fleet deploy/fleet/run starts"]
async fn batches_issued_through_every_instance_lose_and_double_nothing() {
    let fleet = Fleet::from_env();
    let before: HashSet<String> = fleet.ledger().await.into_iter().collect();
    // Three overlapping batches of 3000 (9000 records, 5000 distinct bills), sent at once
    // through the balancer, each twice.
    let batch = |start: u64| -> Vec<u8> {
        (start..start + 3000)
            .flat_map(|i| {
                let record = json!({ "period": { "month": "2020-10" }, "enterprise": { "id": format!("FLEET-B{i}"), "industry": "steel", "catalogue_class": "restricted" }, "electricity": { "kwh": (1000 + i).to_string() } });
                format!("{record}\n").into_bytes()
            })
            .collect()
    };
    let url = format!("{}/v1/ledger/bills/batch", fleet.balancer);
    let headers = [("content-type", "application/x-ndjson")];
    let bodies: Vec<Vec<u8>> = [0, 1000, 2000, 0, 1000, 2000]
        .into_iter()
        .map(batch)
        .collect();
    let replies = futures_util::future::join_all(
        bodies
            .iter()
            .map(|body| fleet.send(awc::http::Method::POST, &url, &headers, body.clone())),
    )
    .await;
    let mut answered = HashSet::new();
    for reply in &replies {
        assert_eq!(reply.status, 200);
        let text = String::from_utf8_lossy(&reply.body);
        let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
        assert_eq!(last["summary"]["billed"], 3000, "a whole batch: {last}");
        for line in text.lines() {
            let record: Value = serde_json::from_str(line).unwrap();
            if let Some(id) = record["bill"]["bill_id"].as_str() {
                answered.insert(id.to_string());
            }
        }
    }
    assert_eq!(answered.len(), 5000);
    let after = fleet.ledger().await;
    let distinct: HashSet<&String> = after.iter().collect();
    assert_eq!(distinct.len(), after.len(), "no bill stored twice");
    let new: HashSet<String> = after
        .into_iter()
        .filter(|id| !before.contains(id))
        .collect();
    assert_eq!(
        new, answered,
        "every bill answered is stored, and nothing else"
    );
}
