//! 惩罚性电价: an adder for unit-product energy consumption over its limit.

use chrono::NaiveDate;

use super::{Adder, Basis, Finding, Measure, NotApplicable, Reader, Reason};
use crate::assessment::Assessment;
use crate::enterprise::Enterprise;
use crate::tariff::value::Value;

/// Over the limit iff value > limit; the lower band iff value ≤ 2 × limit, compared
/// exactly without dividing (POLICY.md decision 5).
pub fn evaluate(
    reader: &mut Reader,
    enterprise: &Enterprise,
    assessment: &Assessment,
    date: NaiveDate,
) -> Finding {
    let slots = &reader.tariff.slots;
    let exempt = reader
        .read(slots.punitive_exempt, date)
        .is_some_and(|(_, e)| e.value.industries().contains(enterprise.industry));
    if exempt {
        return Err(NotApplicable::Exempt);
    }
    let intensity = assessment
        .energy_intensity
        .as_ref()
        .ok_or(NotApplicable::MissingInput("/assessment/energy_intensity"))?;
    if intensity.value <= intensity.limit {
        return Err(NotApplicable::WithinLimit);
    }
    let double = intensity
        .limit
        .checked_mul(2.into())
        .ok_or(NotApplicable::Overflow(
            "/assessment/energy_intensity/limit",
        ))?;
    let over_double = intensity.value > double;
    let (entry_ref, entry) = reader
        .read(
            if over_double {
                slots.punitive_over_double
            } else {
                slots.punitive_within_double
            },
            date,
        )
        .ok_or(NotApplicable::NoRateInForce)?;
    let Value::Number(rate) = entry.value else {
        return Err(NotApplicable::NoRateInForce);
    };
    Ok(Adder {
        measure: Measure::Punitive,
        rate,
        reason: Reason::Punitive {
            value: intensity.value,
            limit: intensity.limit,
            over_double,
        },
        basis: Basis::of(entry_ref),
    })
}
