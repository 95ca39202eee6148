//! Bills per second through the engine alone, on a realistic generated mix.
//!
//! `cargo bench --bench engine`; criterion reports the median time per batch of
//! 10 000 bills and the throughput in bills per second (elements/s).

use std::path::Path;

use criterion::measurement::WallTime;
use criterion::{
    black_box, criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput,
};
use tariffd::bill::{charge, price, BillError, BillRequest, Options};
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
    each_bill(&mut group, "price_month_mix", &monthly, |r| {
        price(xinzhou, r, Options::default())
    });
    // The same bills unnamed, as a simulation prices them: what the bill id costs.
    each_bill(&mut group, "charge_month_mix", &monthly, |r| {
        charge(xinzhou, r, Options::default())
    });

    // Periods that cross a parameter change (split lines, proration).
    let mut crossing = population(xinzhou, (2020, 7));
    for r in &mut crossing {
        r.period =
            Period::new("2016-12-15".parse().unwrap(), "2017-01-14".parse().unwrap()).unwrap();
    }
    each_bill(&mut group, "price_crossing_2017", &crossing, |r| {
        price(xinzhou, r, Options::default())
    });

    each_bill(&mut group, "price_month_mix_with_trace", &monthly, |r| {
        price(xinzhou, r, Options { trace: true })
    });
    group.finish();
}

/// Benchmarks `engine` over every request of `requests`, one batch per iteration.
fn each_bill<T>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    requests: &[BillRequest],
    engine: impl Fn(&BillRequest) -> Result<T, BillError>,
) {
    group.bench_function(name, |b| {
        b.iter(|| {
            for request in requests {
                black_box(engine(black_box(request)).expect("generated bills price"));
            }
        })
    });
}

criterion_group!(benches, engine);
criterion_main!(benches);
