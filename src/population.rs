//! Synthetic enterprise populations: a realistic mix of industries and classes, with
//! assessments scattered around the limits the tariff itself sets. Benchmarks, tests and
//! trial users draw from it; the same seed always gives the same population.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::assessment::{
    Assessment, CementAssessment, CementPlant, EnergyIntensity, ProcessIntensity, SteelGrade,
    SteelProcess,
};
use crate::bill::{BillRequest, Electricity};
use crate::enterprise::{Card, CatalogueClass, Enterprise, Industry};
use crate::measure::water::Water;
use crate::period::Period;
use crate::tariff::{schema, Tariff};

/// Share of enterprises per industry, in percent.
const INDUSTRY_MIX: [(Industry, u32); 9] = [
    (Industry::Steel, 15),
    (Industry::Cement, 15),
    (Industry::ElectrolyticAluminum, 5),
    (Industry::Ferroalloy, 8),
    (Industry::CalciumCarbide, 4),
    (Industry::CausticSoda, 4),
    (Industry::YellowPhosphorus, 2),
    (Industry::ZincSmelting, 2),
    (Industry::Other, 45),
];

/// Monthly production electricity by order of magnitude, in per mille: most enterprises are
/// small, a few large (uniform within a decade). The mean is about 100 000 kWh a month, so
/// 300 000 enterprises use some 360 TWh a year — a plausible share of China's industrial
/// use (about 5 500 TWh a year across millions of enterprises), not more than all of it.
const SIZE_MIX: [(u64, u32); 4] = [(1_000, 450), (10_000, 465), (100_000, 80), (1_000_000, 5)];

/// Water quota per kWh, in m³ per thousand kWh: 2 to 20 (steel takes about 6).
const WATER_PER_MWH: (u32, u32) = (2, 20);

const CLASS_MIX: [(CatalogueClass, u32); 4] = [
    (CatalogueClass::Encouraged, 10),
    (CatalogueClass::Permitted, 65),
    (CatalogueClass::Restricted, 15),
    (CatalogueClass::Eliminated, 10),
];

pub struct Generator<'t> {
    rng: fastrand::Rng,
    tariff: &'t Tariff,
    period: Period,
    next_id: u64,
}

impl<'t> Generator<'t> {
    /// Enterprises billed for `period`, with assessments for the year before it.
    pub fn new(tariff: &'t Tariff, period: Period, seed: u64) -> Generator<'t> {
        Generator {
            rng: fastrand::Rng::with_seed(seed),
            tariff,
            period,
            next_id: 0,
        }
    }

    pub fn next_request(&mut self) -> BillRequest {
        self.next_id += 1;
        let industry = pick(&mut self.rng, &INDUSTRY_MIX);
        let catalogue_class = pick(&mut self.rng, &CLASS_MIX);
        let card = match self.rng.u32(0..100) {
            0..=1 => Card::Red,
            2..=9 => Card::Yellow,
            _ => Card::None,
        };
        let enterprise = Enterprise {
            id: format!("SYN-{:08}", self.next_id),
            name: None,
            industry,
            catalogue_class,
            capacity_cut_overdue: industry == Industry::Steel && self.rng.u32(0..100) < 5,
            card,
        };
        let assessment = self.assessment(industry);
        let kwh = self.size();
        let electricity = Electricity {
            kwh: Decimal::from(kwh),
            base_price: Some(self.scaled(3500, 6500, 4)),
            self_generated_kwh: None,
        };
        let water = (self.rng.bool()).then(|| self.water(kwh));
        BillRequest {
            defaulted: Default::default(),
            from_registry: Vec::new(),
            reclassified: Vec::new(),
            decisions: Vec::new(),
            registry_version: None,
            tariff: Some(self.tariff.meta.id.clone()),
            period: self.period,
            enterprise,
            assessment,
            electricity,
            water,
        }
    }

    fn assessment(&mut self, industry: Industry) -> Assessment {
        let mut a = Assessment {
            year: Some(self.period.year() - 1),
            ..Assessment::default()
        };
        match industry {
            Industry::Steel => a.steel_processes = self.steel_processes(),
            Industry::Cement => a.cement = Some(self.cement()),
            Industry::ElectrolyticAluminum => {
                let pivot = self.limit_or(schema::ALUMINUM_SCHEDULE, Decimal::from(13650));
                a.aluminum_kwh_per_t = Some(self.around(pivot, 3));
            }
            _ => {}
        }
        if self.rng.u32(0..100) < 40 {
            let limit = self.scaled(500, 2000, 3);
            a.energy_intensity = Some(EnergyIntensity {
                value: (limit * self.scaled(80, 250, 2)).round_dp_with_strategy(
                    3,
                    rust_decimal::RoundingStrategy::MidpointAwayFromZero,
                ),
                limit,
            });
        }
        a
    }

    fn steel_processes(&mut self) -> Vec<ProcessIntensity> {
        let n = self.rng.usize(2..=4);
        let mut processes: Vec<SteelProcess> = SteelProcess::ALL.to_vec();
        self.rng.shuffle(&mut processes);
        processes
            .into_iter()
            .take(n)
            .map(|process| {
                let grade = if process == SteelProcess::ElectricArcFurnace && self.rng.bool() {
                    SteelGrade::Special
                } else {
                    SteelGrade::Ordinary
                };
                let name = match grade {
                    SteelGrade::Special => "electric_arc_furnace_special",
                    SteelGrade::Ordinary => process.as_str(),
                };
                let limit = self.limit_or(&schema::steel_limit(name), Decimal::from(100));
                ProcessIntensity {
                    process,
                    grade,
                    intensity: self.around(limit, 10),
                }
            })
            .collect()
    }

    fn cement(&mut self) -> CementAssessment {
        let plant = if self.rng.u32(0..100) < 70 {
            CementPlant::Clinker
        } else {
            CementPlant::Grinding
        };
        let commissioned =
            NaiveDate::from_ymd_opt(self.rng.i32(1995..=2019), self.rng.u32(1..=12), 1);
        let new = self.rng.bool();
        let limit = self.limit_or(&schema::cement_limit(plant, new), Decimal::from(80));
        CementAssessment {
            plant,
            commissioned,
            kwh_per_t: self
                .around(limit, 15)
                .round_dp_with_strategy(1, rust_decimal::RoundingStrategy::MidpointAwayFromZero),
        }
    }

    /// Monthly kWh: a decade from `SIZE_MIX`, then uniform within it.
    fn size(&mut self) -> u64 {
        let decade = pick(&mut self.rng, &SIZE_MIX);
        self.rng.u64(decade..decade * 10)
    }

    /// Water to match the electricity: a quota in proportion to it, used at 80–160%.
    fn water(&mut self, kwh: u64) -> Water {
        let per_mwh = u64::from(self.rng.u32(WATER_PER_MWH.0..=WATER_PER_MWH.1));
        let quota = Decimal::from((kwh * per_mwh / 1000).max(10));
        Water {
            m3: (quota * self.scaled(80, 160, 2))
                .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero),
            quota_m3: Some(quota),
            base_price: Some(self.scaled(350, 550, 2)),
            meets_standard: Some(self.rng.u32(0..100) < 60),
        }
    }

