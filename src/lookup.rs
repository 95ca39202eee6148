//! The price bureau's quick look-up: which adders a class of enterprise faces on a date,
//! answered by the same measure code that prices bills.

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

use crate::enterprise::{Card, CatalogueClass, Enterprise, Industry};
use crate::measure::{
    combination, differential, punitive, tiered, water, Measure, NotApplicable, Reader,
};
use crate::tariff::value::Combination;
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
    // The look-up assumes last year's assessment, as a bill for `date` would.
    let assessed_on = crate::assessment::Assessment::default().assessed_on(date.year());
    let mut reader = Reader::new(tariff, assessed_on, false);
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

    // Tiered pricing is for those not under differential pricing, as in the bill.
    let tiered = match &differential {
        Ok(_) => Err(NotApplicable::UnderDifferential),
        Err(_) => tiered::schedule(&mut reader, industry, date).map(|(r, _)| r),
    };
    entries.push(LookupEntry {
        measure: Measure::Tiered,
        condition: tier_condition(industry),
        outcome: tiered.map(|_| None),
        basis: tiered.map(|r| vec![r]).unwrap_or_default(),
    });

    let exempt = punitive::exempt(&mut reader, industry, date);
    for (over_double, condition) in [
        (false, "energy consumption over its limit by at most 100%"),
        (true, "energy consumption over its limit by more than 100%"),
    ] {
        let rate = match exempt {
            true => Err(NotApplicable::Exempt),
            false => punitive::rate(&mut reader, over_double, date),
        };
        entries.push(LookupEntry {
            measure: Measure::Punitive,
            condition,
            outcome: rate.map(|(_, rate)| Some(rate)),
            basis: rate.map(|(r, _)| vec![r]).unwrap_or_default(),
        });
    }

    let water = water::schedule(&mut reader, industry, date);
    entries.push(LookupEntry {
        measure: Measure::WaterProgressive,
        condition: "water use failing the mandatory standard, above quota, in an industry on the water list: multiples of the base water price by band",
        outcome: water.map(|_| None),
        basis: water.map(|(r, _)| vec![r]).unwrap_or_default(),
    });

    let combination = combination::rule_on(&mut reader, date);
    Lookup {
        priced_class: enterprise.priced_class(),
        combination,
        entries,
    }
}

/// What an industry's tier is decided by, in words.
fn tier_condition(industry: Industry) -> &'static str {
    match industry {
        Industry::Steel => "tier by the number of main processes over their GB 21256-2013 limit",
        Industry::Cement => {
            "tier by comparable electricity as a multiple of the GB 16780-2012 limit"
        }
        Industry::ElectrolyticAluminum => "by AC electricity per tonne of molten aluminium",
        _ => "assessed energy or electricity intensity",
    }
}
