//! 惩罚性电价: an adder for unit-product energy consumption over its limit.

use chrono::NaiveDate;

use super::{Adder, Basis, Finding, Measure, NotApplicable, Reader, Reason};
use crate::assessment::Assessment;
use crate::enterprise::{Enterprise, Industry};
use crate::tariff::value::Value;
use crate::tariff::EntryRef;
use rust_decimal::Decimal;

/// Over the limit iff value > limit; the lower band iff value ≤ 2 × limit, compared
/// exactly without dividing (POLICY.md decision 5).
pub fn evaluate(
    reader: &mut Reader,
    enterprise: &Enterprise,
    assessment: &Assessment,
    date: NaiveDate,
) -> Finding {
    if exempt(reader, enterprise.industry, date) {
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
    let (entry_ref, rate) = rate(reader, over_double, date)?;
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

/// Whether the industry is exempt from punitive pricing on `date` (it has its own measure).
pub fn exempt(reader: &mut Reader, industry: Industry, date: NaiveDate) -> bool {
    reader
        .read(reader.tariff.slots.punitive_exempt, date)
        .is_some_and(|(_, e)| e.value.industries().contains(industry))
}

/// The adder of the band: over twice the limit, or within it.
pub fn rate(
    reader: &mut Reader,
    over_double: bool,
    date: NaiveDate,
) -> Result<(EntryRef, Decimal), NotApplicable> {
    let slots = &reader.tariff.slots;
    let slot = if over_double {
        slots.punitive_over_double
    } else {
        slots.punitive_within_double
    };
    match reader.read(slot, date) {
        Some((r, e)) => match e.value {
            Value::Number(rate) => Ok((r, rate)),
            _ => Err(NotApplicable::NoRateInForce),
        },
        None => Err(NotApplicable::NoRateInForce),
    }
}
