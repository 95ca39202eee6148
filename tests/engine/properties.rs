//! Invariants for any input: totals are sums of applied lines, proration keeps the whole,
//! more consumption never lowers a surcharge, and nothing panics.

use std::sync::Arc;

use bytes::Bytes;
use chrono::NaiveDate;
use proptest::prelude::*;
use rust_decimal::Decimal;
use tariffd::assessment::{
    Assessment, CementAssessment, CementPlant, EnergyIntensity, ProcessIntensity, SteelGrade,
    SteelProcess,
};
use tariffd::batch::{Format, Limits, Upload};
use tariffd::bill::request::DecisionRef;
use tariffd::bill::{charge, price, BillRequest, Electricity, Options};
use tariffd::enterprise::{Card, CatalogueClass, Enterprise, Industry, Reclassification};
use tariffd::measure::combination::Status;
use tariffd::measure::water::Water;
use tariffd::money::prorate;
use tariffd::period::Period;
use tariffd::population::Generator;
use tariffd::simulation::compare::Fen;
use tariffd::simulation::single_pass::Comparison;
use tariffd::simulation::{intake, Override, Population, Reform, Report, Scenario, Spec, Sweep};
use tariffd::tariff::grammar::Raw;
use tariffd::tariff::TariffSet;
use tariffd::wire::json::parse_json;
use tariffd::wire::problem::ApiError;
use tariffd::wire::request::request_json;
use tariffd::wire::request::BillRequestBody;
use tariffd::wire::view::{BillResponse, Detail};

use super::measures::fixtures;
use crate::support::check_invariants;

fn tariffs() -> &'static TariffSet {
    shared_tariffs()
}

fn shared_tariffs() -> &'static Arc<TariffSet> {
    static TARIFFS: std::sync::OnceLock<Arc<TariffSet>> = std::sync::OnceLock::new();
    TARIFFS.get_or_init(|| Arc::new(fixtures()))
}

/// Non-negative decimals of every scale the API accepts, biased towards small values.
fn quantity() -> impl Strategy<Value = Decimal> {
    prop_oneof![
        (0u64..10_000_000, 0u32..4).prop_map(|(m, s)| Decimal::new(m as i64, s)),
        (0u64..1_000_000_000_000_000_000, 0u32..=12).prop_map(|(m, s)| Decimal::new(m as i64, s)),
    ]
}

fn positive() -> impl Strategy<Value = Decimal> {
    quantity().prop_map(|d| if d.is_zero() { Decimal::ONE } else { d })
}

fn date() -> impl Strategy<Value = NaiveDate> {
    (0i64..6000)
        .prop_map(|d| NaiveDate::from_ymd_opt(2009, 1, 1).unwrap() + chrono::Duration::days(d))
}

