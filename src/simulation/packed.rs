//! A bill request packed into a few dozen bytes, as a population keeps its members: numbers
//! as variable-length integers (a decimal as its scale and mantissa), dates as day numbers,
//! classes as their index, absent parts as a bit. A simulation unpacks a member only when a
//! reform must price it again; a population of a million then fits in a tenth of the memory
//! its requests take unpacked.

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use crate::assessment::{
    Assessment, CementAssessment, CementPlant, EnergyIntensity, ProcessIntensity, SteelGrade,
    SteelProcess,
};
use crate::bill::request::{DecisionRef, Defaulted, Electricity};
use crate::bill::BillRequest;
use crate::enterprise::{Card, CatalogueClass, Enterprise, Industry, Reclassification};
use crate::measure::water::Water;
use crate::period::Period;
use crate::registry::fill::FILLED_POINTERS;

const CARDS: [Card; 3] = [Card::None, Card::Yellow, Card::Red];
const GRADES: [SteelGrade; 2] = [SteelGrade::Ordinary, SteelGrade::Special];
const PLANTS: [CementPlant; 2] = [CementPlant::Clinker, CementPlant::Grinding];

/// Which optional parts a packed request has (and its few flags), one bit each.
mod bit {
    pub const TARIFF: u64 = 1;
    pub const NAME: u64 = 1 << 1;
    pub const YEAR: u64 = 1 << 2;
    pub const CEMENT: u64 = 1 << 3;
    pub const COMMISSIONED: u64 = 1 << 4;
    pub const ALUMINUM: u64 = 1 << 5;
    pub const ENERGY: u64 = 1 << 6;
    pub const BASE_PRICE: u64 = 1 << 7;
    pub const SELF_GENERATED: u64 = 1 << 8;
    pub const WATER: u64 = 1 << 9;
    pub const QUOTA: u64 = 1 << 10;
    pub const WATER_PRICE: u64 = 1 << 11;
    pub const MEETS_STANDARD: u64 = 1 << 12;
    pub const STANDARD_MET: u64 = 1 << 13;
    pub const REGISTRY_VERSION: u64 = 1 << 14;
    pub const OVERDUE: u64 = 1 << 15;
    pub const DEFAULTED_CLASS: u64 = 1 << 16;
    pub const DEFAULTED_OVERDUE: u64 = 1 << 17;
    pub const DEFAULTED_CARD: u64 = 1 << 18;
}

/// Appends `request` packed to `out`; `None` (nothing appended) for a request naming a
/// registry pointer this packing does not know.
pub fn pack(request: &BillRequest, out: &mut Vec<u8>) -> Option<()> {
    let start = out.len();
    let packed = Writer(out).request(request);
    if packed.is_none() {
        out.truncate(start);
    }
    packed
}

/// The request `bytes` (one [`pack`]ed request) hold.
pub fn unpack(bytes: &[u8]) -> Option<BillRequest> {
    Reader { bytes, at: 0 }.request()
}

struct Writer<'a>(&'a mut Vec<u8>);