    /// The limit a parameter sets on the assessment year's last day, or `fallback`.
    fn limit_or(&self, path: &str, fallback: Decimal) -> Decimal {
        let date = self.period.start();
        self.tariff
            .parameter(path)
            .and_then(|p| p.at(date))
            .and_then(|(_, e)| match &e.value {
                crate::tariff::value::Value::Number(n) => Some(*n),
                crate::tariff::value::Value::Stepped(s) => Some(s.above),
                crate::tariff::value::Value::Brackets(b) => b.get(1).and_then(|b| b.above),
                _ => None,
            })
            .unwrap_or(fallback)
    }

    /// `pivot` ± `percent`%, to two decimals.
    fn around(&mut self, pivot: Decimal, percent: i64) -> Decimal {
        let offset = Decimal::new(self.rng.i64(-percent * 100..=percent * 100), 4);
        (pivot + pivot.abs() * offset)
            .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
    }

    /// A uniform value in `[lo, hi)` × 10^-dp.
    fn scaled(&mut self, lo: i64, hi: i64, dp: u32) -> Decimal {
        Decimal::new(self.rng.i64(lo..hi), dp)
    }
}

impl Iterator for Generator<'_> {
    type Item = BillRequest;

    fn next(&mut self) -> Option<BillRequest> {
        Some(self.next_request())
    }
}

fn pick<T: Copy>(rng: &mut fastrand::Rng, mix: &[(T, u32)]) -> T {
    let total: u32 = mix.iter().map(|(_, w)| w).sum();
    let mut roll = rng.u32(0..total);
    for (item, weight) in mix {
        if roll < *weight {
            return *item;
        }
        roll -= weight;
    }
    mix[mix.len() - 1].0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn national() -> Tariff {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tariffs");
        let tariffs = crate::tariff::load_dir(&dir).unwrap();
        tariffs.into_iter().find(|t| t.id() == "cn").unwrap()
    }

    #[test]
    fn three_hundred_thousand_enterprises_use_a_few_hundred_twh_a_year() {
        let tariff = national();
        let period = Period::month(2020, 10).unwrap();
        let sample: Decimal = Generator::new(&tariff, period, 7)
            .take(30_000)
            .map(|r| r.electricity.kwh)
            .sum();
        // × 10 for 300 000 enterprises, × 12 months, in TWh (10^9 kWh).
        let twh_a_year = sample * Decimal::from(120) / Decimal::from(1_000_000_000u64);
        assert!(
            twh_a_year > Decimal::from(100) && twh_a_year < Decimal::from(600),
            "{twh_a_year} TWh a year"
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_population() {
        let tariff = national();
        let period = Period::month(2020, 10).unwrap();
        let a: Vec<_> = Generator::new(&tariff, period, 3).take(200).collect();
        let b: Vec<_> = Generator::new(&tariff, period, 3).take(200).collect();
        assert_eq!(a, b);
    }
}
