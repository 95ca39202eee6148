//! Bills per second through the engine alone, on a realistic generated mix.
//!
//! `cargo bench --bench engine`; criterion reports the median time per batch of
//! 10 000 bills and the throughput in bills per second (elements/s).

use std::path::Path;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use tariffd::bill::{charge, price, BillRequest, Options};
use tariffd::period::Period;
use tariffd::population::Generator;
use tariffd::tariff::load_dir;

const BATCH: usize = 10_000;

fn population(tariff: &tariffd::tariff::Tariff, month: (i32, u32)) -> Vec<BillRequest> {
    let period = Period::month(month.0, month.1).expect("a valid month");
    Generator::new(tariff, period, 7).take(BATCH).collect()
}

fn engine(c: &mut Criterion) {
    let tariffs = load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tariffs"))
        .expect("bundled tariffs load");
    let xinzhou = tariffs
        .iter()
        .find(|t| t.id() == "cn-sx-xinzhou")
        .expect("bundled Xinzhou tariff");
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Elements(BATCH as u64));

    let monthly = population(xinzhou, (2020, 10));
    group.bench_function("price_month_mix", |b| {
        b.iter(|| {
            for request in &monthly {
                black_box(
                    price(xinzhou, black_box(request), Options::default())
                        .expect("generated bills price"),
                );
            }
        })
    });

    // The same bills unnamed, as a simulation prices them: what the bill id costs.
    group.bench_function("charge_month_mix", |b| {
        b.iter(|| {
            for request in &monthly {
                black_box(
                    charge(xinzhou, black_box(request), Options::default())
                        .expect("generated bills price"),
                );
            }
        })
    });

    // Periods that cross a parameter change (split lines, proration).
    let mut crossing = population(xinzhou, (2020, 7));
    for r in &mut crossing {
        r.period =
            Period::new("2016-12-15".parse().unwrap(), "2017-01-14".parse().unwrap()).unwrap();
    }
    group.bench_function("price_crossing_2017", |b| {
        b.iter(|| {
            for request in &crossing {
                black_box(
                    price(xinzhou, black_box(request), Options::default())
                        .expect("generated bills price"),
                );
            }
        })
    });

    group.bench_function("price_month_mix_with_trace", |b| {
        b.iter(|| {
            for request in &monthly {
                black_box(
                    price(xinzhou, black_box(request), Options { trace: true })
                        .expect("generated bills price"),
                );
            }
        })
    });
    group.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