fn request() -> impl Strategy<Value = BillRequest> {
    let enterprise = (
        prop::sample::select(Industry::ALL.to_vec()),
        prop::sample::select(CatalogueClass::ALL.to_vec()),
        any::<bool>(),
        prop::sample::select(vec![Card::None, Card::Yellow, Card::Red]),
    )
        .prop_map(
            |(industry, catalogue_class, capacity_cut_overdue, card)| Enterprise {
                id: "P-1".into(),
                name: None,
                industry,
                catalogue_class,
                capacity_cut_overdue,
                card,
            },
        );
    let process = (
        prop::sample::select(SteelProcess::ALL.to_vec()),
        any::<bool>(),
        quantity(),
        any::<bool>(),
    )
        .prop_map(|(process, special, x, negative)| ProcessIntensity {
            process,
            grade: if special && process == SteelProcess::ElectricArcFurnace {
                SteelGrade::Special
            } else {
                SteelGrade::Ordinary
            },
            intensity: if negative && process == SteelProcess::Converter {
                -x
            } else {
                x
            },
        });
    let cement = (any::<bool>(), prop::option::of(date()), quantity()).prop_map(
        |(clinker, commissioned, kwh_per_t)| CementAssessment {
            plant: if clinker {
                CementPlant::Clinker
            } else {
                CementPlant::Grinding
            },
            commissioned,
            kwh_per_t,
        },
    );
    let assessment = (
        prop::option::of(2000i32..2030),
        prop::collection::vec(process, 0..5),
        prop::option::of(cement),
        prop::option::of(quantity()),
        prop::option::of(
            (quantity(), positive()).prop_map(|(value, limit)| EnergyIntensity { value, limit }),
        ),
    )
        .prop_map(
            |(year, steel_processes, cement, aluminum_kwh_per_t, energy_intensity)| Assessment {
                year,
                steel_processes,
                cement,
                aluminum_kwh_per_t,
                energy_intensity,
            },
        );
    let water = (
        quantity(),
        prop::option::of(positive()),
        prop::option::of(quantity()),
        prop::option::of(any::<bool>()),
    )
        .prop_map(|(m3, quota_m3, base_price, meets_standard)| Water {
            m3,
            quota_m3,
            base_price,
            meets_standard,
        });
    (
        prop::sample::select(vec!["cn", "cn-sx-xinzhou"]),
        date(),
        0i64..800,
        enterprise,
        assessment,
        (
            quantity(),
            prop::option::of(quantity()),
            prop::option::of(quantity()),
        ),
        prop::option::of(water),
    )
        .prop_map(
            |(tariff, start, days, enterprise, assessment, electricity, water)| {
                let (kwh, base_price, self_generated_kwh) = electricity;
                BillRequest {
                    defaulted: Default::default(),
                    from_registry: Vec::new(),
                    reclassified: Vec::new(),
                    decisions: Vec::new(),
                    registry_version: None,
                    tariff: Some(tariff.into()),
                    period: Period::new(start, start + chrono::Duration::days(days)).unwrap(),
                    enterprise,
                    assessment,
                    electricity: Electricity {
                        kwh,
                        base_price,
                        self_generated_kwh,
                    },
                    water,
                }
            },
        )
}

