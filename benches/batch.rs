//! One batch chunk through the batch's own path (split lines → parse → price → write), on
//! one core, without HTTP: where a batch record's time goes, and the floor (parse and
//! validate only). `benches/batch.sh` measures the same end to end over loopback.
//!
//! `cargo bench --bench batch`; criterion reports the median time per chunk and records/s.

use std::path::Path;
use std::sync::Arc;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use serde_json::{json, Value};
use tariffd::batch::{Context, Format, Limits, Record as Line, Splitter, CHUNK_RECORDS};
use tariffd::ledger::Issuer;
use tariffd::period::Period;
use tariffd::population::Generator;
use tariffd::registry::{Change, History, Record, Snapshot};
use tariffd::tariff::{load_dir, TariffSet};
use tariffd::wire::request::request_json;
use tariffd::wire::view::Detail;

/// A chunk of generated requests as NDJSON records: given in full, or naming only their
/// enterprise (and meter data), with a registry holding the rest.
fn chunk(tariffs: &TariffSet) -> (Vec<Line>, Vec<Line>, Snapshot) {
    let tariff = tariffs
        .resolve(Some("cn-sx-xinzhou"))
        .expect("bundled Xinzhou tariff");
    let period = Period::month(2020, 10).expect("a valid month");
    let (mut inline, mut by_reference) = (Vec::new(), Vec::new());
    let mut registry = Snapshot::default();
    for request in Generator::new(tariff, period, 7).take(CHUNK_RECORDS) {
        let mut json = request_json(&request);
        serde_json::to_writer(&mut inline, &json).expect("JSON");
        inline.push(b'\n');
        registry.insert(&request.enterprise.id, registered(&mut json));
        serde_json::to_writer(&mut by_reference, &json).expect("JSON");
        by_reference.push(b'\n');
    }
    (records(inline), records(by_reference), registry)
}

/// Moves the enterprise's master data, class and assessment from `request` to its history.
fn registered(request: &mut Value) -> History {
    let enterprise = request["enterprise"]
        .as_object_mut()
        .expect("an enterprise");
    let field = |name: &str| enterprise.get(name).cloned().unwrap_or(Value::Null);
    let master = json!({ "name": enterprise["id"], "industry": field("industry") });
    let mut decision = json!({ "from": "2020-01-01", "document": "bench list" });
    for name in ["catalogue_class", "capacity_cut_overdue", "card"] {
        if !field(name).is_null() {
            decision[name] = field(name);
        }
    }
    if decision.get("catalogue_class").is_none() {
        decision["catalogue_class"] = json!("permitted");
    }
    enterprise.retain(|name, _| name == "id");
    let mut changes = vec![
        change(
            1,
            Record::Master {
                data: serde_json::from_value(master).expect("master data"),
            },
        ),
        change(
            2,
            Record::Classification {
                decision: serde_json::from_value(decision).expect("a decision"),
            },
        ),
    ];
    if let Some(Value::Object(mut assessment)) =
        request.as_object_mut().and_then(|r| r.remove("assessment"))
    {
        let year = assessment
            .remove("year")
            .and_then(|y| y.as_i64())
            .expect("a year") as i32;
        assessment.insert("document".into(), json!("bench assessment"));
        let assessment = serde_json::from_value(Value::Object(assessment)).expect("an assessment");
        changes.push(change(
            3,
            Record::Assessment {
                year,
                assessment: Box::new(assessment),
            },
        ));
    }
    History(changes)
}

fn change(version: i64, record: Record) -> Change {
    Change {
        version,
        record,
        recorded_at: Default::default(),
        recorded_by: "bench".into(),
    }
}

fn records(ndjson: Vec<u8>) -> Vec<Line> {
    let limits = Limits {
        max_line_bytes: 1 << 16,
        max_lines: u64::MAX,
        max_file_bytes: 0,
        max_decoded_bytes: 0,
    };
    let mut records = Vec::new();
    Splitter::new(limits, 1).feed(ndjson.into(), &mut records);
    records
}

fn batch(c: &mut Criterion) {
    let loaded = load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tariffs"))
        .expect("bundled tariffs load");
    let tariffs = Arc::new(TariffSet::new(loaded, "cn").expect("default tariff"));
    let (records, by_reference, registry) = chunk(&tariffs);
    let registry = Arc::new(registry);
    let mut group = c.benchmark_group("batch_chunk");
    group.throughput(Throughput::Elements(records.len() as u64));
    // (name, detail, validate only, by reference, issued into the ledger)
    let runs = [
        ("ndjson_lines", Detail::Lines, false, false, false),
        ("ndjson_totals", Detail::Totals, false, false, false),
        ("ndjson_validate_only", Detail::Lines, true, false, false),
        (
            "ndjson_lines_by_reference",
            Detail::Lines,
            false,
            true,
            false,
        ),
        ("ndjson_lines_issued", Detail::Lines, false, false, true),
    ];
    for (name, detail, validate_only, referenced, issued) in runs {
        let context = Context {
            tariffs: tariffs.clone(),
            format: Format::Ndjson,
            output: Format::Ndjson,
            detail,
            validate_only,
            table: Default::default(),
            registry: referenced.then(|| registry.clone()),
            issuer: issued.then(|| Issuer::now("bench")),
        };
        let records = if referenced { &by_reference } else { &records };
        group.bench_function(name, |b| {
            b.iter(|| black_box(context.price_chunk(records, None)))
        });
    }
    group.finish();
}

criterion_group!(benches, batch);
criterion_main!(benches);
