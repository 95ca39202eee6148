//! What-if simulations at the price bureau's scale, the population already in memory
//! (upload and parsing excluded).
//!
//! `cargo bench --bench simulation`; criterion reports the median time of
//! - a baseline plus one reform over 1 000 000 generated enterprises (target < 2 s),
//! - a 20-point sweep over 100 000 generated enterprises (target < 2 s).

use std::path::Path;
use std::sync::Arc;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use rust_decimal::Decimal;
use tariffd::period::Period;
use tariffd::population::Generator;
use tariffd::simulation::{Override, Population, Reform, Scenario, Spec, Sweep};
use tariffd::tariff::{load_dir, TariffSet};

const KEY: &str = "electricity.differential.steel.eliminated";

fn population(set: &TariffSet, n: usize) -> Population {
    let tariff = set.get("cn-sx-xinzhou").expect("bundled Xinzhou tariff");
    let period = Period::month(2020, 10).expect("a valid month");
    Population::of(Generator::new(tariff, period, 7).take(n))
}

fn simulation(c: &mut Criterion) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tariffs");
    let set = TariffSet::new(
        load_dir(&dir).expect("bundled tariffs load"),
        "cn-sx-xinzhou",
    )
    .expect("the default is bundled");
    let baseline: Arc<_> = set.get("cn-sx-xinzhou").unwrap().clone();
    let mut group = c.benchmark_group("simulation");
    group.sample_size(10);
    group.measurement_time(std::time::Duration::from_secs(12));

    let million = population(&set, 1_000_000);
    let reform = Spec {
        reform: Reform {
            name: "eliminated steel at 0.80".into(),
            draft: None,
            overrides: vec![Override {
                key: KEY.into(),
                value: tariffd::tariff::grammar::Raw::Text("0.80".into()),
                from: None,
            }],
        },
        top: 20,
        ..Spec::default()
    };
    let scenario = Scenario {
        tariffs: &set,
        baseline: &baseline,
        population: &million,
        cancel: None,
        incremental: true,
    };
    group.bench_function("baseline_plus_reform_1m", |b| {
        b.iter(|| black_box(scenario.run(&reform).expect("the reform is valid")))
    });
    drop(million);

    let hundred_thousand = population(&set, 100_000);
    let sweep = Spec {
        sweep: Some(Sweep {
            key: KEY.into(),
            from: Decimal::new(50, 2),
            to: Decimal::new(145, 2),
            step: Decimal::new(5, 2),
            effective: None,
        }),
        top: 20,
        ..Spec::default()
    };
    let scenario = Scenario {
        tariffs: &set,
        baseline: &baseline,
        population: &hundred_thousand,
        cancel: None,
        incremental: true,
    };
    group.bench_function("sweep_20_points_100k", |b| {
        b.iter(|| {
            let report = scenario.run(&sweep).expect("the sweep is valid");
            assert_eq!(report.sweep.as_ref().map(|s| s.points.len()), Some(20));
            black_box(report)
        })
    });
    group.finish();
}

criterion_group!(benches, simulation);
criterion_main!(benches);