impl Writer<'_> {
    fn request(&mut self, r: &BillRequest) -> Option<()> {
        let (e, a, el) = (&r.enterprise, &r.assessment, &r.electricity);
        let water = r.water.as_ref();
        let flags = [
            (bit::TARIFF, r.tariff.is_some()),
            (bit::NAME, e.name.is_some()),
            (bit::YEAR, a.year.is_some()),
            (bit::CEMENT, a.cement.is_some()),
            (
                bit::COMMISSIONED,
                a.cement.as_ref().is_some_and(|c| c.commissioned.is_some()),
            ),
            (bit::ALUMINUM, a.aluminum_kwh_per_t.is_some()),
            (bit::ENERGY, a.energy_intensity.is_some()),
            (bit::BASE_PRICE, el.base_price.is_some()),
            (bit::SELF_GENERATED, el.self_generated_kwh.is_some()),
            (bit::WATER, water.is_some()),
            (bit::QUOTA, water.is_some_and(|w| w.quota_m3.is_some())),
            (
                bit::WATER_PRICE,
                water.is_some_and(|w| w.base_price.is_some()),
            ),
            (
                bit::MEETS_STANDARD,
                water.is_some_and(|w| w.meets_standard.is_some()),
            ),
            (
                bit::STANDARD_MET,
                water.is_some_and(|w| w.meets_standard == Some(true)),
            ),
            (bit::REGISTRY_VERSION, r.registry_version.is_some()),
            (bit::OVERDUE, e.capacity_cut_overdue),
            (bit::DEFAULTED_CLASS, r.defaulted.catalogue_class),
            (bit::DEFAULTED_OVERDUE, r.defaulted.capacity_cut_overdue),
            (bit::DEFAULTED_CARD, r.defaulted.card),
        ];
        self.unsigned(flags.iter().filter(|(_, on)| *on).map(|(b, _)| b).sum());
        if let Some(tariff) = &r.tariff {
            self.text(tariff);
        }
        self.date(r.period.start());
        self.unsigned((r.period.end() - r.period.start()).num_days() as u64);
        self.text(&e.id);
        if let Some(name) = &e.name {
            self.text(name);
        }
        self.byte(e.industry.index());
        self.byte(e.catalogue_class as usize);
        self.byte(e.card as usize);
        self.assessment(a);
        self.decimal(el.kwh);
        self.some(el.base_price, Self::decimal);
        self.some(el.self_generated_kwh, Self::decimal);
        if let Some(w) = water {
            self.decimal(w.m3);
            self.some(w.quota_m3, Self::decimal);
            self.some(w.base_price, Self::decimal);
        }
        self.unsigned(r.from_registry.len() as u64);
        for pointer in &r.from_registry {
            self.byte(FILLED_POINTERS.iter().position(|p| p == pointer)?);
        }
        self.unsigned(r.reclassified.len() as u64);
        for change in &r.reclassified {
            self.date(change.from);
            self.byte(change.catalogue_class as usize);
            self.byte(usize::from(change.capacity_cut_overdue));
            self.byte(change.card as usize);
        }
        self.unsigned(r.decisions.len() as u64);
        for decision in &r.decisions {
            self.date(decision.from);
            self.signed(decision.version);
            self.text(&decision.document);
        }
        self.some(r.registry_version, Self::signed);
        Some(())
    }

    fn assessment(&mut self, a: &Assessment) {
        self.some(a.year.map(i64::from), Self::signed);
        self.unsigned(a.steel_processes.len() as u64);
        for p in &a.steel_processes {
            self.byte(p.process as usize);
            self.byte(p.grade as usize);
            self.decimal(p.intensity);
        }
        if let Some(c) = &a.cement {
            self.byte(c.plant as usize);
            self.some(c.commissioned, Self::date);
            self.decimal(c.kwh_per_t);
        }
        self.some(a.aluminum_kwh_per_t, Self::decimal);
        if let Some(e) = &a.energy_intensity {
            self.decimal(e.value);
            self.decimal(e.limit);
        }
    }

    fn byte(&mut self, index: usize) {
        self.0.push(index as u8);
    }

    /// Writes `value` if there is one (its bit in the flags says whether).
    fn some<T>(&mut self, value: Option<T>, write: impl FnOnce(&mut Self, T)) {
        if let Some(value) = value {
            write(self, value);
        }
    }

    fn unsigned(&mut self, mut n: u64) {
        while n >= 0x80 {
            self.0.push(n as u8 | 0x80);
            n >>= 7;
        }
        self.0.push(n as u8);
    }

    fn signed(&mut self, n: i64) {
        self.unsigned(((n << 1) ^ (n >> 63)) as u64);
    }

    fn text(&mut self, text: &str) {
        self.unsigned(text.len() as u64);
        self.0.extend_from_slice(text.as_bytes());
    }

    fn date(&mut self, date: NaiveDate) {
        self.signed(i64::from(date.num_days_from_ce()));
    }

    /// A decimal as its scale, then its mantissa zigzagged in two variable-length halves.
    fn decimal(&mut self, d: Decimal) {
        let m = d.mantissa();
        let zigzag = ((m << 1) ^ (m >> 127)) as u128;
        self.byte(d.scale() as usize);
        self.unsigned(zigzag as u64);
        self.unsigned((zigzag >> 64) as u64);
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn request(&mut self) -> Option<BillRequest> {
        let flags = self.unsigned()?;
        let on = |b: u64| flags & b != 0;
        let tariff = self.optional(on(bit::TARIFF), Self::text)?;
        let start = self.date()?;
        let end = start.checked_add_days(chrono::Days::new(self.unsigned()?))?;
        let period = Period::new(start, end).ok()?;
        let id = self.text()?;
        let name = self.optional(on(bit::NAME), Self::text)?;
        let enterprise = Enterprise {
            id,
            name,
            industry: *Industry::ALL.get(self.byte()?)?,
            catalogue_class: *CatalogueClass::ALL.get(self.byte()?)?,
            card: *CARDS.get(self.byte()?)?,
            capacity_cut_overdue: on(bit::OVERDUE),
        };
        let assessment = self.assessment(flags)?;
        let electricity = Electricity {
            kwh: self.decimal()?,
            base_price: self.optional(on(bit::BASE_PRICE), Self::decimal)?,
            self_generated_kwh: self.optional(on(bit::SELF_GENERATED), Self::decimal)?,
        };
        let water = self.optional(on(bit::WATER), |r| {
            Some(Water {
                m3: r.decimal()?,
                quota_m3: r.optional(on(bit::QUOTA), Self::decimal)?,
                base_price: r.optional(on(bit::WATER_PRICE), Self::decimal)?,
                meets_standard: on(bit::MEETS_STANDARD).then_some(on(bit::STANDARD_MET)),
            })
        })?;
        let from_registry = self.list(|r| FILLED_POINTERS.get(r.byte()?).copied())?;
        let reclassified = self.list(|r| {
            Some(Reclassification {
                from: r.date()?,
                catalogue_class: *CatalogueClass::ALL.get(r.byte()?)?,
                capacity_cut_overdue: r.byte()? != 0,
                card: *CARDS.get(r.byte()?)?,
            })
        })?;
        let decisions = self.list(|r| {
            Some(DecisionRef {
                from: r.date()?,
                version: r.signed()?,
                document: r.text()?,
            })
        })?;
        let registry_version = self.optional(on(bit::REGISTRY_VERSION), Self::signed)?;
        Some(BillRequest {
            tariff,
            period,
            enterprise,
            assessment,
            electricity,
            water,
            defaulted: Defaulted {
                catalogue_class: on(bit::DEFAULTED_CLASS),
                capacity_cut_overdue: on(bit::DEFAULTED_OVERDUE),
                card: on(bit::DEFAULTED_CARD),
            },
            from_registry,
            reclassified,
            decisions,
            registry_version,
        })
    }

    fn assessment(&mut self, flags: u64) -> Option<Assessment> {
        let on = |b: u64| flags & b != 0;
        let year = self.optional(on(bit::YEAR), |r| i32::try_from(r.signed()?).ok())?;
        let steel_processes = self.list(|r| {
            Some(ProcessIntensity {
                process: *SteelProcess::ALL.get(r.byte()?)?,
                grade: *GRADES.get(r.byte()?)?,
                intensity: r.decimal()?,
            })
        })?;
        let cement = self.optional(on(bit::CEMENT), |r| {
            Some(CementAssessment {
                plant: *PLANTS.get(r.byte()?)?,
                commissioned: r.optional(on(bit::COMMISSIONED), Self::date)?,
                kwh_per_t: r.decimal()?,
            })
        })?;
        Some(Assessment {
            year,
            steel_processes,
            cement,
            aluminum_kwh_per_t: self.optional(on(bit::ALUMINUM), Self::decimal)?,
            energy_intensity: self.optional(on(bit::ENERGY), |r| {
                Some(EnergyIntensity {
                    value: r.decimal()?,
                    limit: r.decimal()?,
                })
            })?,
        })
    }

    /// `read`'s value if `present`; `None` only when it is present and cannot be read.
    fn optional<T>(
        &mut self,
        present: bool,
        read: impl FnOnce(&mut Self) -> Option<T>,
    ) -> Option<Option<T>> {
        match present {
            true => read(self).map(Some),
            false => Some(None),
        }
    }

    fn list<T>(&mut self, mut read: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        let n = usize::try_from(self.unsigned()?).ok()?;
        (0..n.min(self.bytes.len())).map(|_| read(self)).collect()
    }

    fn byte(&mut self) -> Option<usize> {
        let byte = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(usize::from(byte))
    }

    fn unsigned(&mut self) -> Option<u64> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()? as u64;
            n |= (byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(n);
            }
        }
        None
    }

    fn signed(&mut self) -> Option<i64> {
        let n = self.unsigned()?;
        Some((n >> 1) as i64 ^ -((n & 1) as i64))
    }

    fn text(&mut self) -> Option<String> {
        let n = usize::try_from(self.unsigned()?).ok()?;
        let bytes = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        String::from_utf8(bytes.to_vec()).ok()
    }

    fn date(&mut self) -> Option<NaiveDate> {
        NaiveDate::from_num_days_from_ce_opt(i32::try_from(self.signed()?).ok()?)
    }

    fn decimal(&mut self) -> Option<Decimal> {
        let scale = u32::try_from(self.byte()?).ok()?;
        let zigzag = u128::from(self.unsigned()?) | (u128::from(self.unsigned()?) << 64);
        let mantissa = (zigzag >> 1) as i128 ^ -((zigzag & 1) as i128);
        Decimal::try_from_i128_with_scale(mantissa, scale).ok()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn round_trip(request: &BillRequest) -> BillRequest {
        let mut bytes = Vec::new();
        pack(request, &mut bytes).expect("packs");
        unpack(&bytes).expect("unpacks")
    }

    fn generated(n: usize) -> Vec<BillRequest> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tariffs");
        let tariffs = crate::tariff::load_dir(&dir).unwrap();
        let tariff = tariffs.iter().find(|t| t.id() == "cn").unwrap();
        let period = Period::month(2020, 10).unwrap();
        crate::population::Generator::new(tariff, period, 11)
            .take(n)
            .collect()
    }

    #[test]
    fn a_generated_population_unpacks_as_it_was_and_packs_small() {
        let requests = generated(5000);
        let mut bytes = Vec::new();
        for request in &requests {
            assert_eq!(&round_trip(request), request);
            pack(request, &mut bytes).unwrap();
        }
        let per_member = bytes.len() / requests.len();
        assert!(per_member < 80, "{per_member} bytes a member");
    }

    /// Every optional part present, every list full, the registry's inputs named.
    fn everything(mut request: BillRequest, decimal: Decimal, day: NaiveDate) -> BillRequest {
        request.tariff = Some("cn-sx-xinzhou".into());
        request.enterprise.name = Some("太钢 \"一厂\"".into());
        request.enterprise.capacity_cut_overdue = true;
        request.enterprise.card = Card::Red;
        request.assessment = Assessment {
            year: Some(-3),
            steel_processes: vec![ProcessIntensity {
                process: SteelProcess::Converter,
                grade: SteelGrade::Special,
                intensity: -decimal,
            }],
            cement: Some(CementAssessment {
                plant: CementPlant::Grinding,
                commissioned: Some(day),
                kwh_per_t: decimal,
            }),
            aluminum_kwh_per_t: Some(decimal),
            energy_intensity: Some(EnergyIntensity {
                value: decimal,
                limit: Decimal::MAX,
            }),
        };
        request.electricity.base_price = Some(Decimal::MIN);
        request.electricity.self_generated_kwh = Some(decimal);
        request.water = Some(Water {
            m3: decimal,
            quota_m3: Some(Decimal::ZERO),
            base_price: None,
            meets_standard: Some(false),
        });
        request.defaulted = Defaulted {
            catalogue_class: true,
            capacity_cut_overdue: false,
            card: true,
        };
        request.from_registry = FILLED_POINTERS.to_vec();
        request.reclassified = vec![Reclassification {
            from: day,
            catalogue_class: CatalogueClass::Eliminated,
            capacity_cut_overdue: true,
            card: Card::Yellow,
        }];
        request.decisions = vec![DecisionRef {
            from: day,
            version: i64::MIN,
            document: "晋发改〔2020〕1号".into(),
        }];
        request.registry_version = Some(i64::MAX);
        request
    }

    proptest! {
        #[test]
        fn any_request_unpacks_as_it_was(
            mantissa in any::<i64>(),
            scale in 0u32..=28,
            wide in any::<bool>(),
            day in -100_000i32..3_000_000,
        ) {
            let mantissa = if wide { i128::from(mantissa) << 32 } else { i128::from(mantissa) };
            let decimal = Decimal::from_i128_with_scale(mantissa, scale);
            let day = NaiveDate::from_num_days_from_ce_opt(day).unwrap();
            let request = everything(generated(1).remove(0), decimal, day);
            prop_assert_eq!(round_trip(&request), request);
        }
    }

    #[test]
    fn a_pointer_the_registry_does_not_fill_is_refused_not_packed_wrong() {
        let mut request = generated(1).remove(0);
        request.from_registry = vec!["/enterprise/colour"];
        let mut bytes = vec![7];
        assert!(pack(&request, &mut bytes).is_none());
        assert_eq!(bytes, [7], "nothing appended");
    }
}