fn surcharge(request: &BillRequest) -> Option<Decimal> {
    let tariff = tariffs().resolve(request.tariff.as_deref()).unwrap();
    price(tariff, request, Options::default())
        .ok()
        .map(|b| b.totals.surcharge)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// The engine reads each parameter by span; any day reads what searching the
    /// parameter's own entries finds.
    #[test]
    fn the_span_table_reads_what_each_parameter_holds(day in date(), near in -2i64..=2) {
        for tariff in tariffs().iter() {
            let starts = tariff.parameters.iter().flat_map(|p| p.entries.iter().map(|e| e.from));
            // Every first day of an entry, and the days around it, besides the random day.
            let days = starts.map(|d| d + chrono::Duration::days(near)).chain([day]);
            for d in days {
                for (id, p) in tariff.parameters.iter().enumerate() {
                    let by_span = tariff.at(Some(id as u16), d).map(|(r, _)| r.entry);
                    let searched = p.at(d).map(|(entry, _)| entry);
                    prop_assert_eq!(by_span, searched, "{} on {}", p.path, d);
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn totals_are_the_sums_of_applied_lines(request in request()) {
        let tariff = tariffs().resolve(request.tariff.as_deref()).unwrap();
        if let Ok(bill) = price(tariff, &request, Options { trace: true }) {
            let json = serde_json::to_value(BillResponse::new(&request, &bill, tariff)).unwrap();
            let mut problems = Vec::new();
            check_invariants(&json, &mut problems);
            prop_assert!(problems.is_empty(), "{problems:?}");
        }
    }

    #[test]
    fn the_hand_written_json_of_a_bill_is_what_serde_writes(
        mut request in request(),
        id in any::<String>(),
        trace in any::<bool>(),
        decision in any::<Option<(i64, String)>>(),
    ) {
        request.enterprise.id = id;
        // A classification from the registry: its decision is named on each surcharge line.
        request.decisions = decision
            .map(|(version, document)| DecisionRef { from: request.period.start(), version, document })
            .into_iter()
            .collect();
        let tariff = tariffs().resolve(request.tariff.as_deref()).unwrap();
        if let Ok(bill) = price(tariff, &request, Options { trace }) {
            for detail in [Detail::Totals, Detail::Lines, Detail::Full] {
                let view = BillResponse::with_detail(&request, &bill, tariff, detail);
                let mut ours = Vec::new();
                view.write_json(&mut ours);
                let serde = serde_json::to_vec(&view).unwrap();
                prop_assert_eq!(String::from_utf8(ours).unwrap(), String::from_utf8(serde).unwrap());
            }
        }
    }

    #[test]
    fn applied_electricity_lines_never_bill_more_than_was_consumed(request in request()) {
        let tariff = tariffs().resolve(request.tariff.as_deref()).unwrap();
        if let Ok(bill) = price(tariff, &request, Options::default()) {
            // Under `max` one kWh carries at most one applied adder; only the aluminium tier
            // also charges self-generated electricity. The bound is added up as the engine adds
            // it: a sum past 28 significant digits is rounded, so subtracting `own` from a line
            // instead would lose the last digit.
            let applied_kwh: Vec<_> = bill.lines.iter()
                .filter(|l| l.status == Status::Applied && l.is_surcharge() && l.unit == tariffd::bill::Unit::Kwh)
                .collect();
            let counts_own = applied_kwh.iter().any(|l| l.reason.as_ref().is_some_and(|r| r.counts_self_generated()));
            let kwh = request.electricity.kwh;
            let bound = match request.electricity.self_generated_kwh {
                Some(own) if counts_own => kwh + own,
                _ => kwh,
            };
            let applied: Decimal = applied_kwh.iter().map(|l| l.quantity).sum();
            prop_assert!(applied <= bound, "{applied} > {bound}");
        }
    }

    /// A period no change date splits is priced straight from its one day's findings; split
    /// where nothing changes (a reclassification to the same class), it is priced the long
    /// way, by segments shared out and joined again. Both must give the same charges.
    #[test]
    fn an_unsplit_period_prices_as_it_does_split_where_nothing_changes(
        request in request(), days in 1i64..60, at in 1i64..60,
    ) {
        let tariff = tariffs().resolve(request.tariff.as_deref()).unwrap();
        let mut whole = request;
        let start = whole.period.start();
        whole.period = Period::new(start, start + chrono::Duration::days(days)).unwrap();
        prop_assume!(whole.period.split_at(&tariff.change_dates).is_whole());
        let e = &whole.enterprise;
        let mut split = whole.clone();
        split.reclassified.push(Reclassification {
            from: start + chrono::Duration::days(1 + at % days),
            catalogue_class: e.catalogue_class,
            capacity_cut_overdue: e.capacity_cut_overdue,
            card: e.card,
        });
        prop_assert!(!split.period.split_at(&split.split_dates(&tariff.change_dates)).is_whole());
        prop_assert_eq!(
            charge(tariff, &whole, Options::default()),
            charge(tariff, &split, Options::default())
        );
    }

    #[test]
    fn prorated_parts_sum_to_the_whole(total in quantity(), weights in prop::collection::vec(1u32..400, 1..8)) {
        let parts = prorate(total, &weights).unwrap();
        prop_assert_eq!(parts.iter().copied().sum::<Decimal>(), total);
        prop_assert!(parts.iter().all(|p| *p >= Decimal::ZERO && p.scale() == total.scale()), "{parts:?}");
    }

    #[test]
    fn more_electricity_never_lowers_the_surcharge(request in request(), extra in quantity()) {
        let mut more = request.clone();
        more.electricity.kwh += extra;
        if let (Some(before), Some(after)) = (surcharge(&request), surcharge(&more)) {
            prop_assert!(after >= before, "{before} → {after}");
        }
    }

    #[test]
    fn more_water_never_lowers_the_surcharge(request in request(), extra in quantity()) {
        let mut more = request.clone();
        if let Some(w) = more.water.as_mut() { w.m3 += extra; }
        if let (Some(before), Some(after)) = (surcharge(&request), surcharge(&more)) {
            prop_assert!(after >= before, "{before} → {after}");
        }
    }

    #[test]
    fn no_request_body_panics_the_edge_or_the_engine(body in prop::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(parsed) = parse_json::<BillRequestBody>(&body) {
            if let Ok(request) = parsed.into_domain("") {
                let _ = surcharge(&request);
            }
        }
    }

    #[test]
    fn no_json_shaped_body_panics(text in r#"\{"period":\{"(month|start|end)":"[0-9-]{0,12}"\},"enterprise":\{"id":"[a-z]{0,3}","industry":"(steel|cement|other|x)"\},"electricity":\{"kwh":(-?[0-9.eE+-]{1,30}|"[0-9.eE+-]{0,40}"|null|true|\[\])\}\}"#) {
        if let Ok(parsed) = parse_json::<BillRequestBody>(text.as_bytes()) {
            if let Ok(request) = parsed.into_domain("") {
                let _ = surcharge(&request);
            }
        }
    }
}

fn simulate(requests: Vec<BillRequest>, overrides: Vec<Override>) -> Report {
    simulate_with(requests, overrides, None, true)
}

fn simulate_with(
    requests: Vec<BillRequest>,
    overrides: Vec<Override>,
    sweep: Option<Sweep>,
    incremental: bool,
) -> Report {
    let population = Population::of(requests);
    let set = tariffs();
    let scenario = Scenario {
        tariffs: set,
        baseline: set.resolve(None).unwrap(),
        population: &population,
        cancel: None,
        incremental,
    };
    let reform = Reform {
        name: "property".into(),
        draft: None,
        overrides,
    };
    scenario
        .run(&Spec {
            reform,
            top: 5,
            sweep,
            ..Spec::default()
        })
        .unwrap()
}

/// Number parameters of the fixture tariffs a reform may change, the scale of a value, and
/// the least value the tariff grammar accepts (a rate may be 0, a limit must be above it).
const REFORMABLE: [(&str, u32, i64); 8] = [
    ("electricity.differential.steel.eliminated", 2, 0),
    ("electricity.differential.steel.restricted", 2, 0),
    ("electricity.differential.general.eliminated", 2, 0),
    ("electricity.differential.cement.restricted", 2, 0),
    ("electricity.tiered.steel.limits.blast_furnace", 0, 1),
    ("electricity.tiered.steel.limits.converter", 0, 1),
    ("electricity.tiered.cement.limits.clinker.existing", 0, 1),
    ("electricity.punitive.within_double", 2, 0),
];

fn overrides() -> impl Strategy<Value = Vec<Override>> {
    let one = (0..REFORMABLE.len(), 0i64..2000, prop::option::of(0u32..40)).prop_map(
        |(i, value, month)| {
            let (key, scale, least) = REFORMABLE[i];
            let value = value.max(least);
            // From a month of 2019–2022 on, or replacing every dated value.
            let from = month
                .map(|m| NaiveDate::from_ymd_opt(2019 + (m / 12) as i32, m % 12 + 1, 1).unwrap());
            Override {
                key: key.into(),
                value: Raw::Number(Decimal::new(value, scale)),
                from,
            }
        },
    );
    prop::collection::vec(one, 0..3).prop_map(|mut overrides| {
        overrides.sort_by(|a, b| a.key.cmp(&b.key));
        overrides.dedup_by(|a, b| a.key == b.key);
        overrides
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Re-pricing only the bills that looked up a changed parameter answers exactly what
    /// re-pricing every bill answers, sweep included.
    #[test]
    fn pricing_only_what_a_reform_touches_changes_nothing_in_the_answer(
        requests in prop::collection::vec(request(), 0..24),
        overrides in overrides(),
        swept in 0..REFORMABLE.len(),
    ) {
        let (key, scale, _) = REFORMABLE[swept];
        let sweep = Sweep {
            key: key.into(),
            from: Decimal::new(10, scale),
            to: Decimal::new(40, scale),
            step: Decimal::new(10, scale),
            effective: None,
        };
        let full = simulate_with(requests.clone(), overrides.clone(), Some(sweep.clone()), false);
        let incremental = simulate_with(requests, overrides, Some(sweep), true);
        prop_assert_eq!(serde_json::to_value(&incremental).unwrap(), serde_json::to_value(&full).unwrap());
    }

    /// A streamed population compared in one pass, chunk by chunk on the pool, answers
    /// exactly what the same population read, kept and priced in full answers: sums,
    /// exclusions, and who moves most (ties across chunks included: extra requests share
    /// an enterprise id).
    #[test]
    fn comparing_a_population_as_it_streams_answers_what_keeping_it_does(
        (seed, n, month) in (any::<u64>(), 0usize..1200, 0u32..48),
        extra in prop::collection::vec((request(), any::<prop::sample::Index>()), 0..12),
        garbage in prop::collection::vec(any::<prop::sample::Index>(), 0..4),
        overrides in overrides(),
        (top, piece) in (0usize..30, 1usize..20_000),
    ) {
        let set = shared_tariffs();
        let baseline = set.resolve(None).unwrap().clone();
        let mut lines: Vec<String> = Generator::new(&baseline, Period::month(2019 + (month / 12) as i32, month % 12 + 1).unwrap(), seed)
            .take(n)
            .map(|r| request_json(&r).to_string())
            .collect();
        for (request, at) in &extra {
            lines.insert(at.index(lines.len() + 1), request_json(request).to_string());
        }
        for (i, at) in garbage.iter().enumerate() {
            let bad = ["{not json", r#"{"period":{"month":"2020-13"}}"#][i % 2];
            lines.insert(at.index(lines.len() + 1), bad.to_string());
        }
        let ndjson = lines.join("\n").into_bytes();
        let pieces = || ndjson.chunks(piece).map(|c| Ok::<_, ApiError>(Bytes::copy_from_slice(c)));
        let upload = Upload::Text(Format::Ndjson);
        let limits = Limits { max_line_bytes: 1 << 20, max_lines: 1 << 20, max_file_bytes: 1 << 20, max_decoded_bytes: 1 << 30 };
        let reform = Reform { name: "streamed".into(), draft: None, overrides };
        let spec = Spec { reform: reform.clone(), top, ..Spec::default() };

        let (population, _) = intake::read(upload, limits, set.clone(), None, None, pieces()).unwrap();
        let scenario = Scenario { tariffs: set, baseline: &baseline, population: &population, cancel: None, incremental: false };
        let kept = scenario.run(&spec).unwrap();

        let source = intake::Source { format: Format::Ndjson, tariffs: set.clone(), registry: None };
        let comparison = Comparison::new(source, baseline.clone(), &spec).unwrap();
        let (streamed, members) = comparison.run(&reform, (upload, limits), pieces()).unwrap();
        prop_assert_eq!(members, population.members.len() as u64);
        prop_assert_eq!(serde_json::to_value(&streamed).unwrap(), serde_json::to_value(&kept).unwrap());
    }

    #[test]
    fn simulation_sums_hold_together_for_any_reform_and_population(
        requests in prop::collection::vec(request(), 0..24),
        rate in (0i64..300).prop_map(|c| Decimal::new(c, 2)),
        limit in (1i64..2000).prop_map(|c| Decimal::new(c, 0)),
    ) {
        let report = simulate(requests, vec![
            Override { key: "electricity.differential.steel.eliminated".into(), value: Raw::Number(rate), from: None },
            Override { key: "electricity.tiered.steel.limits.blast_furnace".into(), value: Raw::Number(limit), from: None },
        ]);
        let priced = report.population.priced;
        let c = &report.changes;
        prop_assert_eq!(c.more + c.less + c.same, priced);
        prop_assert_eq!(report.histogram.iter().map(|b| b.count).sum::<u64>(), priced);
        prop_assert_eq!(priced + report.population.excluded, report.population.records);
        for side in [&report.baseline, &report.reform, &report.delta] {
            let by_industry: Fen = side.by_industry.values().map(|g| g.surcharge).sum();
            let by_class: Fen = side.by_catalogue_class.values().map(|g| g.total).sum();
            let by_measure: Fen = side.by_measure.values().copied().sum();
            prop_assert_eq!(by_industry, side.surcharge);
            prop_assert_eq!(by_class, side.total);
            prop_assert_eq!(by_measure, side.surcharge);
        }
        prop_assert_eq!(report.delta.surcharge, report.reform.surcharge - report.baseline.surcharge);
        prop_assert_eq!(report.delta.total, report.reform.total - report.baseline.total);
        let deltas: Vec<i128> = report.enterprises.iter().map(|e| e.delta.0.abs()).collect();
        prop_assert!(deltas.windows(2).all(|w| w[0] >= w[1]), "largest change first");
        prop_assert!(deltas.iter().all(|d| *d != 0));
    }

    #[test]
    fn a_reform_without_overrides_changes_nothing(requests in prop::collection::vec(request(), 0..24)) {
        let report = simulate(requests, Vec::new());
        prop_assert_eq!(report.delta.surcharge, Fen(0));
        prop_assert_eq!(report.changes.same, report.population.priced);
        prop_assert!(report.enterprises.is_empty());
    }
}

/// The next value of an enumeration, round the list.
fn next<T: Copy + PartialEq>(all: &[T], current: T) -> T {
    let i = all.iter().position(|v| *v == current).unwrap_or(0);
    all[(i + 1) % all.len()]
}

/// Changes the one field `which` names to another value.
fn change_one_field(mut r: BillRequest, which: usize) -> BillRequest {
    let one = Decimal::ONE;
    let plus = |d: Option<Decimal>| Some(d.unwrap_or_default() + one);
    match which {
        0 => r.electricity.kwh += one,
        1 => r.electricity.base_price = plus(r.electricity.base_price),
        2 => {
            r.period =
                Period::new(r.period.start(), r.period.end() + chrono::Duration::days(1)).unwrap()
        }
        3 => {
            r.period =
                Period::new(r.period.start() - chrono::Duration::days(1), r.period.end()).unwrap()
        }
        4 => r.enterprise.industry = next(&Industry::ALL, r.enterprise.industry),
        5 => {
            r.enterprise.catalogue_class = next(&CatalogueClass::ALL, r.enterprise.catalogue_class)
        }
        6 => r.enterprise.capacity_cut_overdue = !r.enterprise.capacity_cut_overdue,
        7 => r.enterprise.card = next(&[Card::None, Card::Yellow, Card::Red], r.enterprise.card),
        8 => r.assessment.year = Some(r.assessment.year.unwrap_or(2000) + 1),
        9 => r.assessment.aluminum_kwh_per_t = plus(r.assessment.aluminum_kwh_per_t),
        10 => {
            let value = plus(r.assessment.energy_intensity.as_ref().map(|i| i.value)).unwrap();
            let limit = r
                .assessment
                .energy_intensity
                .as_ref()
                .map_or(one, |i| i.limit);
            r.assessment.energy_intensity = Some(EnergyIntensity { value, limit });
        }
        11 => match r.assessment.steel_processes.first_mut() {
            Some(p) => p.intensity += one,
            None => r.assessment.steel_processes.push(ProcessIntensity {
                process: SteelProcess::ALL[0],
                grade: SteelGrade::Ordinary,
                intensity: one,
            }),
        },
        12 => match r.assessment.cement.as_mut() {
            Some(c) => c.kwh_per_t += one,
            None => {
                r.assessment.cement = Some(CementAssessment {
                    plant: CementPlant::Clinker,
                    commissioned: None,
                    kwh_per_t: one,
                })
            }
        },
        13 => match r.water.as_mut() {
            Some(w) => w.m3 += one,
            None => {
                r.water = Some(Water {
                    m3: one,
                    quota_m3: None,
                    base_price: None,
                    meets_standard: None,
                })
            }
        },
        14 => {
            if let Some(w) = r.water.as_mut() {
                w.quota_m3 = plus(w.quota_m3);
            } else {
                r.water = Some(Water {
                    m3: Decimal::ZERO,
                    quota_m3: Some(one),
                    base_price: None,
                    meets_standard: None,
                });
            }
        }
        15 => {
            if let Some(w) = r.water.as_mut() {
                w.meets_standard = Some(!w.meets_standard.unwrap_or(false));
            } else {
                r.water = Some(Water {
                    m3: Decimal::ZERO,
                    quota_m3: None,
                    base_price: None,
                    meets_standard: Some(true),
                });
            }
        }
        16 => r.reclassified.push(Reclassification {
            from: r.period.end(),
            catalogue_class: next(&CatalogueClass::ALL, r.enterprise.catalogue_class),
            capacity_cut_overdue: r.enterprise.capacity_cut_overdue,
            card: r.enterprise.card,
        }),
        _ => r.enterprise.id.push('x'),
    }
    r
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Two bills with one id are the same bill: any one field that can change a bill
    /// changes its id.
    #[test]
    fn changing_any_one_field_changes_the_bill_id(request in request(), which in 0usize..18) {
        let tariff = tariffs().resolve(request.tariff.as_deref()).unwrap();
        let changed = change_one_field(request.clone(), which);
        prop_assert_ne!(&changed, &request);
        let (before, after) = (
            tariffd::bill::id::bill_id(&request, tariff),
            tariffd::bill::id::bill_id(&changed, tariff),
        );
        prop_assert_ne!(before, after, "field {} left the id as it was", which);
    }
}

/// The request field each of `change_one_field`'s changes touches.
const CHANGED_POINTER: [&str; 18] = [
    "/electricity/kwh",
    "/electricity/base_price",
    "/period/end",
    "/period/start",
    "/enterprise/industry",
    "/enterprise/catalogue_class",
    "/enterprise/capacity_cut_overdue",
    "/enterprise/card",
    "/assessment/year",
    "/assessment/aluminum_kwh_per_t",
    "/assessment/energy_intensity",
    "/assessment/steel_processes",
    "/assessment/cement",
    "/water/m3",
    "/water/quota_m3",
    "/water/meets_standard",
    "/enterprise/reclassified",
    "/enterprise/id",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// A field that changes the bill is one the audit trace lists as read.
    #[test]
    fn every_input_that_changes_a_bill_is_in_its_trace(request in request(), which in 0usize..18) {
        let tariff = tariffs().resolve(request.tariff.as_deref()).unwrap();
        let changed = change_one_field(request.clone(), which);
        let options = Options { trace: true };
        let (Ok(before), Ok(after)) = (price(tariff, &request, options), price(tariff, &changed, options)) else {
            return Ok(());
        };
        if before.lines == after.lines && before.totals == after.totals {
            return Ok(());
        }
        let pointer = CHANGED_POINTER[which];
        // A reclassification is listed where there is one: in the changed request.
        let requests = if pointer == "/enterprise/reclassified" { vec![&changed] } else { vec![&request, &changed] };
        for r in requests {
            let read = tariffd::bill::trace::inputs(r);
            prop_assert!(
                read.iter().any(|i| i.pointer.starts_with(pointer)),
                "{} changed the bill but the trace does not list it", pointer
            );
        }
    }
}
