//! The price bureau's quick look-up: which adders a class of enterprise faces on a date,
//! answered by the same measure code that prices bills.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::enterprise::{Card, CatalogueClass, Enterprise, Industry};
use crate::measure::{combination, differential, Measure, NotApplicable, Reader};
use crate::tariff::value::{Combination, Value};
use crate::tariff::{EntryRef, Tariff};

/// One adder (or schedule) and whether it applies to the class asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupEntry {
    pub measure: Measure,
    /// When it applies, in words.
    pub condition: &'static str,
    /// A fixed rate, `None` for a schedule chosen by assessment; or why it does not apply.
    pub outcome: Result<Option<Decimal>, NotApplicable>,
    pub basis: Vec<EntryRef>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    pub priced_class: CatalogueClass,
    pub combination: Combination,
    pub entries: Vec<LookupEntry>,
}

pub fn surcharges(
    tariff: &Tariff,
    industry: Industry,
    class: CatalogueClass,
    overdue: bool,
    date: NaiveDate,
) -> Lookup {
    let enterprise = Enterprise {
        id: String::new(),
        name: None,
        industry,
        catalogue_class: class,
        capacity_cut_overdue: overdue,
        card: Card::None,
    };
    let mut reader = Reader::new(tariff, false);
    let slots = &tariff.slots;
    let mut entries = Vec::new();

    let differential = differential::evaluate(&mut reader, &enterprise, date);
    entries.push(LookupEntry {
        measure: Measure::Differential,
        condition: "restricted or eliminated capacity of a listed industry",
        outcome: differential.as_ref().map(|a| Some(a.rate)).map_err(|e| *e),
        basis: differential
            .as_ref()
            .map(|a| a.basis.as_slice().to_vec())
            .unwrap_or_default(),
    });

    let schedule = match industry {
        Industry::Steel => Some((
            slots.steel_schedule,
            "tier by the number of main processes over their GB 21256-2013 limit",
        )),
        Industry::Cement => Some((
            slots.cement_schedule,
            "tier by comparable electricity as a multiple of the GB 16780-2012 limit",
        )),
        Industry::ElectrolyticAluminum => Some((
            slots.aluminum_schedule,
            "by AC electricity per tonne of molten aluminium",
        )),
        _ => None,
    };
    let tiered = match (&differential, schedule) {
        (Ok(_), _) => Err(NotApplicable::UnderDifferential),
        (_, None) => Err(NotApplicable::NoTierSchedule(industry)),
        (_, Some((slot, condition))) => match reader.read(slot, date) {
            Some((r, e)) if e.value != Value::Absent => Ok((condition, r)),
            _ => Err(NotApplicable::NoTierSchedule(industry)),
        },
    };
    entries.push(match tiered {
        Ok((condition, r)) => LookupEntry {
            measure: Measure::Tiered,
            condition,
            outcome: Ok(None),
            basis: vec![r],
        },
        Err(e) => LookupEntry {
            measure: Measure::Tiered,
            condition: "assessed energy or electricity intensity",
            outcome: Err(e),
            basis: vec![],
        },
    });

    let exempt = reader
        .read(slots.punitive_exempt, date)
        .is_some_and(|(_, e)| e.value.industries().contains(industry));
    for (slot, condition) in [
        (
            slots.punitive_within_double,
            "energy consumption over its limit by at most 100%",
        ),
        (
            slots.punitive_over_double,
            "energy consumption over its limit by more than 100%",
        ),
    ] {
        let found = reader.read(slot, date);
        let outcome = match (exempt, found.map(|(_, e)| &e.value)) {
            (true, _) => Err(NotApplicable::Exempt),
            (false, Some(Value::Number(rate))) => Ok(Some(*rate)),
            _ => Err(NotApplicable::NoRateInForce),
        };
        let basis = found
            .filter(|_| !exempt)
            .map(|(r, _)| vec![r])
            .unwrap_or_default();
        entries.push(LookupEntry {
            measure: Measure::Punitive,
            condition,
            outcome,
            basis,
        });
    }

    let water = reader.read(
        slots.water[usize::from(enterprise.priced_class().is_targeted())],
        date,
    );
    entries.push(LookupEntry {
        measure: Measure::WaterProgressive,
        condition: "water use failing the mandatory standard, above quota: multiples of the base water price by band",
        outcome: water.map(|_| None).ok_or(NotApplicable::NoWaterRule),
        basis: water.map(|(r, _)| vec![r]).unwrap_or_default(),
    });

    let combination = combination::rule_on(&mut reader, date);
    Lookup {
        priced_class: enterprise.priced_class(),
        combination,
        entries,
    }
}
