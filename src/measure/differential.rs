//! 差别电价: a fixed adder on restricted and eliminated capacity of the listed industries.

use chrono::NaiveDate;

use super::{Adder, Basis, Finding, Measure, NotApplicable, Reader, Reason};
use crate::enterprise::{CatalogueClass, Enterprise, Industry};
use crate::tariff::value::Value;

/// An industry's own row overrides the general one while it is in force, even where it
/// says `none` (POLICY.md decision 1).
pub fn evaluate(reader: &mut Reader, enterprise: &Enterprise, date: NaiveDate) -> Finding {
    let slots = &reader.tariff.slots;
    let listed = reader
        .read(slots.differential_industries, date)
        .is_some_and(|(_, e)| e.value.industries().contains(enterprise.industry));
    if !listed {
        return Err(NotApplicable::IndustryNotListed);
    }
    let class = enterprise.priced_class();
    let column = match class {
        CatalogueClass::Restricted => 0,
        CatalogueClass::Eliminated => 1,
        _ => return Err(NotApplicable::ClassNotTargeted),
    };
    let (found, industry_row) = match reader.read(
        slots.differential_specific[enterprise.industry.index()][column],
        date,
    ) {
        Some(found) => (found, true),
        None => (
            reader
                .read(slots.differential_general[column], date)
                .ok_or(NotApplicable::NoRateInForce)?,
            false,
        ),
    };
    let (entry_ref, entry) = found;
    let Value::Number(rate) = entry.value else {
        return Err(NotApplicable::NoRateInForce);
    };
    Ok(Adder {
        measure: Measure::Differential,
        rate,
        reason: Reason::Differential {
            industry: enterprise.industry,
            class,
            overdue: class != enterprise.catalogue_class,
            industry_row,
        },
        basis: Basis::of(entry_ref),
    })
}

/// `electricity.differential.<industry>` for an industry row, `…general` otherwise.
pub fn rule(industry: Option<Industry>) -> &'static str {
    match industry {
        None | Some(Industry::Other) => "electricity.differential.general",
        Some(Industry::Steel) => "electricity.differential.steel",
        Some(Industry::Cement) => "electricity.differential.cement",
        Some(Industry::ElectrolyticAluminum) => "electricity.differential.electrolytic_aluminum",
        Some(Industry::Ferroalloy) => "electricity.differential.ferroalloy",
        Some(Industry::CalciumCarbide) => "electricity.differential.calcium_carbide",
        Some(Industry::CausticSoda) => "electricity.differential.caustic_soda",
        Some(Industry::YellowPhosphorus) => "electricity.differential.yellow_phosphorus",
        Some(Industry::ZincSmelting) => "electricity.differential.zinc_smelting",
    }
}
