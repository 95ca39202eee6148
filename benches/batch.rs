//! One batch chunk through the batch's own path (split lines → parse → price → write), on
//! one core, without HTTP: where a batch record's time goes, and the floor (parse and
//! validate only). `benches/batch.sh` measures the same end to end over loopback.
//!
//! `cargo bench --bench batch`; criterion reports the median time per chunk and records/s.

use std::path::Path;
use std::sync::Arc;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use tariffd::batch::{Context, Format, Limits, Record, Splitter, CHUNK_RECORDS};
use tariffd::period::Period;
use tariffd::population::Generator;
use tariffd::tariff::{load_dir, TariffSet};
use tariffd::wire::request::request_json;
use tariffd::wire::view::Detail;

fn chunk(tariffs: &TariffSet) -> Vec<Record> {
    let tariff = tariffs
        .resolve(Some("cn-sx-xinzhou"))
        .expect("bundled Xinzhou tariff");
    let period = Period::month(2020, 10).expect("a valid month");
    let mut ndjson = Vec::new();
    for request in Generator::new(tariff, period, 7).take(CHUNK_RECORDS) {
        serde_json::to_writer(&mut ndjson, &request_json(&request)).expect("JSON");
        ndjson.push(b'\n');
    }
    let limits = Limits {
        max_line_bytes: 1 << 16,
        max_lines: u64::MAX,
    };
    let mut records = Vec::new();
    Splitter::new(limits, 1).feed(ndjson.into(), &mut records);
    records
}

fn batch(c: &mut Criterion) {
    let loaded = load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tariffs"))
        .expect("bundled tariffs load");
    let tariffs = Arc::new(TariffSet::new(loaded, "cn").expect("default tariff"));
    let records = chunk(&tariffs);
    let mut group = c.benchmark_group("batch_chunk");
    group.throughput(Throughput::Elements(records.len() as u64));
    let runs = [
        ("ndjson_lines", Detail::Lines, false),
        ("ndjson_totals", Detail::Totals, false),
        ("ndjson_validate_only", Detail::Lines, true),
    ];
    for (name, detail, validate_only) in runs {
        let context = Context {
            tariffs: tariffs.clone(),
            format: Format::Ndjson,
            output: Format::Ndjson,
            detail,
            validate_only,
            table: Default::default(),
        };
        group.bench_function(name, |b| {
            b.iter(|| black_box(context.price_chunk(&records, None)))
        });
    }
    group.finish();
}

criterion_group!(benches, batch);
criterion_main!(benches);
